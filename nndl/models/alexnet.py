"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012): torchvision's single-tower variant and the original two-tower one."""

from __future__ import annotations

import numpy as np

from nndl import nn
from nndl.models._layers import LayerFactory
from nndl.models.blocks import Chain
from nndl.nn.core.module import Module
from nndl.random import as_generator


class FeaturesClassifier(Chain):
    """``features → avgpool → flatten → classifier``, the layout of torchvision's AlexNet and VGG.

    Children ``features``, ``avgpool``, ``flatten`` and ``classifier``; the
    flatten has no parameters, so state-dict keys are torchvision's
    (``features.0.weight``, ``classifier.1.bias``, ...).
    """

    def _wire(self, features, avgpool, classifier) -> None:
        self.features = features
        self.avgpool = avgpool
        self.flatten = nn.Flatten(dtype=self.dtype)
        self.classifier = classifier

    def layers(self) -> list[Module]:
        return [self.features, self.avgpool, self.flatten, self.classifier]


class AlexNet(FeaturesClassifier):
    """torchvision's AlexNet (the single-GPU variant of "One weird trick", Krizhevsky 2014).

    features: conv 11×11/4 (64, padding 2) – ReLU – max pool 3/2 – conv 5×5 (192, padding 2) – ReLU –
    max pool 3/2 – conv 3×3 (384) – ReLU – conv 3×3 (256) – ReLU – conv 3×3 (256) – ReLU – max pool 3/2;
    avgpool: adaptive to 6×6; classifier: dropout – 9216→4096 – ReLU – dropout – 4096→4096 – ReLU –
    4096→num_classes. 61,100,840 parameters for 1000 classes; 714,188,480 MACs at 224×224.

    Parameters
    ----------
    num_classes : int
    dropout : float
        Drop probability of the two dropout layers.
    init : str
        Weight initialization of the conv and linear layers: He
        (``he_uniform``, Var(W) = 2/fan_in, biases 0) by default, the notes'
        choice for ReLU; the paper drew N(0, 0.01²) with biases of 1 in
        conv2, conv4, conv5 and the hidden FC layers, torchvision keeps
        PyTorch's U(±1/√fan_in) (see docs/initialization.md).
    rng : Generator, int or None
    dtype : float32 or float64
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, init: str = "he_uniform", rng=None,
                 dtype=np.float32):
        super().__init__(dtype)
        make = LayerFactory(init, as_generator(rng), dtype)
        features = nn.Sequential(
            make.conv(3, 64, 11, stride=4, padding=2), make.relu(), nn.MaxPool2d(3, stride=2, dtype=dtype),
            make.conv(64, 192, 5, padding=2), make.relu(), nn.MaxPool2d(3, stride=2, dtype=dtype),
            make.conv(192, 384, 3, padding=1), make.relu(),
            make.conv(384, 256, 3, padding=1), make.relu(),
            make.conv(256, 256, 3, padding=1), make.relu(), nn.MaxPool2d(3, stride=2, dtype=dtype),
            dtype=dtype)
        classifier = make.classifier(256 * 6 * 6, (4096, 4096), num_classes, dropout, dropout_first=True)
        self._wire(features, nn.AdaptiveAvgPool2d((6, 6), dtype=dtype), classifier)


class AlexNetOriginal(FeaturesClassifier):
    """The 2012 AlexNet as published: two GPU towers, local response normalization, 227×227 inputs.

    The towers are written as grouped convolutions (``groups=2``): conv2,
    conv4 and conv5 only see the half of the previous layer's maps on their
    own GPU; conv3 and the fully connected layers see both halves.

    features: conv1 11×11/4, 96 – ReLU – LRN – max pool 3/2 – conv2 5×5, 256, groups 2, padding 2 –
    ReLU – LRN – max pool 3/2 – conv3 3×3, 384 – ReLU – conv4 3×3, 384, groups 2 – ReLU –
    conv5 3×3, 256, groups 2 – ReLU – max pool 3/2; classifier as torchvision's AlexNet.

    The input is 227×227: the paper's "224×224" does not give its 55×55 first
    layer ((224 − 11)/4 + 1 is not an integer; (227 − 11)/4 + 1 = 55).

    Parameters ``(k·k·C_in/groups + 1)·K`` per conv layer:

    ======  ===========================  ==========
    conv1   (11·11·3 + 1)·96              34,944
    conv2   (5·5·48 + 1)·256              307,456
    conv3   (3·3·256 + 1)·384             885,120
    conv4   (3·3·192 + 1)·384             663,936
    conv5   (3·3·192 + 1)·256             442,624
    fc6     9216·4096 + 4096              37,752,832
    fc7     4096·4096 + 4096              16,781,312
    fc8     4096·1000 + 1000              4,097,000
    total                                 60,965,224
    ======  ===========================  ==========

    (the paper's "60 million"). LRN uses the paper's ``k = 2, n = 5,
    α = 10⁻⁴, β = 0.75`` in ``b = a / (k + α Σ a²)^β``; PyTorch's (and
    nndl's) layer divides α by ``n``, hence ``alpha = 5·10⁻⁴`` here.
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, init: str = "he_uniform", rng=None,
                 dtype=np.float32):
        super().__init__(dtype)
        make = LayerFactory(init, as_generator(rng), dtype)

        features = nn.Sequential(
            make.conv(3, 96, 11, stride=4), make.relu(), make.lrn(), nn.MaxPool2d(3, stride=2, dtype=dtype),
            make.conv(96, 256, 5, padding=2, groups=2), make.relu(), make.lrn(), nn.MaxPool2d(3, stride=2, dtype=dtype),
            make.conv(256, 384, 3, padding=1), make.relu(),
            make.conv(384, 384, 3, padding=1, groups=2), make.relu(),
            make.conv(384, 256, 3, padding=1, groups=2), make.relu(), nn.MaxPool2d(3, stride=2, dtype=dtype),
            dtype=dtype)
        classifier = make.classifier(256 * 6 * 6, (4096, 4096), num_classes, dropout, dropout_first=True)
        self._wire(features, nn.AdaptiveAvgPool2d((6, 6), dtype=dtype), classifier)


def alexnet(num_classes: int = 1000, dropout: float = 0.5, init: str = "he_uniform", rng=None,
            dtype=np.float32) -> AlexNet:
    """torchvision's AlexNet; see :class:`AlexNet`."""
    return AlexNet(num_classes, dropout=dropout, init=init, rng=rng, dtype=dtype)


def alexnet_original(num_classes: int = 1000, dropout: float = 0.5, init: str = "he_uniform", rng=None,
                     dtype=np.float32) -> AlexNetOriginal:
    """The 2012 two-tower AlexNet (grouped convolutions, LRN), 60,965,224 parameters; see :class:`AlexNetOriginal`."""
    return AlexNetOriginal(num_classes, dropout=dropout, init=init, rng=rng, dtype=dtype)

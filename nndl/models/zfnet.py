"""ZFNet (Zeiler & Fergus, 2013): AlexNet with a smaller, denser first layer."""

from __future__ import annotations

import numpy as np

from nndl import nn
from nndl.models._layers import LayerFactory
from nndl.models.alexnet import FeaturesClassifier
from nndl.random import as_generator


class ZFNet(FeaturesClassifier):
    """ZFNet, the network of "Visualizing and Understanding Convolutional Networks" (figure 3).

    The sizes follow the paper's figure for a 224×224 input: conv1 7×7/2, 96
    maps → 110×110; max pool 3/2 → 55×55; conv2 5×5/2, 256 → 26×26; max
    pool 3/2 → 13×13; conv3 3×3, 384; conv4 3×3, 384; conv5 3×3, 256; max pool
    3/2 → 6×6; fully connected 4096, 4096, num_classes. The paper leaves the
    paddings implicit; these reproduce its sizes: conv1 padding 1 ((224 + 2 − 7)/2
    + 1 = 110, floored), pool1 and pool2 padding 1 ((110 + 2 − 3)/2 + 1 = 55,
    (26 + 2 − 3)/2 + 1 = 13), conv3–5 padding 1. Contrast normalization after
    the first two pooling layers is local response normalization (AlexNet's
    constants). Unlike AlexNet, no grouped convolutions (one GPU).

    Parameters ``(k·k·C_in + 1)·K``: conv1 (7·7·3 + 1)·96 = 14,208; conv2
    (5·5·96 + 1)·256 = 614,656; conv3 (3·3·256 + 1)·384 = 885,120; conv4
    (3·3·384 + 1)·384 = 1,327,488; conv5 (3·3·384 + 1)·256 = 884,992; fc6
    9216·4096 + 4096 = 37,752,832; fc7 16,781,312; fc8 4,097,000:
    **62,357,608** for 1000 classes.

    ``init`` defaults to He (``he_uniform``, Var(W) = 2/fan_in, biases 0),
    the notes' choice for ReLU; the paper drew N(0, 0.01²) with zero biases
    (see docs/initialization.md).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, init: str = "he_uniform", rng=None,
                 dtype=np.float32):
        super().__init__(dtype)
        make = LayerFactory(init, as_generator(rng), dtype)

        features = nn.Sequential(
            make.conv(3, 96, 7, stride=2, padding=1), make.relu(), nn.MaxPool2d(3, stride=2, padding=1, dtype=dtype),
            make.lrn(),
            make.conv(96, 256, 5, stride=2), make.relu(), nn.MaxPool2d(3, stride=2, padding=1, dtype=dtype), make.lrn(),
            make.conv(256, 384, 3, padding=1), make.relu(),
            make.conv(384, 384, 3, padding=1), make.relu(),
            make.conv(384, 256, 3, padding=1), make.relu(), nn.MaxPool2d(3, stride=2, dtype=dtype),
            dtype=dtype)
        classifier = make.classifier(256 * 6 * 6, (4096, 4096), num_classes, dropout, dropout_first=True)
        self._wire(features, nn.AdaptiveAvgPool2d((6, 6), dtype=dtype), classifier)


def zfnet(num_classes: int = 1000, dropout: float = 0.5, init: str = "he_uniform", rng=None,
          dtype=np.float32) -> ZFNet:
    """ZFNet for 224×224 inputs, 62,357,608 parameters; see :class:`ZFNet`."""
    return ZFNet(num_classes, dropout=dropout, init=init, rng=rng, dtype=dtype)

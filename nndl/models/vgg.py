"""VGG-11/13/16/19 (Simonyan & Zisserman, 2015), torchvision's layers and state-dict keys."""

from __future__ import annotations

import numpy as np

from nndl import nn
from nndl.models._layers import LayerFactory
from nndl.models.alexnet import FeaturesClassifier
from nndl.random import as_generator

VGG_CONFIGS = {
    "vgg11": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg13": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "vgg19": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
}
"""The paper's configurations A, B, D and E: conv 3×3 output channels, ``'M'`` = max pool 2×2/2."""


class VGG(FeaturesClassifier):
    """VGG: stacks of 3×3 convolutions (padding 1) with 2×2 max pooling, then three fully connected layers.

    features: for each entry of the configuration, ``Conv2d(3×3, padding 1) [BatchNorm2d] ReLU`` or
    ``MaxPool2d(2, 2)``; avgpool: adaptive to 7×7; classifier: 25088→4096 – ReLU – dropout –
    4096→4096 – ReLU – dropout – 4096→num_classes. Parameter counts (1000 classes): VGG-11
    132,863,336, VGG-13 133,047,848, VGG-16 138,357,544, VGG-19 143,667,240 (with batch norm
    5,504 / 5,888 / 8,448 / 11,008 more: two per channel of every conv layer).

    Parameters
    ----------
    config : str
        A key of :data:`VGG_CONFIGS`.
    batch_norm : bool
    num_classes : int
    dropout : float
    init : str
        Weight initialization of the conv and linear layers: He
        (``he_uniform``, Var(W) = 2/fan_in, biases 0) by default, the notes'
        choice for ReLU; the paper drew N(0, 0.01²) (deeper configurations
        started from configuration A's layers), torchvision uses He normal
        with fan-out for convolutions and N(0, 0.01²) for linear layers
        (see docs/initialization.md).
    rng : Generator, int or None
    dtype : float32 or float64
    """

    def __init__(self, config: str = "vgg16", batch_norm: bool = False, num_classes: int = 1000,
                 dropout: float = 0.5, init: str = "he_uniform", rng=None, dtype=np.float32):
        super().__init__(dtype)
        if config not in VGG_CONFIGS:
            raise ValueError(f"VGG: unknown config '{config}'; valid: {', '.join(VGG_CONFIGS)}")
        make = LayerFactory(init, as_generator(rng), dtype)
        layers, channels = [], 3
        for entry in VGG_CONFIGS[config]:
            if entry == "M":
                layers.append(nn.MaxPool2d(2, stride=2, dtype=dtype))
                continue
            layers.append(make.conv(channels, entry, 3, padding=1))
            if batch_norm:
                layers.append(make.batch_norm(entry))
            layers.append(make.relu())
            channels = entry
        classifier = make.classifier(512 * 7 * 7, (4096, 4096), num_classes, dropout, dropout_first=False)
        self._wire(nn.Sequential(*layers, dtype=dtype), nn.AdaptiveAvgPool2d((7, 7), dtype=dtype), classifier)


def _builder(config: str):
    def build(batch_norm: bool = False, num_classes: int = 1000, dropout: float = 0.5, init: str = "he_uniform",
              rng=None, dtype=np.float32) -> VGG:
        return VGG(config, batch_norm=batch_norm, num_classes=num_classes, dropout=dropout, init=init, rng=rng,
                   dtype=dtype)

    build.__name__ = build.__qualname__ = config
    build.__doc__ = f"VGG configuration '{config}' (torchvision's ``{config}``/``{config}_bn``); see :class:`VGG`."
    return build


vgg11 = _builder("vgg11")
vgg13 = _builder("vgg13")
vgg16 = _builder("vgg16")
vgg19 = _builder("vgg19")

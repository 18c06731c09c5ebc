"""DenseNet-121 (Huang et al., 2017): dense layers that append their maps to their input, torchvision's keys."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from nndl import nn
from nndl.models._layers import LayerFactory
from nndl.models.blocks import (Chain, chain_backward, chain_forward, chain_output_shape, concat_backward,
                                concat_forward, concat_shape)
from nndl.nn.core.module import Module
from nndl.random import as_generator


class DenseLayer(Module):
    """One dense layer: ``y = [x, H(x)]``, the input with ``growth_rate`` new feature maps appended.

    ``H = norm1 – relu1 – conv1 1×1 (bn_size·growth_rate) – norm2 – relu2 – conv2 3×3 (growth_rate)``
    [– dropout], and ``y = [x, H(x)]`` along the channels: backward splits δ
    into the part for ``x`` (passed through) and the part for the new maps
    (through ``H``), and adds ``H``'s input gradient to the first (``x``
    feeds both).

    torchvision's ``_DenseLayer`` returns only ``H(x)`` and its ``_DenseBlock``
    concatenates the list of all earlier outputs; the concatenation here is
    the same tensor, built one layer at a time. Children and keys are
    torchvision's: ``norm1, relu1, conv1, norm2, relu2, conv2``.
    """

    def __init__(self, in_channels: int, growth_rate: int = 32, bn_size: int = 4, drop_rate: float = 0.0,
                 init: str = "he_uniform", rng=None, dtype=np.float32):
        super().__init__(dtype)
        make = LayerFactory(init, as_generator(rng), dtype)
        self.norm1 = make.batch_norm(in_channels)
        self.relu1 = make.relu()
        self.conv1 = make.conv(in_channels, bn_size * growth_rate, 1, bias=False)
        self.norm2 = make.batch_norm(bn_size * growth_rate)
        self.relu2 = make.relu()
        self.conv2 = make.conv(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)
        if drop_rate > 0:
            self.dropout = make.dropout(drop_rate)
        self._cache = None

    def new_features(self) -> list[Module]:
        """The layers of ``H``, in order (read at call time)."""
        layers = [self.norm1, self.relu1, self.conv1, self.norm2, self.relu2, self.conv2]
        return layers + ([self.dropout] if "dropout" in self._modules else [])

    def forward(self, x):
        out, self._cache = concat_forward(self, [x, chain_forward(self.new_features(), x)])
        return out

    def backward(self, dout):
        d_input, d_new = concat_backward(dout, self._saved())
        return d_input + chain_backward(self.new_features(), d_new)

    def output_shape(self, input_shape):
        return concat_shape(self, [input_shape, chain_output_shape(self.new_features(), input_shape)])


def dense_block(num_layers: int, in_channels: int, growth_rate: int, bn_size: int, drop_rate: float, init, rng,
                dtype) -> nn.Sequential:
    """``denselayer1 … denselayerN``: layer ``i`` sees ``in_channels + (i − 1)·growth_rate`` maps."""
    return nn.Sequential(OrderedDict(
        (f"denselayer{i + 1}", DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size, drop_rate,
                                          init=init, rng=rng, dtype=dtype))
        for i in range(num_layers)), dtype=dtype)


def transition(in_channels: int, out_channels: int, make: LayerFactory) -> nn.Sequential:
    """Between dense blocks: ``norm – relu – conv 1×1 – pool`` (2×2 average, halving H and W)."""
    return nn.Sequential(OrderedDict([
        ("norm", make.batch_norm(in_channels)), ("relu", make.relu()),
        ("conv", make.conv(in_channels, out_channels, 1, bias=False)),
        ("pool", nn.AvgPool2d(2, stride=2, dtype=make.dtype))]), dtype=make.dtype)


class DenseNet(Chain):
    """DenseNet-BC as torchvision builds it.

    features: conv0 7×7/2 (``num_init_features``, no bias) – norm0 – relu0 – pool0 3/2 (padding 1) –
    denseblock1 – transition1 – … – denseblock4 – norm5; then ReLU – avgpool (adaptive 1×1) –
    flatten – classifier. Each transition halves the channels. DenseNet-121
    (``block_config = (6, 12, 24, 16)``, growth 32, 64 initial features):
    7,978,856 parameters for 1000 classes, 2.83 GMACs at 224×224.

    ``init`` defaults to He (``he_uniform``, Var(W) = 2/fan_in, biases 0),
    the paper's and the notes' choice for ReLU; torchvision draws He normal
    for convolutions and zero linear biases (see docs/initialization.md).
    """

    def __init__(self, growth_rate: int = 32, block_config=(6, 12, 24, 16), num_init_features: int = 64,
                 bn_size: int = 4, drop_rate: float = 0.0, num_classes: int = 1000, init: str = "he_uniform",
                 rng=None, dtype=np.float32):
        super().__init__(dtype)
        rng = as_generator(rng)
        make = LayerFactory(init, rng, dtype)
        stages = [("conv0", make.conv(3, num_init_features, 7, stride=2, padding=3, bias=False)),
                  ("norm0", make.batch_norm(num_init_features)), ("relu0", make.relu()),
                  ("pool0", nn.MaxPool2d(3, stride=2, padding=1, dtype=dtype))]
        channels = num_init_features
        block_config = tuple(int(n) for n in block_config)
        for index, num_layers in enumerate(block_config):
            stages.append((f"denseblock{index + 1}",
                           dense_block(num_layers, channels, growth_rate, bn_size, drop_rate, init, rng, dtype)))
            channels += num_layers * growth_rate
            if index != len(block_config) - 1:
                stages.append((f"transition{index + 1}", transition(channels, channels // 2, make)))
                channels //= 2
        stages.append(("norm5", make.batch_norm(channels)))
        self.features = nn.Sequential(OrderedDict(stages), dtype=dtype)
        self.relu = make.relu()
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1), dtype=dtype)
        self.flatten = nn.Flatten(dtype=dtype)
        self.classifier = make.linear(channels, num_classes)

    def layers(self) -> list[Module]:
        return [self.features, self.relu, self.avgpool, self.flatten, self.classifier]


def densenet121(num_classes: int = 1000, drop_rate: float = 0.0, init: str = "he_uniform", rng=None,
                dtype=np.float32) -> DenseNet:
    """DenseNet-121 (growth 32, blocks 6-12-24-16); see :class:`DenseNet`."""
    return DenseNet(32, (6, 12, 24, 16), 64, num_classes=num_classes, drop_rate=drop_rate, init=init, rng=rng,
                    dtype=dtype)

"""ResNet-18/34/50 (He et al., 2016), built from ``Residual`` with torchvision's layers and state-dict keys."""

from __future__ import annotations

import numpy as np

from nndl import nn
from nndl.models._layers import LayerFactory
from nndl.models.blocks import GraphBlock
from nndl.random import as_generator


class BasicBlock(GraphBlock):
    """Two 3×3 convolutions with a skip connection: ``y = ReLU(F(x) + S(x))``.

    ``F = conv1 (3×3, stride) – bn1 – relu – conv2 (3×3) – bn2``; ``S`` is the
    identity, or ``downsample = conv 1×1 (stride) – BN`` when the block changes
    the shape. The sum is a :class:`~nndl.nn.Residual`, so backward is
    ``∂L/∂x = F'ᵀδ + S'ᵀδ`` with ``δ`` the gradient after the final ReLU.
    Children ``conv1, bn1, relu, conv2, bn2, downsample`` as torchvision's, plus
    ``relu_out`` for the ReLU after the addition (torchvision reuses ``relu``,
    which an nndl module cannot be since it keeps its forward cache; it has no
    parameters, so the keys are unchanged).
    """

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1, init: str = "he_uniform", rng=None,
                 dtype=np.float32):
        super().__init__(dtype)
        make = LayerFactory(init, as_generator(rng), dtype)
        self.conv1 = make.conv(in_channels, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = make.batch_norm(planes)
        self.relu = make.relu()
        self.conv2 = make.conv(planes, planes, 3, padding=1, bias=False)
        self.bn2 = make.batch_norm(planes)
        self.downsample = _downsample(make, in_channels, planes, stride)
        self.relu_out = make.relu()
        residual = nn.Residual(nn.Sequential(self.conv1, self.bn1, self.relu, self.conv2, self.bn2), self.downsample)
        self._set_graph(nn.Sequential(residual, self.relu_out))


class Bottleneck(GraphBlock):
    """1×1 reduce – 3×3 – 1×1 expand (×4) with a skip connection: ``y = ReLU(F(x) + S(x))``.

    ``F = conv1 1×1 – bn1 – relu – conv2 3×3 (stride) – bn2 – relu2 – conv3 1×1 – bn3``.
    The stride sits on the 3×3 convolution (torchvision's "ResNet v1.5"; the
    paper puts it on the first 1×1). Children as torchvision's (``conv1, bn1,
    conv2, bn2, conv3, bn3, relu, downsample``) plus the parameter-free
    ``relu2`` and ``relu_out`` (see :class:`BasicBlock`).
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1, init: str = "he_uniform", rng=None,
                 dtype=np.float32):
        super().__init__(dtype)
        make = LayerFactory(init, as_generator(rng), dtype)
        out_channels = planes * self.expansion
        self.conv1 = make.conv(in_channels, planes, 1, bias=False)
        self.bn1 = make.batch_norm(planes)
        self.conv2 = make.conv(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = make.batch_norm(planes)
        self.conv3 = make.conv(planes, out_channels, 1, bias=False)
        self.bn3 = make.batch_norm(out_channels)
        self.relu = make.relu()
        self.downsample = _downsample(make, in_channels, out_channels, stride)
        self.relu2 = make.relu()
        self.relu_out = make.relu()
        block = nn.Sequential(self.conv1, self.bn1, self.relu, self.conv2, self.bn2, self.relu2, self.conv3, self.bn3)
        self._set_graph(nn.Sequential(nn.Residual(block, self.downsample), self.relu_out))


def _downsample(make: LayerFactory, in_channels: int, out_channels: int, stride: int):
    """The projection shortcut (1×1 conv with stride, then BN) when the shape changes, else None (identity)."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(make.conv(in_channels, out_channels, 1, stride=stride, bias=False),
                         make.batch_norm(out_channels), dtype=make.dtype)


BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}

RESNET_LAYERS = {"resnet18": ("basic", (2, 2, 2, 2)), "resnet34": ("basic", (3, 4, 6, 3)),
                 "resnet50": ("bottleneck", (3, 4, 6, 3))}
"""Block type and number of blocks per stage of each depth."""


class ResNet(GraphBlock):
    """ResNet: a 7×7/2 stem and max pool, four stages of residual blocks, global average pool, linear.

    conv1 7×7/2 (64, no bias) – bn1 – relu – maxpool 3/2 (padding 1) – layer1..layer4 (64, 128,
    256, 512 planes; the first block of layers 2–4 has stride 2) – avgpool (adaptive 1×1) – flatten
    – fc. Parameters for 1000 classes: ResNet-18 11,689,512; ResNet-34 21,797,672; ResNet-50
    25,557,032.

    Parameters
    ----------
    block : {'basic', 'bottleneck'}
    layers : sequence of 4 ints
        Blocks per stage.
    num_classes, in_channels : int
    init : str
        Weight initialization of the conv and linear layers.
    rng : Generator, int or None
    dtype : float32 or float64
    """

    def __init__(self, block: str = "basic", layers=(2, 2, 2, 2), num_classes: int = 1000, in_channels: int = 3,
                 init: str = "he_uniform", rng=None, dtype=np.float32):
        super().__init__(dtype)
        if block not in BLOCKS:
            raise ValueError(f"ResNet: unknown block '{block}'; valid: {', '.join(BLOCKS)}")
        layers = tuple(int(n) for n in layers)
        if len(layers) != 4 or min(layers) < 1:
            raise ValueError(f"ResNet: layers must be 4 positive block counts, got {layers}")
        rng = as_generator(rng)
        make = LayerFactory(init, rng, dtype)
        block_cls = BLOCKS[block]
        self.conv1 = make.conv(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = make.batch_norm(64)
        self.relu = make.relu()
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1, dtype=dtype)
        channels = 64
        stages = []
        for index, (planes, count) in enumerate(zip((64, 128, 256, 512), layers)):
            blocks = []
            for position in range(count):
                stride = 2 if index > 0 and position == 0 else 1
                blocks.append(block_cls(channels, planes, stride, init=init, rng=rng, dtype=dtype))
                channels = planes * block_cls.expansion
            stage = nn.Sequential(*blocks, dtype=dtype)
            setattr(self, f"layer{index + 1}", stage)
            stages.append(stage)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1), dtype=dtype)
        self.flatten = nn.Flatten(dtype=dtype)
        self.fc = make.linear(channels, num_classes)
        self._set_graph(nn.Sequential(self.conv1, self.bn1, self.relu, self.maxpool, *stages, self.avgpool,
                                      self.flatten, self.fc, dtype=dtype))


def _builder(name: str):
    block, layers = RESNET_LAYERS[name]

    def build(num_classes: int = 1000, in_channels: int = 3, init: str = "he_uniform", rng=None,
              dtype=np.float32) -> ResNet:
        return ResNet(block, layers, num_classes=num_classes, in_channels=in_channels, init=init, rng=rng,
                      dtype=dtype)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = f"{name} ({block} blocks {layers}), torchvision's layers and keys; see :class:`ResNet`."
    return build


resnet18 = _builder("resnet18")
resnet34 = _builder("resnet34")
resnet50 = _builder("resnet50")

"""ResNet-18/34/50 (He et al., 2016): residual blocks with torchvision's layers and state-dict keys."""

from __future__ import annotations

import numpy as np

from nndl import nn
from nndl.models._layers import LayerFactory
from nndl.models.blocks import Chain, chain_backward, chain_forward, chain_output_shape, check_same_shape
from nndl.nn.core.hooks import backward
from nndl.nn.core.module import Module
from nndl.nn.core.shapes import output_shape
from nndl.random import as_generator


class ResidualBlock(Module):
    """``y = relu_out(F(x) + S(x))``: ``F`` the layers ``residual()`` lists, ``S`` the ``downsample`` child.

    ``S`` is the identity when ``downsample`` is None. Backward: the final
    ReLU gives ``δ`` at the sum; the sum passes ``δ`` unchanged to both
    addends, and ``x`` feeds both, so

    .. math::
        ∂L/∂x = F'(x)ᵀ δ + S'(x)ᵀ δ = F'(x)ᵀ δ + δ \\quad (\\text{identity } S).

    The ``+ δ`` is the gradient highway of the notes: however small ``F``'s
    Jacobian gets in a deep stack, δ reaches the early layers through the
    identity paths.
    """

    def residual(self) -> list[Module]:
        """The layers of ``F``, in order (read at call time)."""
        raise NotImplementedError

    def forward(self, x):
        out = chain_forward(self.residual(), x)
        identity = x if self.downsample is None else self.downsample(x)
        check_same_shape(self, out.shape, identity.shape, "the residual path and the shortcut")
        if out.dtype != identity.dtype:
            raise TypeError(f"{self.describe()}: the residual path gives {out.dtype} and the shortcut "
                            f"{identity.dtype}; adding them would convert silently")
        return self.relu_out(out + identity)

    def backward(self, dout):
        delta = backward(self.relu_out, dout)  # δ at the sum, passed to both addends
        dx = chain_backward(self.residual(), delta)
        return dx + (delta if self.downsample is None else backward(self.downsample, delta))

    def output_shape(self, input_shape):
        out = chain_output_shape(self.residual(), input_shape)
        identity = input_shape if self.downsample is None else output_shape(self.downsample, input_shape)
        check_same_shape(self, out, identity, "the residual path and the shortcut")
        return output_shape(self.relu_out, tuple(out))  # tuple(out): the two paths meet here


class BasicBlock(ResidualBlock):
    """Two 3×3 convolutions with a skip connection: ``y = ReLU(F(x) + S(x))``.

    ``F = conv1 (3×3, stride) – bn1 – relu – conv2 (3×3) – bn2``; ``S`` is the
    identity, or ``downsample = conv 1×1 (stride) – BN`` when the block changes
    the shape. Backward is ``∂L/∂x = F'ᵀδ + S'ᵀδ`` with ``δ`` the gradient
    after the final ReLU (:class:`ResidualBlock`).
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

    def residual(self) -> list[Module]:
        return [self.conv1, self.bn1, self.relu, self.conv2, self.bn2]


class Bottleneck(ResidualBlock):
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

    def residual(self) -> list[Module]:
        return [self.conv1, self.bn1, self.relu, self.conv2, self.bn2, self.relu2, self.conv3, self.bn3]


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


class ResNet(Chain):
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
        Weight initialization of the conv and linear layers: He
        (``he_uniform``, Var(W) = 2/fan_in, biases 0) by default, the
        paper's (He et al., 2015) and the notes' choice for ReLU; torchvision
        draws He normal with fan-out for convolutions (see docs/initialization.md).
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
        for index, (planes, count) in enumerate(zip((64, 128, 256, 512), layers)):
            blocks = []
            for position in range(count):
                stride = 2 if index > 0 and position == 0 else 1
                blocks.append(block_cls(channels, planes, stride, init=init, rng=rng, dtype=dtype))
                channels = planes * block_cls.expansion
            setattr(self, f"layer{index + 1}", nn.Sequential(*blocks, dtype=dtype))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1), dtype=dtype)
        self.flatten = nn.Flatten(dtype=dtype)
        self.fc = make.linear(channels, num_classes)

    def layers(self) -> list[Module]:
        """torchvision's forward: the stem, the four stages, pooling and the classifier."""
        return [self.conv1, self.bn1, self.relu, self.maxpool, self.layer1, self.layer2, self.layer3, self.layer4,
                self.avgpool, self.flatten, self.fc]


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

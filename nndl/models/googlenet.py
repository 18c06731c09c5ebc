"""GoogLeNet (Szegedy et al., 2015): Inception modules of four concatenated branches, torchvision's layers and keys."""

from __future__ import annotations

import numpy as np

from nndl import nn
from nndl.models._layers import LayerFactory
from nndl.models.blocks import Chain, concat_backward, concat_forward, concat_shape, sum_gradients
from nndl.nn.core.hooks import backward
from nndl.nn.core.module import Module
from nndl.nn.core.shapes import output_shape
from nndl.random import as_generator


class BasicConv2d(Chain):
    """torchvision's GoogLeNet unit: ``conv`` (no bias) – ``bn`` (eps 0.001) – ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 init: str = "he_uniform", rng=None, dtype=np.float32):
        super().__init__(dtype)
        make = LayerFactory(init, as_generator(rng), dtype)
        self.conv = make.conv(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = make.batch_norm(out_channels, eps=0.001)
        self.relu = make.relu()

    def layers(self) -> list[Module]:
        return [self.conv, self.bn, self.relu]


class Inception(Module):
    """Four branches on one input, concatenated along the channels.

    branch1: 1×1 conv (``ch1x1``); branch2: 1×1 (``ch3x3red``) then 3×3
    (``ch3x3``); branch3: 1×1 (``ch5x5red``) then a **3×3** conv (``ch5x5``);
    branch4: 3×3/1 max pool then 1×1 (``pool_proj``). Output channels
    ``ch1x1 + ch3x3 + ch5x5 + pool_proj``; every branch keeps ``H × W``.

    branch3's kernel is 3×3, not the paper's 5×5: torchvision's GoogLeNet
    has it so (and its pretrained weights and published parameter count
    6,624,904 depend on it); ``branch3_kernel=5`` gives the paper's.
    Backward splits δ along the channels and sums the four input gradients
    (``x`` feeds every branch).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
                 pool_proj: int, branch3_kernel: int = 3, init: str = "he_uniform", rng=None, dtype=np.float32):
        super().__init__(dtype)
        rng = as_generator(rng)
        kw = dict(init=init, rng=rng, dtype=dtype)
        self.branch1 = BasicConv2d(in_channels, ch1x1, 1, **kw)
        self.branch2 = nn.Sequential(BasicConv2d(in_channels, ch3x3red, 1, **kw),
                                     BasicConv2d(ch3x3red, ch3x3, 3, padding=1, **kw), dtype=dtype)
        self.branch3 = nn.Sequential(BasicConv2d(in_channels, ch5x5red, 1, **kw),
                                     BasicConv2d(ch5x5red, ch5x5, branch3_kernel, padding=branch3_kernel // 2, **kw),
                                     dtype=dtype)
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True, dtype=dtype),
                                     BasicConv2d(in_channels, pool_proj, 1, **kw), dtype=dtype)
        self._cache = None

    def branches(self) -> list[Module]:
        return [self.branch1, self.branch2, self.branch3, self.branch4]

    def forward(self, x):
        out, self._cache = concat_forward(self, [branch(x) for branch in self.branches()])
        return out

    def backward(self, dout):
        pieces = concat_backward(dout, self._saved())
        return sum_gradients(backward(branch, piece) for branch, piece in zip(self.branches(), pieces))

    def output_shape(self, input_shape):
        return concat_shape(self, [output_shape(branch, input_shape) for branch in self.branches()])


INCEPTION_CONFIGS = {
    "inception3a": (192, 64, 96, 128, 16, 32, 32), "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64), "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64), "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128),
    "inception5a": (832, 256, 160, 320, 32, 128, 128), "inception5b": (832, 384, 192, 384, 48, 128, 128),
}
"""Table 1 of the paper: in, #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj."""


class InceptionAux(Chain):
    """Auxiliary classifier: avg pool to 4×4 – 1×1 conv (128) – flatten – fc1 2048→1024 – ReLU – dropout 0.7 – fc2."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7, init: str = "he_uniform",
                 rng=None, dtype=np.float32):
        super().__init__(dtype)
        rng = as_generator(rng)
        make = LayerFactory(init, rng, dtype)
        self.avgpool = nn.AdaptiveAvgPool2d((4, 4), dtype=dtype)
        self.conv = BasicConv2d(in_channels, 128, 1, init=init, rng=rng, dtype=dtype)
        self.flatten = nn.Flatten(dtype=dtype)
        self.fc1 = make.linear(2048, 1024)
        self.relu = make.relu()
        self.dropout = make.dropout(dropout)
        self.fc2 = make.linear(1024, num_classes)

    def layers(self) -> list[Module]:
        return [self.avgpool, self.conv, self.flatten, self.fc1, self.relu, self.dropout, self.fc2]


class GoogLeNet(Chain):
    """GoogLeNet (Inception v1) as torchvision builds it.

    conv1 7×7/2 (64) – maxpool1 3/2 (ceil) – conv2 1×1 (64) – conv3 3×3 (192) – maxpool2 3/2 (ceil) –
    inception3a, 3b – maxpool3 3/2 (ceil) – inception4a–4e – maxpool4 2/2 (ceil) – inception5a, 5b –
    avgpool (adaptive 1×1) – flatten – dropout 0.2 – fc 1024→num_classes. 6,624,904 parameters
    without the auxiliary heads (1000 classes), 1.50 GMACs at 224×224.

    With ``aux_logits=True`` the heads ``aux1`` (after inception4a) and
    ``aux2`` (after inception4d) are built, so a torchvision state dict with
    them loads, but as in torchvision's eval mode the forward pass returns the
    main logits only (the heads add a second and third loss in training,
    which this module does not wire).

    Parameters
    ----------
    num_classes : int
    aux_logits : bool
    dropout : float
    init : str
        Weight initialization of the conv and linear layers: He
        (``he_uniform``, Var(W) = 2/fan_in, biases 0) by default, the notes'
        choice for ReLU; the paper does not say, torchvision draws a
        truncated N(0, 0.01²) (see docs/initialization.md).
    rng : Generator, int or None
    dtype : float32 or float64
    """

    def __init__(self, num_classes: int = 1000, aux_logits: bool = False, dropout: float = 0.2,
                 init: str = "he_uniform", rng=None, dtype=np.float32):
        super().__init__(dtype)
        rng = as_generator(rng)
        kw = dict(init=init, rng=rng, dtype=dtype)
        make = LayerFactory(init, rng, dtype)
        self.conv1 = BasicConv2d(3, 64, 7, stride=2, padding=3, **kw)
        self.maxpool1 = nn.MaxPool2d(3, 2, ceil_mode=True, dtype=dtype)
        self.conv2 = BasicConv2d(64, 64, 1, **kw)
        self.conv3 = BasicConv2d(64, 192, 3, padding=1, **kw)
        self.maxpool2 = nn.MaxPool2d(3, 2, ceil_mode=True, dtype=dtype)
        self.inception3a = Inception(*INCEPTION_CONFIGS["inception3a"], **kw)
        self.inception3b = Inception(*INCEPTION_CONFIGS["inception3b"], **kw)
        self.maxpool3 = nn.MaxPool2d(3, 2, ceil_mode=True, dtype=dtype)
        for name in ("inception4a", "inception4b", "inception4c", "inception4d", "inception4e"):
            setattr(self, name, Inception(*INCEPTION_CONFIGS[name], **kw))
        self.maxpool4 = nn.MaxPool2d(2, 2, ceil_mode=True, dtype=dtype)
        self.inception5a = Inception(*INCEPTION_CONFIGS["inception5a"], **kw)
        self.inception5b = Inception(*INCEPTION_CONFIGS["inception5b"], **kw)
        self.aux_logits = bool(aux_logits)
        if self.aux_logits:
            self.aux1 = InceptionAux(512, num_classes, **kw)
            self.aux2 = InceptionAux(528, num_classes, **kw)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1), dtype=dtype)
        self.flatten = nn.Flatten(dtype=dtype)
        self.dropout = make.dropout(dropout)
        self.fc = make.linear(1024, num_classes)

    def layers(self) -> list[Module]:
        """torchvision's forward in evaluation mode (the auxiliary heads do not run)."""
        return [self.conv1, self.maxpool1, self.conv2, self.conv3, self.maxpool2, self.inception3a, self.inception3b,
                self.maxpool3, self.inception4a, self.inception4b, self.inception4c, self.inception4d,
                self.inception4e, self.maxpool4, self.inception5a, self.inception5b, self.avgpool, self.flatten,
                self.dropout, self.fc]


def googlenet(num_classes: int = 1000, aux_logits: bool = False, dropout: float = 0.2, init: str = "he_uniform",
              rng=None, dtype=np.float32) -> GoogLeNet:
    """GoogLeNet; see :class:`GoogLeNet`."""
    return GoogLeNet(num_classes, aux_logits=aux_logits, dropout=dropout, init=init, rng=rng, dtype=dtype)

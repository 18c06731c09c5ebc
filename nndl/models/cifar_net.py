"""A small VGG-style network for 3x32x32 images (CIFAR-10)."""

from __future__ import annotations

import numpy as np

from nndl import nn
from nndl.random import as_generator


class CifarNet(nn.Sequential):
    """Two VGG stages with batch norm, then a two-layer classifier with dropout::

        2 × [conv 32@3x3 pad 1 → BN → ReLU] → max-pool 2      (32x32 → 16x16)
        2 × [conv 64@3x3 pad 1 → BN → ReLU] → max-pool 2      (16x16 → 8x8)
        flatten (4096) → linear 256 → ReLU → dropout → linear num_classes

    1,117,354 parameters for 10 classes (1,048,832 of them in the first linear layer); the network
    of the CIFAR benchmark in ``benchmarks/``. Inputs must be 32x32.

    Parameters
    ----------
    num_classes : int
    in_channels : int
    width : int
        Channels of the first stage (the second has twice as many).
    dropout : float
    rng : Generator, int or None
    dtype : float32 or float64

    The conv and linear layers keep nndl's default He initialization
    (``he_uniform``, Var(W) = 2/fan_in, biases 0), the notes' choice for ReLU.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, width: int = 32, dropout: float = 0.5,
                 rng=None, dtype=np.float32):
        rng = as_generator(rng)

        def block(c_in, c_out):
            return [nn.Conv2d(c_in, c_out, 3, padding=1, rng=rng, dtype=dtype), nn.BatchNorm2d(c_out, dtype=dtype),
                    nn.ReLU(dtype=dtype)]

        super().__init__(
            *block(in_channels, width), *block(width, width), nn.MaxPool2d(2, dtype=dtype),
            *block(width, 2 * width), *block(2 * width, 2 * width), nn.MaxPool2d(2, dtype=dtype),
            nn.Flatten(dtype=dtype), nn.Linear(2 * width * 8 * 8, 256, rng=rng, dtype=dtype), nn.ReLU(dtype=dtype),
            nn.Dropout(dropout, rng=rng, dtype=dtype), nn.Linear(256, num_classes, rng=rng, dtype=dtype))

    def get_config(self) -> dict:
        return nn.Module.get_config(self)  # rebuilt from its own arguments, not from its children


def cifar_net(num_classes: int = 10, in_channels: int = 3, width: int = 32, dropout: float = 0.5, rng=None,
              dtype=np.float32) -> CifarNet:
    """The small CIFAR network; see :class:`CifarNet`."""
    return CifarNet(num_classes, in_channels, width, dropout, rng, dtype)

"""Small convolutional networks for small images: the default model of ``nndl train``."""

from __future__ import annotations

import numpy as np

from nndl import nn
from nndl.random import as_generator


class SmallCNN(nn.Sequential):
    """Three 3x3 conv blocks with batch norm, two 2x2 max-pools, dropout and a linear classifier.

    ::

        conv(C→w, 3x3, pad 1) → BN → ReLU
        conv(w→w, 3x3, pad 1) → BN → ReLU → max-pool 2
        conv(w→2w, 3x3, pad 1) → BN → ReLU → max-pool 2
        flatten → dropout → linear(2w·(H/4)·(W/4) → classes)

    Padding 1 keeps each conv's size ("same"), so only the pools shrink the
    image: an 8x8 digit ends as 2x2 maps, a 28x28 MNIST digit as 7x7.

    Parameters
    ----------
    in_channels : int
    num_classes : int
    input_size : int or (int, int)
        Height and width of the input (each divisible by 4).
    width : int
        Channels of the first two convolutions (``w``).
    dropout : float
        Drop probability before the classifier.
    rng : Generator, int or None
    dtype : float32 or float64

    The conv and linear layers keep nndl's default He initialization
    (``he_uniform``, Var(W) = 2/fan_in, biases 0), the notes' choice for ReLU.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size=8, width: int = 32,
                 dropout: float = 0.3, rng=None, dtype=np.float32):
        height, width_px = (input_size, input_size) if np.isscalar(input_size) else tuple(input_size)
        if height % 4 or width_px % 4:
            raise ValueError(f"SmallCNN: input_size must be divisible by 4 (two 2x2 pools), got {input_size}")
        rng = as_generator(rng)
        super().__init__(
            nn.Conv2d(in_channels, width, 3, padding=1, rng=rng, dtype=dtype), nn.BatchNorm2d(width, dtype=dtype),
            nn.ReLU(dtype=dtype),
            nn.Conv2d(width, width, 3, padding=1, rng=rng, dtype=dtype), nn.BatchNorm2d(width, dtype=dtype),
            nn.ReLU(dtype=dtype), nn.MaxPool2d(2, dtype=dtype),
            nn.Conv2d(width, 2 * width, 3, padding=1, rng=rng, dtype=dtype), nn.BatchNorm2d(2 * width, dtype=dtype),
            nn.ReLU(dtype=dtype), nn.MaxPool2d(2, dtype=dtype),
            nn.Flatten(dtype=dtype), nn.Dropout(dropout, rng=rng, dtype=dtype),
            nn.Linear(2 * width * (height // 4) * (width_px // 4), num_classes, rng=rng, dtype=dtype),
        )

    def get_config(self) -> dict:
        return nn.Module.get_config(self)  # rebuilt from its own arguments, not from its children


def small_cnn(in_channels: int = 1, num_classes: int = 10, input_size=8, width: int = 32, dropout: float = 0.3,
              rng=None, dtype=np.float32) -> SmallCNN:
    """A small CNN; see :class:`SmallCNN`."""
    return SmallCNN(in_channels, num_classes, input_size, width, dropout, rng, dtype)

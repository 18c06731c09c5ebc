"""LeNet-5 (LeCun et al., 1998), the common 32×32 variant: 61,706 parameters."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from nndl import nn
from nndl.random import as_generator

LENET_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}
LENET_POOLS = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}


class LeNet5(nn.Sequential):
    """LeNet-5: two conv–activation–pool stages and three fully connected layers.

    ``(C, 32, 32) → conv1 5×5, 6 filters → (6, 28, 28) → pool 2 → (6, 14, 14)
    → conv2 5×5, 16 filters → (16, 10, 10) → pool 2 → (16, 5, 5) → 400 → 120
    → 84 → num_classes``. With one input channel and 10 classes the parameters
    are ``(5·5·1 + 1)·6 = 156``, ``(5·5·6 + 1)·16 = 2,416``,
    ``400·120 + 120 = 48,120``, ``120·84 + 84 = 10,164`` and ``84·10 + 10 = 850``:
    61,706 in all.

    The 1998 network's C3 connects each of its 16 maps to a subset of S2's
    maps and its subsampling layers have trainable coefficients; this is the
    variant every course and library uses instead (full C3, plain pooling).

    Parameters
    ----------
    num_classes : int
    in_channels : int
    activation : {'tanh', 'relu', 'sigmoid'}
        ``tanh`` is closest to the original's scaled tanh.
    pool : {'avg', 'max'}
        ``avg`` is closest to the original's subsampling.
    init : str
        Weight initialization of the conv and linear layers. ``'auto'``
        (default) follows the activation as the notes advise: Xavier
        (``xavier_uniform``, Var(W) = 2/(fan_in + fan_out)) for tanh and
        sigmoid, He (``he_uniform``, Var(W) = 2/fan_in) for ReLU. The 1998
        paper drew U(−2.4/F_in, 2.4/F_in) for its scaled tanh, a variance
        ≈ 1.9/F_in, the same order as Xavier's; torchvision has no LeNet.
    padding : int
        Zero padding of ``conv1``. ``2`` gives a 28×28 input (MNIST) the same
        28×28 first feature maps as an unpadded 32×32 one, so the rest of the
        network is unchanged.
    rng : Generator, int or None
    dtype : float32 or float64

    Children: ``conv1, act1, pool1, conv2, act2, pool2, flatten, fc1, act3, fc2, act4, fc3``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, activation: str = "tanh", pool: str = "avg",
                 init: str = "auto", padding: int = 0, rng=None, dtype=np.float32):
        if activation not in LENET_ACTIVATIONS:
            raise ValueError(f"LeNet5: unknown activation '{activation}'; valid: {', '.join(LENET_ACTIVATIONS)}")
        if pool not in LENET_POOLS:
            raise ValueError(f"LeNet5: unknown pool '{pool}'; valid: {', '.join(LENET_POOLS)}")
        if init == "auto":
            init = "he_uniform" if activation == "relu" else "xavier_uniform"
        rng = as_generator(rng)
        act, pool_cls = LENET_ACTIVATIONS[activation], LENET_POOLS[pool]
        kw = dict(init=init, rng=rng, dtype=dtype)
        super().__init__(OrderedDict([
            ("conv1", nn.Conv2d(in_channels, 6, 5, padding=padding, **kw)), ("act1", act(dtype=dtype)),
            ("pool1", pool_cls(2, dtype=dtype)),
            ("conv2", nn.Conv2d(6, 16, 5, **kw)), ("act2", act(dtype=dtype)), ("pool2", pool_cls(2, dtype=dtype)),
            ("flatten", nn.Flatten(dtype=dtype)),
            ("fc1", nn.Linear(16 * 5 * 5, 120, **kw)), ("act3", act(dtype=dtype)),
            ("fc2", nn.Linear(120, 84, **kw)), ("act4", act(dtype=dtype)),
            ("fc3", nn.Linear(84, num_classes, **kw)),
        ]), dtype=dtype)

    def get_config(self) -> dict:
        return nn.Module.get_config(self)  # rebuilt from its own arguments, not from its children


def lenet5(num_classes: int = 10, in_channels: int = 1, activation: str = "tanh", pool: str = "avg",
           init: str = "auto", padding: int = 0, rng=None, dtype=np.float32) -> LeNet5:
    """LeNet-5 for ``(in_channels, 32, 32)`` inputs (28×28 with ``padding=2``); see :class:`LeNet5`."""
    return LeNet5(num_classes, in_channels, activation=activation, pool=pool, init=init, padding=padding, rng=rng,
                  dtype=dtype)

"""Multilayer perceptrons: ``mlp(sizes, ...)``."""

from __future__ import annotations

import numpy as np

from nndl import nn
from nndl.random import as_generator

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softplus": nn.Softplus,
}
"""Hidden-layer activations by name."""


class MLP(nn.Sequential):
    """``Flatten`` then, for each hidden size, ``Linear → [BatchNorm1d] → activation → [Dropout]``, then a final ``Linear``.

    Parameters
    ----------
    sizes : sequence of int
        ``[in_features, hidden_1, ..., out_features]``; at least two sizes.
    activation : str
        A name from :data:`ACTIVATIONS`.
    dropout : float
        Drop probability after each hidden activation (0 = no Dropout layer).
    batch_norm : bool
        Insert ``BatchNorm1d`` between each hidden Linear and its activation
        (the layers then need no bias, but keep it, as PyTorch examples do).
    init : str
        Weight initialization of the Linear layers; ``'auto'`` picks He for
        ReLU-family activations and Xavier for tanh/sigmoid/softplus (the
        notes' advice for each).
    rng : Generator, int or None
    dtype : float32 or float64

    Children are numbered in order, so state-dict keys read ``'1.weight'``
    (index 0 is the ``Flatten``).
    """

    def __init__(self, sizes, activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False,
                 init: str = "auto", rng=None, dtype=np.float32):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"mlp: sizes must list at least an input and an output size, all >= 1, got {sizes}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"mlp: unknown activation '{activation}'; valid: {', '.join(ACTIVATIONS)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"mlp: dropout must be in [0, 1), got {dropout}")
        if init == "auto":
            init = "he_uniform" if activation in ("relu", "leaky_relu", "elu") else "xavier_uniform"
        rng = as_generator(rng)
        layers: list[nn.Module] = [nn.Flatten(dtype=dtype)]
        for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
            layers.append(nn.Linear(fan_in, fan_out, init=init, rng=rng, dtype=dtype))
            if batch_norm:
                layers.append(nn.BatchNorm1d(fan_out, dtype=dtype))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout, rng=rng, dtype=dtype))
        layers.append(nn.Linear(sizes[-2], sizes[-1], init=init, rng=rng, dtype=dtype))
        super().__init__(*layers, dtype=dtype)
        self.sizes = sizes

    def get_config(self) -> dict:
        return nn.Module.get_config(self)  # rebuilt from its own arguments, not from its children


def mlp(sizes, activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False, init: str = "auto",
        rng=None, dtype=np.float32) -> MLP:
    """A multilayer perceptron; see :class:`MLP`."""
    return MLP(sizes, activation=activation, dropout=dropout, batch_norm=batch_norm, init=init, rng=rng, dtype=dtype)

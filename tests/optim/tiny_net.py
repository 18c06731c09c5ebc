"""A small network trained the same way by nndl and by torch, for optimizer tests.

``Linear(5, 7) -> Tanh -> Linear(7, 3)`` with mean squared error, on a fixed
sequence of random mini-batches. nndl computes the gradients with its own
modules; torch with autograd from the same initial weights.
"""

from __future__ import annotations

import numpy as np
import torch

from nndl import nn

IN_FEATURES, HIDDEN, OUT_FEATURES, BATCH = 5, 7, 3, 6


def make_batches(steps: int, seed: int = 1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((BATCH, IN_FEATURES)).astype(dtype),
             rng.standard_normal((BATCH, OUT_FEATURES)).astype(dtype)) for _ in range(steps)]


class TinyNet:
    def __init__(self, seed: int = 0, dtype=np.float64):
        self.model = nn.Sequential(nn.Linear(IN_FEATURES, HIDDEN, rng=seed, dtype=dtype), nn.Tanh(),
                                   nn.Linear(HIDDEN, OUT_FEATURES, rng=seed + 1, dtype=dtype))
        # Biases start at 0 with the default init; make them non-zero so their updates are exercised.
        rng = np.random.default_rng(seed + 2)
        for param in self.params:
            if param.data.ndim == 1:
                param.data[...] = rng.uniform(-0.5, 0.5, param.data.shape)
        self.loss_fn = nn.MSELoss()

    @property
    def params(self):
        return list(self.model.parameters())

    def values(self):
        return [p.data.copy() for p in self.params]

    def set_values(self, values):
        for param, value in zip(self.params, values):
            param.data[...] = value

    def compute_grads(self, x, y) -> float:
        """Forward and backward on one batch: fills every parameter's ``.grad``."""
        self.model.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        self.model.backward(self.loss_fn.backward())
        return loss

    def to_torch(self):
        """A torch twin with the same weights; its parameters in the same order."""
        twin = torch.nn.Sequential(torch.nn.Linear(IN_FEATURES, HIDDEN), torch.nn.Tanh(),
                                   torch.nn.Linear(HIDDEN, OUT_FEATURES)).double()
        with torch.no_grad():
            for target, value in zip(twin.parameters(), self.values()):
                target.copy_(torch.from_numpy(value))
        return twin


def torch_grads(twin, x, y) -> None:
    twin.zero_grad()
    loss = torch.nn.functional.mse_loss(twin(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()


def make_groups(params, groups):
    """``groups`` is None (all parameters, defaults) or [(indices, overrides), ...]."""
    if groups is None:
        return params
    return [{"params": [params[i] for i in indices], **overrides} for indices, overrides in groups]


def relative_difference(actual, expected) -> float:
    """max |a − b| / max |b| over one array: the error relative to the array's scale."""
    return float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))

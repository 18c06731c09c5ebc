"""The notes' initialization experiment: activation statistics through a deep net for four weight scales."""

from __future__ import annotations

import math

import numpy as np

from nndl.plot._figure import new_figure

INIT_SCALES = {
    "too small (0.01)": lambda fan_in: 0.01,
    "too large (1.0)": lambda fan_in: 1.0,
    "Xavier (1/√fan_in)": lambda fan_in: 1.0 / math.sqrt(fan_in),
    "He (√(2/fan_in))": lambda fan_in: math.sqrt(2.0 / fan_in),
}
"""Standard deviation of ``W ~ N(0, s²)`` for each curve, as a function of the layer's fan-in."""


def activation_std_by_depth(activation: str, scale, depth: int, width: int, samples: int, rng) -> np.ndarray:
    """Std of each layer's output in a ``depth``-layer ``width``-wide net of ``activation`` on unit Gaussian input.

    Runs nndl's own Linear and activation modules (float64, zero biases).
    """
    from nndl import nn

    modules = {"tanh": nn.Tanh, "relu": nn.ReLU}
    if activation not in modules:
        raise ValueError(f"init_experiment: unknown activation {activation!r}; valid: {', '.join(modules)}")
    h = rng.standard_normal((samples, width))
    stds = []
    for _ in range(depth):
        layer = nn.Linear(width, width, init=lambda shape, rng=None, dtype=np.float64:
                          scale(shape[1]) * rng.standard_normal(shape).astype(dtype), rng=rng, dtype=np.float64)
        layer.bias.data[:] = 0.0
        h = modules[activation](dtype=np.float64)(layer(h))
        stds.append(float(h.std()))
    return np.array(stds)


def init_experiment(depth: int = 10, width: int = 500, samples: int = 1000, activations=("tanh", "relu"),
                    rng=0):
    """Activation std by depth for weights too small, too large, Xavier and He, under tanh and ReLU.

    With ``W ~ N(0, s²)``: ``s = 0.01`` makes activations collapse to 0
    layer after layer (and with them the gradients), ``s = 1`` saturates
    tanh at ±1 and blows ReLU up; ``1/√fan_in`` (Xavier) keeps tanh's scale
    and ``√(2/fan_in)`` (He) keeps ReLU's, because half of a ReLU's inputs
    are zeroed.

    Parameters
    ----------
    depth, width, samples : int
    activations : sequence of {'tanh', 'relu'}
    rng : Generator, int or None

    Returns
    -------
    Figure
        One Axes per activation, std (log scale) against layer, a line per initialization.
    """
    from nndl.random import as_generator

    generator = as_generator(rng)
    figure, axes = new_figure(1, len(activations))
    layers = np.arange(1, depth + 1)
    for ax, activation in zip(axes[0], activations):
        for label, scale in INIT_SCALES.items():
            stds = activation_std_by_depth(activation, scale, depth, width, samples, generator)
            ax.plot(layers, np.maximum(stds, 1e-30), "-o", markersize=3, label=label)
        ax.set_yscale("log")
        ax.set_xlabel("layer")
        ax.set_ylabel("std of activations")
        ax.set_title(f"{activation}: {depth} layers of {width}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return figure

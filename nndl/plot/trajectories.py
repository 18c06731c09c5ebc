"""Every optimizer of nndl.optim on the notes' test surfaces, from the same start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from nndl.plot._figure import new_figure


@dataclass(frozen=True)
class Surface:
    """A 2-D loss ``f(θ)`` with its gradient, a start point, a view box and a learning-rate scale."""

    f: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    start: tuple[float, float]
    box: tuple[float, float, float, float]
    lr_scale: float = 1.0


SURFACES = {
    # f = ½(x² + 25 y²): condition number 25, the ravine where plain SGD zig-zags.
    "ill-conditioned quadratic": Surface(lambda p: 0.5 * (p[0] ** 2 + 25 * p[1] ** 2),
                                         lambda p: np.array([p[0], 25 * p[1]]), (-4.0, 1.5), (-5, 5, -2.5, 2.5), 1.0),
    # Rosenbrock: a curved, flat-bottomed valley towards the minimum at (1, 1).
    "Rosenbrock": Surface(lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2,
                          lambda p: np.array([-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2),
                                              200 * (p[1] - p[0] ** 2)]), (-1.5, 2.0), (-2, 2, -1, 3), 0.05),
    # A saddle: f = x² − y², escaped only along y; starting almost on the ridge.
    "saddle": Surface(lambda p: p[0] ** 2 - p[1] ** 2, lambda p: np.array([2 * p[0], -2 * p[1]]),
                      (-2.0, 1e-3), (-2.5, 2.5, -2.5, 2.5), 1.0),
}
"""The default surfaces of :func:`optimizer_trajectories`."""


def default_optimizers() -> dict[str, Callable]:
    """Every optimizer in ``nndl.optim`` (SGD also with momentum and Nesterov), as ``factory(params, lr_scale)``."""
    from nndl import optim

    return {
        "SGD": lambda params, s: optim.SGD(params, lr=0.05 * s),
        "SGD momentum": lambda params, s: optim.SGD(params, lr=0.05 * s, momentum=0.9),
        "SGD Nesterov": lambda params, s: optim.SGD(params, lr=0.05 * s, momentum=0.9, nesterov=True),
        "Adagrad": lambda params, s: optim.Adagrad(params, lr=0.5),
        "RMSprop": lambda params, s: optim.RMSprop(params, lr=0.05),
        "Adam": lambda params, s: optim.Adam(params, lr=0.1),
        "AdamW": lambda params, s: optim.AdamW(params, lr=0.1, weight_decay=0.01),
    }


def trajectory(factory, surface: Surface, steps: int) -> np.ndarray:
    """The points ``θ_0 … θ_steps`` an optimizer visits on ``surface`` (stopping if it leaves all bounds)."""
    from nndl.nn.core.parameter import Parameter

    theta = Parameter(np.array(surface.start, dtype=np.float64))
    optimizer = factory([theta], surface.lr_scale)
    points = [theta.data.copy()]
    for _ in range(steps):
        theta.grad = surface.grad(theta.data).astype(np.float64)
        optimizer.step()
        points.append(theta.data.copy())
        if not np.all(np.isfinite(theta.data)) or np.abs(theta.data).max() > 1e6:
            break
    return np.array(points)


def optimizer_trajectories(optimizers=None, surfaces=None, steps: int = 100):
    """The path of each optimizer over each surface, from the same start, on the contours of the loss.

    Parameters
    ----------
    optimizers : dict[str, callable], optional
        ``name -> factory(params, lr_scale)`` returning an nndl Optimizer;
        by default every optimizer in ``nndl.optim`` (:func:`default_optimizers`).
    surfaces : dict[str, Surface], optional
        By default an ill-conditioned quadratic, Rosenbrock and a saddle (:data:`SURFACES`).
    steps : int

    Returns
    -------
    Figure
        One Axes per surface.
    """
    optimizers = default_optimizers() if optimizers is None else dict(optimizers)
    surfaces = SURFACES if surfaces is None else dict(surfaces)
    if not optimizers or not surfaces:
        raise ValueError("optimizer_trajectories: need at least one optimizer and one surface")
    figure, axes = new_figure(1, len(surfaces), figsize=(4.6 * len(surfaces), 4.2))
    for ax, (title, surface) in zip(axes[0], surfaces.items()):
        x0, x1, y0, y1 = surface.box
        u, v = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
        z = np.vectorize(lambda a, b: surface.f(np.array([a, b])))(u, v)
        levels = np.quantile(z, np.linspace(0.0, 0.95, 25))
        ax.contour(u, v, z, levels=np.unique(levels), colors="0.7", linewidths=0.6)
        for index, (name, factory) in enumerate(optimizers.items()):
            path = trajectory(factory, surface, steps)
            ax.plot(path[:, 0], path[:, 1], "-", color=f"C{index % 10}", linewidth=1.2, label=name)
            ax.plot(path[-1, 0], path[-1, 1], "o", color=f"C{index % 10}", markersize=3)
        ax.plot(*surface.start, "k*", markersize=9)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_title(title)
    axes[0, 0].legend(fontsize=7, loc="lower right")
    return figure

"""A slice of the loss surface around the trained weights (Li et al., 2018, filter-normalised directions)."""

from __future__ import annotations

import numpy as np

from nndl.plot._figure import one_panel


def filter_normalized_direction(model, rng) -> list[np.ndarray]:
    """A random direction ``d`` with each filter's norm equal to its weights' norm: ``d_f ← d_f ‖θ_f‖/‖d_f‖``.

    A filter is one output unit: a row of a Linear weight, an output
    channel of a convolution. Parameters of one axis (biases, batch-norm
    scales) get no direction, as in Li et al., so that the slice moves the
    weights on the scale at which the network is sensitive to them.
    """
    directions = []
    for param in model.parameters():
        theta = param.data.astype(np.float64)
        if theta.ndim < 2:
            directions.append(np.zeros_like(theta))
            continue
        d = rng.standard_normal(theta.shape)
        axes = tuple(range(1, theta.ndim))
        d *= np.linalg.norm(theta, axis=axes, keepdims=True) / (np.linalg.norm(d, axis=axes, keepdims=True) + 1e-12)
        directions.append(d)
    return directions


def loss_surface(model, loss_fn, x, y, steps: int = 21, span: float = 1.0, rng=0):
    """``(alphas, betas, losses)``: the loss at ``θ + α d₁ + β d₂`` on a ``steps × steps`` grid over [−span, span]².

    Evaluated in evaluation mode; the model is restored exactly afterwards.
    """
    from nndl.doctor.snapshot import Snapshot
    from nndl.random import as_generator

    generator = as_generator(rng)
    params = list(model.parameters())
    d1, d2 = filter_normalized_direction(model, generator), filter_normalized_direction(model, generator)
    alphas = np.linspace(-span, span, steps)
    losses = np.empty((steps, steps))
    with Snapshot(model, others=(loss_fn,)):
        start = [p.data.astype(np.float64) for p in params]
        model.eval()
        for i, beta in enumerate(alphas):
            for j, alpha in enumerate(alphas):
                for param, theta, a, b in zip(params, start, d1, d2):
                    param.data = (theta + alpha * a + beta * b).astype(param.data.dtype)
                try:
                    losses[i, j] = float(loss_fn(model(x), y))
                except FloatingPointError:
                    losses[i, j] = np.nan
    return alphas, alphas.copy(), losses


def loss_landscape(model, loss_fn, x, y, steps: int = 21, span: float = 1.0, rng=0, ax=None):
    """Contours of the loss on a plane through the current weights, spanned by two filter-normalised directions.

    Parameters
    ----------
    model : Module
    loss_fn : Loss
    x, y : ndarray
        The batch the loss is measured on.
    steps : int
        Grid points along each direction.
    span : float
        The grid covers ``α, β ∈ [−span, span]``.
    rng : Generator, int or None
    ax : Axes, optional

    Returns
    -------
    Figure
        The model (weights, statistics, modes) is left exactly as it was.
    """
    alphas, betas, losses = loss_surface(model, loss_fn, x, y, steps, span, rng)
    figure, ax = one_panel(ax)
    finite = np.where(np.isfinite(losses), losses, np.nanmax(np.where(np.isfinite(losses), losses, -np.inf)))
    shown = np.log10(finite - finite.min() + 1e-3 * (finite.max() - finite.min() + 1e-12))
    contours = ax.contourf(alphas, betas, shown, levels=30, cmap="viridis")
    ax.contour(alphas, betas, shown, levels=15, colors="k", linewidths=0.3)
    figure.colorbar(contours, ax=ax, label="log10(loss − min)")
    ax.plot(0, 0, "r*", markersize=10)
    ax.set_xlabel("α (direction 1)")
    ax.set_ylabel("β (direction 2)")
    ax.set_title(f"loss landscape (center {losses[steps // 2, steps // 2]:.3g})")
    return figure

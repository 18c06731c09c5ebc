"""Smith's learning-rate range test: train briefly while the rate grows exponentially, watch the loss."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nndl.doctor.snapshot import Snapshot
from nndl.nn.core.hooks import backward as backward_entry
from nndl.nn.core.module import Module
from nndl.random import as_generator


@dataclass
class LRFinderResult:
    """What :func:`lr_find` measured.

    Attributes
    ----------
    lrs : ndarray
        The learning rate of each step taken.
    losses : ndarray
        The smoothed loss after each step (exponential moving average with
        bias correction, ``β = smoothing``), the curve to read.
    raw_losses : ndarray
        The mini-batch loss of each step.
    suggestion : float
        Where the smoothed loss falls fastest against ``log(lr)`` (the
        steepest descent of the curve, before its minimum), a good starting
        learning rate; NaN when the loss never decreased.
    diverged : bool
        True when the run stopped because the loss blew up.
    """

    lrs: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggestion: float
    diverged: bool = False
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"lrs": self.lrs.tolist(), "losses": self.losses.tolist(), "raw_losses": self.raw_losses.tolist(),
                "suggestion": None if math.isnan(self.suggestion) else self.suggestion, "diverged": self.diverged}


def steepest_descent(lrs: np.ndarray, losses: np.ndarray, skip: int = 3) -> float:
    """The rate where ``d loss / d log(lr)`` is most negative, left of the lowest loss; NaN if none."""
    if len(lrs) < skip + 3:
        return math.nan
    stop = int(np.argmin(losses)) + 1
    if stop - skip < 3:
        return math.nan
    slope = np.gradient(losses[skip:stop], np.log(lrs[skip:stop]))
    best = int(np.argmin(slope))
    return float(lrs[skip + best]) if slope[best] < 0 else math.nan


def lr_find(model, loss_fn, optimizer, x, y, start: float = 1e-7, end: float = 10.0, steps: int = 100,
            batch_size: int = 64, smoothing: float = 0.98, diverge_factor: float = 4.0, rng=None) -> LRFinderResult:
    """Run Smith's range test and restore the model and the optimizer exactly.

    Step ``i`` of ``steps`` sets every parameter group's rate to
    ``lr_i = start · (end/start)^{i/(steps−1)}``, takes one optimizer step on
    the next mini-batch of ``(x, y)`` (cycling through a shuffled order) and
    records the loss. The test stops early once the smoothed loss exceeds
    ``diverge_factor ×`` its lowest value, or is no longer finite.

    Parameters
    ----------
    model : Module
    loss_fn : Loss
    optimizer : Optimizer
        Its own update rule is tested (momentum, Adam's moments...): the
        result applies to this optimizer.
    x, y : ndarray
    start, end : float
        The rate range, ``0 < start < end``.
    steps : int
    batch_size : int
    smoothing : float
        β of the moving average of the loss, in [0, 1).
    diverge_factor : float
    rng : Generator, int or None
        The mini-batch order (a given Generator is restored too).

    Returns
    -------
    LRFinderResult
    """
    if not isinstance(model, Module):
        raise TypeError(f"lr_find: model must be an nndl Module, got {type(model).__name__}")
    if not (0 < start < end) or not math.isfinite(end):
        raise ValueError(f"lr_find: need 0 < start < end (finite), got start={start}, end={end}")
    if int(steps) < 2 or int(batch_size) < 1:
        raise ValueError(f"lr_find: steps must be >= 2 and batch_size >= 1, got {steps} and {batch_size}")
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"lr_find: smoothing must be in [0, 1), got {smoothing}")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"lr_find: x and y must hold the same, non-zero number of samples; got {len(x)}, {len(y)}")
    steps, batch_size = int(steps), int(batch_size)
    others = (loss_fn, rng) if isinstance(rng, np.random.Generator) else (loss_fn,)
    order_rng = as_generator(0 if rng is None else rng)
    lrs = start * (end / start) ** (np.arange(steps) / (steps - 1))
    taken, raw, smooth = [], [], []
    average, best, diverged = 0.0, math.inf, False
    with Snapshot(model, optimizer, others):
        model.train()
        order = order_rng.permutation(len(x))
        cursor = 0
        for i, lr in enumerate(lrs):
            if cursor + batch_size > len(x):
                order, cursor = order_rng.permutation(len(x)), 0
            batch = order[cursor:cursor + batch_size]
            cursor += batch_size
            for group in optimizer.param_groups:
                group["lr"] = float(lr)
            try:
                loss = float(loss_fn(model(x[batch]), y[batch]))
            except FloatingPointError:
                loss = math.nan
            if not math.isfinite(loss):
                diverged = True
                break
            average = smoothing * average + (1 - smoothing) * loss
            smoothed = average / (1 - smoothing ** (i + 1))
            taken.append(lr), raw.append(loss), smooth.append(smoothed)
            best = min(best, smoothed)
            if smoothed > diverge_factor * best:
                diverged = True
                break
            optimizer.zero_grad()
            backward_entry(model, loss_fn.backward(), need_input_grad=False)
            optimizer.step()
    lrs_taken, losses = np.array(taken), np.array(smooth)
    return LRFinderResult(lrs_taken, losses, np.array(raw), steepest_descent(lrs_taken, losses), diverged)

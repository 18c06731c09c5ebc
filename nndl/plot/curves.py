"""Training curves: the History's losses, metrics and learning rate; the learning-rate finder's curve."""

from __future__ import annotations

import math

import numpy as np

from nndl.plot._figure import new_figure, one_panel


def MaxNLocator(**kwargs):  # noqa: N802 - matplotlib's class, imported when a figure is drawn
    from matplotlib.ticker import MaxNLocator as locator

    return locator(**kwargs)


def _history_dict(history) -> tuple[dict, list]:
    """``(values by key, epochs)`` from a History, its ``.history`` dict, or a plain dict of lists."""
    values = getattr(history, "history", history)
    if not isinstance(values, dict):
        raise TypeError(f"learning_curves: expected a History or a dict of lists, got {type(history).__name__}")
    epochs = list(getattr(history, "epoch", []) or [])
    lengths = {len(v) for v in values.values() if isinstance(v, (list, tuple, np.ndarray))}
    if not lengths:
        raise ValueError("learning_curves: the history is empty")
    count = max(lengths)
    return values, (epochs if len(epochs) == count else list(range(count)))


def learning_curves(history, keys=None):
    """Loss, every metric and the learning rate, training against validation, one panel each.

    Parameters
    ----------
    history : History or dict[str, list]
        What ``Trainer.fit`` returned (or its ``.history``, or a history.json's content).
    keys : sequence of str, optional
        The quantities to draw (their ``val_`` partners join them); by default
        every logged quantity except per-layer statistics (``'<layer>/<stat>'``).

    Returns
    -------
    Figure
        One Axes per quantity, epochs (1-based) on x; the learning rate on a log scale.
    """
    values, epochs = _history_dict(history)
    if keys is None:
        keys = [k for k in values if not k.startswith("val_") and "/" not in k]
        keys += [k[4:] for k in values if k.startswith("val_") and k[4:] not in values]
    keys = sorted(keys, key=lambda k: (k != "loss", k == "lr", k))
    if not keys:
        raise ValueError("learning_curves: nothing to draw")
    figure, axes = new_figure(1, len(keys))
    x = np.asarray(epochs) + 1
    for ax, key in zip(axes[0], keys):
        for name, style in ((key, "-o"), (f"val_{key}", "--s")):
            series = values.get(name)
            if series is None:
                continue
            series = np.asarray([math.nan if v is None else v for v in series], dtype=float)
            label = "validation" if name.startswith("val_") else ("train" if key != "lr" else "lr")
            ax.plot(x[:len(series)], series, style, markersize=3, label=label)
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if key == "lr":
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        if len(ax.get_lines()) > 1:
            ax.legend()
    return figure


def lr_finder(result, ax=None):
    """The range test's smoothed loss against the learning rate (log scale), the suggestion marked.

    Parameters
    ----------
    result : LRFinderResult
    ax : Axes, optional

    Returns
    -------
    Figure
    """
    figure, ax = one_panel(ax)
    ax.plot(result.lrs, result.raw_losses, color="0.75", linewidth=0.8, label="batch loss")
    ax.plot(result.lrs, result.losses, color="C0", label="smoothed")
    if result.suggestion is not None and math.isfinite(result.suggestion):
        ax.axvline(result.suggestion, color="C3", linestyle="--", label=f"suggestion {result.suggestion:.2g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.set_title("learning-rate range test")
    if len(result.losses):
        low, high = float(np.min(result.losses)), float(result.losses[0])
        ax.set_ylim(low - 0.1 * abs(high - low + 1e-12), max(high, low) + 0.5 * abs(high - low + 1e-12))
    ax.legend()
    ax.grid(alpha=0.3)
    return figure


def monitor_statistics(monitor):
    """A ``Monitor``'s per-layer statistics across epochs: activation std, dead/saturated fractions, update ratios.

    Parameters
    ----------
    monitor : Monitor or dict
        A Monitor after training, or the content of its ``monitor.json``.

    Returns
    -------
    Figure
        Three Axes: the std of each layer's activations, the dead (ReLU) and
        saturated (tanh/sigmoid) fractions, and ``‖Δθ‖/‖θ‖`` of each weight
        (log scale, the notes' 1e-3 marked).
    """
    data = monitor.to_dict() if hasattr(monitor, "to_dict") else monitor
    epochs = data.get("epochs") or []
    if not epochs:
        raise ValueError("monitor_statistics: the monitor recorded no epoch")
    x = [e["epoch"] + 1 for e in epochs]
    layers = list(dict.fromkeys(name for e in epochs for name in e["layers"]))
    weights = list(dict.fromkeys(name for e in epochs for name in e["weights"]))

    def series(kind, name, key):
        return [math.nan if e[kind].get(name, {} if kind == "layers" else None) is None else
                (e[kind][name].get(key, math.nan) if kind == "layers" else e[kind][name]) for e in epochs]

    figure, axes = new_figure(1, 3, figsize=(13, 3.6))
    std_ax, fraction_ax, ratio_ax = axes[0]
    for name in layers:
        std_ax.plot(x, [v if v is not None else math.nan for v in series("layers", name, "std")], "-o",
                    markersize=3, label=name)
        for key, style in (("dead", "-o"), ("saturated", "--s")):
            values = series("layers", name, key)
            if any(v is not None and not math.isnan(v) for v in values):
                fraction_ax.plot(x, [math.nan if v is None else v for v in values], style, markersize=3,
                                 label=f"{name} {key}")
    for name in weights:
        ratio_ax.plot(x, [math.nan if v is None else v for v in series("weights", name, None)], "-o", markersize=3,
                      label=name)
    ratio_ax.axhline(1e-3, color="0.5", linestyle=":", label="1e-3")
    std_ax.set_title("activation std")
    fraction_ax.set_title("dead / saturated fraction")
    fraction_ax.set_ylim(-0.02, 1.02)
    ratio_ax.set_title("update ratio ‖Δθ‖/‖θ‖")
    ratio_ax.set_yscale("log")
    for ax in axes[0]:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if ax.get_lines():
            ax.legend(fontsize=6, ncol=2)
    return figure

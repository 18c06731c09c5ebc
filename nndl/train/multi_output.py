"""Models with several outputs (multi-task learning): one loss per head, a weighted total, per-head metrics.

A model ending in ``nn.Parallel(digit=..., parity=...)`` returns a dict of
outputs; the Trainer then takes ``loss_fn={'digit': ..., 'parity': ...}``,
``loss_weights`` and ``metrics`` keyed the same way, and targets
``y={'digit': ..., 'parity': ...}`` (tuples in the head order work too, the
heads then being named ``'0'``, ``'1'``, ...). The total loss is

.. math::
    L = Σ_k λ_k L_k,

so head ``k``'s output gets the gradient ``λ_k ∂L_k/∂y_k`` and the shared
trunk the sum of what the heads send back (``nn.Parallel``'s backward). The
History uses Keras's keys: ``loss`` (the weighted total), ``digit_loss``,
``digit_accuracy``, ``val_parity_accuracy``...

Targets are packed into one NumPy structured array (a field per head, each
with its own dtype and trailing shape), so the data loader, shuffling and
validation split treat them as one array of rows.
"""

from __future__ import annotations

import inspect
import math

import numpy as np


def pack_targets(y, where: str):
    """A dict (or tuple) of per-head target arrays as one structured array; any other ``y`` unchanged."""
    if isinstance(y, dict):
        items = [(name, value) for name, value in y.items()]
    elif isinstance(y, (tuple, list)):
        items = [(str(i), value) for i, value in enumerate(y)]
    else:
        return y
    if not items:
        raise ValueError(f"Trainer.{where}: y holds no targets")
    for name, value in items:
        if not isinstance(name, str):
            raise TypeError(f"Trainer.{where}: target names must be strings, got {name!r}")
        if not isinstance(value, np.ndarray) or value.ndim == 0:
            raise TypeError(f"Trainer.{where}: y['{name}'] must be a numpy array with a sample axis, "
                            f"got {type(value).__name__}")
        if value.dtype.names is not None or value.dtype == object:
            raise TypeError(f"Trainer.{where}: y['{name}'] must be a plain numeric array, got dtype {value.dtype}")
        if len(value) != len(items[0][1]):
            raise ValueError(f"Trainer.{where}: y['{items[0][0]}'] has {len(items[0][1])} samples but "
                             f"y['{name}'] has {len(value)}")
        if np.issubdtype(value.dtype, np.inexact) and not np.all(np.isfinite(value)):
            raise ValueError(f"Trainer.{where}: y['{name}'] holds NaN or inf values; clean or impute the data first")
    packed = np.empty(len(items[0][1]), dtype=[(name, value.dtype, value.shape[1:]) for name, value in items])
    for name, value in items:
        packed[name] = value
    return packed


def concatenate_outputs(outputs: list):
    """Batch outputs joined along the sample axis: arrays, or dicts/tuples of arrays head by head."""
    first = outputs[0]
    if isinstance(first, dict):
        return {name: np.concatenate([o[name] for o in outputs]) for name in first}
    if isinstance(first, tuple):
        return tuple(np.concatenate([o[i] for o in outputs]) for i in range(len(first)))
    return np.concatenate(outputs)


class MultiOutputLoss:
    """The weighted sum ``L = Σ_k λ_k L_k`` of one loss per output, used by the Trainer like a loss.

    Parameters
    ----------
    losses : dict ``{head: Loss}`` or a sequence of Loss (heads ``'0'``, ``'1'``, ...)
    weights : dict ``{head: float}``, a sequence in head order, or None
        ``λ_k ≥ 0``; a head not listed weighs 1.

    Attributes
    ----------
    values : dict[str, float]
        Each head's (unweighted) loss at the last call.
    """

    def __init__(self, losses, weights=None):
        if isinstance(losses, dict):
            self.names, self.losses, self.as_dict = [str(k) for k in losses], list(losses.values()), True
        else:
            self.losses, self.as_dict = list(losses), False
            self.names = [str(i) for i in range(len(self.losses))]
        if not self.losses:
            raise ValueError("Trainer: loss_fn holds no losses")
        for name, loss in zip(self.names, self.losses):
            if not callable(loss) or not hasattr(loss, "backward"):
                raise TypeError(f"Trainer: loss_fn['{name}'] must be an nndl loss, got {type(loss).__name__}")
            if getattr(loss, "reduction", None) == "none":
                raise ValueError(f"Trainer: loss_fn['{name}'] must reduce to one number (reduction 'mean' or 'sum')")
        self.weights = self._weights(weights)
        self.values: dict[str, float] = {}

    def _weights(self, weights) -> list[float]:
        if weights is None:
            weights = {}
        elif isinstance(weights, (tuple, list)):
            if len(weights) != len(self.names):
                raise ValueError(f"Trainer: loss_weights has {len(weights)} values for {len(self.names)} heads")
            weights = dict(zip(self.names, weights))
        elif not isinstance(weights, dict):
            raise TypeError(f"Trainer: loss_weights must be a dict keyed by head or a sequence, "
                            f"got {type(weights).__name__}")
        unknown = [k for k in weights if k not in self.names]
        if unknown:
            raise ValueError(f"Trainer: loss_weights names unknown heads {unknown}; the heads are {self.names}")
        result = []
        for name in self.names:
            value = weights.get(name, 1.0)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                    or not math.isfinite(value) or value < 0:
                raise ValueError(f"Trainer: loss_weights['{name}'] must be a finite number >= 0, got {value!r}")
            result.append(float(value))
        return result

    def outputs_by_name(self, outputs) -> dict:
        """The model's outputs as ``{head: array}``, checked against the heads of the losses."""
        if isinstance(outputs, dict):
            if list(outputs) != self.names:
                raise ValueError(f"Trainer: the model returns outputs {list(outputs)} but the losses are for "
                                 f"{self.names}")
            return outputs
        if isinstance(outputs, (tuple, list)) and len(outputs) == len(self.names):
            return dict(zip(self.names, outputs))
        got = f"{len(outputs)} outputs" if isinstance(outputs, (tuple, list)) else f"one {type(outputs).__name__}"
        raise ValueError(f"Trainer: {len(self.names)} losses ({', '.join(self.names)}) need as many model outputs "
                         f"(a dict or a tuple, e.g. from nn.Parallel), got {got}")

    def targets_by_name(self, target) -> dict:
        """The per-head targets of a packed target array (:func:`pack_targets`)."""
        fields = getattr(getattr(target, "dtype", None), "names", None)
        if fields is None:
            raise TypeError(f"Trainer: with one loss per head, y must be a dict (or tuple) of targets keyed by "
                            f"{self.names}, got {type(target).__name__}")
        if list(fields) != self.names:
            raise ValueError(f"Trainer: y has targets for {list(fields)} but the losses are for {self.names}")
        return {name: target[name] for name in self.names}

    def __call__(self, outputs, target) -> float:
        outputs, targets = self.outputs_by_name(outputs), self.targets_by_name(target)
        self.values = {name: float(loss(outputs[name], targets[name])) for name, loss in zip(self.names, self.losses)}
        return sum(w * self.values[name] for name, w in zip(self.names, self.weights))   # L = Σ_k λ_k L_k

    def backward(self):
        """``λ_k ∂L_k/∂y_k`` for each head, as a dict or a tuple like the model's outputs."""
        grads = [w * loss.backward() for loss, w in zip(self.losses, self.weights)]
        return dict(zip(self.names, grads)) if self.as_dict else tuple(grads)

    def describe(self) -> str:
        parts = ", ".join(f"{w:g}·{name}" for name, w in zip(self.names, self.weights))
        return f"MultiOutputLoss({parts})"

    def head_metrics(self, metrics, resolve, default_metrics, threshold_of) -> list:
        """``(name, fn)`` pairs named ``'<head>_<metric>'`` for the Trainer's metric loop.

        ``metrics`` is ``'auto'`` (each head's losses' defaults) or a dict
        ``{head: [metric, ...]}``; a head left out gets none.
        """
        if isinstance(metrics, str) and metrics == "auto":
            metrics = {name: default_metrics(loss) for name, loss in zip(self.names, self.losses)}
        if not isinstance(metrics, dict):
            raise TypeError(f"Trainer: with one loss per head, metrics must be 'auto' or a dict keyed by head "
                            f"({self.names}), got {type(metrics).__name__}")
        unknown = [k for k in metrics if k not in self.names]
        if unknown:
            raise ValueError(f"Trainer: metrics name unknown heads {unknown}; the heads are {self.names}")
        pairs = []
        for name, loss in zip(self.names, self.losses):
            for metric in metrics.get(name, ()):
                metric_name, fn = resolve(metric)
                pairs.append((f"{name}_{metric_name}", self._head_metric(name, fn, threshold_of(loss))))
        return pairs

    def _head_metric(self, head: str, fn, threshold: float):
        takes_threshold = "threshold" in inspect.signature(fn).parameters

        def metric(y, scores):
            y_head, scores_head = self.targets_by_name(y)[head], self.outputs_by_name(scores)[head]
            return fn(y_head, scores_head, threshold=threshold) if takes_threshold else fn(y_head, scores_head)

        return metric

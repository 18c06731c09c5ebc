"""``Monitor``: per-layer statistics of a network while a ``Trainer`` trains it, epoch by epoch.

What TensorBoard's histograms and fastai's activation statistics show, in
the notes' terms: for every layer the mean and standard deviation of its
activations, the fraction of dead rectifier units and of saturated
tanh/sigmoid outputs, the size of the backpropagated gradient ``‖δ‖`` and,
for every weight, the update-to-weight ratio ``‖Δθ‖/‖θ‖`` of a step. The
values are averaged over the sampled batches of an epoch and appended to the
``History`` under ``'<layer>/<statistic>'`` keys (``'1/dead'``,
``'0.weight/update_ratio'``), to ``monitor.history``, and, with
``run_dir``, to ``monitor.json`` there.

Hooks measure one batch in ``every``: the statistics are estimates, and the
cost of measuring stays a small fraction of training.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict

import numpy as np

from nndl.doctor.facts import activation_facts
from nndl.doctor.probe import activation_stats, is_leaf, signal_norm
from nndl.train.callback import Callback

MONITOR_FILE = "monitor.json"


def _subsample(values: np.ndarray, size: int) -> np.ndarray:
    flat = values.reshape(-1)
    step = max(1, flat.size // size)
    return np.array(flat[::step][:size], dtype=np.float64)


class Monitor(Callback):
    """Record per-layer statistics during ``Trainer.fit``.

    Parameters
    ----------
    every : int
        Measure one training batch in ``every`` (the first of each epoch always).
    samples : int
        How many activation and gradient values per layer to keep from the
        last measured batch, for :func:`nndl.plot.histograms`.
    run_dir : str, optional
        Write ``monitor.json`` there after every epoch.

    Attributes
    ----------
    history : dict[str, list[float]]
        ``'<layer>/<statistic>'`` -> one value per epoch (NaN when a layer was not measured).
    epochs : list of dict
        ``{'epoch': e, 'layers': {layer: {statistic: value}}, 'weights': {name: ratio}}`` per epoch.
    activations, gradients : dict[str, ndarray]
        Values sampled from the last measured batch, per layer, in forward order.
    """

    def __init__(self, every: int = 10, samples: int = 2000, run_dir: str | None = None):
        if int(every) < 1 or int(samples) < 1:
            raise ValueError(f"Monitor: every and samples must be >= 1, got {every} and {samples}")
        self.every, self.samples, self.run_dir = int(every), int(samples), run_dir
        self.history: dict[str, list[float]] = {}
        self.epochs: list[dict] = []
        self.activations: dict[str, np.ndarray] = {}
        self.gradients: dict[str, np.ndarray] = {}
        self.layer_types: dict[str, str] = {}
        self.activation_layers: list[str] = []
        self._handles = []
        self._active = self._last_measured = False

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs=None):
        model = self.trainer.model
        self._names = {id(m): name for name, m in model.named_modules()}
        self._weights = [(name, p) for name, p in model.named_parameters() if p.requires_grad and p.data.ndim >= 2]
        self.remove()
        for name, module in model.named_modules():
            if is_leaf(module):
                self.layer_types[name] = type(module).__name__
                if activation_facts(module) is not None and name not in self.activation_layers:
                    self.activation_layers.append(name)
                self._handles.append(module.register_forward_hook(self._on_forward))
                self._handles.append(module.register_full_backward_hook(self._on_backward))
        self._handles.append(model.register_forward_pre_hook(self._on_model_input))

    def on_epoch_begin(self, epoch, logs=None):
        self._stats = defaultdict(lambda: defaultdict(list))
        self._ratios = defaultdict(list)
        self._before = None
        self._active = True  # the epoch's first batch is always measured
        batches = max(getattr(self.trainer, "batches_per_epoch", 0), 1)
        self._last_index = (batches - 1) // self.every * self.every  # values for histograms are kept from it
        self._last_measured = self._last_index == 0

    def _on_model_input(self, module, inputs):
        if self._active and module.training:
            self._before = [p.data.copy() for _, p in self._weights]

    def _on_forward(self, module, inputs, output):
        if not (self._active and module.training) or not isinstance(output, np.ndarray) or output.dtype.kind != "f":
            return
        name = self._names[id(module)]
        stats = self._stats[name]
        measured = activation_stats(output, activation_facts(module))
        if math.isfinite(measured["mean"]) and math.isfinite(measured["std"]):  # a NaN/inf anywhere shows here
            for key, value in measured.items():
                stats[key].append(value)
        if self._last_measured:
            self.activations[name] = _subsample(output, self.samples)

    def _on_backward(self, module, grad_input, grad_output):
        delta = grad_output[0]
        if not self._active or not isinstance(delta, np.ndarray):
            return
        name = self._names[id(module)]
        self._stats[name]["grad_norm"].append(signal_norm(delta))
        if self._last_measured:
            self.gradients[name] = _subsample(delta, self.samples)

    def on_batch_end(self, batch, logs=None):
        if self._active and self._before is not None:
            for (name, param), old in zip(self._weights, self._before):
                norm = float(np.linalg.norm(old))
                if norm > 0:
                    self._ratios[name].append(float(np.linalg.norm(param.data - old)) / norm)
        self._before = None
        last = batch + 1 >= max(getattr(self.trainer, "batches_per_epoch", 0), 1)
        # Decide for the *next* batch; validation after the last batch runs in eval mode and is never measured.
        self._active = not last and (batch + 1) % self.every == 0
        self._last_measured = self._active and batch + 1 == self._last_index

    def on_epoch_end(self, epoch, logs=None):
        self._active = False
        layers = {name: {key: float(np.mean(values)) for key, values in stats.items()}
                  for name, stats in self._stats.items()}
        weights = {name: float(np.mean(values)) for name, values in self._ratios.items()}
        self.epochs.append({"epoch": int(epoch), "layers": layers, "weights": weights})
        row = {f"{layer}/{key}": value for layer, stats in layers.items() for key, value in stats.items()}
        row.update({f"{name}/update_ratio": value for name, value in weights.items()})
        self._append(row)
        if self.run_dir is not None:
            self.save(os.path.join(self.run_dir, MONITOR_FILE))

    def _append(self, row: dict) -> None:
        """Add one epoch's values to our history and to the Trainer's, keeping every list one per epoch."""
        targets = [self.history]
        trainer_history = getattr(self.trainer, "history", None)
        if trainer_history is not None and hasattr(trainer_history, "history"):
            targets.append(trainer_history.history)
        for target in targets:
            length = max((len(v) for k, v in target.items() if "/" in k), default=0)
            for key in set(row) | {k for k in target if "/" in k}:
                values = target.setdefault(key, [math.nan] * length)
                values.append(row.get(key, math.nan))

    def on_train_end(self, logs=None):
        self.remove()

    def remove(self) -> None:
        """Unregister every hook (done at the end of training)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict:
        """JSON-ready: ``epochs``, ``layer_types`` and the last sampled ``activations``/``gradients``."""
        def clean(value):
            return value if math.isfinite(value) else None

        return {
            "epochs": [{"epoch": e["epoch"],
                        "layers": {n: {k: clean(v) for k, v in s.items()} for n, s in e["layers"].items()},
                        "weights": {n: clean(v) for n, v in e["weights"].items()}} for e in self.epochs],
            "layer_types": dict(self.layer_types),
            "activation_layers": list(self.activation_layers),
            "activations": {n: v.tolist() for n, v in self.activations.items()},
            "gradients": {n: v.tolist() for n, v in self.gradients.items()},
        }

    def save(self, path: str) -> None:
        """Write :meth:`to_dict` as JSON to ``path``."""
        with open(path, "w") as f:
            json.dump(self.to_dict(), f)

"""Stock callbacks: early stopping, checkpoints, learning-rate schedules, CSV logs."""

from __future__ import annotations

import csv
import math
import os

from nndl.train.callback import Callback

HIGHER_IS_BETTER = frozenset({"accuracy", "top5_accuracy", "precision", "recall", "f1", "r2"})
"""Metric names that improve upwards; every other monitored value (losses, mse) improves downwards."""


def resolve_mode(monitor: str, mode: str) -> str:
    """``'min'`` or ``'max'`` for ``monitor``; ``'auto'`` looks the metric up in :data:`HIGHER_IS_BETTER`."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got '{mode}'")
    if mode != "auto":
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    return "max" if name in HIGHER_IS_BETTER else "min"


class _Monitor:
    """Tracks the best value of one logged quantity."""

    def __init__(self, owner: str, monitor: str, mode: str, min_delta: float = 0.0):
        self.owner = owner
        self.monitor = monitor
        self.mode = resolve_mode(monitor, mode)
        self.min_delta = abs(float(min_delta))
        self.best = math.inf if self.mode == "min" else -math.inf

    def value(self, logs: dict) -> float:
        if self.monitor not in logs:
            raise KeyError(f"{self.owner}: monitored value '{self.monitor}' is not logged; "
                           f"logged: {', '.join(logs)} (val_* needs validation data)")
        return float(logs[self.monitor])

    def improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best`` the weights of the best epoch are put back at the
    end of training, whether training stopped early or ran out of epochs.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, mode: str = "auto",
                 restore_best: bool = True):
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = min_delta
        self.mode = mode
        self.restore_best = restore_best

    def on_train_begin(self, logs=None):
        self._tracker = _Monitor("EarlyStopping", self.monitor, self.mode, self.min_delta)
        self.wait = 0
        self.best_epoch = None
        self.best_weights = None
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        value = self._tracker.value(logs)
        if self._tracker.improved(value):
            self._tracker.best = value
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best:
                self.best_weights = self.trainer.model.state_dict()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best and self.best_weights is not None:
            self.trainer.model.load_state_dict(self.best_weights)

    @property
    def best(self) -> float:
        return self._tracker.best


class ModelCheckpoint(Callback):
    """Save a checkpoint (``nndl.io.save``) at the end of epochs.

    ``path`` may contain ``{epoch}`` and logged names, e.g.
    ``'runs/model-{epoch:03d}-{val_loss:.3f}.safetensors'``. With
    ``save_best_only`` a file is written only when ``monitor`` improves. The
    checkpoint holds the model, the optimizer state, the epoch and the
    training generator's state, so training can resume exactly.
    """

    def __init__(self, path: str, monitor: str = "val_loss", save_best_only: bool = False, mode: str = "auto"):
        self.path = str(path)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.mode = mode
        self.saved: list[str] = []

    def on_train_begin(self, logs=None):
        self._tracker = _Monitor("ModelCheckpoint", self.monitor, self.mode)

    def on_epoch_end(self, epoch, logs=None):
        from nndl.io import save

        logs = logs or {}
        if self.save_best_only:
            value = self._tracker.value(logs)
            if not self._tracker.improved(value):
                return
            self._tracker.best = value
        path = self.path.format(epoch=epoch + 1, **logs)
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        trainer = self.trainer
        save(trainer.model, path, optimizer=trainer.optimizer, epoch=epoch + 1, rng=trainer.rng,
             scheduler=trainer.scheduler, extra={"logs": logs})
        self.saved.append(path)


class LRSchedulerCallback(Callback):
    """Step a learning-rate schedule once per epoch.

    ``ReduceLROnPlateau``-style schedules (whose ``step`` takes a metric) are
    given the logged value of ``monitor``.
    """

    def __init__(self, scheduler, monitor: str | None = None):
        self.scheduler = scheduler
        self.monitor = monitor

    def set_trainer(self, trainer):
        super().set_trainer(trainer)
        trainer.scheduler = self.scheduler

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor is None:
            self.scheduler.step()
        else:
            self.scheduler.step(_Monitor("LRSchedulerCallback", self.monitor, "auto").value(logs or {}))


class CSVLogger(Callback):
    """Write one row per epoch (``epoch`` then every logged value) to a CSV file.

    The header is taken from the first epoch's logs; with ``append`` an
    existing file is continued (for resumed runs).
    """

    def __init__(self, path: str, append: bool = False):
        self.path = str(path)
        self.append = append

    def on_train_begin(self, logs=None):
        exists = os.path.exists(self.path) and os.path.getsize(self.path) > 0
        self._file = open(self.path, "a" if self.append else "w", newline="")
        self._writer = None
        self._write_header = not (self.append and exists)

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, **(logs or {})}
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=list(row))
            if self._write_header:
                self._writer.writeheader()
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        self._file.close()

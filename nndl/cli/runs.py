"""What keeps a run of ``nndl train`` from being lost: per-epoch checkpoints, the last complete epoch, resuming.

* :class:`RunSaver` writes the run's checkpoint (atomically) every
  ``save_every`` epochs and keeps the last complete epoch's state in memory,
  so an interrupted or diverged run can still save it.
* The validation split is drawn from the run's seed before the training
  generator is used for anything else, exactly as ``Trainer.fit`` draws it;
  a resumed run draws the same split from the same seed and continues the
  shuffling from the generator state saved in the checkpoint.
* A checkpoint stores a fingerprint of the training data, so resuming on
  different data is refused instead of silently continuing.
"""

from __future__ import annotations

import copy
import hashlib

import numpy as np

from nndl import io
from nndl.io.checkpoint import _module_generators
from nndl.random import as_generator
from nndl.train import Callback


class RunStopped(Exception):
    """A run ended early (interrupted, diverged); ``code`` is the exit status, the message says what was saved."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def fingerprint(*arrays: np.ndarray) -> str:
    """SHA-256 of the arrays' shapes, dtypes and bytes."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype.str}".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def validation_split(x, y, fraction: float, seed: int):
    """``(x_train, y_train, validation_data or None, generator)``: ``Trainer.fit``'s split, drawn from ``seed``.

    The generator returned has drawn the split and nothing else; a fresh run
    shuffles with it, so its results equal ``fit(..., validation_split=fraction, rng=seed)``.
    """
    rng = as_generator(seed)
    if not fraction:
        return x, y, None, rng
    order = rng.permutation(len(x))
    n_val = int(round(fraction * len(x)))
    if n_val == 0 or n_val == len(x):
        raise ValueError(f"[training] validation_split = {fraction} of {len(x)} samples leaves an empty set")
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], (x[val], y[val]), rng


class RunSaver(Callback):
    """Save the run's checkpoint every ``save_every`` epochs; keep the last complete epoch to save it on demand."""

    def __init__(self, path: str, save_every: int, extra: dict):
        self.path = path
        self.save_every = int(save_every)
        self.extra = extra
        self.saved_epoch = None
        self.completed_epoch = None
        self._snapshot = None

    def on_epoch_end(self, epoch, logs=None):
        # completed_epoch changes only once that epoch's state is safe (on disk or in the snapshot), so a
        # Ctrl-C arriving in the middle of this method never pairs an epoch number with another epoch's state.
        if (epoch + 1) % self.save_every == 0:
            self._snapshot = None  # the model holds this epoch until the next batch: save_last_complete saves it
            self.completed_epoch = epoch + 1
            self.save()
        else:
            snapshot = self._take()
            self._snapshot, self.completed_epoch = snapshot, epoch + 1

    def save_last_complete(self) -> int | None:
        """Put the last complete epoch back into the model and optimizer, save it; return that epoch (or None)."""
        if self.completed_epoch is None:
            return None
        if self.saved_epoch != self.completed_epoch:
            if self._snapshot is not None:
                self._put_back(self._snapshot)
            self.save()
        return self.completed_epoch

    def save(self) -> None:
        """Write the checkpoint of the model as it is now, numbered with the last complete epoch."""
        trainer = self.trainer
        io.save(trainer.model, self.path, optimizer=trainer.optimizer, epoch=self.completed_epoch, rng=trainer.rng,
                scheduler=trainer.scheduler, extra=self.extra)
        self.saved_epoch = self.completed_epoch
        self._snapshot = None

    def _take(self) -> dict:
        trainer = self.trainer
        return {
            "model": {k: np.array(v, copy=True) for k, v in trainer.model.state_dict().items()},
            "optimizer": copy.deepcopy(trainer.optimizer.state_dict()),
            "scheduler": copy.deepcopy(trainer.scheduler.state_dict()) if trainer.scheduler is not None else None,
            "rng": copy.deepcopy(trainer.rng.bit_generator.state),
            "module_rngs": {k: copy.deepcopy(g.bit_generator.state)
                            for k, g in _module_generators(trainer.model).items()},
        }

    def _put_back(self, snapshot: dict) -> None:
        trainer = self.trainer
        trainer.model.load_state_dict(snapshot["model"])
        trainer.optimizer.load_state_dict(snapshot["optimizer"])
        if snapshot["scheduler"] is not None:
            trainer.scheduler.load_state_dict(snapshot["scheduler"])
        trainer.rng.bit_generator.state = snapshot["rng"]
        for key, generator in _module_generators(trainer.model).items():
            generator.bit_generator.state = snapshot["module_rngs"][key]

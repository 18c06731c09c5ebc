"""The callback protocol of ``Trainer.fit`` and the ``History`` record it returns."""

from __future__ import annotations


class Callback:
    """Hooks called by ``Trainer.fit``; override the ones you need.

    ``self.trainer`` is set before ``on_train_begin``. ``logs`` of
    ``on_batch_end`` hold the batch ``loss`` and ``size``; those of
    ``on_epoch_end`` hold the epoch's ``loss``, metrics, ``val_*`` values and
    ``lr``. Setting ``trainer.stop_training = True`` ends training after the
    current epoch.
    """

    trainer = None

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: dict | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_train_end(self, logs: dict | None = None) -> None:
        pass


class History(Callback):
    """Per-epoch values: ``history['loss']``, ``['val_loss']``, ``['accuracy']``, ``['lr']``...

    Attributes
    ----------
    history : dict[str, list[float]]
        One list per logged quantity, one entry per completed epoch.
    epoch : list[int]
        The (0-based) epoch numbers, so a resumed run continues the count.
    """

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __repr__(self) -> str:
        keys = ", ".join(self.history)
        return f"History(epochs={len(self.epoch)}, keys=[{keys}])"


class CallbackList:
    """Dispatch each hook to every callback, in order."""

    def __init__(self, callbacks, trainer):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be nndl.train.Callback instances, got {type(callback).__name__}")
            callback.set_trainer(trainer)

    def __getattr__(self, hook: str):
        def dispatch(*args, **kwargs):
            for callback in self.callbacks:
                getattr(callback, hook)(*args, **kwargs)

        return dispatch

"""``Trainer``: the mini-batch training loop, evaluation and prediction."""

from __future__ import annotations

import inspect
import math

import numpy as np

from nndl.data.loader import DataLoader
from nndl.nn.core.hooks import backward_parameters
from nndl.nn.core.module import Module
from nndl.random import as_generator
from nndl.train.callback import Callback, CallbackList, History
from nndl.train.input_range import InputStatistics, check_inputs
from nndl.train.metrics import default_metrics, resolve_metric
from nndl.train.multi_output import MultiOutputLoss, concatenate_outputs, pack_targets
from nndl.train.progress import ProgressBar


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite; no update was made from it.

    ``history`` holds the epochs completed before the failure.
    """

    def __init__(self, message: str, history: History):
        super().__init__(message)
        self.history = history


def _binary_threshold(loss_fn) -> float:
    # A single logit column is positive above 0; a single probability column above 0.5.
    return 0.0 if type(loss_fn).__name__ == "BCEWithLogitsLoss" else 0.5


class Trainer:
    """Train, evaluate and run a model, Keras style.

    Each training step is the notes' mini-batch gradient descent step:
    forward, loss, ``zero_grad``, explicit backward, (regularization
    gradient, clipping), ``optimizer.step()``.

    Parameters
    ----------
    model : Module
    loss_fn : Loss, or a dict ``{head: Loss}`` (a tuple in head order) for a model with several outputs
        With several losses (multi-task learning, :mod:`nndl.train.multi_output`)
        the model returns a dict (``nn.Parallel(digit=..., parity=...)``) or
        a tuple, ``y`` is a dict (or tuple) of targets keyed the same way, the
        trained loss is ``Σ_k λ_k L_k`` and the History holds ``loss`` (that
        total), ``<head>_loss`` and ``<head>_<metric>`` (and ``val_`` ones).
    optimizer : Optimizer
    metrics : sequence or ``'auto'`` (a dict ``{head: [metric, ...]}`` with several losses)
        Names from ``nndl.train.metrics.METRICS`` (``'accuracy'``, ``'f1'``,
        ``'r2'``...), ``(name, fn)`` pairs or functions ``fn(y_true, scores)``.
        ``'auto'`` (default) follows the loss
        (``nndl.train.metrics.default_metrics``): accuracy for classification
        losses, MSE and MAE for regression and reconstruction losses, none
        for a loss it does not know. Training metrics are computed on the
        epoch's own outputs, collected while the weights change (as Keras);
        validation metrics on the whole validation set at the end of the epoch.
    callbacks : sequence of Callback
    regularizer : optional
        An object with ``penalty(model) -> float`` (added to the logged loss)
        and ``backward(model)`` (adds its gradient to ``.grad``), e.g.
        ``nn.L2Penalty``.
    clip_grad_norm : float, optional
        Rescale the global gradient norm to at most this value before each step.
    warn_input_range : bool
        Warn (``nndl.train.input_range.InputRangeWarning``, once per call)
        when ``fit``, ``evaluate`` or ``predict`` get inputs far outside the
        range the model was trained on, or un-scaled inputs for a model never
        trained; ``fit`` records the training inputs' statistics as
        ``model.input_statistics`` (kept by ``nndl.io.save``). See
        :mod:`nndl.train.input_range` for the exact rules.
    loss_weights : dict ``{head: λ}`` or a sequence, optional
        The weight ``λ_k`` of each head's loss (default 1) with several losses.
    """

    def __init__(self, model: Module, loss_fn, optimizer, metrics="auto", callbacks=(), regularizer=None,
                 clip_grad_norm: float | None = None, warn_input_range: bool = True, loss_weights=None):
        if not isinstance(model, Module):
            raise TypeError(f"Trainer: model must be an nndl Module, got {type(model).__name__}")
        if getattr(loss_fn, "reduction", None) == "none":
            raise ValueError(f"Trainer: the loss must reduce to one number (reduction 'mean' or 'sum'); "
                             f"{loss_fn.describe()} returns per-sample losses")
        self.model = model
        self.optimizer = optimizer
        if isinstance(loss_fn, (dict, tuple, list)):
            loss_fn = MultiOutputLoss(loss_fn, loss_weights)
            self.metrics = loss_fn.head_metrics(metrics, resolve_metric, default_metrics, _binary_threshold)
        else:
            if loss_weights is not None:
                raise ValueError("Trainer: loss_weights needs one loss per head (loss_fn as a dict or tuple)")
            if isinstance(metrics, str) and metrics == "auto":
                metrics = default_metrics(loss_fn)
            self.metrics = [resolve_metric(m) for m in metrics]
        self.loss_fn = loss_fn
        self.warn_input_range = bool(warn_input_range)
        self.callbacks = list(callbacks)
        self.regularizer = regularizer
        self.clip_grad_norm = clip_grad_norm
        self.scheduler = None
        self.rng = None
        self.stop_training = False
        self.epochs = 0
        self.batches_per_epoch = 0

    # ------------------------------------------------------------------ training
    def fit(self, x, y, epochs: int, batch_size: int = 64, validation_data=None, validation_split: float = 0.0,
            shuffle: bool = True, rng=None, initial_epoch: int = 0, verbose: int = 1) -> History:
        """Train for ``epochs - initial_epoch`` epochs and return the ``History``.

        Parameters
        ----------
        x : ndarray, shape (N, ...)
        y : ndarray, shape (N, ...)
        epochs : int
            Index of the last epoch (Keras's convention: with ``initial_epoch``
            a resumed run continues to the same total).
        batch_size : int
        validation_data : (x_val, y_val), optional
        validation_split : float
            Fraction of ``(x, y)`` held out for validation instead, drawn at
            random with ``rng`` (not the last rows, so sorted data is safe).
        shuffle : bool
            A new permutation of the training set every epoch.
        rng : Generator, int or None
            Drives the split and the shuffling (``None``: a generator from
            ``nndl.manual_seed``'s). The same seed on the same model (the
            same initial weights and the same states of the generators inside
            it, e.g. dropout's: build it with ``rng=seed``, or after
            ``nndl.manual_seed(seed)``) and the same data gives bit-identical
            weights and history. A Generator is advanced in place (a
            checkpoint saves its state so a resumed run continues exactly).
        initial_epoch : int
        verbose : int
            1 adds a ``ProgressBar`` unless one is among the callbacks; 0 is silent.
        """
        x, y = self._check_xy(x, y, "fit")
        if int(epochs) < 0 or int(initial_epoch) < 0:
            raise ValueError(f"Trainer.fit: epochs and initial_epoch must be >= 0, got {epochs}, {initial_epoch}")
        self.rng = as_generator(rng)
        if validation_data is not None and validation_split:
            raise ValueError("Trainer.fit: give validation_data or validation_split, not both")
        if validation_split:
            x, y, validation_data = self._split(x, y, validation_split)
        if validation_data is not None:
            validation_data = self._check_xy(*validation_data, "validation_data")
        self._record_input_statistics(x, validation_data)
        loader = DataLoader(x, y, batch_size=batch_size, shuffle=shuffle, rng=self.rng)
        self.epochs = int(epochs)
        self.batches_per_epoch = len(loader)
        history = self.history = History()  # callbacks (e.g. nndl.doctor.Monitor) may add per-epoch values
        callbacks = [history, *self.callbacks]
        if verbose and not any(isinstance(c, ProgressBar) for c in callbacks):
            callbacks.append(ProgressBar())
        hooks = CallbackList(callbacks, self)
        self.stop_training = False
        hooks.on_train_begin()
        for epoch in range(int(initial_epoch), self.epochs):
            lr = self._current_lr()
            hooks.on_epoch_begin(epoch)
            logs = self._train_epoch(loader, epoch, hooks, history)
            if validation_data is not None:
                logs.update({f"val_{k}": v for k, v in self._evaluate(*validation_data).items()})
            if lr is not None:
                logs["lr"] = lr
            hooks.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        hooks.on_train_end()
        return history

    def _train_epoch(self, loader, epoch, hooks, history) -> dict:
        self.model.train()
        total_loss, count = 0.0, 0
        scores_seen, targets_seen = [], []
        head_totals = {}
        for batch, (xb, yb) in enumerate(loader):
            scores = self.model(xb)
            loss = self._loss(scores, yb, epoch, batch, history)
            for name, value in self._head_losses().items():
                head_totals[name] = head_totals.get(name, 0.0) + value * len(xb)
            self.optimizer.zero_grad()
            backward_parameters(self.model, self.loss_fn.backward())  # ∂L/∂x of the data is not needed
            if self.regularizer is not None:
                loss += self.regularizer.penalty(self.model)
                self.regularizer.backward(self.model)
            if self.clip_grad_norm is not None:
                from nndl.optim import clip_grad_norm

                clip_grad_norm(self.model.parameters(), self.clip_grad_norm)
            self.optimizer.step()
            total_loss += loss * len(xb)
            count += len(xb)
            if self.metrics:
                scores_seen.append(scores)
                targets_seen.append(yb)
            hooks.on_batch_end(batch, {"loss": loss, "size": len(xb)})
        logs = {"loss": total_loss / max(count, 1)}
        logs.update({name: total / max(count, 1) for name, total in head_totals.items()})
        if self.metrics and scores_seen:
            logs.update(self._metrics(np.concatenate(targets_seen), concatenate_outputs(scores_seen)))
        return logs

    def _loss(self, scores, target, epoch, batch, history) -> float:
        where = f"epoch {epoch + 1}, batch {batch + 1}"
        try:
            loss = float(self.loss_fn(scores, target))
        except FloatingPointError as exc:
            raise TrainingDivergedError(
                f"training diverged at {where}: {exc}; the weights are those before this batch "
                "(try a smaller learning rate or gradient clipping)", history) from exc
        if not math.isfinite(loss):
            raise TrainingDivergedError(
                f"training diverged at {where}: the loss is {loss}; the weights are those before this batch "
                "(try a smaller learning rate or gradient clipping)", history)
        return loss

    # ------------------------------------------------------------------ evaluation
    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        """The model's outputs for ``x`` in evaluation mode, computed batch by batch (a dict for named heads).

        Warns once when ``x`` is far outside the range of the training inputs
        (``model.input_statistics``; see ``warn_input_range``).
        """
        if not isinstance(x, np.ndarray):
            raise TypeError(f"Trainer.predict: x must be a numpy array, got {type(x).__name__}")
        self._check_trained_range(x, "Trainer.predict")
        return self._predict(x, batch_size)

    def _predict(self, x, batch_size: int) -> np.ndarray:
        self.model.eval()
        outputs = [self.model(x[start:start + batch_size]) for start in range(0, len(x), batch_size)]
        return concatenate_outputs(outputs) if outputs else np.empty((0,), dtype=self.model.dtype)

    def evaluate(self, x, y, batch_size: int = 256) -> dict:
        """``{'loss': ..., metric: ...}`` of the model on ``(x, y)`` in evaluation mode."""
        x, y = self._check_xy(x, y, "evaluate")
        self._check_trained_range(x, "Trainer.evaluate")
        return self._evaluate(x, y, batch_size)

    def _evaluate(self, x, y, batch_size: int = 256) -> dict:
        scores = self._predict(x, batch_size)
        result = {"loss": float(self.loss_fn(scores, y))}
        result.update(self._head_losses())
        result.update(self._metrics(y, scores))
        return result

    def _head_losses(self) -> dict:
        """``{'<head>_loss': L_k}`` of the last loss computed, with one loss per head (Keras's keys)."""
        if not isinstance(self.loss_fn, MultiOutputLoss):
            return {}
        return {f"{name}_loss": value for name, value in self.loss_fn.values.items()}

    # ------------------------------------------------------------------ input range
    def _check_trained_range(self, x, where: str) -> None:
        trained = getattr(self.model, "input_statistics", None)
        if self.warn_input_range and trained is not None:  # a model of unknown training data is not judged
            check_inputs(x, trained, where)

    def _record_input_statistics(self, x, validation_data) -> None:
        """Check the training (and validation) inputs once, then record the training inputs' statistics."""
        trained = getattr(self.model, "input_statistics", None)
        if self.warn_input_range:
            stats = check_inputs(x, trained, "Trainer.fit")
            if validation_data is not None:
                check_inputs(validation_data[0], stats or trained, "Trainer.fit (validation data)")
        else:
            stats = InputStatistics.of(x) if np.issubdtype(x.dtype, np.floating) else None
        if stats is not None:
            self.model.input_statistics = stats

    # ------------------------------------------------------------------ helpers
    def _metrics(self, y, scores) -> dict:
        threshold = _binary_threshold(self.loss_fn)
        results = {}
        for name, fn in self.metrics:
            takes_threshold = "threshold" in inspect.signature(fn).parameters
            results[name] = fn(y, scores, threshold=threshold) if takes_threshold else fn(y, scores)
        return results

    def _current_lr(self):
        groups = getattr(self.optimizer, "param_groups", None)
        return float(groups[0]["lr"]) if groups else None

    def _split(self, x, y, fraction):
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"Trainer.fit: validation_split must be in (0, 1), got {fraction}")
        order = self.rng.permutation(len(x))
        n_val = int(round(fraction * len(x)))
        if n_val == 0 or n_val == len(x):
            raise ValueError(f"Trainer.fit: validation_split={fraction} of {len(x)} samples leaves an empty set")
        val, train = order[:n_val], order[n_val:]
        return x[train], y[train], (x[val], y[val])

    @staticmethod
    def _check_xy(x, y, where):
        y = pack_targets(y, where)  # several heads' targets: one structured array (nndl.train.multi_output)
        for name, value in (("x", x), ("y", y)):
            if not isinstance(value, np.ndarray):
                raise TypeError(f"Trainer.{where}: {name} must be a numpy array, got {type(value).__name__}")
        if len(x) != len(y):
            raise ValueError(f"Trainer.{where}: x has {len(x)} samples but y has {len(y)}")
        if len(x) == 0:
            raise ValueError(f"Trainer.{where}: no samples")
        for name, value in (("x", x), ("y", y)):
            # NaN in the data would surface as a diverged loss and be blamed on the learning rate.
            if np.issubdtype(value.dtype, np.inexact) and not np.all(np.isfinite(value)):
                sample = int(np.argmax(~np.isfinite(value.reshape(len(value), -1)).all(axis=1)))
                raise ValueError(f"Trainer.{where}: {name} holds NaN or inf values (first in sample {sample}); "
                                 "clean or impute the data first")
        return x, y



"""``nndl train``, ``nndl evaluate`` and ``nndl predict``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import warnings

import numpy as np
from rich.console import Console

from nndl import io, nn
from nndl.nn.functional.softmax_kernels import softmax
from nndl.cli.config import ConfigKeyError, load_config
from nndl.cli.inspect_commands import save_run_outputs, start_inspection
from nndl.cli.registry import DATASETS, MODELS, OPTIMIZERS, SCHEDULES
from nndl.cli.runs import RunSaver, RunStopped, fingerprint, validation_split
from nndl.io.checkpoint import _epoch
from nndl.io.validate import metadata_json
from nndl.train import CSVLogger, EarlyStopping, LRSchedulerCallback, ProgressBar, Trainer
from nndl.train.input_range import InputRangeWarning
from nndl.train.metrics import accuracy, confusion_matrix, per_class_report
from nndl.train.trainer import TrainingDivergedError

CHECKPOINT_NAME = "checkpoint.safetensors"


def say(console: Console, text: str) -> None:
    """Print plain text: no markup (paths may hold brackets), no colouring, no wrapping of long lines."""
    console.print(text, highlight=False, soft_wrap=True, markup=False)


def _named(table: dict):
    arguments = {k: v for k, v in table.items() if k != "name"}
    return table["name"], arguments


def build_run(config: dict, data=None):
    """Data, model, loss, optimizer and schedule described by a validated configuration (``data`` if already read)."""
    seed = config["training"]["seed"]
    x_train, y_train, x_test, y_test = data if data is not None else _load_data(config)
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    model_name, model_args = _named(config["model"])
    model = MODELS[model_name](x_train.shape[1:], num_classes, rng=seed, **model_args)
    optimizer_name, optimizer_args = _named(config["optimizer"])
    optimizer = OPTIMIZERS[optimizer_name](model.parameters(), **optimizer_args)
    scheduler = _schedule(config, optimizer)
    return (x_train, y_train, x_test, y_test), model, nn.SoftmaxCrossEntropy(), optimizer, scheduler


def _run_directory(config: dict, out: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = os.path.join(out, f"{stamp}-{config['data']['name']}-{config['model']['name']}")
    path, n = base, 1
    while os.path.exists(path):
        n += 1
        path = f"{base}-{n}"
    os.makedirs(path)
    return path


def _load_data(config: dict):
    """The configured data set, checked for non-finite values before anything trains on it."""
    x_train, y_train, x_test, y_test = DATASETS[config["data"]["name"]](config["data"], config["training"]["seed"])
    for name, array in (("training", x_train), ("test", x_test)):
        if np.issubdtype(array.dtype, np.inexact) and not np.all(np.isfinite(array)):
            raise ValueError(f"[data] {config['data']['name']}: the {name} inputs hold NaN or inf values; "
                             "clean or impute the data first")
    return x_train, y_train, x_test, y_test


def _callbacks(config: dict, run_dir: str, console: Console, quiet: bool, scheduler, append: bool) -> list:
    training = config["training"]
    callbacks = [ProgressBar(quiet=quiet, console=console),
                 CSVLogger(os.path.join(run_dir, "history.csv"), append=append)]
    monitor = "val_loss" if training["validation_split"] else "loss"
    if scheduler is not None:
        plateau = config["schedule"]["name"] == "plateau"
        callbacks.append(LRSchedulerCallback(scheduler, monitor=monitor if plateau else None))
    if training["early_stopping"]:
        callbacks.append(EarlyStopping(monitor=monitor, patience=training["early_stopping"]))
    return callbacks


def train(config_path: str | None, overrides: dict, console: Console, quiet: bool = False, save_every: int = 1,
          resume: str | None = None) -> str:
    """Train as configured (or continue the run ``resume``), print the test accuracy; return the checkpoint's path.

    The checkpoint is written every ``save_every`` epochs. Ctrl-C or a
    diverged loss saves the last complete epoch and raises
    :class:`~nndl.cli.runs.RunStopped` (exit status 130 or 1) saying how to resume.
    """
    if save_every < 1:
        raise ValueError(f"--save-every: expected a positive integer, got {save_every}")
    if resume is not None:
        config, checkpoint_path, run_dir, start = _resume_config(resume, config_path, overrides)
    else:
        config = load_config(config_path, overrides)
        start, checkpoint_path, run_dir = 0, None, None
    training = config["training"]
    if training["epochs"] <= start:
        done = f"the run has completed {start} epoch(s)" if resume is not None else "nothing to train"
        raise ValueError(f"[training] epochs = {training['epochs']}: {done}, so no checkpoint would be written; "
                         f"give --epochs {start + 1} or more")
    data = _load_data(config)
    (x_train, y_train, x_test, y_test), model, loss_fn, optimizer, scheduler = build_run(config, data)
    data_id = fingerprint(x_train, y_train)
    x_fit, y_fit, validation, rng = validation_split(x_train, y_train, training["validation_split"], training["seed"])
    if resume is not None:
        saved = io.load(checkpoint_path)
        if saved.extra.get("data_fingerprint") != data_id:
            raise ValueError(f"{checkpoint_path}: the training data differ from the run's (a different file or "
                             "version); resuming would not continue the same run")
        model = saved.model
        optimizer = OPTIMIZERS[config["optimizer"]["name"]](model.parameters(), **_named(config["optimizer"])[1])
        scheduler = _schedule(config, optimizer)
        saved = io.load(checkpoint_path, model=model, optimizer=optimizer, scheduler=scheduler)
        rng = saved.rng
    else:
        run_dir = _run_directory(config, training["out"])
        checkpoint_path = os.path.join(run_dir, CHECKPOINT_NAME)
    saver = RunSaver(checkpoint_path, save_every, {"config": config, "data_fingerprint": data_id})
    callbacks = _callbacks(config, run_dir, console, quiet, scheduler, append=resume is not None) + [saver]
    monitor, diagnosis = start_inspection(model, loss_fn, optimizer, x_fit, y_fit, training["seed"], run_dir)
    callbacks.append(monitor)
    regularizer = nn.L2Penalty(training["l2"]) if training["l2"] else None
    trainer = Trainer(model, loss_fn, optimizer, metrics=("accuracy",), callbacks=callbacks,
                      regularizer=regularizer, clip_grad_norm=training["clip_grad_norm"])
    verb = f"resuming after epoch {start}:" if resume is not None else "training"
    held_out = 0 if validation is None else len(validation[0])
    say(console, f"{verb} {config['model']['name']} ({model.num_parameters():,} parameters) on "
                  f"{config['data']['name']}: {len(x_fit)} training, {held_out} validation and {len(x_test)} test "
                  "samples")
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    try:
        with _warnings_said(console):
            trainer.fit(x_fit, y_fit, epochs=training["epochs"], batch_size=training["batch_size"],
                        validation_data=validation, rng=rng, initial_epoch=start, verbose=0)
    except KeyboardInterrupt:
        raise RunStopped(_stopped("interrupted", saver, run_dir), 130) from None
    except TrainingDivergedError as exc:
        raise RunStopped(f"{exc}\n" + _stopped("stopped", saver, run_dir), 1) from None
    with _warnings_said(console):
        test = trainer.evaluate(x_test, y_test)
    saver.extra = {**saver.extra, "test": test}
    if saver.completed_epoch is not None:
        saver.save()  # the final weights (the best epoch's when early stopping restored them) and the test result
    say(console, f"test accuracy {test['accuracy']:.4f} · test loss {test['loss']:.4f}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputRangeWarning)  # said once by the evaluation above
        save_run_outputs(run_dir, trainer, x_train, x_test, y_test, monitor, diagnosis)
    say(console, f"checkpoint: {checkpoint_path}")
    return checkpoint_path


def _stopped(what: str, saver: RunSaver, run_dir: str) -> str:
    with _sigint_ignored():  # a second Ctrl-C must not cut the save short
        epoch = saver.save_last_complete()
    if epoch is None:
        return f"{what} before the first epoch ended: nothing saved"
    return f"{what}: epoch {epoch} saved to {saver.path}; continue with: nndl train --resume {run_dir}"


@contextlib.contextmanager
def _sigint_ignored():
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals cannot be changed, nor delivered here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _schedule(config: dict, optimizer):
    if not config["schedule"].get("name"):
        return None
    name, arguments = _named(config["schedule"])
    return SCHEDULES[name](optimizer, **arguments)


RESUME_FIXED = ("batch_size", "seed")


def _resume_config(resume: str, config_path: str | None, overrides: dict):
    """(config, checkpoint path, run directory, completed epochs) of the run to continue."""
    if config_path is not None:
        raise ValueError("--resume continues a run with its own configuration; do not give a config file too")
    path = os.path.join(resume, CHECKPOINT_NAME) if os.path.isdir(resume) else resume
    if not os.path.isfile(path):
        raise ValueError(f"--resume {resume}: no checkpoint found (expected a run directory holding "
                         f"{CHECKPOINT_NAME}, or a checkpoint file)")
    metadata = io.read_metadata(path)
    extra = metadata_json(metadata, "extra", path, dict, {})
    saved = extra.get("config")
    if not isinstance(saved, dict):
        raise ValueError(f"{path}: no training configuration saved; it was not written by 'nndl train'")
    changed = [k for k in RESUME_FIXED if k in overrides.get("training", {})] + \
        (["lr"] if "optimizer" in overrides else [])
    if changed:
        raise ValueError(f"--resume continues the run exactly; {', '.join(changed)} cannot be changed")
    # The data location is never taken from a checkpoint: only from the command line.
    saved = {**saved, "data": {**saved.get("data", {}), "path": None}} if isinstance(saved.get("data"), dict) \
        else saved
    config = load_config(None, _merge_saved(saved, overrides))
    epoch = _epoch(metadata, path) or 0
    return config, path, os.path.dirname(os.path.abspath(path)), epoch


def _merge_saved(saved: dict, overrides: dict) -> dict:
    merged = {section: dict(table) if isinstance(table, dict) else table for section, table in saved.items()}
    for section, table in overrides.items():
        merged.setdefault(section, {}).update(table)
    return merged


def evaluate(checkpoint_path: str, console: Console, data_name: str | None = None,
             data_path: str | None = None) -> dict:
    """Evaluate a checkpoint on the test split of its data set, or of another one.

    Prints the loss and accuracy, the confusion matrix and each class's
    precision, recall, F1 and support. The data are read from ``data_path``
    (or the bundled digits); a location saved in the checkpoint is never
    used. A checkpoint saved from Python (``nndl.io.save``, no training
    configuration) needs ``data_name``; its test split is drawn as
    ``nndl train`` draws it with the default seed.
    """
    checkpoint = io.load(checkpoint_path)
    if data_name is not None and data_name not in DATASETS:
        raise ValueError(f"--data: unknown '{data_name}'; valid: {', '.join(DATASETS)}")
    saved = checkpoint.extra.get("config")
    if not isinstance(saved, dict):
        if data_name is None:
            raise ValueError(f"{checkpoint_path}: no training configuration saved (not written by 'nndl train'); "
                             f"name its data set with --data ({', '.join(DATASETS)})")
        saved = {}
        say(console, f"{checkpoint_path} holds no training configuration: evaluating on the test split of "
                     f"'{data_name}' as 'nndl train' draws it")
    data = saved.get("data") if isinstance(saved.get("data"), dict) else {}
    data = {**data, "path": data_path}
    if data_name is not None:
        data["name"] = data_name
    try:
        config = load_config(None, {**saved, "data": data})
    except ConfigKeyError as exc:
        raise ValueError(f"{checkpoint_path}: its saved training configuration is invalid: {exc}") from exc
    name = config["data"]["name"]
    if name != "digits" and data_path is None:
        raise ValueError(f"{checkpoint_path} was trained on '{name}' data: give its location with --data-path "
                         "(data locations are never read from a checkpoint)")
    _, _, x_test, y_test = _load_data(config)
    trainer = Trainer(checkpoint.model, nn.SoftmaxCrossEntropy(), optimizer=None)
    with _warnings_said(console):
        scores = trainer.predict(x_test)
    result = {"loss": float(trainer.loss_fn(scores, y_test)), "accuracy": accuracy(y_test, scores)}
    say(console, " · ".join(f"{k} {v:.4f}" for k, v in result.items()) + f" on {len(x_test)} test samples")
    num_classes = max(int(scores.shape[1]) if scores.ndim == 2 else 0, int(y_test.max()) + 1)
    matrix = confusion_matrix(y_test, scores, num_classes)
    report = per_class_report(y_test, scores, num_classes)
    say(console, format_class_report(matrix, report))
    return {**result, "confusion_matrix": matrix, **{k: v for k, v in report.items()}}


def format_class_report(matrix: np.ndarray, report: dict) -> str:
    """The confusion matrix (rows: true class, columns: predicted) and a per-class precision/recall/F1 table."""
    classes = len(matrix)
    width = max(5, len(str(int(matrix.max(initial=0)))) + 1, len(str(classes - 1)) + 1)
    lines = ["confusion matrix (rows: true class, columns: predicted class):",
             " " * 6 + "".join(f"{c:>{width}}" for c in range(classes))]
    lines += [f"{c:>6}" + "".join(f"{v:>{width}}" for v in row) for c, row in enumerate(matrix)]
    lines.append(f"{'class':>6}  precision  recall      f1  support")
    for c in range(classes):
        lines.append(f"{c:>6}  {report['precision'][c]:9.4f}  {report['recall'][c]:6.4f}  {report['f1'][c]:6.4f}"
                     f"  {int(report['support'][c]):7d}")
    present = (report["support"] + matrix.sum(axis=0)) > 0  # as nndl.train.metrics' macro averages
    macro = {k: float(np.mean(report[k][present])) if present.any() else 0.0 for k in ("precision", "recall", "f1")}
    lines.append(f"{'macro':>6}  {macro['precision']:9.4f}  {macro['recall']:6.4f}  {macro['f1']:6.4f}"
                 f"  {int(report['support'].sum()):7d}")
    return "\n".join(lines)


@contextlib.contextmanager
def _warnings_said(console: Console):
    """Print an InputRangeWarning as one plain line when it happens, instead of Python's file:line format."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", InputRangeWarning)
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, InputRangeWarning):
                say(console, f"warning: {message}")
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show  # catch_warnings puts the original back
        yield


def predict(checkpoint_path: str, input_path: str, console: Console, output: str | None = None,
            probabilities: bool = False) -> np.ndarray:
    """Predicted classes (or class probabilities) for the samples of an .npy file."""
    checkpoint = io.load(checkpoint_path)
    try:
        x = np.load(input_path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{input_path}: cannot read a numpy array ({exc})") from exc
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ValueError(f"{input_path}: expected real numbers, got dtype {x.dtype}")
    if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
        sample = int(np.argmax(~np.isfinite(x.reshape(len(x), -1)).all(axis=1))) if x.ndim else 0
        raise ValueError(f"{input_path}: holds NaN or inf values (first in sample {sample}); no prediction made")
    if x.dtype != checkpoint.model.dtype:
        x = x.astype(checkpoint.model.dtype)  # an explicit, announced conversion of the user's file
        say(console, f"converted {input_path} to {checkpoint.model.dtype}")
    with _warnings_said(console):
        scores = Trainer(checkpoint.model, nn.SoftmaxCrossEntropy(), optimizer=None).predict(x)
    result = softmax(scores, axis=1) if probabilities else np.argmax(scores, axis=1)
    if output:
        np.save(output, result)
        say(console, f"wrote {output}")
    else:
        say(console, np.array2string(result, threshold=100, precision=4))
    return result

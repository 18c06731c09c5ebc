"""``nndl train``, ``nndl evaluate`` and ``nndl predict``."""

from __future__ import annotations

import json
import os
import time

import numpy as np
from rich.console import Console

from nndl import io, nn
from nndl.nn.functional.softmax_kernels import softmax
from nndl.cli.config import load_config
from nndl.cli.registry import DATASETS, MODELS, OPTIMIZERS, SCHEDULES
from nndl.train import CSVLogger, EarlyStopping, LRSchedulerCallback, ProgressBar, Trainer

CHECKPOINT_NAME = "checkpoint.safetensors"


def say(console: Console, text: str) -> None:
    """Print plain text: no markup (paths may hold brackets), no colouring, no wrapping of long lines."""
    console.print(text, highlight=False, soft_wrap=True, markup=False)


def _named(table: dict):
    arguments = {k: v for k, v in table.items() if k != "name"}
    return table["name"], arguments


def build_run(config: dict):
    """Data, model, loss, optimizer and schedule described by a validated configuration."""
    seed = config["training"]["seed"]
    x_train, y_train, x_test, y_test = DATASETS[config["data"]["name"]](config["data"], seed)
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    model_name, model_args = _named(config["model"])
    model = MODELS[model_name](x_train.shape[1:], num_classes, rng=seed, **model_args)
    optimizer_name, optimizer_args = _named(config["optimizer"])
    optimizer = OPTIMIZERS[optimizer_name](model.parameters(), **optimizer_args)
    scheduler = None
    if config["schedule"].get("name"):
        schedule_name, schedule_args = _named(config["schedule"])
        scheduler = SCHEDULES[schedule_name](optimizer, **schedule_args)
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


def train(config_path: str | None, overrides: dict, console: Console, quiet: bool = False) -> str:
    """Train as configured, print the test accuracy, save the checkpoint; return its path."""
    config = load_config(config_path, overrides)
    training = config["training"]
    (x_train, y_train, x_test, y_test), model, loss_fn, optimizer, scheduler = build_run(config)
    run_dir = _run_directory(config, training["out"])
    callbacks = [ProgressBar(quiet=quiet, console=console), CSVLogger(os.path.join(run_dir, "history.csv"))]
    monitor = "val_loss" if training["validation_split"] else "loss"
    if scheduler is not None:
        plateau = config["schedule"]["name"] == "plateau"
        callbacks.append(LRSchedulerCallback(scheduler, monitor=monitor if plateau else None))
    if training["early_stopping"]:
        callbacks.append(EarlyStopping(monitor=monitor, patience=training["early_stopping"]))
    regularizer = nn.L2Penalty(training["l2"]) if training["l2"] else None
    trainer = Trainer(model, loss_fn, optimizer, metrics=("accuracy",), callbacks=callbacks,
                      regularizer=regularizer, clip_grad_norm=training["clip_grad_norm"])
    say(console, f"training {config['model']['name']} ({model.num_parameters():,} parameters) on "
                  f"{config['data']['name']}: {len(x_train)} training and {len(x_test)} test samples")
    history = trainer.fit(x_train, y_train, epochs=training["epochs"], batch_size=training["batch_size"],
                          validation_split=training["validation_split"], rng=training["seed"], verbose=0)
    test = trainer.evaluate(x_test, y_test)
    path = os.path.join(run_dir, CHECKPOINT_NAME)
    io.save(model, path, optimizer=optimizer, epoch=len(history.epoch), rng=trainer.rng, scheduler=scheduler,
            extra={"config": config, "test": test})
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    say(console, f"test accuracy {test['accuracy']:.4f} · test loss {test['loss']:.4f}")
    say(console, f"checkpoint: {path}")
    return path


def evaluate(checkpoint_path: str, console: Console, data_name: str | None = None,
             data_path: str | None = None) -> dict:
    """Evaluate a checkpoint on the test split of its own data set (or of another one)."""
    checkpoint = io.load(checkpoint_path)
    config = checkpoint.extra.get("config")
    if config is None:
        raise ValueError(f"{checkpoint_path}: no training configuration saved; it was not written by 'nndl train'")
    if data_name is not None:
        if data_name not in DATASETS:
            raise ValueError(f"--data: unknown '{data_name}'; valid: {', '.join(DATASETS)}")
        config["data"] = {**config["data"], "name": data_name, "path": data_path}
    elif data_path is not None:
        config["data"]["path"] = data_path
    _, _, x_test, y_test = DATASETS[config["data"]["name"]](config["data"], config["training"]["seed"])
    trainer = Trainer(checkpoint.model, nn.SoftmaxCrossEntropy(), optimizer=None)
    result = trainer.evaluate(x_test, y_test)
    say(console, " · ".join(f"{k} {v:.4f}" for k, v in result.items()) + f" on {len(x_test)} test samples")
    return result


def predict(checkpoint_path: str, input_path: str, console: Console, output: str | None = None,
            probabilities: bool = False) -> np.ndarray:
    """Predicted classes (or class probabilities) for the samples of an .npy file."""
    checkpoint = io.load(checkpoint_path)
    try:
        x = np.load(input_path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{input_path}: cannot read a numpy array ({exc})") from exc
    if x.dtype != checkpoint.model.dtype:
        if not np.issubdtype(x.dtype, np.number):
            raise ValueError(f"{input_path}: expected numbers, got dtype {x.dtype}")
        x = x.astype(checkpoint.model.dtype)  # an explicit, announced conversion of the user's file
        say(console, f"converted {input_path} to {checkpoint.model.dtype}")
    scores = Trainer(checkpoint.model, nn.SoftmaxCrossEntropy(), optimizer=None).predict(x)
    result = softmax(scores, axis=1) if probabilities else np.argmax(scores, axis=1)
    if output:
        np.save(output, result)
        say(console, f"wrote {output}")
    else:
        say(console, np.array2string(result, threshold=100, precision=4))
    return result

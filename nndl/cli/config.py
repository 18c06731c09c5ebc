"""Training configurations for the ``nndl`` command: defaults, TOML reading and validation.

A configuration has five tables; every key is checked and an unknown one is
an error that lists the valid keys::

    [data]       name = "digits" | "mnist" | "fashion_mnist" | "cifar10" | "npz" | "csv", path, test_size, ...
    [model]      name = a key of MODELS, then that builder's arguments
    [optimizer]  name = a key of OPTIMIZERS, then that optimizer's arguments (lr, momentum, ...)
    [schedule]   name = a key of SCHEDULES (or absent), then its arguments
    [training]   epochs, batch_size, seed, validation_split, early_stopping, clip_grad_norm, l2, out
"""

from __future__ import annotations

import copy
import inspect
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from nndl.cli.registry import DATASETS, MODELS, OPTIMIZERS, SCHEDULES


class ConfigKeyError(ValueError):
    """An unknown or invalid key in a training configuration."""


DEFAULTS = {
    "data": {"name": "digits", "path": None, "test_size": 0.2, "x_key": "x", "y_key": "y", "target_column": -1},
    "model": {"name": "small_cnn", "width": 32, "dropout": 0.3},
    "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4},
    "schedule": {"name": None},
    "training": {"epochs": 20, "batch_size": 32, "seed": 0, "validation_split": 0.1, "early_stopping": 0,
                 "clip_grad_norm": None, "l2": 0.0, "out": "runs"},
}
"""The configuration of ``nndl train`` with no file."""

FIXED_KEYS = {section: set(values) for section, values in DEFAULTS.items() if section in ("data", "training")}


def _arguments(factory, skip=("self", "params", "optimizer", "rng", "dtype", "input_shape", "num_classes")):
    return {name for name in inspect.signature(factory).parameters if name not in skip}


def _check_named(section: str, table: dict, registry: dict, optional: bool = False) -> None:
    name = table.get("name")
    if name is None and optional:
        extra = set(table) - {"name"}
        if extra:
            raise ConfigKeyError(f"[{section}]: keys {', '.join(sorted(extra))} given without a name")
        return
    if name not in registry:
        raise ConfigKeyError(f"[{section}] name: unknown '{name}'; valid: {', '.join(registry)}")
    valid = _arguments(registry[name]) | {"name"}
    unknown = set(table) - valid
    if unknown:
        raise ConfigKeyError(f"[{section}]: unknown key(s) {', '.join(sorted(unknown))} for '{name}'; "
                             f"valid: {', '.join(sorted(valid))}")


def validate(config: dict) -> dict:
    """Raise :class:`ConfigKeyError` naming the first unknown table or key; return ``config``."""
    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise ConfigKeyError(f"unknown table(s) {', '.join(sorted(unknown))}; valid: {', '.join(DEFAULTS)}")
    for section, keys in FIXED_KEYS.items():
        bad = set(config.get(section, {})) - keys
        if bad:
            raise ConfigKeyError(f"[{section}]: unknown key(s) {', '.join(sorted(bad))}; "
                                 f"valid: {', '.join(sorted(keys))}")
    if config["data"]["name"] not in DATASETS:
        raise ConfigKeyError(f"[data] name: unknown '{config['data']['name']}'; valid: {', '.join(DATASETS)}")
    _check_named("model", config["model"], MODELS)
    _check_named("optimizer", config["optimizer"], OPTIMIZERS)
    _check_named("schedule", config["schedule"], SCHEDULES, optional=True)
    return config


def merge(base: dict, override: dict) -> dict:
    """``base`` with ``override``'s tables merged in; a new model/optimizer/schedule name drops the old arguments."""
    merged = copy.deepcopy(base)
    for section, table in override.items():
        if not isinstance(table, dict):
            raise ConfigKeyError(f"'{section}' must be a table ([{section}]), got {type(table).__name__}")
        if section in ("model", "optimizer", "schedule") and "name" in table and \
                table["name"] != merged.get(section, {}).get("name"):
            merged[section] = {}
        merged.setdefault(section, {}).update(table)
    return merged


def load_config(path: str | None, overrides: dict | None = None) -> dict:
    """Defaults, then the TOML file at ``path`` (if any), then ``overrides``; validated."""
    config = copy.deepcopy(DEFAULTS)
    if path is not None:
        try:
            with open(path, "rb") as f:
                config = merge(config, tomllib.load(f))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigKeyError(f"{path}: not valid TOML ({exc})") from exc
    if overrides:
        config = merge(config, overrides)
    return validate(config)

"""Training configurations for the ``nndl`` command: defaults, TOML reading and validation.

A configuration has five tables; every key is checked and an unknown one is
an error that lists the valid keys::

    [data]       name = "digits" | "mnist" | "fashion_mnist" | "cifar10" | "cifar100" | "npz" | "csv", path,
                 download (fetch mnist, fashion_mnist, cifar10 or cifar100 into path, or the cache), test_size, ...
    [model]      name = a key of MODELS, then that builder's arguments
    [optimizer]  name = a key of OPTIMIZERS, then that optimizer's arguments (lr, momentum, ...)
    [schedule]   name = a key of SCHEDULES (or absent), then its arguments
    [training]   epochs, batch_size, seed, validation_split, early_stopping, clip_grad_norm, l2, out
"""

from __future__ import annotations

import copy
import inspect
import math
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from nndl.cli.registry import DATASETS, MODELS, OPTIMIZERS, SCHEDULES


class ConfigKeyError(ValueError):
    """An unknown or invalid key in a training configuration."""


DEFAULTS = {
    "data": {"name": "digits", "path": None, "download": False, "test_size": 0.2, "x_key": "x", "y_key": "y",
             "target_column": -1},
    "model": {"name": "small_cnn", "width": 32, "dropout": 0.3},
    "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4},
    "schedule": {"name": None},
    "training": {"epochs": 20, "batch_size": 32, "seed": 0, "validation_split": 0.1, "early_stopping": 0,
                 "clip_grad_norm": None, "l2": 0.0, "out": "runs"},
}
"""The configuration of ``nndl train`` with no file."""

FIXED_KEYS = {section: set(values) for section, values in DEFAULTS.items() if section in ("data", "training")}

_INT, _REAL, _TEXT = "an integer", "a number", "a string"
FIXED_TYPES = {
    "data": {"name": (_TEXT,), "path": (_TEXT, None), "download": ("a boolean",), "test_size": (_REAL, 0.0, 1.0),
             "x_key": (_TEXT,),
             "y_key": (_TEXT,), "target_column": (_INT, _TEXT)},
    "training": {"epochs": (_INT, 0), "batch_size": (_INT, 1), "seed": (_INT, 0), "validation_split": (_REAL, 0.0, 1.0),
                 "early_stopping": (_INT, 0), "clip_grad_norm": (_REAL, None), "l2": (_REAL, 0.0),
                 "out": (_TEXT,)},
}
"""Type (and lower, upper bound) of every key of [data] and [training]; None: the key may be left out."""


def _kind(value) -> str | None:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return _INT
    if isinstance(value, float):
        return _REAL if math.isfinite(value) else "a non-finite number"
    if isinstance(value, str):
        return _TEXT
    if isinstance(value, (list, tuple)):
        return "a list"
    return None


def _check_type(where: str, value, expected: tuple) -> None:
    kinds = [k for k in expected if isinstance(k, str)]
    if value is None and None in expected:
        return
    kind = _kind(value)
    if kind not in kinds and not (kind == _INT and _REAL in kinds):
        raise ConfigKeyError(f"{where}: expected {' or '.join(kinds)}, got {value!r}")
    bounds = [b for b in expected if isinstance(b, float) or (isinstance(b, int) and not isinstance(b, bool))]
    if bounds and kind in (_INT, _REAL):
        low = bounds[0]
        high = bounds[1] if len(bounds) > 1 else None
        if value < low or (high is not None and value >= high):
            span = f"in [{low}, {high})" if high is not None else f">= {low}"
            raise ConfigKeyError(f"{where}: expected a value {span}, got {value!r}")


def _check_arguments(section: str, table: dict, factory) -> None:
    """Arguments whose default is an int, a float, a bool, a string or a tuple must have that type."""
    for name, parameter in inspect.signature(factory).parameters.items():
        if name not in table or name == "name":
            continue
        default = parameter.default
        if isinstance(default, bool):
            expected = ("a boolean",)
        elif isinstance(default, int):
            expected = (_INT,)
        elif isinstance(default, float):
            expected = (_REAL,)
        elif isinstance(default, str):
            expected = (_TEXT,)
        elif isinstance(default, (tuple, list)):
            expected = ("a list",)
        else:
            continue
        _check_type(f"[{section}] {name}", table[name], expected)


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
    _check_arguments(section, table, registry[name])


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
    for section, types in FIXED_TYPES.items():
        for key, expected in types.items():
            if key in config.get(section, {}):
                _check_type(f"[{section}] {key}", config[section][key], expected)
    for section in ("model", "optimizer", "schedule"):
        name = config[section].get("name")
        if name is not None and not isinstance(name, str):
            raise ConfigKeyError(f"[{section}] name: expected a string, got {name!r}")
    if config["data"]["name"] not in DATASETS:
        raise ConfigKeyError(f"[data] name: unknown '{config['data']['name']}'; valid: {', '.join(DATASETS)}")
    _check_named("model", config["model"], MODELS)
    _check_named("optimizer", config["optimizer"], OPTIMIZERS)
    _check_named("schedule", config["schedule"], SCHEDULES, optional=True)
    return config


def merge(base: dict, override: dict) -> dict:
    """``base`` with ``override``'s tables merged in; a new model/optimizer/schedule name drops the old arguments."""
    merged = copy.deepcopy(base)
    if not isinstance(override, dict):
        raise ConfigKeyError(f"a configuration must be a table of tables, got {type(override).__name__}")
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
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigKeyError(f"{path}: not valid TOML ({exc})") from exc
        except RecursionError:
            raise ConfigKeyError(f"{path}: not valid TOML (nested too deeply)") from None
    if overrides:
        config = merge(config, overrides)
    return validate(config)

"""Model configurations: the constructor arguments of a module tree as JSON, and back.

Every Module remembers the arguments it was built with (see
``Module.__init_subclass__``). ``to_config`` turns them into plain JSON
values, recursively for child modules; ``from_config`` rebuilds an equal,
freshly initialized model, into which a checkpoint's weights then load.
Random generators are not stored: they only chose the initial weights, which
the checkpoint holds.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict

import numpy as np

from nndl.nn.core.module import Module


class ConfigError(ValueError):
    """A module tree that cannot be written as, or rebuilt from, a configuration."""


def _encode(value, where: str):
    if isinstance(value, Module):
        return {"__module__": to_config(value)}
    if isinstance(value, np.random.Generator):
        return None
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, where) for v in value]}
    if isinstance(value, list):
        return [_encode(v, where) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[str(k), _encode(v, where)] for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        if value.size > 10_000:
            raise ConfigError(f"{where}: an array of {value.size} elements is too large for a configuration")
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"__dtype__": np.dtype(value).name}
    raise ConfigError(f"{where}: cannot store a {type(value).__name__} in a configuration "
                      "(functions and custom objects have no JSON form; pass a name instead)")


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__module__" in value:
        return from_config(value["__module__"])
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return OrderedDict((k, _decode(v)) for k, v in value["__dict__"])
    if "__array__" in value:
        return np.asarray(value["__array__"], dtype=value["dtype"])
    if "__dtype__" in value:
        return np.dtype(value["__dtype__"]).type
    raise ConfigError(f"unrecognized configuration value {value!r}")


def to_config(module: Module) -> dict:
    """``{'class': 'package.module.Class', 'arguments': {...}}`` rebuilding ``module``'s structure.

    Containers whose children can change after construction (``Sequential.append``)
    describe their current children through a ``config_arguments()`` method.
    """
    record = module.__dict__.get("_init_arguments")
    if record is None:
        raise ConfigError(f"{type(module).__name__}: no recorded constructor arguments")
    cls, _, arguments = record
    arguments = dict(arguments)
    if hasattr(module, "config_arguments"):
        arguments.update(module.config_arguments())
    name = f"{cls.__module__}.{cls.__qualname__}"
    return {"class": name, "arguments": {k: _encode(v, f"{name}.{k}") for k, v in arguments.items()}}


def from_config(config: dict) -> Module:
    """Build a new module from :func:`to_config`'s output (weights freshly initialized)."""
    if not isinstance(config, dict) or "class" not in config or "arguments" not in config:
        raise ConfigError(f"a module configuration needs 'class' and 'arguments', got {config!r}")
    cls = Module.registry.get(config["class"])
    if cls is None:
        raise ConfigError(f"unknown module class '{config['class']}'; import the code that defines it first")
    arguments = {k: _decode(v) for k, v in config["arguments"].items()}
    params = inspect.signature(cls.__init__).parameters
    has_varargs = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params.values())
    args, kwargs = [], {}
    for name, param in params.items():
        if name not in arguments:
            continue
        value = arguments.pop(name)
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            args.extend(value)
        elif param.kind is inspect.Parameter.VAR_KEYWORD:
            kwargs.update(value)
        elif param.kind is inspect.Parameter.POSITIONAL_ONLY or (
                has_varargs and param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD):
            args.append(value)  # must precede *args positionally
        else:
            kwargs[name] = value
    if arguments:
        raise ConfigError(f"{config['class']}: unknown arguments {', '.join(arguments)}")
    return cls(*args, **kwargs)

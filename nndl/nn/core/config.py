"""Model configurations: a module tree as JSON (classes by public name, constructor arguments), and back.

``to_config(module)`` writes ``{'class': 'nndl.nn.Linear', 'arguments': {...}}``:
the class by the public path users import it from (never the file that
defines it, so moving a file never breaks a checkpoint) and the arguments
from :meth:`Module.get_config` (by default those it was built with, Keras's
idea). Children replaced or added after construction (``model.fc =
nn.Linear(512, 5)``, ``model.classifier[6] = ...``) are written under
``'children'`` and put back by :func:`from_config` after building.

Class names are looked up in this order: nndl's public namespaces
(``nndl.nn.X``, ``nndl.models.X``, ``nndl.train.X``), the names nndl 0.1.0 wrote
(:data:`LEGACY_NAMES`), then Module subclasses already imported by the user
(``'package.module.Class'``). A configuration never imports code: a user's
class must be imported before its model is rebuilt.

Random generators are not stored: they only chose the initial weights, which
a checkpoint holds.
"""

from __future__ import annotations

import importlib
import inspect
from collections import OrderedDict

import numpy as np

from nndl.nn.core.module import Module

PUBLIC_NAMESPACES = ("nndl.nn", "nndl.models", "nndl.train")
"""Packages whose ``__all__`` names are the public class names written in configurations."""

LEGACY_NAMES = {
    "nndl.models.alexnet.AlexNet": "nndl.models.AlexNet",
    "nndl.models.alexnet.AlexNetOriginal": "nndl.models.AlexNetOriginal",
    "nndl.models.autoencoder.Autoencoder": "nndl.models.Autoencoder",
    "nndl.models.autoencoder.ConvAutoencoder": "nndl.models.ConvAutoencoder",
    "nndl.models.cifar_net.CifarNet": "nndl.models.CifarNet",
    "nndl.models.densenet.DenseLayer": "nndl.models.DenseLayer",
    "nndl.models.densenet.DenseNet": "nndl.models.DenseNet",
    "nndl.models.googlenet.BasicConv2d": "nndl.models.BasicConv2d",
    "nndl.models.googlenet.GoogLeNet": "nndl.models.GoogLeNet",
    "nndl.models.googlenet.Inception": "nndl.models.Inception",
    "nndl.models.googlenet.InceptionAux": "nndl.models.InceptionAux",
    "nndl.models.lenet.LeNet5": "nndl.models.LeNet5",
    "nndl.models.mlp.MLP": "nndl.models.MLP",
    "nndl.models.resnet.BasicBlock": "nndl.models.BasicBlock",
    "nndl.models.resnet.Bottleneck": "nndl.models.Bottleneck",
    "nndl.models.resnet.ResNet": "nndl.models.ResNet",
    "nndl.models.small_cnn.SmallCNN": "nndl.models.SmallCNN",
    "nndl.models.vgg.VGG": "nndl.models.VGG",
    "nndl.models.zfnet.ZFNet": "nndl.models.ZFNet",
    "nndl.nn.activation.Sigmoid": "nndl.nn.Sigmoid",
    "nndl.nn.activation.Softplus": "nndl.nn.Softplus",
    "nndl.nn.activation.Step": "nndl.nn.Step",
    "nndl.nn.activation.Tanh": "nndl.nn.Tanh",
    "nndl.nn.batchnorm.BatchNorm1d": "nndl.nn.BatchNorm1d",
    "nndl.nn.batchnorm.BatchNorm2d": "nndl.nn.BatchNorm2d",
    "nndl.nn.containers.Concat": "nndl.nn.Concat",
    "nndl.nn.containers.Parallel": "nndl.nn.Parallel",
    "nndl.nn.containers.Residual": "nndl.nn.Residual",
    "nndl.nn.conv.Conv2d": "nndl.nn.Conv2d",
    "nndl.nn.conv_transpose.ConvTranspose2d": "nndl.nn.ConvTranspose2d",
    "nndl.nn.dropout.Dropout": "nndl.nn.Dropout",
    "nndl.nn.dropout.Dropout2d": "nndl.nn.Dropout2d",
    "nndl.nn.layernorm.LayerNorm": "nndl.nn.LayerNorm",
    "nndl.nn.linear.Linear": "nndl.nn.Linear",
    "nndl.nn.loss.Loss": "nndl.nn.Loss",
    "nndl.nn.loss_binary.BCELoss": "nndl.nn.BCELoss",
    "nndl.nn.loss_binary.BCEWithLogitsLoss": "nndl.nn.BCEWithLogitsLoss",
    "nndl.nn.loss_hinge.MulticlassHingeLoss": "nndl.nn.MulticlassHingeLoss",
    "nndl.nn.loss_regression.L1Loss": "nndl.nn.L1Loss",
    "nndl.nn.loss_regression.MSELoss": "nndl.nn.MSELoss",
    "nndl.nn.loss_softmax.NLLLoss": "nndl.nn.NLLLoss",
    "nndl.nn.loss_softmax.SoftmaxCrossEntropy": "nndl.nn.SoftmaxCrossEntropy",
    "nndl.nn.lrn.LocalResponseNorm": "nndl.nn.LocalResponseNorm",
    "nndl.nn.maxout.Maxout": "nndl.nn.Maxout",
    "nndl.nn.pool.AdaptiveAvgPool2d": "nndl.nn.AdaptiveAvgPool2d",
    "nndl.nn.pool.AvgPool2d": "nndl.nn.AvgPool2d",
    "nndl.nn.pool.GlobalAvgPool2d": "nndl.nn.GlobalAvgPool2d",
    "nndl.nn.pool.MaxPool2d": "nndl.nn.MaxPool2d",
    "nndl.nn.prelu.PReLU": "nndl.nn.PReLU",
    "nndl.nn.rectifier.ELU": "nndl.nn.ELU",
    "nndl.nn.rectifier.LeakyReLU": "nndl.nn.LeakyReLU",
    "nndl.nn.rectifier.ReLU": "nndl.nn.ReLU",
    "nndl.nn.reshape.Flatten": "nndl.nn.Flatten",
    "nndl.nn.reshape.Identity": "nndl.nn.Identity",
    "nndl.nn.sequential.Sequential": "nndl.nn.Sequential",
    "nndl.nn.softmax.LogSoftmax": "nndl.nn.LogSoftmax",
    "nndl.nn.softmax.Softmax": "nndl.nn.Softmax",
    "nndl.nn.unpool.MaxUnpool2d": "nndl.nn.MaxUnpool2d",
    "nndl.nn.unpool.Upsample": "nndl.nn.Upsample",
}
"""Class names written by nndl 0.1.0 (the defining file's path) and the public name each reads as now."""


class ConfigError(ValueError):
    """A module tree that cannot be written as, or rebuilt from, a configuration."""


# ---------------------------------------------------------------------- class names
def _public_classes() -> dict[str, type]:
    table = {}
    for namespace in PUBLIC_NAMESPACES:
        package = importlib.import_module(namespace)
        for name in package.__all__:
            value = getattr(package, name)
            if isinstance(value, type) and issubclass(value, Module):
                table.setdefault(f"{namespace}.{name}", value)
    return table


def _all_subclasses(cls: type):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def class_name(cls: type) -> str:
    """The name a configuration gives ``cls``: its public path, else ``module.qualname``."""
    for name, public in _public_classes().items():
        if public is cls:
            return name
    return f"{cls.__module__}.{cls.__qualname__}"


def find_class(name: str) -> type:
    """The Module class a configuration names (see the module docstring for the lookup order)."""
    public = _public_classes()
    name = LEGACY_NAMES.get(name, name)
    if name in public:
        return public[name]
    for cls in _all_subclasses(Module):
        if f"{cls.__module__}.{cls.__qualname__}" == name:
            return cls
    raise ConfigError(f"unknown module class '{name}'; import the code that defines it first "
                      f"(nndl's own classes are named {', '.join(PUBLIC_NAMESPACES)} + '.ClassName')")


# ---------------------------------------------------------------------- values
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


# ---------------------------------------------------------------------- modules
def _modules_in(value) -> list[Module]:
    """Modules among an argument's value (a module, or one inside a tuple, list or dict)."""
    if isinstance(value, Module):
        return [value]
    if isinstance(value, (tuple, list)):
        return [m for v in value for m in _modules_in(v)]
    if isinstance(value, dict):
        return [m for v in value.values() for m in _modules_in(v)]
    return []


def is_modified(module: Module) -> bool:
    """True when a child of ``module`` (or of a descendant) was replaced or added after construction."""
    built = module.__dict__.get("_built_children", {})
    return any(built.get(name) is not child or is_modified(child) for name, child in module._modules.items())


def to_config(module: Module) -> dict:
    """``{'class': public name, 'arguments': {...}}`` (plus ``'children'`` when some were replaced) of ``module``."""
    name = class_name(type(module))
    arguments = module.get_config()
    config = {"class": name, "arguments": {k: _encode(v, f"{name}.{k}") for k, v in arguments.items()}}
    in_arguments = {id(m) for value in arguments.values() for m in _modules_in(value)}
    built = module.__dict__.get("_built_children", {})
    changed = {child_name: to_config(child) for child_name, child in module._modules.items()
               if id(child) not in in_arguments and (built.get(child_name) is not child or is_modified(child))}
    if changed:
        config["children"] = changed
    return config


def from_config(config: dict) -> Module:
    """Build a new module from :func:`to_config`'s output (weights freshly initialized)."""
    if not isinstance(config, dict) or "class" not in config or "arguments" not in config:
        raise ConfigError(f"a module configuration needs 'class' and 'arguments', got {config!r}")
    if not isinstance(config["class"], str) or not isinstance(config["arguments"], dict):
        raise ConfigError(f"a module configuration's 'class' must be a string and 'arguments' a mapping, "
                          f"got {config['class']!r} and {type(config['arguments']).__name__}")
    cls = find_class(config["class"])
    arguments = {k: _decode(v) for k, v in config["arguments"].items()}
    args, kwargs = _call_arguments(cls, arguments, config["class"])
    module = cls(*args, **kwargs)
    children = config.get("children", {})
    if not isinstance(children, dict):
        raise ConfigError(f"{config['class']}: 'children' must be a mapping, got {type(children).__name__}")
    for child_name, child_config in children.items():
        setattr(module, str(child_name), from_config(child_config))
    return module


def _call_arguments(cls: type, arguments: dict, where: str) -> tuple[list, dict]:
    """Positional and keyword arguments for ``cls(...)`` from a name -> value mapping."""
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
        raise ConfigError(f"{where}: unknown arguments {', '.join(arguments)}")
    return args, kwargs

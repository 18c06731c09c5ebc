"""Optimizers, learning-rate schedules and gradient clipping.

Each optimizer's update rule is a pure function on arrays (``sgd_update``,
``adam_update``, ...) with its pseudocode in the docstring; the classes hold
parameter groups and state and call it, with PyTorch's names, defaults and
state-dict layout. ``OPTIMIZERS`` and ``LR_SCHEDULERS`` map config names to
classes.
"""

from nndl.optim.adagrad import Adagrad, adagrad_update
from nndl.optim.adam import Adam, AdamW, adam_update
from nndl.optim.clip import clip_grad_norm, clip_grad_value, grad_norm
from nndl.optim.lr_scheduler import (
    CosineAnnealingLR, ExponentialLR, InverseTimeDecay, LinearWarmup, LRScheduler, MultiStepLR, StepLR,
)
from nndl.optim.optimizer import Optimizer
from nndl.optim.plateau import ReduceLROnPlateau
from nndl.optim.rmsprop import RMSprop, rmsprop_update
from nndl.optim.sgd import SGD, sgd_update

OPTIMIZERS = {
    "sgd": SGD,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}

LR_SCHEDULERS = {
    "step": StepLR,
    "multistep": MultiStepLR,
    "exponential": ExponentialLR,
    "cosine": CosineAnnealingLR,
    "linear_warmup": LinearWarmup,
    "inverse_time": InverseTimeDecay,
    "plateau": ReduceLROnPlateau,
}


def get_optimizer(name: str):
    """The optimizer class registered as ``name`` (e.g. ``'adam'``)."""
    return _lookup(OPTIMIZERS, name, "optimizer")


def get_lr_scheduler(name: str):
    """The learning-rate schedule class registered as ``name`` (e.g. ``'cosine'``)."""
    return _lookup(LR_SCHEDULERS, name, "learning-rate schedule")


def _lookup(registry, name, kind):
    if name not in registry:
        raise ValueError(f"unknown {kind} {name!r}; valid: {', '.join(sorted(registry))}")
    return registry[name]


__all__ = [
    "Adagrad", "Adam", "AdamW", "CosineAnnealingLR", "ExponentialLR", "InverseTimeDecay", "LR_SCHEDULERS",
    "LRScheduler", "LinearWarmup", "MultiStepLR", "OPTIMIZERS", "Optimizer", "RMSprop", "ReduceLROnPlateau",
    "SGD", "StepLR", "adagrad_update", "adam_update", "clip_grad_norm", "clip_grad_value", "get_lr_scheduler",
    "get_optimizer", "grad_norm", "rmsprop_update", "sgd_update",
]

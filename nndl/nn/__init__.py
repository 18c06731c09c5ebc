"""Layers, containers, activations, losses, regularization and initializers."""

from nndl.nn import init
from nndl.nn.linear import Linear, linear_backward, linear_forward
from nndl.nn.loss import Loss
from nndl.nn.module import Module, StateDictError
from nndl.nn.parameter import Parameter
from nndl.nn.reshape import Flatten, Identity
from nndl.nn.sequential import Sequential

__all__ = [
    "Flatten", "Identity", "Linear", "Loss", "Module", "Parameter", "Sequential", "StateDictError",
    "init", "linear_backward", "linear_forward",
]

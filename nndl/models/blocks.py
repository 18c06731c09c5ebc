"""How the zoo's models compute: plain modules whose ``forward`` reads their children at call time.

A zoo model registers its layers as children under torchvision's names
(``conv1``, ``bn1``, ``layer1``, ``fc`` ...), so its state-dict keys are
torchvision's, and computes with those same attributes in ``forward``,
``backward`` and ``output_shape``, as torchvision's ``forward`` does. A child
replaced after construction (``model.fc = nn.Linear(512, 5)``,
``model.layer4[0].conv1 = ...``) is therefore the one that runs.

Every child runs through the public entries, so hooks fire for every module
and ``nndl.summary`` sees the data flow:

- forward: ``child(x)``;
- backward: ``nn.backward(child, δ)``, in reverse order;
- shapes: ``output_shape(child, shape)`` (:mod:`nndl.nn.core.shapes`).

Where a tensor feeds two paths, their input gradients add (the
multivariable chain rule); where outputs are added, δ goes unchanged to each
addend; where they are concatenated, δ is split. Those are the only rules a
block adds to its layers' own.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.containers import sum_gradients
from nndl.nn.core.hooks import backward
from nndl.nn.core.module import Module
from nndl.nn.core.shapes import output_shape


# ---------------------------------------------------------------------- a chain of layers
def chain_forward(layers, x):
    """``x`` through ``layers`` in order: ``a_l = layer_l(a_{l-1})``."""
    for layer in layers:
        x = layer(x)
    return x


def chain_backward(layers, dout, need_input_grad: bool = True):
    """The δ recursion through ``layers``, last to first; ``need_input_grad=False`` lets the first skip ∂L/∂x."""
    layers = list(layers)
    for layer in reversed(layers[1:]):
        dout = backward(layer, dout)
    return backward(layers[0], dout, need_input_grad) if layers else dout


def chain_output_shape(layers, input_shape):
    """The output shape of ``layers`` applied in order to an input of ``input_shape``."""
    shape = input_shape
    for layer in layers:
        shape = output_shape(layer, shape)
    return shape


class Chain(Module):
    """A model that runs the layers ``layers()`` lists, one after another.

    A subclass lists its children in the order ``forward`` runs them (as
    torchvision's ``forward`` reads them), e.g. ResNet's
    ``[self.conv1, self.bn1, ..., self.fc]``. The list is read at every call,
    so a replaced child takes part in forward, backward and shapes. Children
    that are not listed (GoogLeNet's auxiliary heads) keep their weights but
    do not run.
    """

    can_skip_input_grad = True

    def layers(self) -> list[Module]:
        """The children ``forward`` runs, in order."""
        raise NotImplementedError(f"{type(self).__name__} does not list its layers")

    def forward(self, x):
        return chain_forward(self.layers(), x)

    def backward(self, dout, need_input_grad: bool = True):
        return chain_backward(self.layers(), dout, need_input_grad)

    def output_shape(self, input_shape):
        return chain_output_shape(self.layers(), input_shape)


# ---------------------------------------------------------------------- where paths meet
def check_same_shape(owner: Module, first, second, what: str) -> None:
    """Two paths that are added must give the same shape (nothing is broadcast)."""
    if tuple(first) != tuple(second):
        raise ValueError(f"{owner.describe()}: {what} give shapes {tuple(first)} and {tuple(second)}; "
                         "they are added, so they must be equal")


def concat_shape(owner: Module, shapes, axis: int = 1) -> tuple:
    """The shape of the concatenation of outputs of ``shapes`` along ``axis`` (they must agree elsewhere)."""
    shapes = [tuple(s) for s in shapes]
    rest = {s[:axis] + s[axis + 1:] for s in shapes}
    if len(rest) > 1 or any(len(s) != len(shapes[0]) for s in shapes):
        raise ValueError(f"{owner.describe()}: outputs {shapes} must agree on every axis except {axis} "
                         "to be concatenated")
    return shapes[0][:axis] + (sum(s[axis] for s in shapes),) + shapes[0][axis + 1:]


def concat_forward(owner: Module, outs, axis: int = 1):
    """``np.concatenate(outs, axis)`` and the split points backward needs; no silent dtype conversion."""
    concat_shape(owner, [o.shape for o in outs], axis)
    if len({o.dtype for o in outs}) > 1:
        raise TypeError(f"{owner.describe()}: outputs of dtypes {[str(o.dtype) for o in outs]} would be "
                        "converted by the concatenation")
    return np.concatenate(outs, axis=axis), np.cumsum([o.shape[axis] for o in outs])[:-1]


def concat_backward(dout, boundaries, axis: int = 1) -> list:
    """δ split into the pieces each concatenated output produced."""
    return np.split(dout, boundaries, axis=axis)


__all__ = ["Chain", "chain_backward", "chain_forward", "chain_output_shape", "check_same_shape", "concat_backward",
           "concat_forward", "concat_shape", "sum_gradients"]

"""``Sequential``: a chain of modules, forward in order and backward in reverse."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from nndl.nn.core.hooks import backward
from nndl.nn.core.module import Module


class Sequential(Module):
    """Apply modules one after another; backpropagate through them in reverse.

    ``Sequential(a, b, c)`` names its children ``'0'``, ``'1'``, ``'2'`` (so
    state-dict keys are ``'0.weight'``..., as in PyTorch);
    ``Sequential(OrderedDict(fc1=..., act=...))`` keeps the given names.

    The backward pass is the notes' δ recursion: ``δ_{l-1} = backward_l(δ_l)``
    from the last module to the first.
    """

    def __init__(self, *modules, dtype=None):
        super().__init__(np.float32 if dtype is None else dtype)
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            items = list(modules[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(modules)]
        for name, module in items:
            self.add_module(name, module)
        if dtype is None and self._modules:
            # The chain's dtype is its members' (they were built with their own dtype=): the first
            # member with parameters decides, since parameter-free layers adapt to their input.
            members = list(self._modules.values())
            with_parameters = [m for m in members if any(True for _ in m.parameters())]
            self.dtype = (with_parameters or members)[0].dtype

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    can_skip_input_grad = True

    def backward(self, dout, need_input_grad: bool = True):
        """δ recursion from the last module to the first; ``need_input_grad=False`` lets the first skip ∂L/∂x."""
        modules = list(self._modules.values())
        for module in reversed(modules[1:]):
            dout = backward(module, dout)
        if not modules:
            return dout
        return backward(modules[0], dout, need_input_grad)

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        for module in self._modules.values():
            shape = module.output_shape(shape)
        return shape

    def get_config(self) -> dict:
        """The current children (``append`` or item assignment may have changed them since construction)."""
        return {**super().get_config(), "modules": (OrderedDict(self._modules),)}

    def add_module(self, name: str, module: Module) -> None:
        """Register ``module`` as the child ``name``; the same instance may not appear twice.

        A module keeps one forward cache, so a second use in the chain would
        overwrite what the first use's backward needs. Share a ``Parameter``
        between two modules instead.
        """
        if any(existing is module for existing in self._modules.values()):
            raise ValueError(f"Sequential: {module.describe()} is already in this Sequential; "
                             "use a new instance (share its Parameters if you want tied weights)")
        super().add_module(name, module)

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end, named by its position."""
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            names = list(self._modules.keys())[index]
            return Sequential(OrderedDict((n, self._modules[n]) for n in names), dtype=self.dtype)
        return modules[index]

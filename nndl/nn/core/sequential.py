"""``Sequential``: a chain of modules, forward in order and backward in reverse."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from nndl.nn.core.facts import ELEMENTWISE
from nndl.nn.core.hooks import backward
from nndl.nn.core.module import Module
from nndl.nn.core.shapes import output_shape


class Sequential(Module):
    """Apply modules one after another; backpropagate through them in reverse.

    ``Sequential(a, b, c)`` names its children ``'0'``, ``'1'``, ``'2'`` (so
    state-dict keys are ``'0.weight'``..., as in PyTorch);
    ``Sequential(OrderedDict(fc1=..., act=...))`` keeps the given names.

    Like ``torch.nn.Sequential`` it is a list of its children: ``len``,
    iteration, ``seq[i]`` (negative too), ``seq[i:j]`` (a Sequential sharing
    the modules, with their names), ``seq[i] = module`` (the new module takes
    the old one's name, so state-dict keys stay), ``del seq[i]``, ``pop``,
    ``append``, ``insert`` and ``extend``. Deleting or inserting renumbers the
    children ``'0'``, ``'1'``, ..., as PyTorch does.

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
        shape = input_shape
        for module in self._modules.values():
            shape = output_shape(module, shape)
        return tuple(shape) if shape is input_shape else shape

    def get_config(self) -> dict:
        """The current children (``append`` or item assignment may have changed them since construction)."""
        return {**super().get_config(), "modules": (OrderedDict(self._modules),)}

    def macs(self, input_shape, output_shape) -> int:
        """0 (an empty Sequential is the identity; a non-empty one is summed over its children by the tools)."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """Element-wise (the window of an empty Sequential)."""
        return ELEMENTWISE

    # ------------------------------------------------------------------ the list of children, as torch.nn.Sequential
    def add_module(self, name: str, module: Module) -> None:
        """Register ``module`` as the child ``name``; the same instance may not appear twice.

        A module keeps one forward cache, so a second use in the chain would
        overwrite what the first use's backward needs. Share a ``Parameter``
        between two modules instead.
        """
        if any(existing is module for key, existing in self._modules.items() if key != name):
            raise ValueError(f"Sequential: {module.describe()} is already in this Sequential; "
                             "use a new instance (share its Parameters if you want tied weights)")
        super().add_module(name, module)

    def _name_at(self, index) -> str:
        """The name of the child at position ``index`` (negative counts from the end)."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"Sequential indices must be integers or slices, not {type(index).__name__}")
        size = len(self._modules)
        if not -size <= index < size:
            raise IndexError(f"Sequential: index {index} is out of range for {size} modules")
        return list(self._modules)[index % size]

    def _renumber(self, modules) -> None:
        """Make ``modules`` the children, named ``'0'``, ``'1'``, ... (after a deletion or an insertion)."""
        for name in list(self._modules):
            self.__dict__.pop(name, None)
        self._modules.clear()
        for position, module in enumerate(modules):
            self.add_module(str(position), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))

    def __getitem__(self, index):
        if isinstance(index, slice):
            names = list(self._modules)[index]
            return Sequential(OrderedDict((n, self._modules[n]) for n in names), dtype=self.dtype)
        return self._modules[self._name_at(index)]

    def __setitem__(self, index, module: Module) -> None:
        """Replace the child at ``index``; the new module keeps its name and position (and state-dict keys)."""
        self.add_module(self._name_at(index), module)

    def __delitem__(self, index) -> None:
        """Remove the child(ren) at ``index`` (an int or a slice); the rest are renumbered from ``'0'``."""
        names = list(self._modules)[index] if isinstance(index, slice) else [self._name_at(index)]
        self._renumber([m for n, m in self._modules.items() if n not in names])

    def pop(self, index: int = -1) -> Module:
        """Remove the child at ``index`` and return it."""
        module = self[index]
        del self[index]
        return module

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end, named by its position."""
        self.add_module(str(len(self._modules)), module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Put ``module`` before position ``index`` (``len(self)`` appends); the children are renumbered."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.insert: expected a Module, got {type(module).__name__}")
        size = len(self._modules)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -size <= index <= size:
            raise IndexError(f"Sequential.insert: index {index!r} is out of range for {size} modules")
        if any(existing is module for existing in self._modules.values()):
            raise ValueError(f"Sequential: {module.describe()} is already in this Sequential; use a new instance")
        modules = list(self._modules.values())
        modules.insert(int(index), module)  # list.insert's rule for negative indices is torch's
        self._renumber(modules)
        return self

    def extend(self, modules) -> Sequential:
        """Append every module of ``modules`` (a Sequential or any iterable of modules)."""
        for module in list(modules):
            self.append(module)
        return self

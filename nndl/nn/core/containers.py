"""Branching containers: ``Residual`` (y = F(x) + S(x)), ``Concat`` and ``Parallel``.

Like ``Sequential`` they hold no math of their own beyond the two rules of
backpropagation through a graph: where one tensor feeds several branches, its
gradient is the *sum* of the branches' gradients (the multivariable chain
rule); where outputs are added, the gradient is passed unchanged to each
addend; where they are concatenated, it is split.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from nndl.nn.core.hooks import backward
from nndl.nn.core.module import Module
from nndl.nn.core.shapes import output_shape


def _named_modules_arg(owner: str, modules) -> list[tuple[str, Module]]:
    """``(name, module)`` pairs from ``(m0, m1, ...)`` or a single ``dict`` of names."""
    if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
        items = [(str(name), module) for name, module in modules[0].items()]
    else:
        items = [(str(i), module) for i, module in enumerate(modules)]
    if not items:
        raise ValueError(f"{owner}: needs at least one branch")
    seen: dict[int, str] = {}
    for name, module in items:
        if not isinstance(module, Module):
            raise TypeError(f"{owner}: branch '{name}' must be a Module, got {type(module).__name__}")
        if id(module) in seen:
            # One instance in two places would overwrite its own forward cache.
            raise ValueError(f"{owner}: branches '{seen[id(module)]}' and '{name}' are the same module instance; "
                             f"use two modules (they may share Parameter objects)")
        seen[id(module)] = name
    return items


def sum_gradients(grads) -> np.ndarray | None:
    """Sum of the arrays in ``grads`` (``None`` if there are none).

    The first array may belong to someone else (an ``Identity`` branch
    returns a view of the caller's δ), so the first addition is out of place
    and only the array it creates is updated in place afterwards.
    """
    total, owned = None, False
    for grad in grads:
        if total is None:
            total = grad
        elif owned:
            total += grad
        else:
            total, owned = total + grad, True
    return total


class Residual(Module):
    """A residual (skip) connection ``y = F(x) + S(x)``, the building block of ResNets.

    ``F`` is ``block``; ``S`` is ``shortcut``, the identity when ``None`` or a
    projection (e.g. a strided 1×1 convolution with batch norm) when the
    block changes the shape.

    Backward: the addition copies ``δ = ∂L/∂y`` to both addends, and ``x``
    feeds both, so

    .. math::
        ∂L/∂x = F'(x)ᵀ δ + S'(x)ᵀ δ = \\text{block.backward}(δ) + δ
        \\quad (\\text{identity shortcut}).

    The ``+ δ`` term is the gradient highway: however small the block's
    Jacobian becomes in a deep stack, the gradient reaches early layers
    undiminished through the identity paths (the vanishing-gradient problem
    of notes 004), and a block can represent the identity map by driving its
    weights to 0 instead of having to learn ``F(x) = x``.

    Parameters
    ----------
    block : Module
        ``F``, typically a ``Sequential`` or a custom module.
    shortcut : Module or None
        ``S``; ``None`` for the identity.

    Notes
    -----
    Children are named ``block`` and ``shortcut``, so state-dict keys read
    ``block.<key>`` and ``shortcut.<key>`` (e.g. ``block.0.weight`` for a
    ``Sequential`` block). A model that must reproduce torchvision's ResNet
    keys (``conv1, bn1, conv2, bn2, downsample``, ReLU after the addition)
    is better written as a small module with those children whose backward
    follows the same rule.

    Shapes
    ------
    ``F(x)`` and ``S(x)`` must have the same shape (no broadcasting); that is
    the output shape.
    """

    def __init__(self, block: Module, shortcut: Module | None = None):
        if not isinstance(block, Module):
            raise TypeError(f"Residual: block must be a Module, got {type(block).__name__}")
        if shortcut is not None and not isinstance(shortcut, Module):
            raise TypeError(f"Residual: shortcut must be a Module or None, got {type(shortcut).__name__}")
        if shortcut is block:
            raise ValueError("Residual: block and shortcut are the same module instance")
        super().__init__(block.dtype)
        self.block = block
        self.shortcut = shortcut
        self._cache = None

    def _shortcut_name(self) -> str:
        return "identity" if self.shortcut is None else f"shortcut {self.shortcut.describe()}"

    def _check_agree(self, block_shape, shortcut_shape, input_shape) -> None:
        if tuple(block_shape) != tuple(shortcut_shape):
            raise ValueError(
                f"Residual: block {self.block.describe()} output shape {tuple(block_shape)} differs from "
                f"{self._shortcut_name()} output shape {tuple(shortcut_shape)} for input shape {tuple(input_shape)}; "
                f"give Residual a shortcut that maps the input to the block's output shape")

    def forward(self, x):
        block_out = self.block(x)
        shortcut_out = x if self.shortcut is None else self.shortcut(x)
        self._check_agree(block_out.shape, shortcut_out.shape, x.shape)
        if block_out.dtype != shortcut_out.dtype:
            raise TypeError(f"Residual: block output dtype {block_out.dtype} differs from {self._shortcut_name()} "
                            f"output dtype {shortcut_out.dtype}; adding them would convert silently")
        self._cache = x.shape
        return block_out + shortcut_out

    def backward(self, dout):
        self._saved()
        dx = backward(self.block, dout)
        # The shortcut receives the same δ; the identity's input gradient is δ itself.
        return dx + (dout if self.shortcut is None else backward(self.shortcut, dout))

    def output_shape(self, input_shape):
        block_shape = output_shape(self.block, input_shape)
        shortcut_shape = tuple(input_shape) if self.shortcut is None else output_shape(self.shortcut, input_shape)
        self._check_agree(block_shape, shortcut_shape, input_shape)
        return tuple(block_shape)  # a new shape: where the two paths meet


class Concat(Module):
    """Run every branch on the same input and concatenate the outputs along ``axis``.

    The containers of Inception modules (parallel convolutions of several
    sizes, joined along channels) and of DenseNet's dense connections
    (``Concat(Identity(), F)`` keeps the input and appends ``F``'s new
    feature maps).

    Backward: ``δ`` is split along ``axis`` into the pieces each branch
    produced, and since ``x`` feeds every branch, the input gradients add:

    .. math::
        ∂L/∂x = Σ_b \\text{branch}_b\\text{.backward}(δ_b).

    Parameters
    ----------
    *branches : Module, or one dict ``{name: Module}``
        Children are named ``'0'``, ``'1'``, ... (state-dict keys ``'0.weight'``...)
        or by the dict's keys.
    axis : int
        Concatenation axis; 1 is the channel axis of ``(N, C, H, W)``.

    Shapes
    ------
    The branches' outputs must agree on every axis but ``axis``; the output
    has the sum of their sizes along it.
    """

    def __init__(self, *branches, axis: int = 1):
        items = _named_modules_arg("Concat", branches)
        super().__init__(items[0][1].dtype)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"Concat: axis must be an int, got {axis!r}")
        self.axis = int(axis)
        for name, module in items:
            self.add_module(name, module)
        self._cache = None

    def _check_agree(self, shapes: list[tuple[int, ...]]) -> int:
        ndim = len(shapes[0])
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"Concat: axis {self.axis} is out of range for branch outputs with {ndim} axes")
        axis = self.axis % ndim

        def without_axis(shape):
            return shape[:axis] + shape[axis + 1:] if len(shape) == ndim else None

        reference = without_axis(shapes[0])
        if any(without_axis(s) != reference for s in shapes):
            listing = ", ".join(f"'{name}' {child.describe()} -> {tuple(s)}"
                                for (name, child), s in zip(self._modules.items(), shapes))
            raise ValueError(f"Concat: branch outputs must agree on every axis except {self.axis}; got {listing}")
        return axis

    def forward(self, x):
        outs = [branch(x) for branch in self._modules.values()]
        axis = self._check_agree([o.shape for o in outs])
        if len({o.dtype for o in outs}) > 1:
            listing = ", ".join(f"'{name}' -> {o.dtype}" for name, o in zip(self._modules, outs))
            raise TypeError(f"Concat: branch outputs have different dtypes ({listing}); "
                            f"concatenating would convert them silently")
        self._cache = np.cumsum([o.shape[axis] for o in outs])[:-1]
        return np.concatenate(outs, axis=axis)

    def backward(self, dout):
        boundaries = self._saved()
        pieces = np.split(dout, boundaries, axis=self.axis)
        return sum_gradients(backward(branch, piece) for branch, piece in zip(self._modules.values(), pieces))

    def output_shape(self, input_shape):
        shapes = [tuple(output_shape(branch, input_shape)) for branch in self._modules.values()]
        axis = self._check_agree(shapes)
        total = sum(s[axis] for s in shapes)
        return shapes[0][:axis] + (total,) + shapes[0][axis + 1:]

    def extra_repr(self) -> str:
        return f"axis={self.axis}"

    def __len__(self) -> int:
        return len(self._modules)

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]


class Parallel(Module):
    """Several heads on one input, for multi-task learning: a tuple out, or a dict for named heads.

    ``Parallel(h₁, …, h_K)(x) = (h₁(x), …, h_K(x))``;
    ``Parallel(digit=h₁, parity=h₂)(x) = {'digit': h₁(x), 'parity': h₂(x)}``.
    With one loss per head and a total loss ``L = Σ_k λ_k L_k``, ``backward``
    takes the gradients in the same form (``(λ₁ ∂L₁/∂y₁, …)`` or
    ``{'digit': λ₁ ∂L₁/∂y₁, …}``) and, since ``x`` feeds every head, returns

    .. math::
        ∂L/∂x = Σ_k h_k\\text{.backward}(δ_k).

    A head without a loss gets ``None`` (or, for named heads, may be left
    out of the dict): it contributes nothing.

    Parameters
    ----------
    *heads : Module, or one dict ``{name: Module}``
        Children named ``'0'``, ``'1'``, ... (a tuple out) or by the dict's
        keys (a dict out).
    **named_heads : Module
        Heads by name, in this order (a dict out); not together with ``*heads``.

    Shapes
    ------
    ``output_shape`` gives one shape per head, in the form of the output
    (a tuple of shapes, or a dict of them).
    """

    def __init__(self, *heads, **named_heads):
        if heads and named_heads:
            raise ValueError("Parallel: give the heads positionally or by name, not both")
        items = _named_modules_arg("Parallel", (named_heads,) if named_heads else heads)
        super().__init__(items[0][1].dtype)
        self.returns_dict = bool(named_heads) or (len(heads) == 1 and isinstance(heads[0], dict))
        for name, module in items:
            self.add_module(name, module)
        self._cache = None

    def forward(self, x):
        if self.returns_dict:
            outs = {name: head(x) for name, head in self._modules.items()}
        else:
            outs = tuple(head(x) for head in self._modules.values())
        self._cache = (x.shape, x.dtype)
        return outs

    def _gradients_per_head(self, douts) -> list:
        """``douts`` as a list in head order (None for a head without loss), checked against the heads."""
        names = list(self._modules)
        if self.returns_dict and isinstance(douts, dict):
            unknown = [k for k in douts if k not in self._modules]
            if unknown:
                raise ValueError(f"Parallel: backward got gradients for unknown heads {unknown}; "
                                 f"the heads are {names}")
            return [douts.get(name) for name in names]
        if isinstance(douts, (tuple, list)) and len(douts) == len(names):
            return list(douts)
        got = f"{type(douts).__name__} of length {len(douts)}" if isinstance(douts, (tuple, list, dict)) \
            else type(douts).__name__
        expected = f"a dict keyed by {names} or a tuple" if self.returns_dict else "a tuple"
        raise ValueError(f"Parallel: backward expects {expected} of {len(names)} gradients "
                         f"(one per head, None for a head without loss), got {got}")

    def backward(self, douts):
        input_shape, input_dtype = self._saved()
        douts = self._gradients_per_head(douts)
        dx = sum_gradients(backward(head, dout) for head, dout in zip(self._modules.values(), douts)
                            if dout is not None)
        if dx is None:
            return np.zeros(input_shape, dtype=input_dtype)
        return dx

    def output_shape(self, input_shape):
        shapes = {name: tuple(output_shape(head, input_shape)) for name, head in self._modules.items()}
        return shapes if self.returns_dict else tuple(shapes.values())

    def __len__(self) -> int:
        return len(self._modules)

    def __getitem__(self, index: int | str) -> Module:
        if isinstance(index, str):
            return self._modules[index]
        return list(self._modules.values())[index]

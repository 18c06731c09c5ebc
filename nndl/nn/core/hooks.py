"""The two entries of a computation: ``module(x)`` forward and ``nn.backward(module, δ)`` backward.

Everything that is not a layer's own arithmetic happens here and nowhere
else, around the module's plain ``forward``/``backward`` methods:

- **hooks**, with PyTorch's names and signatures: forward pre-hooks
  ``hook(module, inputs) -> None | new inputs``, forward hooks
  ``hook(module, inputs, output) -> None | new output``, backward pre-hooks
  ``hook(module, grad_output) -> None | new grad_output`` and full backward
  hooks ``hook(module, grad_input, grad_output) -> None | new grad_input``
  (``grad_input = (∂L/∂x,)``, ``grad_output = (δ,)``, tuples as in torch;
  ∂L/∂x is None when the caller asked for parameter gradients only);
- **the threading policy** (:mod:`nndl.nn._fast.parallel`), chosen by the
  outermost entry for the whole computation below it;
- **the public memory layout**: the outermost entry returns C-contiguous
  arrays (the fast kernels may keep activations channels-last *inside* a
  network), unless the module was asked for ``memory_format="channels_last"``.

Containers and zoo models run their children through these same entries
(``child(x)``, ``backward(child, δ)``), so hooks fire for every module of a
tree. Calling ``module.forward(x)`` or ``module.backward(δ)`` directly runs
that module's own rule alone, without its hooks, as ``module.forward`` does
in PyTorch.
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import contextmanager
from itertools import count

import numpy as np

from nndl.nn._fast.parallel import compute_scope, in_compute_scope

_handle_ids = count()


class RemovableHandle:
    """What ``register_*_hook`` returns: ``handle.remove()`` unregisters the hook (also as a context manager)."""

    def __init__(self, hooks: OrderedDict):
        self._hooks = hooks
        self.id = next(_handle_ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_hook(hooks: OrderedDict, hook) -> RemovableHandle:
    """Register ``hook`` in ``hooks`` (one of a module's hook tables) and return its handle."""
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


@contextmanager
def _outermost_policy(module):
    """Enter the threading policy if no computation is running yet in this thread; yield whether we did."""
    if in_compute_scope():
        yield False
        return
    with compute_scope(split=any(getattr(m, "splits_batch", False) for m in module.modules())):
        yield True


def _public_layout(module, value):
    """C-contiguous arrays out of the outermost entry, unless the module asked to keep channels-last."""
    if getattr(module, "memory_format", "contiguous") == "channels_last":
        return value
    if isinstance(value, np.ndarray):
        return value if value.flags.c_contiguous else value.copy(order="C")
    if isinstance(value, tuple):
        return tuple(_public_layout(module, v) for v in value)
    if isinstance(value, dict):  # named heads (nn.Parallel(digit=..., parity=...))
        return {key: _public_layout(module, v) for key, v in value.items()}
    return value


def call_forward(module, inputs: tuple, kwargs: dict):
    """``module(*inputs, **kwargs)``: pre-hooks, ``forward``, hooks; the outermost call sets policy and layout."""
    for hook in tuple(module._forward_pre_hooks.values()):
        result = hook(module, inputs)
        if result is not None:
            inputs = result if isinstance(result, tuple) else (result,)
    with _outermost_policy(module) as outermost:
        output = module.forward(*inputs, **kwargs)
    if outermost:
        output = _public_layout(module, output)
    for hook in tuple(module._forward_hooks.values()):
        result = hook(module, inputs, output)
        if result is not None:
            output = result
    return output


def backward(module, dout, need_input_grad: bool = True):
    """Backpropagate ``dout = ∂L/∂(module output)`` through ``module``: the public backward entry.

    Runs the module's backward pre-hooks, its ``backward`` (which adds every
    parameter's gradient into ``.grad``), then its full backward hooks, and
    returns ∂L/∂(module input). With ``need_input_grad=False`` a module that
    can (``can_skip_input_grad``, e.g. a first convolution) skips ∂L/∂x,
    which is then None: the data needs no gradient, as in PyTorch.

    Parameters
    ----------
    module : Module
    dout : ndarray (or a tuple of them for a multi-output module)
        ∂L/∂y, the shape of the module's last output.
    need_input_grad : bool

    Returns
    -------
    ndarray or None
        ∂L/∂x, the shape of the module's last input.
    """
    for hook in tuple(module._backward_pre_hooks.values()):
        result = hook(module, (dout,))
        if result is not None:
            dout = result[0] if isinstance(result, tuple) else result
    with _outermost_policy(module) as outermost:
        if need_input_grad or not module.can_skip_input_grad:
            dx = module.backward(dout)
        else:
            dx = module.backward(dout, need_input_grad=False)
    if outermost:
        dx = _public_layout(module, dx)
    for hook in tuple(module._backward_hooks.values()):
        result = hook(module, (dx,), (dout,))
        if result is not None:
            dx = result[0] if isinstance(result, tuple) else result
    return dx


def backward_parameters(module, dout):
    """``backward(module, dout, need_input_grad=False)``: parameter gradients only (what a training loop needs)."""
    return backward(module, dout, need_input_grad=False)

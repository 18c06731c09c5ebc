"""Which kernels the modules compute with: the readable reference set or the fast one.

Every operation has two kernel pairs with the same signatures and results:

- ``"reference"``: :mod:`nndl.nn.functional`, written to be read next to the
  notes' formulas (no threads, no scratch buffers, no layout tricks);
- ``"fast"`` (the default): :mod:`nndl.nn._fast`, where everything that exists
  for speed lives; an operation with nothing to speed up uses the reference
  pair there too.

A module looks its pair up when it computes (``kernels().conv2d_forward``) and
keeps the set it used with its cache, so a backward pass always matches its
forward pass even if the set changed in between::

    with nn.use_kernels("reference"):   # step through the notes' algorithm in a debugger
        scores = model(x)
        model.backward(loss_fn.backward())

The choice is held in a :class:`contextvars.ContextVar`: ``use_kernels`` affects
the calling thread (and asyncio task) only, ``set_kernels`` changes the
process-wide default.
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from contextvars import ContextVar

KERNEL_SETS = {"reference": "nndl.nn.functional", "fast": "nndl.nn._fast"}
"""Name of each kernel set and the package that holds its ``<op>_forward``/``<op>_backward`` pairs."""

_default = "fast"
_override: ContextVar[str | None] = ContextVar("nndl_kernels", default=None)


def _check_name(name) -> str:
    if name not in KERNEL_SETS:
        raise ValueError(f"unknown kernel set {name!r}; valid: {', '.join(KERNEL_SETS)}")
    return name


class KernelSet:
    """One kernel set: its pairs are the attributes (``kernels().conv2d_forward``), looked up in its package.

    A module keeps the set it computed with in its forward cache; this small
    handle (rather than the package itself) lets that cache be copied and
    pickled with the module: it is rebuilt from its name.
    """

    def __init__(self, name: str):
        self.name = name
        self.package = importlib.import_module(KERNEL_SETS[name])

    def __getattr__(self, attribute: str):
        return getattr(self.package, attribute)

    def __reduce__(self):
        return kernels, (self.name,)

    def __repr__(self) -> str:
        return f"<nndl kernel set {self.name!r} ({self.package.__name__})>"


_SETS: dict[str, KernelSet] = {}


def kernel_set_name() -> str:
    """The name of the active kernel set: ``"fast"`` or ``"reference"``."""
    return _override.get() or _default


def kernels(name: str | None = None) -> KernelSet:
    """The active kernel set (or set ``name``): ``kernels().linear_forward(...)``."""
    name = _check_name(name or kernel_set_name())
    if name not in _SETS:
        _SETS[name] = KernelSet(name)
    return _SETS[name]


def set_kernels(name: str) -> None:
    """Make ``name`` (``"fast"`` or ``"reference"``) the process-wide default kernel set."""
    global _default
    _default = _check_name(name)


@contextmanager
def use_kernels(name: str):
    """Compute with kernel set ``name`` inside the ``with`` block (this thread only); restore it after."""
    token = _override.set(_check_name(name))
    try:
        yield kernels(name)
    finally:
        _override.reset(token)

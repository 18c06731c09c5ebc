"""The shape entry ``output_shape(module, input_shape)``: how a container asks a child for its output shape.

Containers and zoo models run a child forward as ``child(x)`` and backward as
``nn.backward(child, δ)``; for shapes they call ``output_shape(child, shape)``
from here rather than ``child.output_shape(shape)``. Without a watcher the
two are the same call. A tool that wants to see the data flow of a model
(:mod:`nndl.summary`) installs a watcher with :func:`watch_shapes`; the
watcher is then called for every module the shapes flow through, in order,
and it is the watcher that calls ``module.output_shape``. So the summary of
any module written this way follows its data flow, with no table of
container types.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

_watcher: ContextVar = ContextVar("nndl_shape_watcher", default=None)


def output_shape(module, input_shape):
    """``module.output_shape(input_shape)``, seen by the active watcher if there is one.

    Parameters
    ----------
    module : Module
    input_shape : tuple of int
        With the batch axis.

    Returns
    -------
    tuple
        The shape ``module(x)`` returns for an ``x`` of ``input_shape``.
    """
    watcher = _watcher.get()
    if watcher is None:
        return module.output_shape(input_shape)
    return watcher(module, input_shape)


@contextmanager
def watch_shapes(watcher):
    """Within the block, :func:`output_shape` calls ``watcher(module, input_shape)`` instead.

    The watcher must return ``module.output_shape(input_shape)`` (or raise
    what it raises); it is called again for the children that call asks.
    """
    token = _watcher.set(watcher)
    try:
        yield
    finally:
        _watcher.reset(token)

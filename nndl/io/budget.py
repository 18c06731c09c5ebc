"""Building a model from a checkpoint's configuration within a budget set by the file's own tensors.

A configuration is a few bytes that can declare ``Linear(16000, 16000)``: 256
million weights, drawn and written before any key is compared. The file's
header says how many elements its tensors hold; a model that fits the file
needs no more. :func:`allocation_budget` watches the calls that create
parameter arrays (every function of ``nndl.nn.core.init`` taking a
``shape``, and ``numpy.ones``/``numpy.full``, which layers use for
normalization weights) and refuses the first one that would exceed what is
left of the budget, *before* it runs. ``numpy.zeros`` is not watched: its
pages are not touched until written, so it costs nothing until then.
"""

from __future__ import annotations

import inspect
import math
import sys
from contextlib import contextmanager

import numpy as np


class OverBudget(MemoryError):
    """A model under construction asked for more elements than the budget allows."""


def _watched_codes() -> set:
    from nndl.nn.core import init

    codes = {np.ones.__code__, np.full.__code__}
    for function in vars(init).values():
        if inspect.isfunction(function) and function.__module__ == init.__name__ and \
                "shape" in inspect.signature(function).parameters:
            codes.add(function.__code__)
    return codes


def _elements(shape) -> int:
    try:
        return math.prod(int(d) for d in shape) if not isinstance(shape, (int, np.integer)) else int(shape)
    except (TypeError, ValueError):
        return 0  # not a shape: the function itself will say so


@contextmanager
def allocation_budget(elements: int):
    """Within the block, array-creating initializer calls may create at most ``elements`` elements in total.

    Calls nested inside a watched call (an initializer calling
    ``numpy.ones``) are counted once, at the outer call. Raises
    :class:`OverBudget` from the first call that would exceed the budget,
    before that call allocates anything.
    """
    watched = _watched_codes()
    state = {"left": int(elements), "inside": 0}

    def profile(frame, event, arg):
        if frame.f_code not in watched:
            return
        if event == "call":
            if state["inside"] == 0:
                requested = _elements(frame.f_locals.get("shape", ()))
                if requested > state["left"]:
                    raise OverBudget(f"asks for an array of {requested:,} elements, more than the {state['left']:,} "
                                     "left of what the file's tensors hold")
                state["left"] -= requested
            state["inside"] += 1
        elif event == "return":
            state["inside"] = max(0, state["inside"] - 1)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)

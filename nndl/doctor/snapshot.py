"""Put a model, its optimizer and every random generator back exactly as they were.

The doctor and the learning-rate finder train on the user's own objects
(that is the point: they test *this* model with *this* optimizer), then
restore them bit for bit: parameter values and ``.grad`` (the same array
objects, refilled), buffers such as BatchNorm's running statistics, every
module attribute (mode, caches, dtype), the optimizer's per-parameter state
and hyperparameters, and the state of every ``numpy.random.Generator`` held
by a module, the loss or the optimizer.
"""

from __future__ import annotations

import copy

import numpy as np


def _generators(obj) -> list[np.random.Generator]:
    """Generators held directly as attributes of ``obj`` (a module's ``rng``, ...)."""
    return [value for value in vars(obj).values() if isinstance(value, np.random.Generator)]


class _SavedArray:
    """An array object and a copy of its values."""

    __slots__ = ("original", "values")

    def __init__(self, array: np.ndarray):
        self.original, self.values = array, array.copy()


def _saved_array(array):
    return None if array is None else _SavedArray(array)


def _put_back(saved):
    """The original array object, refilled with its saved values (same dtype and shape as saved)."""
    if saved is None:
        return None
    original, values = saved.original, saved.values
    if original.shape != values.shape or original.dtype != values.dtype:
        # ``to(dtype)`` or a reshape changed the object in place of its values: rebuild it.
        return values.copy()
    np.copyto(original, values)
    return original


def _copy_value(value):
    return value.copy() if isinstance(value, np.ndarray) else copy.deepcopy(value)


class Snapshot:
    """Everything that training could change, captured by ``Snapshot(model, optimizer, others)``.

    Parameters
    ----------
    model : Module
    optimizer : Optimizer, optional
    others : iterable
        More objects whose generators to restore (the loss, a user's Generator).

    Use as a context manager (``with Snapshot(model, opt): ...``) to restore
    on exit, even after an exception, or call :meth:`restore`.
    """

    def __init__(self, model, optimizer=None, others=()):
        self.model, self.optimizer = model, optimizer
        modules = list(model.modules())
        others = [o for o in others if o is not None]
        self._attributes = [(m, dict(vars(m))) for m in modules]
        self._parameters = [(p, _saved_array(p.data), _saved_array(p.grad)) for p in model.parameters()]
        self._buffers = [(m, name, _saved_array(buf)) for m in modules for name, buf in m._buffers.items()]
        holders = modules + [o for o in others if not isinstance(o, np.random.Generator)]
        generators = [g for holder in holders for g in _generators(holder)]
        generators += [o for o in others if isinstance(o, np.random.Generator)]
        if optimizer is not None:
            generators += _generators(optimizer)
        unique = {id(g): g for g in generators}
        self._generators = [(g, copy.deepcopy(g.bit_generator.state)) for g in unique.values()]
        self._optimizer = None
        if optimizer is not None:
            self._optimizer = (
                [{k: (v if k == "params" else _copy_value(v)) for k, v in g.items()} for g in optimizer.param_groups],
                {p: {k: _saved_array(v) if isinstance(v, np.ndarray) else copy.deepcopy(v) for k, v in s.items()}
                 for p, s in optimizer.state.items()},
                {k: _copy_value(v) for k, v in vars(optimizer).items() if k not in ("param_groups", "state")},
            )

    def restore(self) -> None:
        """Put every captured value back."""
        for module, attributes in self._attributes:
            vars(module).clear()
            vars(module).update(attributes)
        for param, data, grad in self._parameters:
            param.data = _put_back(data)
            param.grad = _put_back(grad)
        for module, name, saved in self._buffers:
            value = _put_back(saved)
            module._buffers[name] = value
            object.__setattr__(module, name, value)
        for generator, state in self._generators:
            generator.bit_generator.state = copy.deepcopy(state)
        if self._optimizer is not None:
            groups, state, attributes = self._optimizer
            opt = self.optimizer
            opt.param_groups[:] = [{k: (v if k == "params" else _copy_value(v)) for k, v in g.items()} for g in groups]
            opt.state.clear()
            for param, entries in state.items():
                opt.state[param] = {k: _put_back(v) if isinstance(v, _SavedArray) else copy.deepcopy(v)
                                    for k, v in entries.items()}
            for key, value in attributes.items():
                setattr(opt, key, _copy_value(value))

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc) -> None:
        self.restore()

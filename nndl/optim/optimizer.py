"""The Optimizer base class: parameter groups, per-parameter state and state dicts.

An optimizer holds ``param_groups`` (lists of parameters with their own
hyperparameters, as in PyTorch) and a ``state`` dict from each parameter to
its buffers (momentum, moving averages, step counts), created the first time
the parameter is updated. Subclasses implement ``_update(param, grad, state,
group)`` by calling a pure update function (``sgd_update``, ``adam_update``,
...) that changes ``param.data`` and the buffers in place.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any, Callable, Iterable

import numpy as np

from nndl.nn.core.parameter import Parameter


class Optimizer:
    """Base class of every optimizer.

    Parameters
    ----------
    params : iterable of Parameter, or iterable of dict
        The parameters to train, or parameter groups: dicts with a
        ``'params'`` list and any hyperparameters that override ``defaults``
        for that group (e.g. a smaller ``'lr'`` for a pretrained backbone).
    defaults : dict
        Every hyperparameter of the optimizer with its value.

    Attributes
    ----------
    param_groups : list of dict
        Each with ``'params'`` (list of Parameter) and every hyperparameter.
        Learning-rate schedules change ``group['lr']`` here.
    state : dict
        Parameter -> dict of its buffers (ndarrays, same shape and dtype as
        the parameter) and counters (int).

    Notes
    -----
    ``step()`` skips parameters that are frozen (``requires_grad=False``) or
    have no gradient (``grad is None``): they keep their value and get no
    state. Gradients must have the parameter's shape and dtype; nothing is
    cast.
    """

    def __init__(self, params, defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Parameter, dict[str, Any]] = {}
        self._workspace: dict[np.dtype, np.ndarray] = {}
        if isinstance(params, (Parameter, np.ndarray, dict)):
            raise TypeError(
                f"{self.name}: params must be an iterable of Parameters or of param-group dicts, "
                f"got a single {type(params).__name__}; wrap it in a list")
        groups = list(params)
        if not groups:
            raise ValueError(f"{self.name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def name(self) -> str:
        return type(self).__name__

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self.name}: a param group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{self.name}: a param group needs a 'params' entry")
        params = param_group["params"]
        params = [params] if isinstance(params, Parameter) else list(params)
        for param in params:
            if not isinstance(param, Parameter):
                raise TypeError(f"{self.name}: can only optimize nndl Parameters, got {type(param).__name__}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{self.name}: a parameter appears twice in one param group")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{self.name}: some parameters appear in more than one param group")
        unknown = sorted(set(param_group) - set(self.defaults) - {"params", "initial_lr"})
        if unknown:
            raise ValueError(f"{self.name}: unknown hyperparameter(s) {', '.join(unknown)}; "
                             f"valid: {', '.join(sorted(self.defaults))}")
        group = {**self.defaults, **{k: _python_value(v) for k, v in param_group.items() if k != "params"}}
        self._check_hyperparameters(group)
        group["params"] = params
        self.param_groups.append(group)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Raise ValueError for an invalid hyperparameter of ``group``; subclasses extend."""
        check_range(self.name, "lr", group["lr"], low=0.0)

    # ------------------------------------------------------------------ stepping
    def step(self, closure: Callable[[], float] | None = None):
        """Update every parameter that has a gradient, once.

        Parameters
        ----------
        closure : callable, optional
            Recomputes the loss and the gradients; its result is returned.
        """
        loss = closure() if closure is not None else None
        for index, group in enumerate(self.param_groups):
            for param in group["params"]:
                if not param.requires_grad or param.grad is None:
                    continue
                grad = param.grad
                if grad.shape != param.data.shape:
                    raise ValueError(f"{self.name}: a parameter of param group {index} has shape "
                                     f"{param.data.shape} but its gradient has shape {grad.shape}")
                if grad.dtype != param.data.dtype:
                    raise TypeError(f"{self.name}: a parameter of param group {index} has dtype "
                                    f"{param.data.dtype} but its gradient has dtype {grad.dtype}")
                state = self.state.get(param)
                if state is None:
                    state = self.state[param] = {}
                else:
                    _match_state_dtype(state, param.data.dtype)
                self._update(param, grad, state, group)
        return loss

    def _update(self, param: Parameter, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{self.name} does not implement _update")

    def _work_array(self, like: np.ndarray) -> np.ndarray:
        """Scratch space shaped like ``like`` for an update rule, overwritten by every update.

        One flat buffer per dtype, as large as the largest parameter, serves all
        parameters: a fresh temporary of a large parameter's size on every step
        costs page faults (the allocator returns big blocks to the system), and
        in a NumPy training loop that made the momentum update a fifth of the time.
        """
        buffer = self._workspace.get(like.dtype)
        if buffer is None or buffer.size < like.size:
            buffer = self._workspace[like.dtype] = np.empty(like.size, dtype=like.dtype)
        return buffer[:like.size].reshape(like.shape)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``grad = None``, as PyTorch's default)."""
        for group in self.param_groups:
            for param in group["params"]:
                param.zero_grad()

    # ------------------------------------------------------------------ state dicts
    #: Every name a per-parameter state entry can have (PyTorch's names).
    state_names: tuple[str, ...] = ()

    def _state_keys(self, group: dict[str, Any]) -> set[str]:
        """Names of the state entries a parameter updated under ``group``'s hyperparameters must have."""
        return set()

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, made of dicts, lists, numbers and arrays.

        Returns
        -------
        dict
            ``{'state': {index: {name: ndarray or int}}, 'param_groups':
            [{hyperparameter: value, ..., 'params': [index, ...]}]}`` where
            parameters are numbered in group order. Arrays are copies, so the
            dict can be kept while training continues.
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            indices = []
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
                indices.append(index_of[id(param)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": indices})
        state = {}
        for group in self.param_groups:
            for param in group["params"]:
                if param in self.state:
                    state[index_of[id(param)]] = {
                        key: value.copy() if isinstance(value, np.ndarray) else value
                        for key, value in self.state[param].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and buffers saved by :meth:`state_dict`.

        The saved groups must have the same number of parameters as this
        optimizer's, each buffer the shape of its parameter and the names this
        optimizer uses. Everything is checked before anything changes; arrays
        are copied and converted to their parameter's dtype.
        """
        owner = f"{self.name}.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{owner}: expected a dict with keys 'param_groups' and 'state', got {got}")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{owner}: the optimizer has {len(self.param_groups)} param group(s), "
                             f"the saved state has {len(saved_groups)}")
        param_of: dict[Any, Parameter] = {}
        new_groups = []
        for index, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            saved_params = list(saved.get("params", []))
            if len(saved_params) != len(group["params"]):
                raise ValueError(f"{owner}: param group {index} has {len(group['params'])} parameter(s), "
                                 f"the saved one has {len(saved_params)}")
            missing = sorted(set(self.defaults) - set(saved))
            unknown = sorted(set(saved) - set(self.defaults) - {"params", "initial_lr"})
            if missing or unknown:
                problems = ([f"missing hyperparameters {missing}"] if missing else []) + (
                    [f"unknown hyperparameters {unknown}"] if unknown else [])
                raise ValueError(f"{owner}: param group {index}: " + ", ".join(problems))
            new_group = {k: _python_value(v) for k, v in saved.items() if k != "params"}
            try:
                self._check_hyperparameters(new_group)
            except ValueError as exc:
                raise ValueError(f"{owner}: param group {index}: {exc}") from None
            new_group["params"] = group["params"]
            new_groups.append(new_group)
            for key, param in zip(saved_params, group["params"]):
                param_of[_as_index(key)] = param

        new_state: dict[Parameter, dict[str, Any]] = {}
        group_of = {id(p): g for g in new_groups for p in g["params"]}
        for key, entries in dict(state_dict["state"]).items():
            param = param_of.get(_as_index(key))
            if param is None:
                raise ValueError(f"{owner}: state for parameter {key!r}, which no saved param group lists")
            required = self._state_keys(group_of[id(param)])
            if not required <= set(entries) <= set(self.state_names):
                raise ValueError(f"{owner}: parameter {key}: expected state entries {sorted(required)} "
                                 f"(valid names: {', '.join(self.state_names) or 'none'}), got {sorted(entries)}")
            restored = {}
            for name, value in entries.items():
                if isinstance(value, Real) and not isinstance(value, bool):
                    restored[name] = _python_value(value)
                    continue
                value = np.asarray(value)
                if value.shape == () and value.dtype.kind in "iuf":
                    restored[name] = value.item()
                elif value.shape != param.data.shape or value.dtype.kind not in "iuf":
                    raise ValueError(f"{owner}: parameter {key}, '{name}': expected a numeric array of shape "
                                     f"{param.data.shape}, got shape {value.shape} and dtype {value.dtype}")
                else:
                    restored[name] = value.astype(param.data.dtype, copy=True)
            new_state[param] = restored

        self.param_groups = new_groups
        self.state = new_state

    # ------------------------------------------------------------------ representation
    def __repr__(self) -> str:
        lines = [f"{self.name} ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# ---------------------------------------------------------------------- helpers
def check_range(owner: str, name: str, value, low: float | None = None, high: float | None = None,
                high_inclusive: bool = True) -> None:
    """Raise unless ``value`` is a finite real number with ``low <= value`` and ``value <= high``
    (``< high`` when ``high_inclusive`` is False)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{owner}: {name} must be a real number, got {value!r}")
    ok = math.isfinite(value) and (low is None or value >= low)
    if high is not None:
        ok = ok and (value <= high if high_inclusive else value < high)
    if not ok:
        lo = "" if low is None else f"{low} <= "
        hi = "" if high is None else (f" <= {high}" if high_inclusive else f" < {high}")
        raise ValueError(f"{owner}: invalid {name}={value!r}; expected {lo}{name}{hi}")


def _python_value(value):
    """NumPy scalars (e.g. read back from a checkpoint) as Python numbers, sequences as tuples.

    A float64 NumPy scalar is not a "weak" scalar: ``float32_array * np.float64(lr)``
    computes in float64, a hidden upcast on every step. Python numbers keep the array's dtype.
    """
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_python_value(v) for v in value)
    return value


def _as_index(key) -> int:
    """Parameter indices may come back from a checkpoint as strings or numpy integers."""
    try:
        return int(key)
    except (TypeError, ValueError):
        raise ValueError(f"optimizer state dict: parameter index {key!r} is not an integer") from None


def _match_state_dtype(state: dict[str, Any], dtype: np.dtype) -> None:
    """Follow a parameter whose dtype changed (``Module.to``) since its buffers were made."""
    for key, value in state.items():
        if isinstance(value, np.ndarray) and value.dtype != dtype:
            state[key] = value.astype(dtype)


def params_with_grad(params: Iterable[Parameter]):
    """The parameters of ``params`` that have a gradient, for clipping and diagnostics."""
    if isinstance(params, Parameter):
        params = [params]
    result = []
    for param in params:
        if not isinstance(param, Parameter):
            raise TypeError(f"expected nndl Parameters, got {type(param).__name__}")
        if param.grad is not None:
            result.append(param)
    return result


def regularized_gradient(param: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool):
    """``(d, sign)`` with ``sign · d`` the gradient to descend: ``±g + λθ``.

    With weight decay a new array ``d = λθ ± g`` is formed (``sign = 1``);
    without it ``d`` is ``g`` itself, not copied, and ``maximize`` becomes
    ``sign = −1`` so the update functions can fold the sign into a constant
    instead of negating the whole gradient.
    """
    if weight_decay == 0:
        return grad, (-1.0 if maximize else 1.0)
    direction = np.multiply(param, weight_decay)
    if maximize:
        direction -= grad
    else:
        direction += grad
    return direction, 1.0

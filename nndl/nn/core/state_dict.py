"""State dicts: every parameter and persistent buffer of a module tree under PyTorch's dotted names."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np


class StateDictError(KeyError):
    """Raised by ``load_state_dict`` with every missing, unexpected and mis-shaped key."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def _entries(module):
    """``(dotted_name, owner, attribute, is_parameter)`` of every state entry, in state-dict order."""
    for module_prefix, owner in module.named_modules():
        for name, param in owner._parameters.items():
            if param is not None:
                yield (f"{module_prefix}.{name}" if module_prefix else name), owner, name, True
        for name, buf in owner._buffers.items():
            if buf is not None and name not in owner._non_persistent:
                yield (f"{module_prefix}.{name}" if module_prefix else name), owner, name, False


def state_dict(module) -> OrderedDict[str, np.ndarray]:
    """Copies of every parameter and persistent buffer of ``module`` under PyTorch's dotted names."""
    return OrderedDict(
        (key, (owner._parameters[name].data if is_param else owner._buffers[name]).copy())
        for key, owner, name, is_param in _entries(module))


def load_state_dict(module, state, strict: bool = True) -> None:
    """Copy values from ``state`` into ``module``'s parameters and buffers, all or nothing.

    Every problem is reported at once in one :class:`StateDictError`: keys the
    module needs but the dict lacks (when ``strict``), keys the module does not
    know (when ``strict``), and values whose shape differs. Values are copied
    into the existing arrays, converted to the module's dtype; a non-numeric
    value or a float value for an integer buffer is an error.
    """
    targets = {key: (owner, name, is_param) for key, owner, name, is_param in _entries(module)}
    missing = [key for key in targets if key not in state]
    unexpected = [key for key in state if key not in targets]
    problems, updates = [], []
    for key, (owner, name, is_param) in targets.items():
        if key not in state:
            continue
        current = owner._parameters[name].data if is_param else owner._buffers[name]
        value = np.asarray(state[key])
        if value.shape != current.shape:
            problems.append(f"{key}: expected shape {current.shape}, got {value.shape}")
        elif not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_):
            problems.append(f"{key}: expected a numeric array, got dtype {value.dtype}")
        elif np.issubdtype(current.dtype, np.integer) and not np.issubdtype(value.dtype, np.integer):
            problems.append(f"{key}: expected an integer array, got dtype {value.dtype}")
        else:
            updates.append((current, value))
    messages = []
    if strict and missing:
        messages.append("missing keys: " + ", ".join(missing))
    if strict and unexpected:
        messages.append("unexpected keys: " + ", ".join(unexpected))
    messages.extend(problems)
    if messages:
        raise StateDictError(f"{type(module).__name__}.load_state_dict: " + "; ".join(messages))
    for current, value in updates:
        np.copyto(current, value, casting="unsafe")

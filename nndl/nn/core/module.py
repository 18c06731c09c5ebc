"""The Module base class: parameters, buffers, children, modes and state dicts.

Backpropagation here is explicit: ``forward`` keeps what ``backward`` needs
(the notes' stored a's and z's) and ``backward(dout)`` runs one step of the δ
recursion, returning d(loss)/d(input) and *adding* d(loss)/d(parameter) into
each parameter's ``.grad``. Containers chain these calls; there is no tape.
"""

from __future__ import annotations

import functools
import inspect
from collections import OrderedDict
from typing import Any, Iterator

import numpy as np

from nndl.nn._fast.parallel import under_compute_scope
from nndl.nn.core.parameter import Parameter, as_float_dtype


class StateDictError(KeyError):
    """Raised by ``load_state_dict`` with every missing, unexpected and mis-shaped key."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def _recording_init(init):
    """Wrap a subclass ``__init__`` so the instance remembers the arguments it was built with.

    Only the outermost (most derived) constructor records: ``super().__init__``
    calls find the record already there. ``nndl.nn.core.config`` turns the record
    into a JSON configuration that rebuilds the model (checkpoints).
    """
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        if "_init_arguments" not in self.__dict__:
            try:
                bound = signature.bind(self, *args, **kwargs)
            except TypeError:
                bound = None  # let the real __init__ raise its own, clearer error
            if bound is not None:
                arguments = dict(bound.arguments)
                arguments.pop(next(iter(signature.parameters)))  # self
                object.__setattr__(self, "_init_arguments", (type(self), signature, arguments))
        init(self, *args, **kwargs)

    return wrapper


class Module:
    """Base class of every layer, container and loss.

    Subclasses set parameters (``Parameter``), child modules (``Module``) and
    buffers (``register_buffer``) as attributes in ``__init__`` after calling
    ``super().__init__()``; they are found by name, in assignment order, which
    is the order of ``parameters()`` and of the state-dict keys.

    Parameters
    ----------
    dtype : float32 or float64
        Floating type of the parameters and buffers this module creates.
    """

    registry: dict[str, type] = {}
    """Every Module subclass by ``module.qualname``: rebuilds a model from its saved configuration."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Module.registry[f"{cls.__module__}.{cls.__qualname__}"] = cls
        if "__init__" in cls.__dict__:
            cls.__init__ = _recording_init(cls.__init__)
        # Every computation runs under one threading policy (nndl.nn._fast.parallel).
        for name in ("forward", "backward"):
            if name in cls.__dict__:
                setattr(cls, name, under_compute_scope(cls.__dict__[name]))

    def __init__(self, dtype=np.float32):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        self.training = True
        self.dtype = as_float_dtype(dtype, type(self).__name__)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if params is None:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            self._buffers.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            self._buffers.pop(name, None)
            self._modules[name] = value
        elif name in self._buffers:
            if value is not None and not isinstance(value, np.ndarray):
                raise TypeError(f"{type(self).__name__}: buffer '{name}' must be a numpy array")
            self._buffers[name] = value
        else:
            if name in params or name in self._modules:
                # Replacing a parameter or child by something else unregisters it.
                params.pop(name, None)
                self._modules.pop(name, None)
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, value: np.ndarray | None, persistent: bool = True) -> None:
        """Add a non-trainable array (e.g. BatchNorm's ``running_mean``) to the state.

        Persistent buffers appear in ``state_dict()``; others only move with ``to()``.
        """
        if value is not None and not isinstance(value, np.ndarray):
            raise TypeError(f"{type(self).__name__}: buffer '{name}' must be a numpy array")
        self._buffers[name] = value
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, value)

    def add_module(self, name: str, module: Module) -> None:
        """Register ``module`` as a child called ``name``."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: child '{name}' must be a Module, got {type(module).__name__}")
        setattr(self, name, module)

    # ------------------------------------------------------------------ computation
    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dout):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    can_skip_input_grad = False
    """True for modules whose ``backward`` takes ``need_input_grad=False`` and then returns None.

    The first layer of a network needs no ∂L/∂x (the data is not trained):
    skipping it saves a third of that layer's backward work, as PyTorch does
    for inputs that do not require a gradient. See :func:`backward_parameters`.
    """

    def __call__(self, *inputs, **kwargs):
        return self.forward(*inputs, **kwargs)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of ``forward``'s output for an input of ``input_shape``, without running data."""
        raise NotImplementedError(f"{type(self).__name__} does not define output_shape")

    # ------------------------------------------------------------------ traversal
    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)``; a parameter shared by two modules appears once."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_prefix}.{name}" if module_prefix else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for module_prefix, module in self.named_modules(prefix):
            for name, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{module_prefix}.{name}" if module_prefix else name), buf

    def buffers(self) -> Iterator[np.ndarray]:
        for _, buf in self.named_buffers():
            yield buf

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Yield ``(dotted_name, module)`` for this module and every descendant, depth first."""
        seen: set[int] = set()

        def walk(module: Module, name: str):
            if id(module) in seen:
                return
            seen.add(id(module))
            yield name, module
            for child_name, child in module._modules.items():
                if child is not None:
                    yield from walk(child, f"{name}.{child_name}" if name else child_name)

        yield from walk(self, prefix)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch statistics) on this module and its children."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (dropout off, running statistics)."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's accumulated gradient."""
        for param in self.parameters():
            param.zero_grad()

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (``False``) or unfreeze every parameter of this module."""
        for param in self.parameters():
            param.requires_grad = bool(requires_grad)
        return self

    def to(self, dtype) -> Module:
        """Convert parameters, gradients and float buffers to ``dtype`` in place; return ``self``.

        Parameter objects are kept (their ``.data`` is replaced), so an
        optimizer built before the call still updates the same parameters.
        """
        dtype = as_float_dtype(dtype, f"{type(self).__name__}.to")
        for module in self.modules():
            module.dtype = dtype
            for param in module._parameters.values():
                if param is None:
                    continue
                param.data = param.data.astype(dtype)
                if param.grad is not None:
                    param.grad = param.grad.astype(dtype)
            for name, buf in list(module._buffers.items()):
                if buf is not None and np.issubdtype(buf.dtype, np.floating):
                    setattr(module, name, buf.astype(dtype))
        return self

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of scalar parameters (shared parameters counted once)."""
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of every parameter and persistent buffer under PyTorch's dotted names."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for module_prefix, module in self.named_modules():
            for name, param in module._parameters.items():
                if param is not None:
                    state[f"{module_prefix}.{name}" if module_prefix else name] = param.data.copy()
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent:
                    state[f"{module_prefix}.{name}" if module_prefix else name] = buf.copy()
        return state

    def load_state_dict(self, state_dict, strict: bool = True) -> None:
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        Every problem is reported at once in one ``StateDictError``: keys the
        module needs but the dict lacks (when ``strict``), keys the module does
        not know (when ``strict``), and values whose shape differs. Values are
        copied into the existing arrays, converted to this module's dtype;
        a non-numeric value or a float value for an integer buffer is an error.
        """
        targets: dict[str, tuple[Module, str, bool]] = {}
        for module_prefix, module in self.named_modules():
            for name, param in module._parameters.items():
                if param is not None:
                    targets[f"{module_prefix}.{name}" if module_prefix else name] = (module, name, True)
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent:
                    targets[f"{module_prefix}.{name}" if module_prefix else name] = (module, name, False)

        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        problems = []
        updates = []
        for key, (module, name, is_param) in targets.items():
            if key not in state_dict:
                continue
            current = module._parameters[name].data if is_param else module._buffers[name]
            value = np.asarray(state_dict[key])
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
            raise StateDictError(f"{type(self).__name__}.load_state_dict: " + "; ".join(messages))
        for current, value in updates:
            np.copyto(current, value, casting="unsafe")

    # ------------------------------------------------------------------ representation
    def extra_repr(self) -> str:
        """The constructor arguments shown inside ``repr``, as in PyTorch."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        if not self._modules:
            return f"{type(self).__name__}({extra})"
        # PyTorch's layout: arguments on their own line above the children.
        lines = [f"{type(self).__name__}("] + ([f"  {extra}"] if extra else [])
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        lines.append(")")
        return "\n".join(lines)

    def describe(self) -> str:
        """Short name used in error messages: the class and its arguments."""
        return f"{type(self).__name__}({self.extra_repr()})"

    # ------------------------------------------------------------------ helpers for subclasses
    def _check_input(self, x, min_ndim: int = 1, match_dtype: bool = False) -> np.ndarray:
        """Validate ``x`` as a float array with at least ``min_ndim`` axes.

        With ``match_dtype`` the dtype must equal the module's (layers with
        parameters never cast their input silently).
        """
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{self.describe()}: expected a numpy array, got {type(x).__name__}")
        if x.dtype not in (np.float32, np.float64):
            raise TypeError(f"{self.describe()}: expected a float32 or float64 input, got dtype {x.dtype}")
        if match_dtype and x.dtype != self.dtype:
            raise TypeError(
                f"{self.describe()}: input dtype {x.dtype} differs from the layer's {self.dtype}; "
                f"convert the input or call .to({x.dtype}) on the model"
            )
        if x.ndim < min_ndim:
            raise ValueError(f"{self.describe()}: expected an input with at least {min_ndim} axes, got shape {x.shape}")
        return x

    def _saved(self, name: str = "_cache"):
        """Return what forward stored for backward, or explain that forward has not run."""
        value = self.__dict__.get(name)
        if value is None:
            raise RuntimeError(f"{self.describe()}: backward called before forward")
        return value


def backward_parameters(module: Module, dout):
    """Backpropagate ``dout`` through ``module`` for its parameter gradients only.

    Modules that can (``can_skip_input_grad``) skip ∂L/∂input, whose value is
    then None; any other module runs its ordinary ``backward``. This is what a
    training loop calls on the whole model.
    """
    if module.can_skip_input_grad:
        return module.backward(dout, need_input_grad=False)
    return module.backward(dout)

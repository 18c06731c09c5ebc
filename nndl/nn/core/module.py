"""The Module base class: parameters, buffers, children, modes, hooks and state dicts.

Backpropagation here is explicit: ``forward`` keeps what ``backward`` needs
(the notes' stored a's and z's) and ``backward(dout)`` runs one step of the δ
recursion, returning d(loss)/d(input) and *adding* d(loss)/d(parameter) into
each parameter's ``.grad``. Containers chain these calls; there is no tape.

A subclass's methods are its own: nothing here wraps or replaces them.
``module(x)`` and ``nn.backward(module, δ)`` are the two entries that run
hooks and the threading policy around them (:mod:`nndl.nn.core.hooks`).
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from typing import Any, Iterator

import numpy as np

from nndl.nn.core import hooks
from nndl.nn.core.parameter import Parameter, as_float_dtype
from nndl.nn.core.state_dict import StateDictError, load_state_dict, state_dict

MEMORY_FORMATS = ("contiguous", "channels_last")


class ModuleType(type):
    """The metaclass of :class:`Module`: remembers what each instance was built from.

    Building ``cls(*args, **kwargs)`` runs ``__new__`` and ``__init__`` as
    usual, then stores the arguments (``_init_args``, ``_init_kwargs``) and the
    children as they were at the end of construction (``_built_children``).
    :meth:`Module.get_config` rebuilds a model from the first and records, by
    comparing with the second, the children a user replaced or added since
    (``model.fc = nn.Linear(512, 5)``). No method of the class is touched.
    """

    def __call__(cls, *args, **kwargs):
        module = super().__call__(*args, **kwargs)
        if isinstance(module, Module) and "_init_args" not in module.__dict__:
            object.__setattr__(module, "_init_args", args)
            object.__setattr__(module, "_init_kwargs", kwargs)
            object.__setattr__(module, "_built_children", dict(module._modules))
        return module


class Module(metaclass=ModuleType):
    """Base class of every layer, container and loss.

    Subclasses set parameters (``Parameter``), child modules (``Module``) and
    buffers (``register_buffer``) as attributes in ``__init__`` after calling
    ``super().__init__()``; they are found by name, in assignment order, which
    is the order of ``parameters()`` and of the state-dict keys. A subclass
    writes ``forward`` (storing what its backward needs) and ``backward``
    (returning ∂L/∂input and accumulating its parameters' gradients).

    Parameters
    ----------
    dtype : float32 or float64
        Floating type of the parameters and buffers this module creates.
    """

    def __init__(self, dtype=np.float32):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        for table in ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks"):
            object.__setattr__(self, table, OrderedDict())
        self.training = True
        self.dtype = as_float_dtype(dtype, type(self).__name__)
        self.memory_format = "contiguous"

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
        """Compute the output from ``inputs`` and keep what ``backward`` needs (the notes' z's and a's).

        Subclasses implement it; call the module (``module(x)``) rather than
        ``forward`` so that hooks run.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dout):
        """Return ∂L/∂input from ``dout`` = ∂L/∂output, adding each parameter's gradient to its ``.grad``.

        Subclasses implement it from what ``forward`` kept; call
        ``nndl.nn.backward(module, dout)`` so that backward hooks run.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    can_skip_input_grad = False
    """True for modules whose ``backward`` takes ``need_input_grad=False`` and then returns None.

    The first layer of a network needs no ∂L/∂x (the data is not trained):
    skipping it saves a third of that layer's backward work, as PyTorch does
    for inputs that do not require a gradient. See :func:`nndl.nn.backward`.
    """

    splits_batch = False
    """True for layers whose fast kernels split a batch over nndl's threads (e.g. convolutions).

    A network holding one computes with a single-threaded BLAS and nndl's
    threads (:mod:`nndl.nn._fast.parallel`).
    """

    def __call__(self, *inputs, **kwargs):
        """Run ``forward`` with this module's hooks; the outermost call also sets threads and layout (:mod:`.hooks`)."""
        return hooks.call_forward(self, inputs, kwargs)

    # ------------------------------------------------------------------ hooks (PyTorch's names and signatures)
    def register_forward_pre_hook(self, hook) -> hooks.RemovableHandle:
        """``hook(module, inputs) -> None or new inputs``, called before ``forward``."""
        return hooks.add_hook(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook) -> hooks.RemovableHandle:
        """``hook(module, inputs, output) -> None or new output``, called after ``forward``."""
        return hooks.add_hook(self._forward_hooks, hook)

    def register_full_backward_pre_hook(self, hook) -> hooks.RemovableHandle:
        """``hook(module, grad_output) -> None or new grad_output``, called before ``backward``."""
        return hooks.add_hook(self._backward_pre_hooks, hook)

    def register_full_backward_hook(self, hook) -> hooks.RemovableHandle:
        """``hook(module, grad_input, grad_output) -> None or new grad_input``, called after ``backward``.

        ``grad_input = (∂L/∂x,)`` and ``grad_output = (∂L/∂y,)``; ∂L/∂x is None
        when the caller asked for parameter gradients only. It fires when the
        module is run through :func:`nndl.nn.backward` (as every container and
        the Trainer do), not when its ``backward`` method is called directly.
        """
        return hooks.add_hook(self._backward_hooks, hook)

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

    def freeze(self, *prefixes: str) -> Module:
        """Stop training every parameter, or those under the given dotted-name prefixes; return ``self``.

        ``model.freeze()`` freezes all; ``model.freeze("features", "layer1.0")``
        those named ``features.…`` or ``layer1.0.…`` (a prefix matches whole
        name components; one that matches nothing is an error, not a no-op).
        A frozen parameter keeps ``.grad = None`` and optimizers skip it.
        The transfer-learning recipe: ``model.freeze()``, replace the head
        (:func:`nndl.models.replace_head`, new and trainable), train; then
        optionally ``model.unfreeze()`` and fine-tune with a lower rate.
        """
        for _, param in self._matching_parameters(prefixes, "freeze"):
            param.requires_grad = False
            param.grad = None
        return self

    def unfreeze(self, *prefixes: str) -> Module:
        """Train again every parameter, or those under the given dotted-name prefixes (see :meth:`freeze`)."""
        for _, param in self._matching_parameters(prefixes, "unfreeze"):
            param.requires_grad = True
        return self

    def _matching_parameters(self, prefixes, where: str) -> list[tuple[str, Parameter]]:
        named = list(self.named_parameters())
        if not prefixes:
            return named
        for prefix in prefixes:
            if not isinstance(prefix, str) or not any(n == prefix or n.startswith(prefix + ".") for n, _ in named):
                raise ValueError(f"{type(self).__name__}.{where}: no parameter is named {prefix!r} or starts "
                                 f"with '{prefix}.'; names look like {', '.join(n for n, _ in named[:4])}")
        return [(n, p) for n, p in named if any(n == q or n.startswith(q + ".") for q in prefixes)]

    def to(self, dtype=None, memory_format: str | None = None) -> Module:
        """Convert parameters, gradients and float buffers to ``dtype`` in place; return ``self``.

        Parameter objects are kept (their ``.data`` is replaced), so an
        optimizer built before the call still updates the same parameters.

        ``memory_format="channels_last"`` lets this module's outputs (and input
        gradients) keep the layout the fast kernels compute in: arrays of NCHW
        shape stored channels-last, as ``torch.channels_last``; values and
        indexing are unchanged. The default, ``"contiguous"``, returns
        C-contiguous arrays from every outermost call.
        """
        if memory_format is not None:
            if memory_format not in MEMORY_FORMATS:
                raise ValueError(f"{type(self).__name__}.to: unknown memory_format {memory_format!r}; "
                                 f"valid: {', '.join(MEMORY_FORMATS)}")
            for module in self.modules():
                module.memory_format = memory_format
        if dtype is None:
            return self
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

    # ------------------------------------------------------------------ configuration
    def get_config(self) -> dict:
        """The constructor arguments that rebuild this module, by parameter name (Keras's ``get_config``).

        By default, the arguments it was built with, as the constructor's
        signature binds them; an argument that is a child module reads as the
        child registered under the same name now. A module whose construction
        arguments do not describe it (``Sequential``: its current children)
        overrides this. :func:`nndl.nn.to_config` turns the result into JSON.
        """
        if "_init_args" not in self.__dict__:
            from nndl.nn.core.config import ConfigError

            raise ConfigError(f"{type(self).__name__}: built without its constructor (no arguments recorded); "
                              "define get_config()")
        signature = inspect.signature(type(self).__init__)
        try:
            bound = signature.bind(self, *self._init_args, **self._init_kwargs)
        except TypeError as exc:
            from nndl.nn.core.config import ConfigError

            raise ConfigError(f"{type(self).__name__}: its constructor arguments do not match its signature "
                              f"({exc}); define get_config()") from None
        arguments = dict(bound.arguments)
        arguments.pop(next(iter(signature.parameters)))  # self
        for name, value in arguments.items():
            if isinstance(value, Module) and isinstance(self._modules.get(name), Module):
                arguments[name] = self._modules[name]
        return arguments

    # ------------------------------------------------------------------ state
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of every parameter and persistent buffer under PyTorch's dotted names."""
        return state_dict(self)

    def load_state_dict(self, state, strict: bool = True) -> None:
        """Copy values from ``state`` into this module's parameters and buffers (see :func:`.state_dict.load_state_dict`)."""
        load_state_dict(self, state, strict)

    # ------------------------------------------------------------------ representation
    def extra_repr(self) -> str:
        """The constructor arguments shown inside ``repr``, as in PyTorch."""
        return ""

    # ------------------------------------------------------------------ facts for tools (nndl.nn.core.facts)
    train_eval_differs: bool | None = None
    """True if training and evaluation mode compute different things (dropout, batch norm); None = not declared."""

    activation_facts = None
    """How the training doctor reads this layer's outputs (an ``ActivationFacts``), or None: not an activation it checks."""

    def macs(self, input_shape, output_shape) -> int | None:
        """Multiply-accumulates of one sample for these shapes (with the batch axis); None = unknown.

        A layer declares its count (0 for a layer without weights); the
        default is *unknown*, so a tool never shows an undeclared cost as 0.
        """
        return None

    def receptive_window(self, input_shape, output_shape):
        """The layer's window ``((k_h, s_h), (k_w, s_w))`` over its input grid (:mod:`.facts`); None = unknown."""
        return None

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

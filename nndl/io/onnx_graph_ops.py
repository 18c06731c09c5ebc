"""The ONNX operators an imported graph runs that are not nndl layers: arithmetic, reshapes, reductions.

Each is a small module whose ``forward`` takes the node's tensor inputs (its
constant inputs are held by the module) and whose ``backward`` returns one
gradient per tensor input (a tuple when there are several). Broadcasting
follows NumPy's rules, as ONNX's; a gradient is summed back to its input's
shape (``unbroadcast``).
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.module import Module


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes broadcasting added to reach it from ``shape``."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class GraphOp(Module):
    """Base of the graph operators: no parameters, a name for error messages."""

    op = "?"
    train_eval_differs = False

    def __init__(self, dtype=np.float32):
        super().__init__(dtype)
        self._cache = None

    def extra_repr(self) -> str:
        return f"op={self.op}"


class Binary(GraphOp):
    """``Add``, ``Sub``, ``Mul``, ``Div`` of two tensors, or of a tensor and a constant.

    Gradients: ``∂(a ± b) = (δ, ±δ)``, ``∂(ab) = (δb, δa)``, ``∂(a/b) = (δ/b, −δa/b²)``.
    """

    FUNCTIONS = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}

    def __init__(self, op: str, constant=None, constant_first: bool = False, dtype=np.float32):
        super().__init__(dtype)
        self.op, self.constant, self.constant_first = op, constant, constant_first

    def _operands(self, inputs):
        if self.constant is None:
            return inputs
        return (self.constant, inputs[0]) if self.constant_first else (inputs[0], self.constant)

    def forward(self, *inputs):
        a, b = self._operands(inputs)
        self._cache = (a, b)
        return self.FUNCTIONS[self.op](a, b).astype(np.result_type(*inputs), copy=False)

    def backward(self, dout):
        a, b = self._saved()
        if self.op == "Add":
            grads = (dout, dout)
        elif self.op == "Sub":
            grads = (dout, -dout)
        elif self.op == "Mul":
            grads = (dout * b, dout * a)
        else:
            grads = (dout / b, -dout * a / (b * b))
        grads = tuple(unbroadcast(g, np.shape(v)) for g, v in zip(grads, (a, b)))
        if self.constant is None:
            return grads
        return grads[1] if self.constant_first else grads[0]


class MatMulConstant(GraphOp):
    """``C x`` (``constant_first``) or ``x C`` with a constant matrix ``C``; ``∂x = Cᵀδ`` or ``δCᵀ``."""

    op = "MatMul"

    def __init__(self, constant, constant_first: bool, dtype=np.float32):
        super().__init__(dtype)
        self.constant, self.constant_first = constant, constant_first

    def forward(self, x):
        return self.constant @ x if self.constant_first else x @ self.constant

    def backward(self, dout):
        c = np.swapaxes(self.constant, -1, -2)
        return c @ dout if self.constant_first else dout @ c


class Unary(GraphOp):
    """``Sqrt``; ``Greater`` than a constant followed by ``Cast`` (a step: gradient 0); ``Cast`` to a float."""

    def __init__(self, op: str, constant=None, dtype=np.float32):
        super().__init__(dtype)
        self.op, self.constant = op, constant

    def forward(self, x):
        self._cache = (x, None)
        if self.op == "Sqrt":
            out = np.sqrt(x)
            self._cache = (x, out)
            return out
        if self.op == "Greater":
            return np.greater(x, self.constant)
        return np.asarray(x).astype(self.dtype)  # Cast

    def backward(self, dout):
        x, out = self._saved()
        if self.op == "Sqrt":
            return dout / (2 * out)
        return np.zeros(np.shape(x), dtype=self.dtype)


class Reshape(GraphOp):
    """``Reshape`` (0 copies the input's size on that axis, −1 is inferred) and ONNX ``Flatten(axis)``."""

    op = "Reshape"

    def __init__(self, shape=None, flatten_axis: int | None = None, dtype=np.float32):
        super().__init__(dtype)
        self.shape, self.flatten_axis = None if shape is None else [int(s) for s in shape], flatten_axis

    def forward(self, x):
        self._cache = x.shape
        if self.flatten_axis is not None:
            axis = self.flatten_axis % max(x.ndim, 1) if self.flatten_axis else 0
            return x.reshape(int(np.prod(x.shape[:axis])), -1)
        target = [x.shape[i] if s == 0 else s for i, s in enumerate(self.shape)]
        return x.reshape(target)

    def backward(self, dout):
        return dout.reshape(self._saved())


class Reduce(GraphOp):
    """``ReduceMean`` and ``ReduceMax`` over ``axes``; the maximum's gradient goes to the first maximum."""

    def __init__(self, op: str, axes, keepdims: bool, dtype=np.float32):
        super().__init__(dtype)
        self.op, self.axes, self.keepdims = op, tuple(int(a) for a in axes), bool(keepdims)

    def forward(self, x):
        axes = tuple(a % x.ndim for a in self.axes)
        if self.op == "ReduceMean":
            self._cache = (x.shape, axes, None)
            return x.mean(axis=axes, keepdims=self.keepdims)
        if len(axes) != 1:
            raise ValueError(f"{self.describe()}: ReduceMax over several axes is not supported")
        argmax = np.argmax(x, axis=axes[0])
        self._cache = (x.shape, axes, argmax)
        return x.max(axis=axes, keepdims=self.keepdims)

    def backward(self, dout):
        shape, axes, argmax = self._saved()
        if not self.keepdims:
            dout = np.expand_dims(dout, axes)
        if argmax is None:
            return np.broadcast_to(dout / np.prod([shape[a] for a in axes]), shape).copy()
        dx = np.zeros(shape, dtype=dout.dtype)
        np.put_along_axis(dx, np.expand_dims(argmax, axes[0]), dout, axis=axes[0])
        return dx


class Concatenate(GraphOp):
    """``Concat`` along ``axis``; backward splits δ into the pieces each input gave."""

    op = "Concat"

    def __init__(self, axis: int, dtype=np.float32):
        super().__init__(dtype)
        self.axis = int(axis)

    def forward(self, *inputs):
        self._cache = np.cumsum([x.shape[self.axis] for x in inputs])[:-1]
        return np.concatenate(inputs, axis=self.axis)

    def backward(self, dout):
        return tuple(np.split(dout, self._saved(), axis=self.axis))


class Pad(GraphOp):
    """``Pad`` with ``pads = [begin₀, …, end₀, …]`` in mode constant (0), reflect, edge or wrap.

    Backward only for constant padding (the gradient is the inner slice);
    reflect/edge/wrap padding is forward-only here.
    """

    op = "Pad"
    MODES = {"constant": "constant", "reflect": "reflect", "edge": "edge", "wrap": "wrap"}

    def __init__(self, pads, mode: str, dtype=np.float32):
        super().__init__(dtype)
        half = len(pads) // 2
        self.widths = [(int(b), int(e)) for b, e in zip(pads[:half], pads[half:])]
        self.mode = mode

    def forward(self, x):
        self._cache = x.shape
        return np.pad(x, self.widths, mode=self.MODES[self.mode])

    def backward(self, dout):
        if self.mode != "constant":
            raise NotImplementedError(f"{self.describe()}: backward through Pad(mode='{self.mode}') is not "
                                      "implemented")
        shape = self._saved()
        return dout[tuple(slice(b, b + n) for (b, _), n in zip(self.widths, shape))]

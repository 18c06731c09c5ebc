"""One ONNX node to the nndl module computing it (weights from the graph's constants).

Each function of :data:`NODES` takes a :class:`NodeView` and returns
``(module, tensor inputs)``: the module, and the names of the node's inputs
that are computed tensors (constant inputs are read into the module).
A parameterised layer is named after its weight's initializer
(``layer1.0.conv1.weight`` → child ``layer1.0.conv1``), so an exported and
re-imported model keeps its state-dict keys. A ``MatMul`` by a constant is
a ``Linear`` (trainable) when the constant's name ends in ``weight_t`` (as
``export_onnx`` writes a linear layer on inputs of three or more axes), and
a fixed matrix product otherwise (an averaging matrix, a foreign graph's
constant); the importer merges a ``Linear`` and the ``Add`` of its bias.
"""

from __future__ import annotations

import numpy as np

from nndl import nn
from nndl.nn.core.parameter import Parameter
from nndl.io.onnx_graph_ops import Binary, Concatenate, MatMulConstant, Pad, Reduce, Reshape, Unary


class NodeView:
    """A node with its attributes decoded, its constants looked up and its input ranks known."""

    def __init__(self, node, constants: dict, ranks: dict, dtype, onnx):
        self.node, self.constants, self.ranks, self.dtype = node, constants, ranks, dtype
        self.op = node.op_type
        self.attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        self.inputs = [name for name in node.input]

    def where(self) -> str:
        return f"node '{self.node.name or self.node.output[0]}' ({self.op})"

    def const(self, index: int, required: bool = True):
        name = self.inputs[index] if index < len(self.inputs) else ""
        if name in self.constants:
            return self.constants[name]
        if required:
            raise ValueError(f"import_onnx: {self.where()}: input {index} must be a constant (an initializer)")
        return None

    def has(self, index: int) -> bool:
        return index < len(self.inputs) and self.inputs[index] != ""

    def symmetric_pads(self):
        pads = [int(p) for p in self.attrs.get("pads", [0, 0, 0, 0])]
        if pads[:2] != pads[2:]:
            raise ValueError(f"import_onnx: {self.where()}: asymmetric pads {pads} are not supported")
        if self.attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise ValueError(f"import_onnx: {self.where()}: auto_pad is not supported; give explicit pads")
        return tuple(pads[:2])


def _set(layer, **values):
    for name, value in values.items():
        target = getattr(layer, name)
        if isinstance(target, Parameter):
            target.data[...] = value
        else:
            target[...] = value
    return layer


def conv(v):
    w = v.const(1)
    layer = nn.Conv2d(w.shape[1] * v.attrs.get("group", 1), w.shape[0], tuple(w.shape[2:]),
                      stride=tuple(v.attrs.get("strides", (1, 1))), padding=v.symmetric_pads(),
                      dilation=tuple(v.attrs.get("dilations", (1, 1))), groups=v.attrs.get("group", 1),
                      bias=v.has(2), dtype=v.dtype)
    return _set(layer, weight=w, **({"bias": v.const(2)} if v.has(2) else {})), [v.inputs[0]]


def conv_transpose(v):
    w, groups = v.const(1), v.attrs.get("group", 1)
    layer = nn.ConvTranspose2d(w.shape[0], w.shape[1] * groups, tuple(w.shape[2:]),
                               stride=tuple(v.attrs.get("strides", (1, 1))), padding=v.symmetric_pads(),
                               output_padding=tuple(v.attrs.get("output_padding", (0, 0))), groups=groups,
                               bias=v.has(2), dilation=tuple(v.attrs.get("dilations", (1, 1))), dtype=v.dtype)
    return _set(layer, weight=w, **({"bias": v.const(2)} if v.has(2) else {})), [v.inputs[0]]


def gemm(v):
    if v.attrs.get("transA", 0) or v.attrs.get("alpha", 1.0) != 1.0 or v.attrs.get("beta", 1.0) != 1.0:
        raise ValueError(f"import_onnx: {v.where()}: only Gemm with transA=0, alpha=1, beta=1 is supported")
    w = v.const(1)
    w = w if v.attrs.get("transB", 0) else w.T
    layer = nn.Linear(w.shape[1], w.shape[0], bias=v.has(2), dtype=v.dtype)
    return _set(layer, weight=w, **({"bias": np.reshape(v.const(2), (-1,))} if v.has(2) else {})), [v.inputs[0]]


def matmul(v):
    left, right = v.const(0, required=False), v.const(1, required=False)
    if (left is None) == (right is None):
        raise ValueError(f"import_onnx: {v.where()}: MatMul needs exactly one constant operand")
    if right is not None and right.ndim == 2 and v.inputs[1].endswith("weight_t"):
        # x Wᵀ with a learned W (what export_onnx writes for a Linear on inputs of 3 or more axes)
        layer = nn.Linear(right.shape[0], right.shape[1], bias=False, dtype=v.dtype)
        return _set(layer, weight=right.T), [v.inputs[0]]
    return MatMulConstant(left if right is None else right, right is None, dtype=v.dtype), \
        [v.inputs[1] if right is None else v.inputs[0]]


def _fixed_affine(v) -> bool:
    """γ = 1, β = 0 written as constants (``.unit_scale``): a normalization without learned affine parameters."""
    return (v.inputs[1].endswith(".unit_scale") and np.all(v.const(1) == 1)
            and (not v.has(2) or np.all(v.const(2) == 0)))


def batch_norm(v):
    scale = v.const(1)
    rank = v.ranks.get(v.inputs[0])
    cls = nn.BatchNorm2d if rank == 4 else nn.BatchNorm1d
    affine = not _fixed_affine(v)
    layer = cls(scale.shape[0], eps=v.attrs.get("epsilon", 1e-5), affine=affine, dtype=v.dtype)
    values = {"weight": scale, "bias": v.const(2)} if affine else {}
    return _set(layer, running_mean=v.const(3), running_var=v.const(4), **values), [v.inputs[0]]


def layer_norm(v):
    scale = v.const(1)
    rank = v.ranks.get(v.inputs[0])
    axis = v.attrs.get("axis", -1)
    if rank is not None and axis % rank != rank - scale.ndim:
        raise ValueError(f"import_onnx: {v.where()}: axis {axis} does not match a scale of shape {scale.shape}")
    if _fixed_affine(v):
        return nn.LayerNorm(scale.shape, eps=v.attrs.get("epsilon", 1e-5), elementwise_affine=False,
                            dtype=v.dtype), [v.inputs[0]]
    layer = nn.LayerNorm(scale.shape, eps=v.attrs.get("epsilon", 1e-5), bias=v.has(2), dtype=v.dtype)
    return _set(layer, weight=scale, **({"bias": v.const(2)} if v.has(2) else {})), [v.inputs[0]]


def prelu(v):
    slope = v.const(1)
    layer = nn.PReLU(slope.size, dtype=v.dtype)
    return _set(layer, weight=slope.reshape(-1)), [v.inputs[0]]


def pool(cls):
    def build(v):
        kernel, stride = tuple(v.attrs["kernel_shape"]), tuple(v.attrs.get("strides", (1, 1)))
        ceil = bool(v.attrs.get("ceil_mode", 0))
        if cls is nn.MaxPool2d:
            if len(v.node.output) > 1 and v.node.output[1]:
                raise ValueError(f"import_onnx: {v.where()}: MaxPool's Indices output is not supported")
            layer = nn.MaxPool2d(kernel, stride, v.symmetric_pads(), tuple(v.attrs.get("dilations", (1, 1))),
                                 ceil_mode=ceil, dtype=v.dtype)
        else:
            layer = nn.AvgPool2d(kernel, stride, v.symmetric_pads(), ceil_mode=ceil, dtype=v.dtype,
                                 count_include_pad=bool(v.attrs.get("count_include_pad", 0)))
        return layer, [v.inputs[0]]
    return build


def binary(v):
    a, b = v.const(0, required=False), v.const(1, required=False)
    if a is not None and b is not None:
        raise ValueError(f"import_onnx: {v.where()}: both operands are constants")
    if a is None and b is None:
        return Binary(v.op, dtype=v.dtype), v.inputs[:2]
    return Binary(v.op, a if b is None else b, constant_first=b is None, dtype=v.dtype), \
        [v.inputs[1] if b is None else v.inputs[0]]


def reduce(v):
    axes = v.attrs.get("axes")
    if axes is None and v.has(1):
        axes = [int(a) for a in v.const(1)]
    if axes is None:
        raise ValueError(f"import_onnx: {v.where()}: reducing over every axis is not supported; give axes")
    return Reduce(v.op, axes, v.attrs.get("keepdims", 1), dtype=v.dtype), [v.inputs[0]]


def resize(v):
    scales = v.const(2, required=False) if v.has(2) else None
    ok = (v.attrs.get("mode", b"nearest") in (b"nearest", "nearest")
          and v.attrs.get("coordinate_transformation_mode") in (b"asymmetric", "asymmetric")
          and v.attrs.get("nearest_mode", b"floor") in (b"floor", "floor"))
    if not ok or scales is None or list(scales[:2]) != [1, 1] or any(s != int(s) for s in scales):
        raise ValueError(f"import_onnx: {v.where()}: only nearest Resize by integer scales (asymmetric, floor) "
                         "is supported")
    return nn.Upsample(scale_factor=(int(scales[2]), int(scales[3])), dtype=v.dtype), [v.inputs[0]]


def flatten(v):
    axis = v.attrs.get("axis", 1)
    module = nn.Flatten(dtype=v.dtype) if axis == 1 else Reshape(flatten_axis=axis, dtype=v.dtype)
    return module, [v.inputs[0]]


def pad(v):
    mode = v.attrs.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if v.has(2) and np.any(v.const(2) != 0):
        raise ValueError(f"import_onnx: {v.where()}: only zero constant padding is supported")
    return Pad([int(p) for p in v.const(1)], mode, dtype=v.dtype), [v.inputs[0]]


def _simple(build):
    return lambda v: (build(v), [v.inputs[0]])


NODES = {
    "Conv": conv, "ConvTranspose": conv_transpose, "Gemm": gemm, "MatMul": matmul,
    "BatchNormalization": batch_norm, "LayerNormalization": layer_norm, "PRelu": prelu,
    "MaxPool": pool(nn.MaxPool2d), "AveragePool": pool(nn.AvgPool2d),
    "Add": binary, "Sub": binary, "Mul": binary, "Div": binary,
    "ReduceMean": reduce, "ReduceMax": reduce, "Resize": resize, "Flatten": flatten, "Pad": pad,
    "Concat": lambda v: (Concatenate(v.attrs["axis"], dtype=v.dtype), list(v.inputs)),
    "Reshape": lambda v: (Reshape(v.const(1), dtype=v.dtype), [v.inputs[0]]),
    "GlobalAveragePool": _simple(lambda v: nn.AdaptiveAvgPool2d((1, 1), dtype=v.dtype)),
    "LRN": _simple(lambda v: nn.LocalResponseNorm(v.attrs["size"], v.attrs.get("alpha", 1e-4),
                                                  v.attrs.get("beta", 0.75), v.attrs.get("bias", 1.0),
                                                  dtype=v.dtype)),
    "Relu": _simple(lambda v: nn.ReLU(dtype=v.dtype)),
    "LeakyRelu": _simple(lambda v: nn.LeakyReLU(v.attrs.get("alpha", 0.01), dtype=v.dtype)),
    "Elu": _simple(lambda v: nn.ELU(v.attrs.get("alpha", 1.0), dtype=v.dtype)),
    "Sigmoid": _simple(lambda v: nn.Sigmoid(dtype=v.dtype)),
    "Tanh": _simple(lambda v: nn.Tanh(dtype=v.dtype)),
    "Softplus": _simple(lambda v: nn.Softplus(dtype=v.dtype)),
    "Softmax": _simple(lambda v: nn.Softmax(v.attrs.get("axis", -1), dtype=v.dtype)),
    "LogSoftmax": _simple(lambda v: nn.LogSoftmax(v.attrs.get("axis", -1), dtype=v.dtype)),
    "Identity": _simple(lambda v: nn.Identity(dtype=v.dtype)),
    "Dropout": _simple(lambda v: nn.Identity(dtype=v.dtype)),
    "Sqrt": _simple(lambda v: Unary("Sqrt", dtype=v.dtype)),
    "Cast": _simple(lambda v: Unary("Cast", dtype=v.dtype)),
    "Greater": lambda v: (Unary("Greater", v.const(1), dtype=v.dtype), [v.inputs[0]]),
}
"""ONNX operator -> ``NodeView -> (module, tensor inputs)``."""

CONSTANT_FOLDING = {
    "Transpose": lambda values, attrs: np.transpose(values[0], attrs.get("perm")),
    "Reshape": lambda values, attrs: values[0].reshape([int(s) for s in values[1]]),
    "Identity": lambda values, attrs: values[0],
}
"""Operators computed at import time when every input is a constant (a transposed weight)."""

"""``import_onnx``: an ONNX graph of the operators nndl has, as an nndl model (the ``onnx`` extra).

Every node becomes a module (:mod:`nndl.io.onnx_import_ops`): a layer where
nndl has one (``Conv`` → ``Conv2d``, ``Gemm`` → ``Linear``, ...), else one of
the small graph operators (``Add``, ``Concat``, ``Reshape``, ...). The model,
an :class:`OnnxGraph`, runs the nodes in the file's order (ONNX requires a
topological order) and backpropagates in reverse: where a tensor feeds
several nodes, its gradient is the sum of theirs.
"""

from __future__ import annotations

import os

import numpy as np

from nndl import nn
from nndl.io.onnx_export import import_onnx_package
from nndl.io.onnx_graph_ops import Binary
from nndl.io.onnx_import_ops import CONSTANT_FOLDING, NODES, NodeView
from nndl.nn.core.containers import sum_gradients
from nndl.nn.core.hooks import backward
from nndl.nn.core.module import Module

FLOAT_TYPES = {1: np.float32, 11: np.float64}


class OnnxGraph(Module):
    """A model read from an ONNX graph: children run in the graph's order, on named tensors.

    Parameters
    ----------
    steps : list of (child name, input names, output name)
    input_name : str
    output_names : list of str
        One name: ``forward`` returns an array; several: a tuple.
    """

    def __init__(self, modules: dict, steps, input_name: str, output_names, dtype=np.float32):
        super().__init__(dtype)
        for name, module in modules.items():
            self.add_module(name, module)
        self.steps = [(name, list(inputs), output) for name, inputs, output in steps]
        self.input_name, self.output_names = input_name, list(output_names)
        self._cache = None

    def forward(self, x):
        x = self._check_input(x)
        values = {self.input_name: x}
        for name, inputs, output in self.steps:
            values[output] = self._modules[name](*(values[i] for i in inputs))
        outs = tuple(values[name] for name in self.output_names)
        self._cache = True
        return outs[0] if len(outs) == 1 else outs

    def backward(self, dout):
        self._saved()
        douts = (dout,) if len(self.output_names) == 1 else tuple(dout)
        grads: dict[str, list] = {}
        for name, grad in zip(self.output_names, douts):
            if grad is not None:
                grads.setdefault(name, []).append(grad)
        for name, inputs, output in reversed(self.steps):
            if output not in grads:
                continue
            result = backward(self._modules[name], sum_gradients(grads.pop(output)))
            results = result if isinstance(result, tuple) else (result,)
            for tensor, grad in zip(inputs, results):
                grads.setdefault(tensor, []).append(grad)
        return sum_gradients(grads.get(self.input_name, []))

    def extra_repr(self) -> str:
        return f"{len(self.steps)} nodes"


def _constants(graph, onnx) -> dict[str, np.ndarray]:
    constants = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            constants[node.output[0]] = onnx.numpy_helper.to_array(node.attribute[0].t)
    return constants


def _child_name(module: Module, view: NodeView, used: set, index: int) -> str:
    """A layer is named after its weight's (or running mean's) initializer (``x.weight`` → ``x``); others by position."""
    named = [name for name in view.inputs[1:] if name.endswith((".weight", ".weight_t", ".running_mean"))]
    stem = named[0].rsplit(".", 1)[0] if named else ""
    base = stem if stem and module.state_dict() else f"{index}_{view.op}"
    name, count = base, 1
    while name in used:
        name, count = f"{base}_{count}", count + 1
    used.add(name)
    return name


def read_onnx(proto) -> OnnxGraph:
    """The :class:`OnnxGraph` of an ``onnx.ModelProto``."""
    onnx = import_onnx_package()
    graph = onnx.shape_inference.infer_shapes(proto).graph
    constants = _constants(graph, onnx)
    inputs = [i for i in graph.input if i.name not in constants]
    if len(inputs) != 1:
        raise ValueError(f"import_onnx: the graph must have one input tensor, it has {[i.name for i in inputs]}")
    elem_type = inputs[0].type.tensor_type.elem_type
    if elem_type not in FLOAT_TYPES:
        raise ValueError(f"import_onnx: the input must be float32 or float64 (ONNX type {elem_type})")
    dtype = FLOAT_TYPES[elem_type]
    ranks = {v.name: len(v.type.tensor_type.shape.dim)
             for v in list(graph.value_info) + list(graph.input) + list(graph.output)}
    for node in graph.node:  # the first unsupported operator is named before anything is built
        if node.op_type not in NODES and node.op_type not in CONSTANT_FOLDING and node.op_type != "Constant":
            raise ValueError(f"import_onnx: unsupported operator '{node.op_type}' (node "
                             f"'{node.name or node.output[0]}'); supported: {', '.join(sorted(NODES))}")
    modules, steps, used = {}, [], set()
    for index, node in enumerate(graph.node):
        if node.op_type == "Constant":
            continue
        if all(name in constants for name in node.input if name) and node.op_type in CONSTANT_FOLDING:
            view = NodeView(node, constants, ranks, dtype, onnx)
            constants[node.output[0]] = CONSTANT_FOLDING[node.op_type]([constants[i] for i in node.input], view.attrs)
            continue
        view = NodeView(node, constants, ranks, dtype, onnx)
        if view.op not in NODES:
            raise ValueError(f"import_onnx: {view.where()} has only part of its inputs constant; not supported")
        module, tensor_inputs = NODES[view.op](view)
        name = _child_name(module, view, used, index)
        modules[name] = module
        steps.append((name, tensor_inputs, node.output[0]))
    outputs = [o.name for o in graph.output]
    _merge_biases(modules, steps, outputs)
    return OnnxGraph(modules, steps, inputs[0].name, outputs, dtype=dtype).eval()


def _merge_biases(modules: dict, steps: list, outputs: list) -> None:
    """``Linear`` (no bias) then ``Add`` of a constant vector, the output used once: one ``Linear`` with bias."""
    uses: dict[str, int] = {}
    for _, inputs, _ in steps:
        for name in inputs:
            uses[name] = uses.get(name, 0) + 1
    producers = {output: position for position, (_, _, output) in enumerate(steps)}
    for position in range(len(steps) - 1, -1, -1):
        name, inputs, output = steps[position]
        add = modules[name]
        source = producers.get(inputs[0])
        if not (isinstance(add, Binary) and add.op == "Add" and add.constant is not None and source is not None):
            continue
        linear_name, linear_inputs, linear_output = steps[source]
        linear = modules[linear_name]
        if not (type(linear) is nn.Linear and linear.bias is None and np.ndim(add.constant) == 1
                and add.constant.shape[0] == linear.out_features and uses[linear_output] == 1
                and linear_output not in outputs):
            continue
        merged = nn.Linear(linear.in_features, linear.out_features, dtype=linear.dtype)
        merged.weight.data[...] = linear.weight.data
        merged.bias.data[...] = add.constant
        modules[linear_name] = merged
        steps[source] = (linear_name, linear_inputs, output)
        del steps[position], modules[name]


def import_onnx(path) -> OnnxGraph:
    """Read the ONNX file at ``path`` as an nndl model (in evaluation mode).

    Raises
    ------
    ValueError
        Naming the first operator nndl does not have, or the node whose
        attributes it cannot follow.
    """
    onnx = import_onnx_package()
    path = os.fspath(path)
    try:
        proto = onnx.load(path)
    except Exception as exc:  # DecodeError and friends: not an ONNX file
        raise ValueError(f"import_onnx: {path}: not a readable ONNX model ({type(exc).__name__}: {exc})") from exc
    return read_onnx(proto)

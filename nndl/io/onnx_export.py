"""``export_onnx``: an nndl model as an ONNX graph that onnxruntime runs (the ``onnx`` extra).

The graph is read from the module tree: each leaf layer becomes a few ONNX
nodes (:mod:`nndl.io.onnx_ops`), and each module with children routes its
input as :func:`nndl.io.flow.data_flow` says (one after another, added,
concatenated along an axis, or several outputs for a top-level
``Parallel``). The model is exported as it computes in evaluation mode:
dropout is the identity and batch norm uses its running statistics.

Weights are initializers named by their state-dict keys (``layer1.0.conv1.weight``);
nodes are named by the path of the module they come from.
"""

from __future__ import annotations

import os

import numpy as np

from nndl.io.flow import Heads, Join, Steps, Sum, data_flow
from nndl.nn.core.module import Module
from nndl.nn.core.shapes import output_shape

MIN_OPSET = 13


def import_onnx_package():
    """``onnx``, or an ImportError that says which extra installs it."""
    try:
        import onnx
    except ImportError as exc:
        raise ImportError("nndl.io ONNX export and import need onnx: pip install 'nndl[onnx]'") from exc
    return onnx


class GraphBuilder:
    """Collects nodes and initializers; hands out unique tensor names."""

    def __init__(self, onnx, opset: int, dtype):
        self.onnx, self.opset, self.dtype = onnx, opset, np.dtype(dtype)
        self.nodes, self.initializers, self._used = [], [], {"input"}
        self.head_names: list[str] = []
        self.elem_type = onnx.helper.np_dtype_to_tensor_dtype(self.dtype)

    def fresh(self, base: str) -> str:
        base = base or "x"
        name, count = base, 1
        while name in self._used:
            name, count = f"{base}:{count}", count + 1
        self._used.add(name)
        return name

    def constant(self, name: str, value, dtype=None) -> str:
        """An initializer holding ``value`` (in the model's float type unless ``dtype`` is given)."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        tensor_name = self.fresh(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), tensor_name))
        return tensor_name

    def node(self, op: str, inputs, path: str, outputs: int = 1, **attributes):
        """Add one node; returns its output name (or names, if ``outputs > 1``)."""
        names = [self.fresh(f"{path}/{op}" if path else op) for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), names, name=self.fresh(f"node:{names[0]}"),
                                                     **attributes))
        return names[0] if outputs == 1 else names

    def reduce(self, op: str, x: str, axes, path: str, keepdims: int) -> str:
        """A Reduce* node; its ``axes`` is an attribute before opset 18 and an input from 18 on."""
        if self.opset >= 18 or op == "ReduceSum":
            axes_name = self.constant(f"{path}.axes", list(axes), np.int64)
            return self.node(op, [x, axes_name], path, keepdims=keepdims)
        return self.node(op, [x], path, axes=list(axes), keepdims=keepdims)


def emit(g: GraphBuilder, module: Module, path: str, x: str, shape: tuple):
    """Nodes computing ``module`` on tensor ``x`` of ``shape``; returns ``(output name(s), output shape)``."""
    from nndl.io.onnx_ops import emit_leaf

    route = data_flow(module, path)
    if route is None:
        return emit_leaf(g, module, path, x, shape), tuple(output_shape(module, shape))
    return _emit_route(g, module, path, route, x, shape)


def _emit_route(g, module, path, item, x, shape):
    if isinstance(item, str):
        return emit(g, module._modules[item], f"{path}.{item}" if path else item, x, shape)
    if isinstance(item, Steps):
        for step in item.items:
            x, shape = _emit_route(g, module, path, step, x, shape)
        return x, shape
    outs = [_emit_route(g, module, path, branch, x, shape) for branch in item.items]
    if isinstance(item, Heads):
        g.head_names = [str(name) if isinstance(name, str) else str(i) for i, name in enumerate(item.items)]
        return tuple(o for o, _ in outs), tuple(s for _, s in outs)
    if isinstance(item, Sum):
        total = outs[0][0]
        for out, _ in outs[1:]:
            total = g.node("Add", [total, out], path)
        return total, outs[0][1]
    axis = item.axis % len(outs[0][1])
    total = sum(s[axis] for _, s in outs)
    out_shape = outs[0][1][:axis] + (total,) + outs[0][1][axis + 1:]
    return g.node("Concat", [o for o, _ in outs], path, axis=axis), out_shape


def _value_info(onnx, name, elem_type, shape, dynamic_batch):
    dims = ["batch" if dynamic_batch and i == 0 else int(d) for i, d in enumerate(shape)]
    return onnx.helper.make_tensor_value_info(name, elem_type, dims)


def build_onnx(model: Module, input_shape, opset: int = 17, dynamic_batch: bool = True):
    """The ``onnx.ModelProto`` of ``model`` for inputs of ``input_shape`` (see :func:`export_onnx`)."""
    onnx = import_onnx_package()
    if not isinstance(model, Module):
        raise TypeError(f"export_onnx: expected an nndl Module, got {type(model).__name__}")
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) < 2 or min(input_shape) < 1:
        raise ValueError(f"export_onnx: input_shape must include the batch axis and be positive, e.g. "
                         f"(1, 3, 224, 224); got {input_shape}")
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= int(opset) <= newest:
        raise ValueError(f"export_onnx: opset must be between {MIN_OPSET} and {newest}, got {opset}")
    g = GraphBuilder(onnx, int(opset), model.dtype)
    was_training = model.training
    model.eval()
    try:
        outputs, shapes = emit(g, model, "", "input", input_shape)
    finally:
        model.train(was_training)
    if isinstance(outputs, str):
        outputs, shapes = (outputs,), (shapes,)
    names = ["output"] if len(outputs) == 1 else [f"output_{name}" for name in g.head_names]
    for produced, name in zip(outputs, names):
        g.nodes.append(onnx.helper.make_node("Identity", [produced], [name], name=f"node:{name}"))
    graph = onnx.helper.make_graph(
        g.nodes, type(model).__name__, [_value_info(onnx, "input", g.elem_type, input_shape, dynamic_batch)],
        [_value_info(onnx, name, g.elem_type, s, dynamic_batch) for name, s in zip(names, shapes)],
        initializer=g.initializers)
    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", int(opset))],
                                   producer_name="nndl")
    # The IR version onnxruntime reads for this opset (make_model's default may be newer than it knows).
    proto.ir_version = min(proto.ir_version, 10)
    return proto


def export_onnx(model: Module, path, input_shape, opset: int = 17, dynamic_batch: bool = True) -> None:
    """Write ``model`` as an ONNX file that ``onnx.checker.check_model(full_check=True)`` accepts.

    Parameters
    ----------
    model : Module
        Any model made of nndl's layers and containers (and the zoo's
        models). Exported as it computes in evaluation mode; its own mode is
        left unchanged.
    path : str or path-like
    input_shape : tuple of int
        The shape of one input *with* the batch axis, e.g. ``(1, 3, 224, 224)``.
    opset : int
        ONNX operator set (13 or newer; LayerNorm needs 17).
    dynamic_batch : bool
        Name the batch axis ``batch`` so that one file takes any batch size.
    """
    onnx = import_onnx_package()
    proto = build_onnx(model, input_shape, opset, dynamic_batch)
    onnx.checker.check_model(proto, full_check=True)
    from nndl.io.atomic import write_atomic

    write_atomic(os.fspath(path), proto.SerializeToString())

"""Shape propagation through a module tree: one :class:`LayerRow` per layer, without running data.

The walk follows the data flow, not just the registration tree:

- ``Sequential`` feeds each child the previous child's output;
- ``Residual`` gives its input to ``block`` and ``shortcut`` (identity when
  ``None``); their outputs must have equal shapes;
- ``Concat`` and ``Parallel`` give their input to every branch; ``Concat``
  joins the outputs along its axis, ``Parallel`` returns them as a tuple;
- a module with a ``dataflow()`` method (the zoo's blocks, whose children
  carry torchvision's names) is walked through the container tree that method
  returns; containers of that tree that are not registered children get no
  row of their own;
- any other module is a *leaf*: its ``output_shape`` gives the shape and
  :mod:`nndl.summary.stats` its MACs and receptive-field window. A module
  with children but none of the above is an opaque leaf (its MACs are not
  known and count 0).

Where branches meet, the receptive field is the widest of theirs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from nndl import nn
from nndl.nn.core.module import Module
from nndl.summary.stats import ReceptiveField, leaf_cost, window_spec

SHAPE_ERRORS = (ValueError, TypeError, IndexError, NotImplementedError, ZeroDivisionError)


@dataclass
class LayerRow:
    """One layer of a summary.

    Attributes
    ----------
    name : str
        Dotted path of the module in the model (its state-dict prefix).
    type : str
        Class name.
    depth : int
        Nesting level (0 for the model's own children).
    is_leaf : bool
        False for containers, whose numbers are the sums over their layers.
    input_shape, output_shape : tuple
        With the batch axis; ``output_shape`` is a tuple of shapes after a
        ``Parallel`` and ``None`` for the layer a failed summary stopped at.
    params, trainable_params : int
        Parameters of the module (all of its subtree for a container).
    shared_params : int
        Of ``params``, those already counted in an earlier row (shared
        parameters count once in the totals).
    macs : int
        Multiply-accumulates per sample (see :mod:`nndl.summary.stats`).
    receptive_field : tuple (r_h, r_w) or None
        Receptive-field size of one output position, in input pixels.
    jump : tuple (j_h, j_w) or None
        Input distance between neighbouring output positions.
    description : str
        ``module.describe()``.
    spec : str
        Window geometry in the notes' form (``f=5, s=1``) for conv and pool layers.
    """

    name: str
    type: str
    depth: int
    is_leaf: bool
    input_shape: tuple
    output_shape: tuple | None = None
    params: int = 0
    trainable_params: int = 0
    shared_params: int = 0
    macs: int = 0
    receptive_field: tuple | None = None
    jump: tuple | None = None
    description: str = ""
    spec: str = ""

    @property
    def activation_size(self) -> int | None:
        """Elements of the output per sample (the notes' "Activation Size")."""
        return activation_size(self.output_shape)

    def to_dict(self) -> dict:
        jump = None if self.jump is None else tuple(float(j) if j.denominator != 1 else int(j) for j in self.jump)
        return {"name": self.name, "type": self.type, "depth": self.depth, "is_leaf": self.is_leaf,
                "input_shape": self.input_shape, "output_shape": self.output_shape,
                "activation_size": self.activation_size, "params": self.params,
                "trainable_params": self.trainable_params, "shared_params": self.shared_params, "macs": self.macs,
                "receptive_field": self.receptive_field, "jump": jump, "description": self.description,
                "spec": self.spec}


def activation_size(shape) -> int | None:
    if shape is None:
        return None
    if shape and isinstance(shape[0], tuple):  # Parallel: one shape per head
        return sum(math.prod(s[1:]) for s in shape)
    return math.prod(shape[1:])


class SummaryError(ValueError):
    """A model whose shapes do not fit: names the first bad layer and carries the rows up to it.

    Attributes
    ----------
    layer : str
        Dotted path of the layer (``'<model>'`` for the model itself).
    rows : list of LayerRow
        The rows computed before the failure; the last one is the bad layer
        (its ``output_shape`` is None).
    """

    def __init__(self, message: str, layer: str, rows: list[LayerRow]):
        self.layer = layer
        self.rows = rows
        self.reason = message
        super().__init__(message)

    def __str__(self) -> str:
        from nndl.summary.table import render_rows  # rendering is a separate concern

        return f"{self.reason}\nlayers up to it:\n{render_rows(self.rows)}"


@dataclass
class _Walk:
    names: dict[int, str]
    rows: list[LayerRow] = field(default_factory=list)
    counted: set[int] = field(default_factory=set)
    stack: list[str] = field(default_factory=list)  # paths of the named modules being walked


def _fail(walk: _Walk, module: Module, path: str | None, input_shape, reason: str, row: LayerRow | None):
    if row is not None:
        if row not in walk.rows:
            walk.rows.append(row)
        row.params = sum(p.size for p in module.parameters())
        row.trainable_params = sum(p.size for p in module.parameters() if p.requires_grad)
    where = f"layer '{path}'" if path else (
        f"the unnamed {type(module).__name__} inside '{walk.stack[-1]}'" if walk.stack
        else f"an unnamed {type(module).__name__} of the model")
    raise SummaryError(f"summary stopped at {where} {module.describe()}: input shape {tuple(input_shape)}: {reason}",
                       path or "<model>", walk.rows)


def _parameter_counts(walk: _Walk, module: Module, kind: str) -> tuple[int, int, int]:
    """``(params, trainable, shared)`` of a row.

    A leaf (or opaque module) counts its parameters and marks them counted, so
    a later leaf that shares one reports it as shared. A container reports
    the parameters of its subtree (each once) and nothing as shared.
    """
    is_leaf = kind in ("leaf", "opaque")
    total = trainable = shared = 0
    for param in module.parameters():
        total += param.size
        trainable += param.size if param.requires_grad else 0
        if is_leaf:
            if id(param) in walk.counted:
                shared += param.size
            walk.counted.add(id(param))
    return total, trainable, shared


def _structure(module: Module):
    """How data flows through ``module``: ``(kind, parts)``."""
    dataflow = getattr(module, "dataflow", None)
    if callable(dataflow):
        return "dataflow", dataflow()
    if isinstance(module, nn.Sequential):
        return "sequential", list(module.children())
    if isinstance(module, nn.Residual):
        return "residual", (module.block, module.shortcut)
    if isinstance(module, (nn.Concat, nn.Parallel)):
        return ("concat" if isinstance(module, nn.Concat) else "parallel"), list(module.children())
    if any(child is not None for child in module.children()):
        return "opaque", None
    return "leaf", None


def _walk(walk: _Walk, module: Module, shape, field_in, depth: int):
    """Propagate ``shape`` through ``module``; append rows; return ``(output_shape, receptive_field, macs)``."""
    path = walk.names.get(id(module))
    kind, parts = _structure(module)
    row = None
    if path is not None:
        row = LayerRow(path, type(module).__name__, depth, kind in ("leaf", "opaque"), tuple(shape),
                       description=module.describe(), spec=window_spec(module))
        walk.rows.append(row)
        walk.stack.append(path)
    inner_depth = depth + 1 if path is not None else depth

    if kind in ("leaf", "opaque"):
        try:
            out = module.output_shape(tuple(shape))
        except SHAPE_ERRORS as exc:
            _fail(walk, module, path, shape, str(exc), row)
        out = tuple(out)
        if kind == "leaf":
            cost = leaf_cost(module, tuple(shape), out)
            macs, field_out = cost.macs, None if field_in is None or cost.window is None else \
                field_in.through(cost.window)
        else:
            macs, field_out = 0, None
    elif kind == "dataflow":
        out, field_out, macs = _walk(walk, parts, shape, field_in, inner_depth)
    elif kind == "sequential":
        out, field_out, macs = tuple(shape), field_in, 0
        for child in parts:
            out, field_out, child_macs = _walk(walk, child, out, field_out, inner_depth)
            macs += child_macs
    elif kind == "residual":
        block, shortcut = parts
        block_out, block_field, macs = _walk(walk, block, shape, field_in, inner_depth)
        if shortcut is None:
            short_out, short_field = tuple(shape), field_in
        else:
            short_out, short_field, short_macs = _walk(walk, shortcut, shape, field_in, inner_depth)
            macs += short_macs
        if tuple(block_out) != tuple(short_out):
            _fail(walk, module, path, shape,
                  f"block output {tuple(block_out)} and shortcut output {tuple(short_out)} differ "
                  f"(Residual adds them)", row)
        out, field_out = tuple(block_out), ReceptiveField.widest([block_field, short_field])
    else:  # concat, parallel
        outs, fields, macs = [], [], 0
        for child in parts:
            child_out, child_field, child_macs = _walk(walk, child, shape, field_in, inner_depth)
            outs.append(tuple(child_out))
            fields.append(child_field)
            macs += child_macs
        field_out = ReceptiveField.widest(fields)
        if kind == "parallel":
            out = tuple(outs)
        else:
            out = _concat_shape(walk, module, path, shape, outs, row)

    if row is not None:
        walk.stack.pop()
        row.output_shape = out
        row.macs = macs
        row.params, row.trainable_params, row.shared_params = _parameter_counts(walk, module, kind)
        if field_out is not None:
            row.receptive_field = field_out.size
            row.jump = field_out.jump
    return out, field_out, macs


def _concat_shape(walk: _Walk, module, path, shape, outs, row):
    axis = module.axis
    ndim = len(outs[0])
    if any(len(o) != ndim for o in outs) or not -ndim <= axis < ndim:
        _fail(walk, module, path, shape, f"cannot concatenate branch outputs {outs} along axis {axis}", row)
    axis %= ndim
    rest = {o[:axis] + o[axis + 1:] for o in outs}
    if len(rest) > 1:
        _fail(walk, module, path, shape,
              f"branch outputs {outs} differ on an axis other than the concatenation axis {module.axis}", row)
    return outs[0][:axis] + (sum(o[axis] for o in outs),) + outs[0][axis + 1:]


def collect(model: Module, input_shape: tuple, batch_size: int = 1) -> tuple[list[LayerRow], tuple]:
    """Rows of every layer of ``model`` for samples of ``input_shape``; also the output shape.

    Raises :class:`SummaryError` at the first layer whose input does not fit.
    """
    names = {}
    for name, module in model.named_modules():
        names.setdefault(id(module), name)
    names.pop(id(model), None)  # the model itself is the table, not a row
    walk = _Walk(names)
    shape = (int(batch_size),) + tuple(int(s) for s in input_shape)
    field_in = ReceptiveField.at_input() if len(input_shape) == 3 else None
    if _structure(model)[0] in ("leaf", "opaque"):
        walk.names[id(model)] = type(model).__name__  # a bare layer is its own single row
    out, _, _ = _walk(walk, model, shape, field_in, 0)
    return walk.rows, out

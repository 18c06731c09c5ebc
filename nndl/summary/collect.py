"""Shape propagation through a module tree: one :class:`LayerRow` per layer, without running data.

The walk follows the data flow by watching the model compute its own output
shape: every container and zoo model asks its children for their shapes
through the shape entry :func:`nndl.nn.core.shapes.output_shape` (as it runs
them forward with ``child(x)``), and the summary installs a watcher on that
entry. So the rows come in the order the data reaches the layers, with the
shapes each one really sees, for any module written that way; there is no
table of container types here.

- A module that asks no child for a shape is a *leaf*: its row gets the
  layer's own facts, ``macs()`` and ``receptive_window()``
  (:mod:`nndl.nn.core.facts`). A module with children that computes its
  shape without the entry is a leaf too (its cost is whatever it declares:
  unknown by default).
- A module that does ask is a *container*: its row sums its layers' MACs
  (and counts those of unknown cost) and the parameters of its subtree.
- Receptive fields travel with the shapes. Where a container builds a new
  shape from several (a sum, a concatenation: where branches meet), the
  receptive field is the widest of the branch ends that meet there and of
  the container's input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from nndl.nn.core.module import Module
from nndl.nn.core.shapes import output_shape as shape_entry
from nndl.nn.core.shapes import watch_shapes
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
    macs : int or None
        Multiply-accumulates per sample (see :mod:`nndl.summary.stats`);
        None for a layer of unknown cost. A container's is the sum over its
        layers of known cost.
    unknown_macs : int
        Layers of unknown cost in this row (1 for such a layer itself, the
        number below a container); 0 when ``macs`` is complete.
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
    macs: int | None = 0
    unknown_macs: int = 0
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
                "unknown_macs": self.unknown_macs,
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


class _Shape(tuple):
    """A shape the watcher handed out, with the receptive field of the activation it describes."""

    field: ReceptiveField | None = None

    @classmethod
    def of(cls, shape, field_: ReceptiveField | None) -> _Shape:
        traced = cls(shape)
        traced.field = field_
        return traced


@dataclass
class _Frame:
    """One module being walked: its row (None when unnamed) and the shapes its children produced."""

    module: Module
    path: str | None
    row: LayerRow | None
    input_shape: _Shape
    input_field: ReceptiveField | None
    calls: int = 0
    macs: int = 0
    unknown: int = 0
    open_ends: list = field(default_factory=list)  # child outputs no later child has consumed yet


@dataclass
class _Walk:
    names: dict[int, str]
    root: Module
    rows: list[LayerRow] = field(default_factory=list)
    counted: set[int] = field(default_factory=set)
    frames: list[_Frame] = field(default_factory=list)

    # ------------------------------------------------------------------ receptive fields along the shapes
    def field_of(self, shape, frame: _Frame | None) -> ReceptiveField | None:
        """The receptive field of ``shape`` as handed to a child of ``frame``.

        A shape this watcher returned carries its field. Any other shape was
        computed by the container itself where branches meet (``a + b``, a
        concatenation): the widest of its open branch ends and of its input.
        (A container should hand the shape it received to its children as it
        is: a copy, ``tuple(shape)``, reads as a meeting point.)
        """
        if isinstance(shape, _Shape):
            return shape.field
        if frame is None:
            return None
        return ReceptiveField.widest([s.field for s in frame.open_ends] + [frame.input_field])

    # ------------------------------------------------------------------ the watcher
    def __call__(self, module: Module, input_shape):
        parent = self.frames[-1] if self.frames else None
        field_in = self.field_of(input_shape, parent)
        if parent is not None:
            parent.calls += 1
            if isinstance(input_shape, _Shape):
                parent.open_ends = [s for s in parent.open_ends if s is not input_shape]
            else:  # the branches met: every open end was used
                parent.open_ends = []
        path = self.names.get(id(module))
        depth = sum(f.path is not None for f in self.frames)
        row = None
        if path is not None:
            row = LayerRow(path, type(module).__name__, depth, True, tuple(input_shape),
                           description=module.describe(), spec=window_spec(module))
            self.rows.append(row)
        frame = _Frame(module, path, row, _Shape.of(input_shape, field_in), field_in)
        self.frames.append(frame)
        try:
            raw = module.output_shape(input_shape)
        except SummaryError:
            raise
        except SHAPE_ERRORS as exc:
            self._fail(frame, str(exc))
        finally:
            self.frames.pop()
        out = tuple(raw.values()) if isinstance(raw, dict) else tuple(raw)  # named heads: shapes in order
        if frame.calls == 0:  # a leaf: its own facts
            if module is self.root and row is None:
                frame.row = row = LayerRow(type(module).__name__, type(module).__name__, 0, True, tuple(input_shape),
                                           description=module.describe(), spec=window_spec(module))
                self.rows.append(row)
            cost = leaf_cost(module, tuple(input_shape), out)
            frame.macs, frame.unknown = (0, 1) if cost.macs is None else (cost.macs, 0)
            field_out = None if field_in is None or cost.window is None else field_in.through(cost.window)
        else:
            field_out = self.field_of(raw, frame)
        if parent is not None:
            parent.macs += frame.macs
            parent.unknown += frame.unknown
        result = _Shape.of(out, field_out)
        if parent is not None:
            parent.open_ends.append(result)
        if row is not None:
            row.is_leaf = frame.calls == 0
            row.output_shape = out
            row.macs = None if row.is_leaf and frame.unknown else frame.macs
            row.unknown_macs = frame.unknown
            row.params, row.trainable_params, row.shared_params = self._parameter_counts(module, row.is_leaf)
            if field_out is not None:
                row.receptive_field = field_out.size
                row.jump = field_out.jump
        return result

    def _parameter_counts(self, module: Module, is_leaf: bool) -> tuple[int, int, int]:
        """``(params, trainable, shared)`` of a row.

        A leaf counts its parameters and marks them counted, so a later leaf
        that shares one reports it as shared. A container reports the
        parameters of its subtree (each once) and nothing as shared.
        """
        total = trainable = shared = 0
        for param in module.parameters():
            total += param.size
            trainable += param.size if param.requires_grad else 0
            if is_leaf:
                if id(param) in self.counted:
                    shared += param.size
                self.counted.add(id(param))
        return total, trainable, shared

    def _fail(self, frame: _Frame, reason: str):
        module, path, row = frame.module, frame.path, frame.row
        if row is None and module is self.root and frame.calls == 0:
            path = type(module).__name__  # a bare layer is its own single row
            row = LayerRow(path, path, 0, True, tuple(frame.input_shape), description=module.describe(),
                           spec=window_spec(module))
            self.rows.append(row)
        if row is not None:
            row.is_leaf = frame.calls == 0
            row.params = sum(p.size for p in module.parameters())
            row.trainable_params = sum(p.size for p in module.parameters() if p.requires_grad)
        named = [f.path for f in self.frames if f.path is not None]
        where = f"layer '{path}'" if path else (
            f"the unnamed {type(module).__name__} inside '{named[-1]}'" if named
            else f"an unnamed {type(module).__name__} of the model")
        raise SummaryError(f"summary stopped at {where} {module.describe()}: input shape "
                           f"{tuple(frame.input_shape)}: {reason}", path or "<model>", self.rows)


def collect(model: Module, input_shape: tuple, batch_size: int = 1) -> tuple[list[LayerRow], tuple]:
    """Rows of every layer of ``model`` for samples of ``input_shape``; also the output shape.

    Raises :class:`SummaryError` at the first layer whose input does not fit.
    """
    names = {}
    for name, module in model.named_modules():
        names.setdefault(id(module), name)
    names.pop(id(model), None)  # the model itself is the table, not a row
    walk = _Walk(names, model)
    shape = (int(batch_size),) + tuple(int(s) for s in input_shape)
    field_in = ReceptiveField.at_input() if len(input_shape) == 3 else None
    with watch_shapes(walk):
        out = shape_entry(model, _Shape.of(shape, field_in))
    return walk.rows, tuple(out) if not isinstance(out[0], tuple) else tuple(tuple(s) for s in out)

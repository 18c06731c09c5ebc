"""``summary(model, input_shape)``: the :class:`Summary` data object and its totals."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nndl.nn.core.module import Module
from nndl.summary.collect import LayerRow, collect

MEGA = 1_000_000


@dataclass
class Summary:
    """Layer-by-layer statistics of a model for one input shape (data first; ``str()`` renders it).

    Attributes
    ----------
    model_name : str
    input_shape : tuple
        One sample's shape, without the batch axis.
    batch_size : int
        Used for the shapes shown and the memory estimate; MACs are per sample.
    rows : list of LayerRow
        Every layer in data-flow order (containers before their layers).
    output_shape : tuple
        The model's output shape (with the batch axis).
    total_params, trainable_params, non_trainable_params : int
        Each parameter once, however many layers share it; frozen
        (``requires_grad=False``) parameters are non-trainable; buffers
        (batch-norm running statistics) are not parameters.
    buffer_bytes : int
        Bytes of the buffers (e.g. batch-norm running statistics).
    total_macs : int
        Multiply-accumulates of one forward pass of one sample (conv, linear;
        see :mod:`nndl.summary.stats`), over the layers of known cost.
    unknown_mac_layers : list of str
        Layers whose cost is unknown (they declare no ``macs``); the totals exclude them.
    itemsize : int
        Bytes per element of the model's dtype.
    depth : int or None
        Deepest level shown by ``str()`` (None: all).
    """

    model_name: str
    input_shape: tuple
    batch_size: int
    rows: list[LayerRow]
    output_shape: tuple
    total_params: int
    trainable_params: int
    buffer_bytes: int
    itemsize: int
    depth: int | None = None

    # ------------------------------------------------------------------ totals
    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def leaf_rows(self) -> list[LayerRow]:
        return [row for row in self.rows if row.is_leaf]

    @property
    def total_macs(self) -> int:
        return sum(row.macs for row in self.leaf_rows if row.macs is not None)

    @property
    def unknown_mac_layers(self) -> list[str]:
        return [row.name for row in self.leaf_rows if row.macs is None]

    @property
    def total_flops(self) -> int:
        """FLOPs = 2 × MACs (one multiplication and one addition each)."""
        return 2 * self.total_macs

    @property
    def input_bytes(self) -> int:
        return self.batch_size * math.prod(self.input_shape) * self.itemsize

    @property
    def activation_bytes(self) -> int:
        """Estimated activation memory of one forward + backward pass of a batch.

        Every layer keeps its output for the backward pass, and the backward
        pass holds a gradient of the same size, so the estimate is
        ``2 × Σ_layers (output elements) × batch × bytes per element``. It
        leaves out what individual kernels keep besides their output (e.g.
        a convolution's padded input or a max pool's argmax), so the real peak
        can be higher; it is the figure comparable across models.
        """
        elements = sum(row.activation_size or 0 for row in self.leaf_rows)
        return 2 * elements * self.batch_size * self.itemsize

    @property
    def param_bytes(self) -> int:
        """Parameters plus buffers."""
        return self.total_params * self.itemsize + self.buffer_bytes

    @property
    def gradient_bytes(self) -> int:
        """One gradient array per trainable parameter."""
        return self.trainable_params * self.itemsize

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.activation_bytes + self.param_bytes + self.gradient_bytes

    # ------------------------------------------------------------------ data
    def to_rows(self) -> list[dict]:
        """One dict per layer (see :meth:`LayerRow.to_dict`)."""
        return [row.to_dict() for row in self.rows]

    def to_dict(self) -> dict:
        """Rows and totals as plain Python values."""
        return {
            "model": self.model_name, "input_shape": self.input_shape, "batch_size": self.batch_size,
            "output_shape": self.output_shape, "rows": self.to_rows(),
            "total_params": self.total_params, "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params, "total_macs": self.total_macs,
            "unknown_mac_layers": self.unknown_mac_layers,
            "total_flops": self.total_flops, "input_bytes": self.input_bytes,
            "activation_bytes": self.activation_bytes, "param_bytes": self.param_bytes,
            "gradient_bytes": self.gradient_bytes, "total_bytes": self.total_bytes,
        }

    def notes_rows(self) -> list[dict]:
        """The notes' table form: Activation Shape, Activation Size, # Parameters.

        One row for the input, then one per layer that has parameters or
        changes the number of activations; layers that do neither
        (activations, dropout, flatten, softmax) are folded into the row
        before them, whose label lists them. Shapes are per sample in the
        notes' order: ``(H, W, C)`` for images and ``(n, 1)`` for vectors.
        """
        size = math.prod(self.input_shape)
        rows = [{"layer": "input", "type": "Input", "activation_shape": _notes_shape(self.input_shape),
                 "activation_size": size, "parameters": 0}]
        for row in self.leaf_rows:
            row_size = row.activation_size
            if row.params - row.shared_params == 0 and row_size == rows[-1]["activation_size"] and len(rows) > 1:
                rows[-1]["layer"] += f" + {row.name}"
                continue
            rows.append({"layer": row.name, "type": _notes_type(row), "activation_shape": _notes_shape(
                row.output_shape[1:]) if row.output_shape and not isinstance(row.output_shape[0], tuple)
                else row.output_shape, "activation_size": row_size, "parameters": row.params - row.shared_params})
        return rows

    # ------------------------------------------------------------------ rendering
    def render(self, style: str = "layers", depth: int | None = None) -> str:
        """The table as text: ``style='layers'`` (every column) or ``'notes'`` (the notes' form)."""
        from nndl.summary.table import STYLES

        if style not in STYLES:
            raise ValueError(f"Summary.render: unknown style '{style}'; valid: {', '.join(STYLES)}")
        return STYLES[style](self, self.depth if depth is None else depth)

    def __str__(self) -> str:
        return self.render()

    def print(self, print_fn=print, style: str = "layers", depth: int | None = None) -> None:
        """Send the rendered table to ``print_fn`` (e.g. ``logger.info``), one call per line."""
        for line in self.render(style, depth).splitlines():
            print_fn(line)


def _notes_shape(shape) -> tuple:
    shape = tuple(shape)
    if len(shape) == 3:
        return shape[1:] + shape[:1]  # (C, H, W) -> (H, W, C)
    if len(shape) == 1:
        return (shape[0], 1)
    return shape


def _notes_type(row: LayerRow) -> str:
    return f"{row.type} ({row.spec})" if row.spec else row.type


def summary(model: Module, input_shape, batch_size: int = 1, depth: int | None = None,
            print_fn=None, style: str = "layers") -> Summary:
    """Summarize ``model`` for inputs of ``input_shape`` by shape propagation, without running data.

    Parameters
    ----------
    model : Module
    input_shape : sequence of int
        One sample's shape, **without** the batch axis, e.g. ``(3, 224, 224)``.
    batch_size : int
        Batch size of the shapes shown and of the memory estimate (MACs and
        activation sizes are per sample).
    depth : int or None
        Deepest nesting level that ``str(summary)`` shows (None: all).
    print_fn : callable or None
        If given, called with each line of the rendered table.
    style : {'layers', 'notes'}
        Table form used with ``print_fn``.

    Returns
    -------
    Summary

    Raises
    ------
    SummaryError
        At the first layer whose input shape does not fit, with the rows
        computed up to it.
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a Module, got {type(model).__name__}")
    if isinstance(input_shape, (int, np.integer)):
        input_shape = (int(input_shape),)
    input_shape = tuple(input_shape)
    if not input_shape or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0
                                  for s in input_shape):
        raise ValueError(f"summary: input_shape must be positive ints (one sample, no batch axis), got {input_shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"summary: batch_size must be a positive int, got {batch_size!r}")
    input_shape = tuple(int(s) for s in input_shape)
    rows, output_shape = collect(model, input_shape, int(batch_size))
    result = Summary(
        model_name=type(model).__name__, input_shape=input_shape, batch_size=int(batch_size), rows=rows,
        output_shape=output_shape, total_params=model.num_parameters(),
        trainable_params=model.num_parameters(trainable_only=True),
        buffer_bytes=sum(buf.nbytes for buf in model.buffers()),
        itemsize=np.dtype(model.dtype).itemsize, depth=depth)
    if print_fn is not None:
        result.print(print_fn, style=style)
    return result

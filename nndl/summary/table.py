"""Rendering of a :class:`~nndl.summary.Summary` as text tables (rich), kept apart from the numbers."""

from __future__ import annotations

import io
from fractions import Fraction

from rich import box
from rich.console import Console
from rich.table import Table

RENDER_WIDTH = 400
"""Console width used for rendering: wide enough that rich never wraps a summary row."""


def _to_text(renderable) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=RENDER_WIDTH, color_system=None, force_terminal=False,
                      highlight=False, emoji=False)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def _count(value) -> str:
    return "" if value is None else f"{value:,}"


def _macs(row) -> str:
    """A layer's MACs; ``?`` when unknown, ``n + ?`` for a container with layers of unknown cost."""
    if row.macs is None:
        return "?"
    return f"{row.macs:,} + ?" if row.unknown_macs else f"{row.macs:,}"


def _pair(values) -> str:
    if values is None:
        return "?"
    texts = [str(v) if not isinstance(v, Fraction) or v.denominator != 1 else str(v.numerator) for v in values]
    return texts[0] if texts[0] == texts[1] else "×".join(texts)


def _shape(shape) -> str:
    if shape is None:
        return "✗ does not fit"
    if shape and isinstance(shape[0], tuple):
        return ", ".join(_shape(s) for s in shape)
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _si(value: float) -> str:
    for factor, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.2f} {unit}"
    return f"{value:g}"


def _megabytes(value: int) -> str:
    # Decimal units as the notes count bytes; small sizes get kB or B so that none reads as "0.00 MB".
    if round(value / 1e3, 2) >= 1000:  # 999,999 B is "1.00 MB", not "1,000.00 kB"
        return f"{value / 1e6:,.2f} MB"
    if value >= 1e3:
        return f"{value / 1e3:,.2f} kB"
    return f"{value:,} B"


def _rows_table(rows, depth: int | None, title: str | None = None) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Layer (type)")
    table.add_column("Output shape")
    table.add_column("Activations", justify="right")
    table.add_column("Params", justify="right")
    table.add_column("MACs", justify="right")
    table.add_column("RF", justify="right")
    table.add_column("Jump", justify="right")
    for row in rows:
        if depth is not None and row.depth > depth:
            continue
        params = _count(row.params)
        if row.shared_params:
            params += f" ({row.shared_params:,} shared)"
        if row.params and row.trainable_params == 0:
            params += " (frozen)"
        elif row.trainable_params != row.params:
            params += f" ({row.trainable_params:,} trainable)"
        table.add_row("  " * row.depth + f"{row.name} ({row.type})", _shape(row.output_shape),
                      _count(row.activation_size), params, _macs(row),
                      _pair(row.receptive_field) if row.output_shape is not None else "",
                      _pair(row.jump) if row.output_shape is not None else "")
    return table


def render_rows(rows, depth: int | None = None) -> str:
    """Just the rows (used by ``SummaryError`` to show the layers up to the bad one)."""
    return _to_text(_rows_table(rows, depth))


def _totals(summary) -> list[str]:
    lines = [
        f"Total params: {summary.total_params:,}",
        f"Trainable params: {summary.trainable_params:,}",
        f"Non-trainable params: {summary.non_trainable_params:,}",
        f"MACs per sample (multiply-accumulates of conv and linear layers): {summary.total_macs:,} "
        f"({_si(summary.total_macs)})",
        f"FLOPs per sample (= 2 × MACs): {summary.total_flops:,} ({_si(summary.total_flops)})",
        f"Input size (batch {summary.batch_size}): {_megabytes(summary.input_bytes)}",
        f"Activations, forward + backward (batch {summary.batch_size}, estimate): "
        f"{_megabytes(summary.activation_bytes)}",
        f"Parameters and buffers: {_megabytes(summary.param_bytes)}",
        f"Parameter gradients: {_megabytes(summary.gradient_bytes)}",
        f"Estimated total memory: {_megabytes(summary.total_bytes)}",
    ]
    unknown = summary.unknown_mac_layers
    if unknown:
        lines[3] += f", excluding {len(unknown)} layer{'s' if len(unknown) > 1 else ''} of unknown cost"
        lines[4] += " (same exclusion)"
    if any(row.shared_params for row in summary.rows):
        lines.insert(3, "(shared parameters are counted once in the totals)")
    return lines


def render_layers(summary, depth: int | None = None) -> str:
    """Every column: name (indented by nesting), output shape, activations, params, MACs, receptive field."""
    title = (f"{summary.model_name}: input {_shape((summary.batch_size,) + summary.input_shape)} -> "
             f"output {_shape(summary.output_shape)}")
    table = _to_text(_rows_table(summary.rows, depth))
    notes = ("RF = receptive-field size of one output position in input pixels; "
             "Jump = input distance between neighbouring positions.")
    unknown = summary.unknown_mac_layers
    if unknown:
        notes += (f"\nMACs ? = unknown: {', '.join(unknown)} declare{'s' if len(unknown) == 1 else ''} no macs() "
                  "(see nndl.nn.Module.macs); the totals leave them out.")
    return "\n".join([title, "", table, "", *_totals(summary), notes])


def render_notes(summary, depth: int | None = None) -> str:
    """The notes' table: SL.No, Layer, Activation Shape, Activation Size, # Parameters."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("SL.No", justify="right")
    table.add_column("Layer")
    table.add_column("Activation Shape")
    table.add_column("Activation Size", justify="right")
    table.add_column("# Parameters", justify="right")
    for number, row in enumerate(summary.notes_rows(), start=1):
        label = row["layer"] if row["layer"] == "input" else f"{row['layer']}: {row['type']}"
        table.add_row(f"{number}.", label, _shape(row["activation_shape"]), _count(row["activation_size"]),
                      _count(row["parameters"]))
    return "\n".join([_to_text(table), "", f"Total params: {summary.total_params:,}"])


STYLES = {"layers": render_layers, "notes": render_notes}
"""Table forms by name."""

"""What the summary computes from the layers' own facts: receptive fields, window specs, costs.

Each layer class declares its facts (:mod:`nndl.nn.core.facts`):
``macs(input_shape, output_shape)``, the multiply-accumulates of one sample
(``None`` = unknown: a layer that declares nothing), and
``receptive_window(input_shape, output_shape)``, its window along height and
width. The summary adds nothing of its own to them: no table of layer types.

MACs (multiply-accumulates) per sample
--------------------------------------
The layers count only the products of weights and activations, the
convention of torchvision's published operation counts (``Linear``:
``n_in · n_out`` per row; ``Conv2d``: ``F · H_out · W_out · (C_in/groups) ·
kh · kw``; ``ConvTranspose2d``: ``C_in · H_in · W_in · (C_out/groups) · kh ·
kw``; ``Maxout``: ``n_in · n_out · pieces``); bias additions, batch norm,
activations, pooling, LRN, softmax and dropout declare **0**. FLOPs are
reported as ``2 × MACs``. A layer of unknown cost is shown as ``?`` and left
out of the totals, which say so.

Receptive-field windows
-----------------------
A layer maps the grid of its input to the grid of its output. Along one
axis it has a window of ``k`` input positions and a step ``s`` between
neighbouring outputs, both in input-grid units. The receptive field of an
output (its size ``r`` in input pixels and the distance ``j`` between
neighbouring outputs, the *jump*) follows the standard recurrence

.. math::
    r_{out} = r_{in} + (k − 1)\\, j_{in}, \\qquad j_{out} = j_{in}\\, s,

starting from ``r = j = 1`` at the input. A layer without a window leaves the
receptive field unknown (``None``) from there on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from nndl.nn.core.facts import Window


@dataclass(frozen=True)
class LayerCost:
    """What one leaf layer costs per sample (``macs``, None = unknown) and its window (None = unknown)."""

    macs: int | None
    window: Window | None


def leaf_cost(module, input_shape, output_shape) -> LayerCost:
    """The layer's own facts: ``module.macs(...)`` and ``module.receptive_window(...)``."""
    macs = module.macs(input_shape, output_shape)
    return LayerCost(None if macs is None else int(macs), module.receptive_window(input_shape, output_shape))


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def window_spec(module) -> str:
    """The notes' short form of a windowed layer's geometry, e.g. ``f=5, s=1`` (``p``, ``d`` when not 0/1)."""
    if not hasattr(module, "kernel_size") or not hasattr(module, "stride"):
        return ""

    def text(value):
        if isinstance(value, str):
            return value
        value = _pair(value)
        return str(value[0]) if value[0] == value[1] else f"{value[0]}x{value[1]}"

    parts = [f"f={text(module.kernel_size)}", f"s={text(module.stride)}"]
    padding = getattr(module, "padding", 0)
    if isinstance(padding, str) or _pair(padding) != (0, 0):
        parts.append(f"p={text(padding)}")
    dilation = getattr(module, "dilation", 1)
    if _pair(dilation) != (1, 1):
        parts.append(f"d={text(dilation)}")
    return ", ".join(parts)


# ---------------------------------------------------------------------- receptive fields
@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of every position of one activation, relative to the model's input.

    ``size`` is ``(r_h, r_w)`` in input pixels (the unclipped size from the
    recurrence: near the border part of it lies in the padding); ``jump`` is
    ``(j_h, j_w)``, the input distance between neighbouring positions
    (fractional after upsampling).
    """

    size: tuple[int, int]
    jump: tuple[Fraction, Fraction]

    @classmethod
    def at_input(cls) -> ReceptiveField:
        return cls((1, 1), (Fraction(1), Fraction(1)))

    def through(self, window: Window) -> ReceptiveField:
        """``r_out = r_in + (k − 1) j_in``, ``j_out = j_in s`` along each axis."""
        size = tuple(math.ceil(r + (k - 1) * j) for r, j, (k, _) in zip(self.size, self.jump, window))
        jump = tuple(j * s for j, (_, s) in zip(self.jump, window))
        return ReceptiveField(size, jump)

    @staticmethod
    def widest(fields) -> ReceptiveField | None:
        """Merge of branches that meet (Concat, Residual): the largest size and jump on each axis."""
        fields = list(fields)
        if not fields or any(f is None for f in fields):
            return None
        return ReceptiveField(tuple(max(f.size[a] for f in fields) for a in (0, 1)),
                              tuple(max(f.jump[a] for f in fields) for a in (0, 1)))

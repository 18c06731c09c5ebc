"""Per-layer formulas of the summary: multiply-accumulates and receptive-field windows.

Every rule takes ``(module, input_shape, output_shape)`` (shapes with the
batch axis) and returns a :class:`LayerCost`: the multiply-accumulates of one
sample and the layer's *window* along the two spatial axes.

MACs (multiply-accumulates) per sample
--------------------------------------
Only the products of weights and activations are counted, the convention of
torchvision's published operation counts:

- ``Linear``: ``n_in · n_out`` per row (``prod(out_shape[1:-1])`` rows);
- ``Conv2d``: ``F · H_out · W_out · (C_in/groups) · kh · kw``;
- ``ConvTranspose2d``: ``C_in · H_in · W_in · (C_out/groups) · kh · kw``
  (every input pixel scatters one ``kh × kw`` kernel per output channel);
- ``Maxout``: ``n_in · n_out · pieces``.

Bias additions, batch norm, activations, pooling, LRN, softmax and dropout
count **0** MACs: they are linear in the activation size and small next to
the products, and leaving them out makes the totals comparable with the
published figures. FLOPs are reported as ``2 × MACs`` (one multiply and one
add per MAC).

Receptive-field windows
-----------------------
A layer maps the grid of its input to the grid of its output. Along one
axis it has a window of ``k`` input positions (``k = d(k − 1) + 1`` for a
dilated kernel) and a step ``s`` between neighbouring outputs, both in
input-grid units. The receptive field of an output (its size ``r`` in input
pixels and the distance ``j`` between neighbouring outputs, the *jump*)
follows the standard recurrence

.. math::
    r_{out} = r_{in} + (k − 1)\\, j_{in}, \\qquad j_{out} = j_{in}\\, s,

starting from ``r = j = 1`` at the input. Global operations (global average
pooling, flattening of the spatial axes) have a window of the whole map.
Upsampling layers have fractional steps (``s = 1/stride``) and a window of
the most input positions any one output depends on (``⌈k/stride⌉``).
A layer without a rule leaves the receptive field unknown (``None``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from nndl import nn
from nndl.nn.activations.activation import Activation
from nndl.nn.layers.batchnorm import _BatchNorm
from nndl.nn.layers.dropout import _DropoutBase

Window = tuple[tuple[int, Fraction], tuple[int, Fraction]]
"""``((k_h, s_h), (k_w, s_w))``: window size and step along height and width, in input-grid units."""

ELEMENTWISE: Window = ((1, Fraction(1)), (1, Fraction(1)))


@dataclass(frozen=True)
class LayerCost:
    """What one leaf layer costs per sample, and its receptive-field window (``None`` = unknown)."""

    macs: int
    window: Window | None


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _spatial(shape) -> tuple[int, int] | None:
    """``(H, W)`` of an ``(N, C, H, W)`` shape, else None."""
    return (int(shape[2]), int(shape[3])) if isinstance(shape, tuple) and len(shape) == 4 \
        and all(isinstance(v, int) for v in shape) else None


def _sliding(kernel, stride, dilation=(1, 1)) -> Window:
    kernel, stride, dilation = _pair(kernel), _pair(stride), _pair(dilation)
    return tuple((d * (k - 1) + 1, Fraction(s)) for k, s, d in zip(kernel, stride, dilation))


def _global(input_shape) -> Window | None:
    size = _spatial(input_shape)
    if size is None:
        return ELEMENTWISE  # no spatial axes left: nothing to widen
    return tuple((n, Fraction(n)) for n in size)


def _upsampling(kernel, stride) -> Window:
    kernel, stride = _pair(kernel), _pair(stride)
    return tuple((math.ceil(k / s), Fraction(1, s)) for k, s in zip(kernel, stride))


def _per_sample(shape) -> int:
    return math.prod(shape[1:])


# ---------------------------------------------------------------------- rules
def linear_cost(module, input_shape, output_shape) -> LayerCost:
    rows = math.prod(output_shape[1:-1])
    window = ELEMENTWISE if len(input_shape) <= 2 else None  # a Linear over a spatial axis has no clean window
    return LayerCost(rows * module.in_features * module.out_features, window)


def maxout_cost(module, input_shape, output_shape) -> LayerCost:
    rows = math.prod(output_shape[1:-1])
    return LayerCost(rows * module.in_features * module.out_features * module.pieces, ELEMENTWISE)


def conv2d_cost(module, input_shape, output_shape) -> LayerCost:
    kh, kw = module.kernel_size
    macs = _per_sample(output_shape) * (module.in_channels // module.groups) * kh * kw
    return LayerCost(macs, _sliding(module.kernel_size, module.stride, module.dilation))


def conv_transpose2d_cost(module, input_shape, output_shape) -> LayerCost:
    kh, kw = module.kernel_size
    macs = _per_sample(input_shape) * (module.out_channels // module.groups) * kh * kw
    dilated = tuple(d * (k - 1) + 1 for k, d in zip(module.kernel_size, module.dilation))
    return LayerCost(macs, _upsampling(dilated, module.stride))


def pooling_cost(module, input_shape, output_shape) -> LayerCost:
    """Any sliding-window layer with ``kernel_size`` and ``stride`` (max/avg pooling and the like)."""
    return LayerCost(0, _sliding(module.kernel_size, module.stride, getattr(module, "dilation", (1, 1))))


def adaptive_avg_pool_cost(module, input_shape, output_shape) -> LayerCost:
    size_in, size_out = _spatial(input_shape), _spatial(output_shape)
    window = []
    for n_in, n_out in zip(size_in, size_out):
        if n_in % n_out == 0:
            window.append((n_in // n_out, Fraction(n_in // n_out)))
        else:  # overlapping bins: the widest bin, a fractional step
            widest = max(-(-((i + 1) * n_in) // n_out) - (i * n_in) // n_out for i in range(n_out))
            window.append((widest, Fraction(n_in, n_out)))
    return LayerCost(0, tuple(window))


def global_cost(module, input_shape, output_shape) -> LayerCost:
    return LayerCost(0, _global(input_shape))


def flatten_cost(module, input_shape, output_shape) -> LayerCost:
    spatial_merged = len(input_shape) == 4 and len(output_shape) < 4
    return LayerCost(0, _global(input_shape) if spatial_merged else ELEMENTWISE)


def unpool_cost(module, input_shape, output_shape) -> LayerCost:
    return LayerCost(0, _upsampling(module.kernel_size, module.stride))


def upsample_cost(module, input_shape, output_shape) -> LayerCost:
    return LayerCost(0, _upsampling((1, 1), module.scale_factor))


def along_axis_cost(module, input_shape, output_shape) -> LayerCost:
    """Softmax/LogSoftmax: element-wise in space unless normalized along a spatial axis."""
    axis = module.axis % len(input_shape)
    if len(input_shape) == 4 and axis >= 2:
        return LayerCost(0, _global(input_shape))
    return LayerCost(0, ELEMENTWISE)


def elementwise_cost(module, input_shape, output_shape) -> LayerCost:
    return LayerCost(0, ELEMENTWISE)


LEAF_RULES = {
    nn.Linear: linear_cost,
    nn.Maxout: maxout_cost,
    nn.Conv2d: conv2d_cost,
    nn.ConvTranspose2d: conv_transpose2d_cost,
    nn.MaxPool2d: pooling_cost,
    nn.AvgPool2d: pooling_cost,
    nn.AdaptiveAvgPool2d: adaptive_avg_pool_cost,
    nn.GlobalAvgPool2d: global_cost,
    nn.MaxUnpool2d: unpool_cost,
    nn.Upsample: upsample_cost,
    nn.Flatten: flatten_cost,
    nn.Softmax: along_axis_cost,
    nn.LogSoftmax: along_axis_cost,
    Activation: elementwise_cost,
    _BatchNorm: elementwise_cost,
    _DropoutBase: elementwise_cost,
    nn.LayerNorm: elementwise_cost,
    nn.LocalResponseNorm: elementwise_cost,  # mixes channels only
    nn.PReLU: elementwise_cost,
    nn.Identity: elementwise_cost,
}
"""Rule of each leaf type; a subclass uses its nearest ancestor's rule."""


def leaf_cost(module, input_shape, output_shape) -> LayerCost:
    """MACs and window of a leaf layer (0 MACs and an unknown window when no rule applies)."""
    for cls in type(module).__mro__:
        rule = LEAF_RULES.get(cls)
        if rule is not None:
            return rule(module, input_shape, output_shape)
    if hasattr(module, "kernel_size") and hasattr(module, "stride"):
        return pooling_cost(module, input_shape, output_shape)
    return LayerCost(0, None)


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

"""Helpers for the facts a layer declares about itself: its multiply-accumulates and its window.

Every layer class answers three questions that tools (``nndl.summary``, the
module test table) ask without running data:

- ``macs(input_shape, output_shape) -> int | None``: multiply-accumulates of
  one sample (shapes with the batch axis). Only the products of weights and
  activations count, the convention of torchvision's published operation
  counts: a layer without weights (activation, pooling, batch norm, dropout,
  reshaping) declares **0**. ``None`` means *unknown*, the default of
  :class:`~nndl.nn.Module`: a user's layer that declares nothing is shown as
  unknown, never silently as 0.
- ``receptive_window(input_shape, output_shape) -> Window | None``: how the
  layer maps the grid of its input to the grid of its output along height
  and width (``None``: no clean window, or unknown).
- ``train_eval_differs``: a class attribute (a property where it depends on
  the arguments, e.g. batch norm without running statistics), True when training and
  evaluation mode compute different things (dropout, batch norm), False when
  they do not, ``None`` (Module's default) when the class does not say.

Activations and losses declare what the training doctor (:mod:`nndl.doctor`)
reads from them: an activation's ``activation_facts`` (an
:class:`ActivationFacts`: a rectifier whose units can die, or a saturating
function with flat tails; None, Module's default, when neither applies) and a
loss's ``expected_initial_loss(num_classes)`` (the loss near-zero scores give;
None when it has no such value).

A *window* ``((k_h, s_h), (k_w, s_w))`` gives along each axis the number of
input positions ``k`` one output sees (``d(k − 1) + 1`` for a dilated
kernel) and the step ``s`` between neighbouring outputs, in input-grid units
(fractional for upsampling). The receptive field then follows
``r_out = r_in + (k − 1) j_in``, ``j_out = j_in s``
(:class:`nndl.summary.stats.ReceptiveField`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

Window = tuple[tuple[int, Fraction], tuple[int, Fraction]]
"""``((k_h, s_h), (k_w, s_w))``: window size and step along height and width, in input-grid units."""

ELEMENTWISE: Window = ((1, Fraction(1)), (1, Fraction(1)))
"""The window of a layer whose output at a position depends on that input position only."""


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def spatial_size(shape) -> tuple[int, int] | None:
    """``(H, W)`` of an ``(N, C, H, W)`` shape, else None."""
    return (int(shape[2]), int(shape[3])) if isinstance(shape, tuple) and len(shape) == 4 \
        and all(isinstance(v, int) for v in shape) else None


def sliding_window(kernel_size, stride, dilation=1) -> Window:
    """A kernel sliding over the input (convolution, pooling): ``k = d(k − 1) + 1``, step ``s``."""
    kernel, step, dilation = _pair(kernel_size), _pair(stride), _pair(dilation)
    return tuple((d * (k - 1) + 1, Fraction(s)) for k, s, d in zip(kernel, step, dilation))


def global_window(input_shape) -> Window:
    """Every output sees the whole map (global pooling, flattening the spatial axes)."""
    size = spatial_size(input_shape)
    if size is None:
        return ELEMENTWISE  # no spatial axes left: nothing to widen
    return tuple((n, Fraction(n)) for n in size)


def upsampling_window(kernel_size, stride) -> Window:
    """An upsampling layer: step ``1/stride``, and the most input positions one output depends on (``⌈k/s⌉``)."""
    kernel, step = _pair(kernel_size), _pair(stride)
    return tuple((math.ceil(k / s), Fraction(1, s)) for k, s in zip(kernel, step))


def per_sample(shape) -> int:
    """Elements of one sample of ``shape`` (every axis but the batch axis)."""
    return math.prod(shape[1:])


def rows(output_shape) -> int:
    """Positions per sample a feature-wise layer (``Linear``, ``Maxout``) is applied at (axes between batch and features)."""
    return math.prod(output_shape[1:-1])


@dataclass(frozen=True)
class ActivationFacts:
    """How to read an activation's outputs when looking for the notes' failure modes.

    - ``'rectifier'``: outputs exactly 0 on half its domain; a unit that
      outputs 0 for every example of a batch gets no gradient and may never
      recover (a *dead* ReLU).
    - ``'saturating'``: flat tails, outputs ``<= low`` or ``>= high``, where
      the derivative is tiny (tanh beyond ``|a| > 0.99``, σ beyond
      ``a < 0.01`` or ``a > 0.99``: ``f'(z) < 0.02``) and the δ recursion
      multiplies the gradient by almost nothing.

    Attributes
    ----------
    kind : {'rectifier', 'saturating'}
    low, high : float
        The tails of a saturating activation.
    """

    kind: str
    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self):
        if self.kind not in ("rectifier", "saturating"):
            raise ValueError(f"ActivationFacts: kind must be 'rectifier' or 'saturating', got {self.kind!r}")


RECTIFIER = ActivationFacts("rectifier")

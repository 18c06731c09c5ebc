"""Sliding-window geometry shared by the reference and the fast kernels: sizes, padding, argument checks.

A layer with kernel ``k``, stride ``s``, dilation ``d`` and padding
``p_before + p_after`` maps a spatial size ``n`` to

.. math::
    n_{out} = \\left\\lfloor \\frac{n + p_{before} + p_{after} - d (k - 1) - 1}{s} \\right\\rfloor + 1

which is the notes' ``⌊(n + 2p − f)/s⌋ + 1`` with the dilated kernel size
``f = d(k − 1) + 1``. The window of output position ``(h, w)`` starts at
``(h s, w s)`` in the padded image; its tap ``(i, j)`` reads row ``h s + i d``
and column ``w s + j d``.

Nothing here computes on images: these helpers turn a layer's arguments into
a :class:`WindowGeometry` (or a clear error), so both kernel sets accept and
reject exactly the same arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
"""PyTorch's ``padding_mode`` names and the matching ``np.pad`` modes."""


def as_pair(value, name: str, owner: str, minimum: int = 1) -> tuple[int, int]:
    """``value`` as a ``(height, width)`` pair of ints ``>= minimum`` (an int means both)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif (isinstance(value, (tuple, list)) and len(value) == 2
          and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{owner}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{owner}: {name} must be >= {minimum}, got {value!r}")
    return pair


def output_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int = 1) -> int:
    """Output length along one axis (see the module docstring); ``0`` means the window does not fit."""
    span = size + pad_before + pad_after - dilation * (kernel - 1) - 1
    return span // stride + 1 if span >= 0 else 0


@dataclass(frozen=True)
class WindowGeometry:
    """Where the windows of one layer sit on an image.

    ``pads`` is ``(top, bottom, left, right)``; ``in_size`` the unpadded
    ``(H, W)``; ``out_size`` the number of windows ``(H_out, W_out)``.
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pads: tuple[int, int, int, int]
    in_size: tuple[int, int]
    out_size: tuple[int, int]

    @property
    def padded_size(self) -> tuple[int, int]:
        top, bottom, left, right = self.pads
        return self.in_size[0] + top + bottom, self.in_size[1] + left + right

    @property
    def taps(self) -> int:
        return self.kernel[0] * self.kernel[1]

    @property
    def has_padding(self) -> bool:
        return any(self.pads)

    def tap_slices(self, i: int, j: int) -> tuple[slice, slice]:
        """Row and column slices of the padded image read by tap ``(i, j)`` of every window."""
        (sh, sw), (dh, dw), (ho, wo) = self.stride, self.dilation, self.out_size
        return (slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
                slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))

    def windows_overlap(self) -> bool:
        """True when some pixel belongs to two windows (its gradient must be summed)."""
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        return dh * (kh - 1) + 1 > sh or dw * (kw - 1) + 1 > sw


def make_geometry(in_size, kernel, stride, dilation, pads, owner: str, input_shape=None) -> WindowGeometry:
    """Build the geometry and raise a ValueError naming ``owner`` when the (dilated) kernel does not fit."""
    top, bottom, left, right = pads
    out_h = output_size(in_size[0], kernel[0], stride[0], top, bottom, dilation[0])
    out_w = output_size(in_size[1], kernel[1], stride[1], left, right, dilation[1])
    if out_h < 1 or out_w < 1:
        eff = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
        padded = (in_size[0] + top + bottom, in_size[1] + left + right)
        shape = tuple(input_shape) if input_shape is not None else tuple(in_size)
        raise ValueError(f"{owner}: input of shape {shape} is padded to {padded[0]}x{padded[1]}, smaller than "
                         f"the (dilated) kernel {eff[0]}x{eff[1]}")
    return WindowGeometry(tuple(kernel), tuple(stride), tuple(dilation), tuple(pads), tuple(in_size), (out_h, out_w))


def pad_sources(h: int, w: int, pads, mode: str):
    """For each padded row and column, the index of the input row/column it copies (modes other than zeros).

    Reflect padding must be smaller than the input and circular padding at
    most its size, as in PyTorch (``np.pad`` would silently repeat the
    pattern instead).
    """
    top, bottom, left, right = pads
    if mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
        raise ValueError(f"reflect padding {pads} must be smaller than the input size {(h, w)}")
    if mode == "circular" and (max(top, bottom) > h or max(left, right) > w):
        raise ValueError(f"circular padding {pads} must not exceed the input size {(h, w)}")
    np_mode = PADDING_MODES[mode]
    return np.pad(np.arange(h), (top, bottom), mode=np_mode), np.pad(np.arange(w), (left, right), mode=np_mode)


# ---------------------------------------------------------------------- convolution arguments
def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """``(before, after)`` padding that gives ``⌈size / stride⌉`` outputs (TensorFlow's ``'SAME'``).

    The notes' output size ``⌊(n + p − f)/s⌋ + 1`` equals ``⌈n/s⌉`` for the
    smallest total padding ``p = max((⌈n/s⌉ − 1)s + f − n, 0)``, with
    ``f = d(k − 1) + 1``. Half goes before and the odd pixel after
    (bottom/right), as TensorFlow; for stride 1 this is ``p = d(k − 1)``,
    PyTorch's ``'same'``.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, kernel, stride, dilation, owner: str, in_size=None) -> tuple[int, int, int, int] | None:
    """``(top, bottom, left, right)`` for ``padding`` = int, pair, ``'valid'`` or ``'same'``.

    ``'same'`` pads as :func:`same_padding`: ``H_out = ⌈H / s⌉``. With
    stride 1 that is ``d(k − 1)`` in total whatever the input; with a larger
    stride the padding depends on the input size ``in_size = (H, W)``, and
    without it the argument is only checked and None is returned.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride == (1, 1):
                in_size = (1, 1)  # any size: the total padding d(k − 1) does not depend on it
            elif in_size is None:
                return None
            return (*same_padding(in_size[0], kernel[0], stride[0], dilation[0]),
                    *same_padding(in_size[1], kernel[1], stride[1], dilation[1]))
        raise ValueError(f"{owner}: padding must be an int, a pair, 'same' or 'valid', got '{padding}'")
    ph, pw = as_pair(padding, "padding", owner, minimum=0)
    return (ph, ph, pw, pw)


def check_padding_mode(padding_mode, owner: str) -> str:
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{owner}: unknown padding_mode '{padding_mode}'; valid: {', '.join(PADDING_MODES)}")
    return padding_mode


def check_channels(in_channels, out_channels, groups, owner: str) -> tuple[int, int, int]:
    """Positive ints, both channel counts divisible by ``groups``."""
    values = []
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
        values.append(int(value))
    in_channels, out_channels, groups = values
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{owner}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                         f"divisible by groups ({groups})")
    return in_channels, out_channels, groups


def conv_geometry(x_shape, weight_shape, stride, pads, dilation, groups: int, owner: str) -> WindowGeometry:
    """Check an NCHW input against a ``(F, C/groups, kh, kw)`` weight and return the window geometry."""
    if len(x_shape) != 4:
        raise ValueError(f"{owner}: expected a 4-D input (N, C, H, W), got shape {tuple(x_shape)}")
    in_channels = weight_shape[1] * groups
    if x_shape[1] != in_channels:
        raise ValueError(f"{owner}: expected input of shape (N, {in_channels}, H, W), got {tuple(x_shape)}")
    if weight_shape[0] % groups:
        raise ValueError(f"{owner}: {weight_shape[0]} filters cannot be split into {groups} groups")
    return make_geometry(tuple(x_shape[2:]), tuple(weight_shape[2:]), stride, dilation, pads, owner, x_shape)


def conv2d_geometry(x_shape, weight_shape, stride, padding, dilation, groups: int, padding_mode: str,
                    owner: str) -> WindowGeometry:
    """All of ``conv2d_forward``'s arguments checked at once; returns the window geometry."""
    stride = as_pair(stride, "stride", owner)
    dilation = as_pair(dilation, "dilation", owner)
    if len(x_shape) != 4:
        raise ValueError(f"{owner}: expected a 4-D input (N, C, H, W), got shape {tuple(x_shape)}")
    pads = resolve_padding(padding, tuple(weight_shape[2:]), stride, dilation, owner, in_size=tuple(x_shape[2:]))
    check_padding_mode(padding_mode, owner)
    return conv_geometry(x_shape, weight_shape, stride, pads, dilation, groups, owner)


def check_output_padding(output_padding, stride, dilation, owner: str) -> None:
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= max(s, d):
            raise ValueError(f"{owner}: output_padding {output_padding} must be smaller than the stride {stride} "
                             f"or the dilation {dilation}")


def conv_transpose_geometry(x_shape, weight_shape, stride, padding, output_padding, dilation, groups: int,
                            owner: str) -> WindowGeometry:
    """Check an NCHW input against a ``(C_in, C_out/groups, kh, kw)`` weight.

    Returns the geometry of the *adjoint convolution*, whose input is the
    transposed convolution's output: ``in_size`` is ``(H_out, W_out)`` with
    ``H_out = (H − 1)s − 2p + d(k − 1) + p_out + 1``, ``out_size`` the
    transposed convolution's input size ``(H, W)``.
    """
    if len(x_shape) != 4:
        raise ValueError(f"{owner}: expected a 4-D input (N, C, H, W), got shape {tuple(x_shape)}")
    if x_shape[1] != weight_shape[0]:
        raise ValueError(f"{owner}: expected input of shape (N, {weight_shape[0]}, H, W), got {tuple(x_shape)}")
    if weight_shape[0] % groups:
        raise ValueError(f"{owner}: {weight_shape[0]} input channels cannot be split into {groups} groups")
    kernel = tuple(weight_shape[2:])
    size = tuple((x_shape[2 + a] - 1) * stride[a] - 2 * padding[a] + dilation[a] * (kernel[a] - 1)
                 + output_padding[a] + 1 for a in (0, 1))
    if min(size) < 1:
        raise ValueError(f"{owner}: input of shape {tuple(x_shape)} gives an empty output {size}: the padding "
                         f"{padding} crops more than the (dilated) kernel adds")
    pads = (padding[0], padding[0], padding[1], padding[1])
    # Built directly: with output_padding >= stride (allowed when the dilation
    # is larger) the size formula run backwards would give one window more.
    return WindowGeometry(kernel, tuple(stride), tuple(dilation), pads, size, tuple(x_shape[2:]))


def conv_transpose2d_geometry(x_shape, weight_shape, stride, padding, output_padding, dilation, groups: int,
                              owner: str) -> WindowGeometry:
    """All of ``conv_transpose2d_forward``'s arguments checked at once; returns the adjoint convolution's geometry."""
    stride, dilation = as_pair(stride, "stride", owner), as_pair(dilation, "dilation", owner)
    padding = as_pair(padding, "padding", owner, minimum=0)
    output_padding = as_pair(output_padding, "output_padding", owner, minimum=0)
    check_output_padding(output_padding, stride, dilation, owner)
    return conv_transpose_geometry(x_shape, weight_shape, stride, padding, output_padding, dilation, groups, owner)

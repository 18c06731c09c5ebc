"""Arguments and window geometry of the pooling kernels, shared by the reference and the fast set.

Nothing here computes a layer: these helpers check a pooling layer's
arguments (with errors naming the layer or kernel) and say where its windows
sit, following :class:`._geometry.WindowGeometry`: output size
``⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1``, stride defaulting to the kernel size;
tap ``t = i·kw + j`` of window ``(h, w)`` reads padded row ``h·s + i·d`` and
column ``w·s + j·d``.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.functional._geometry import WindowGeometry, as_pair, make_geometry


def pool_arguments(kernel_size, stride, padding, dilation, owner: str):
    """``(kernel, stride, padding, dilation)`` as pairs; stride ``None`` is the kernel size.

    Raises ValueError when the padding exceeds half the (dilated) kernel:
    a window could then hold only padding (PyTorch's rule too).
    """
    kernel = as_pair(kernel_size, "kernel_size", owner)
    stride = kernel if stride is None else as_pair(stride, "stride", owner)
    padding = as_pair(padding, "padding", owner, minimum=0)
    dilation = as_pair(dilation, "dilation", owner)
    for p, k, d in zip(padding, kernel, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise ValueError(f"{owner}: padding {padding} must be at most half the (dilated) kernel size {kernel}")
    return kernel, stride, padding, dilation


def pool_geometry(x_shape, kernel, stride, padding, dilation, owner: str, ceil_mode: bool = False) -> WindowGeometry:
    """Window geometry of a pooling layer; ``ceil_mode`` adds the bottom/right padding its last windows need.

    With ``ceil_mode`` (PyTorch's rule) the output size rounds up,
    ``n_out = ⌈(n + 2p − d(k − 1) − 1)/s⌉ + 1``, less one if the last window
    would start in the right padding (``(n_out − 1)s ≥ n + p``): a window may
    overhang the border, never lie entirely outside the input. The overhang
    is padding like any other (−∞ for the max, excluded from averages).
    """
    if len(x_shape) != 4:
        raise ValueError(f"{owner}: expected a 4-D input (N, C, H, W), got shape {tuple(x_shape)}")
    pads = [padding[0], padding[0], padding[1], padding[1]]
    if ceil_mode:
        for axis, (n, k, s, p, d) in enumerate(zip(x_shape[2:], kernel, stride, padding, dilation)):
            span = n + 2 * p - d * (k - 1) - 1
            if span < 0:
                continue  # make_geometry reports the kernel that does not fit
            out = -(-span // s) + 1
            if (out - 1) * s >= n + p:
                out -= 1
            pads[2 * axis + 1] += max(0, (out - 1) * s - span)  # 0 when the rule gave back the floor size
    return make_geometry(tuple(x_shape[2:]), kernel, stride, dilation, tuple(pads), owner, x_shape)


def tap_slices(geom: WindowGeometry):
    """``[(t, rows, cols)]`` for every tap ``t = i·kw + j``: the padded pixels that tap reads in every window."""
    kh, kw = geom.kernel
    return [(t, *geom.tap_slices(*divmod(t, kw))) for t in range(kh * kw)]


def window_counts(geom: WindowGeometry, padding=(0, 0)) -> np.ndarray:
    """Pixels each window averages over, shape (H_out, W_out): those of the input widened by ``padding``.

    ``padding = (0, 0)`` counts real pixels only (``count_include_pad=False``);
    the layer's own padding counts the zero border too, but not the overhang
    of ``ceil_mode``'s last windows (PyTorch's divisor).
    """
    counts = []
    for axis in (0, 1):
        k, s, n_out, n_in = geom.kernel[axis], geom.stride[axis], geom.out_size[axis], geom.in_size[axis]
        start = np.arange(n_out) * s - geom.pads[2 * axis]
        counts.append(np.minimum(start + k, n_in + padding[axis]) - np.maximum(start, -padding[axis]))
    return np.outer(*counts)


def window_indices(argmax: np.ndarray, geom: WindowGeometry, width: int) -> np.ndarray:
    """Flat per-channel input index ``row·W + col`` of tap ``argmax`` of every window (int64, as PyTorch)."""
    kw = geom.kernel[1]
    (sh, sw), (dh, dw), (ho, wo) = geom.stride, geom.dilation, geom.out_size
    top, left = geom.pads[0], geom.pads[2]
    tap_row, tap_col = np.divmod(argmax.astype(np.int64), kw)
    rows = np.arange(ho, dtype=np.int64)[:, None] * sh - top + tap_row * dh
    cols = np.arange(wo, dtype=np.int64)[None, :] * sw - left + tap_col * dw
    return rows * width + cols


# ---------------------------------------------------------------------- adaptive pooling
def adaptive_output_size(output_size, owner: str) -> tuple:
    """``output_size`` as a pair whose entries are positive ints or None (None keeps that input size)."""
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        return tuple(None if v is None else as_pair(v, "output_size", owner)[0] for v in output_size)
    return as_pair(output_size, "output_size", owner)


def adaptive_sizes(x_shape, output_size, owner: str) -> tuple[int, int]:
    """The ``(H_out, W_out)`` an adaptive pooling of ``output_size`` gives for an input of ``x_shape``."""
    if len(x_shape) != 4:
        raise ValueError(f"{owner}: expected a 4-D input (N, C, H, W), got shape {tuple(x_shape)}")
    sizes = adaptive_output_size(output_size, owner)
    return tuple(x_shape[2 + a] if s is None else s for a, s in enumerate(sizes))


def adaptive_bins(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's bins: output ``i`` averages ``[⌊i·size/out⌋, ⌈(i+1)·size/out⌉)`` (bins may overlap)."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


# ---------------------------------------------------------------------- unpooling and upsampling
def unpool_arguments(kernel_size, stride, padding, owner: str):
    """``(kernel, stride, padding)`` of a max-unpooling as pairs; stride ``None`` is the kernel size."""
    kernel = as_pair(kernel_size, "kernel_size", owner)
    stride = kernel if stride is None else as_pair(stride, "stride", owner)
    return kernel, stride, as_pair(padding, "padding", owner, minimum=0)


def unpool_size(x_shape, kernel, stride, padding, output_size, owner: str) -> tuple[int, int]:
    """``(H_out, W_out)`` of a max-unpooling: the inverted pooling size ``(H − 1)s − 2p + k``, or ``output_size``.

    An explicit ``output_size`` (``(H, W)`` or ``(N, C, H, W)``) must lie
    within one stride of that default: the sizes a pooling of this geometry
    could have come from (PyTorch's rule).
    """
    if len(x_shape) != 4:
        raise ValueError(f"{owner}: expected a 4-D input (N, C, H, W), got shape {tuple(x_shape)}")
    default = tuple((x_shape[2 + a] - 1) * stride[a] - 2 * padding[a] + kernel[a] for a in (0, 1))
    if output_size is None:
        return default
    if len(tuple(output_size)) not in (2, 4):
        raise ValueError(f"{owner}: output_size must be (H, W) or (N, C, H, W), got {output_size}")
    size = tuple(int(v) for v in tuple(output_size)[-2:])
    for a in (0, 1):
        if not default[a] - stride[a] < size[a] < default[a] + stride[a]:
            raise ValueError(f"{owner}: output_size {size} must be within one stride of the "
                             f"default {default} for an input of shape {tuple(x_shape)}")
    return size


def check_unpool_indices(x_shape, indices: np.ndarray, size, owner: str) -> None:
    """Raise ValueError unless ``indices`` are integers of ``x_shape`` inside the ``size`` output planes."""
    if indices.shape != tuple(x_shape) or indices.dtype.kind not in "iu":
        raise ValueError(f"{owner}: indices must be integers of the input's shape {tuple(x_shape)}, "
                         f"got shape {indices.shape} and dtype {indices.dtype}")
    plane = size[0] * size[1]
    if indices.size and (indices.min() < 0 or indices.max() >= plane):
        raise ValueError(f"{owner}: indices must lie in [0, {plane}) for an output of "
                         f"{size[0]}x{size[1]}, got [{indices.min()}, {indices.max()}]")


UPSAMPLE_MODES = ("nearest",)


def upsample_arguments(scale_factor, mode: str, owner: str) -> tuple[int, int]:
    """``scale_factor`` as a pair of ints (an integral float is accepted); only ``mode='nearest'``."""
    if scale_factor is None:
        raise ValueError(f"{owner}: scale_factor is required (an int or a pair of ints)")
    if isinstance(scale_factor, float) and scale_factor.is_integer():
        scale_factor = int(scale_factor)
    factor = as_pair(scale_factor, "scale_factor", owner)
    if mode not in UPSAMPLE_MODES:
        raise ValueError(f"{owner}: unsupported mode '{mode}'; supported: {', '.join(UPSAMPLE_MODES)}")
    return factor

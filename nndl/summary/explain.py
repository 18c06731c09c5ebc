"""The layer-size calculator: output size and parameter count with the numbers substituted, as the notes work them.

Each function returns an :class:`Explanation` (its ``lines`` are the worked
formulas) for one layer on an input of ``H × W × C`` (the notes' order):

- convolution: ``W_out = (W − F + 2P)/S + 1`` (``F`` replaced by the dilated
  ``D(F − 1) + 1``), parameters ``(F·F·C_in/groups + 1)·K``;
- pooling: the same size formula, no parameters;
- transposed convolution: ``W_out = (W − 1)·S − 2P + F + output_padding``,
  parameters ``F·F·C_in·K/groups + K``;
- fully connected: parameters ``n_in·n_out + n_out``.

A size formula whose division is not exact is explained: the layer floors
it, and the last rows/columns of the padded input are never covered.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Explanation:
    """A worked layer-size computation.

    Attributes
    ----------
    layer : str
        ``'conv'``, ``'pool'``, ``'deconv'`` or ``'linear'``.
    output_shape : tuple or None
        ``(H_out, W_out, K)`` (or ``(n_out,)``); None when the layer does not fit at all.
    parameters : int
    macs : int
        Multiply-accumulates of one sample.
    exact : bool
        False when a size division was not exact (the output was floored) or the layer does not fit.
    lines : list of str
    """

    layer: str
    output_shape: tuple | None
    parameters: int
    macs: int
    exact: bool
    lines: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.lines)


def _check_positive(owner: str, **values) -> None:
    for name, value in values.items():
        minimum = 0 if name in ("padding", "output_padding") else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"explain {owner}: {name} must be an int >= {minimum}, got {value!r}")


def _window_size(axis: str, size: int, kernel: int, stride: int, padding: int, dilation: int,
                 lines: list[str]) -> tuple[int | None, bool]:
    """Work ``out = (n − F + 2P)/S + 1`` for one axis; return ``(out, exact)``."""
    f = dilation * (kernel - 1) + 1
    if dilation != 1:
        lines.append(f"  dilated filter: F = D(F − 1) + 1 = {dilation}·({kernel} − 1) + 1 = {f}")
    span = size - f + 2 * padding
    lines.append(f"  {axis}_out = ({axis} − F + 2P)/S + 1 = ({size} − {f} + 2·{padding})/{stride} + 1"
                 f" = {span}/{stride} + 1" + (f" = {span // stride + 1}" if span >= 0 and span % stride == 0 else ""))
    if span < 0:
        lines.append(f"  ✗ the {f}-wide filter does not fit in the padded input ({size} + 2·{padding} = "
                     f"{size + 2 * padding}): no output")
        return None, False
    if span % stride:
        floored = span // stride + 1
        unused = span % stride
        lines.append(f"  ✗ {span}/{stride} is not an integer: the layer floors {axis}_out to {floored}; the last "
                     f"{unused} row(s)/column(s) of the padded input are never covered")
        fixes = [p for p in range(padding + 1, padding + stride + 1) if (size - f + 2 * p) % stride == 0]
        strides = [s for s in range(1, stride) if span % s == 0]
        hints = ([f"padding P = {fixes[0]}"] if fixes else []) + ([f"stride S = {strides[-1]}"] if strides else [])
        lines.append(f"    to cover the input exactly, use {' or '.join(hints)}")
        return floored, False
    return span // stride + 1, True


def _input(owner: str, input_shape) -> tuple[int, int, int]:
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape):
        raise ValueError(f"explain {owner}: input must be H x W x C (three positive ints), got {shape}")
    return shape


def explain_conv(input_shape, filters: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                 groups: int = 1, bias: bool = True) -> Explanation:
    """Output size, parameters and MACs of a convolution on an ``H × W × C`` input (square ``kernel``)."""
    height, width, channels = _input("conv", input_shape)
    _check_positive("conv", filters=filters, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                    groups=groups)
    if channels % groups or filters % groups:
        raise ValueError(f"explain conv: C_in = {channels} and K = {filters} must be divisible by groups = {groups}")
    lines = [f"Convolution: input {height}×{width}×{channels}, K = {filters} filters of {kernel}×{kernel}"
             f"×{channels // groups}, S = {stride}, P = {padding}" + (f", D = {dilation}" if dilation != 1 else "")
             + (f", groups = {groups}" if groups != 1 else "")]
    out_h, exact_h = _window_size("H", height, kernel, stride, padding, dilation, lines)
    out_w, exact_w = _window_size("W", width, kernel, stride, padding, dilation, lines)
    per_filter = kernel * kernel * channels // groups
    params = (per_filter + int(bias)) * filters
    if bias:
        lines.append(f"  parameters = (F·F·C_in{'/groups' if groups != 1 else ''} + 1)·K = "
                     f"({kernel}·{kernel}·{channels // groups} + 1)·{filters} = {params:,}")
    else:
        lines.append(f"  parameters = F·F·C_in·K = {kernel}·{kernel}·{channels // groups}·{filters} = {params:,}")
    if out_h is None or out_w is None:
        return Explanation("conv", None, params, 0, False, lines)
    macs = out_h * out_w * filters * per_filter
    lines.append(f"  output: {out_h}×{out_w}×{filters} = {out_h * out_w * filters:,} activations")
    lines.append(f"  MACs = H_out·W_out·K·F·F·C_in = {out_h}·{out_w}·{filters}·{kernel}·{kernel}·"
                 f"{channels // groups} = {macs:,} (FLOPs = 2 × MACs = {2 * macs:,})")
    return Explanation("conv", (out_h, out_w, filters), params, macs, exact_h and exact_w, lines)


def explain_pool(input_shape, kernel: int, stride: int | None = None, padding: int = 0) -> Explanation:
    """Output size of a pooling layer (stride defaults to the kernel size); pooling has no parameters."""
    height, width, channels = _input("pool", input_shape)
    stride = kernel if stride is None else stride
    _check_positive("pool", kernel=kernel, stride=stride, padding=padding)
    lines = [f"Pooling: input {height}×{width}×{channels}, F = {kernel}, S = {stride}, P = {padding}"]
    out_h, exact_h = _window_size("H", height, kernel, stride, padding, 1, lines)
    out_w, exact_w = _window_size("W", width, kernel, stride, padding, 1, lines)
    lines.append("  parameters = 0 (pooling is a fixed summary of each window, per channel)")
    if out_h is None or out_w is None:
        return Explanation("pool", None, 0, 0, False, lines)
    lines.append(f"  output: {out_h}×{out_w}×{channels} = {out_h * out_w * channels:,} activations "
                 f"(the channels are pooled one by one)")
    return Explanation("pool", (out_h, out_w, channels), 0, 0, exact_h and exact_w, lines)


def explain_deconv(input_shape, filters: int, kernel: int, stride: int = 1, padding: int = 0,
                   output_padding: int = 0, bias: bool = True) -> Explanation:
    """Output size and parameters of a transposed convolution (the notes' upscaling "unconv")."""
    height, width, channels = _input("deconv", input_shape)
    _check_positive("deconv", filters=filters, kernel=kernel, stride=stride, padding=padding,
                    output_padding=output_padding)
    if output_padding >= stride:
        raise ValueError(f"explain deconv: output_padding ({output_padding}) must be smaller than the stride "
                         f"({stride})")
    lines = [f"Transposed convolution: input {height}×{width}×{channels}, K = {filters} output channels, "
             f"F = {kernel}, S = {stride}, P = {padding}" + (f", output_padding = {output_padding}"
                                                             if output_padding else "")]
    sizes = []
    for axis, size in (("H", height), ("W", width)):
        out = (size - 1) * stride - 2 * padding + kernel + output_padding
        lines.append(f"  {axis}_out = ({axis} − 1)·S − 2P + F + output_padding = ({size} − 1)·{stride} − 2·{padding} "
                     f"+ {kernel} + {output_padding} = {out}")
        sizes.append(out)
    params = kernel * kernel * channels * filters + (filters if bias else 0)
    lines.append(f"  parameters = F·F·C_in·K{' + K' if bias else ''} = {kernel}·{kernel}·{channels}·{filters}"
                 f"{f' + {filters}' if bias else ''} = {params:,}")
    if min(sizes) < 1:
        lines.append("  ✗ the padding crops away the whole output")
        return Explanation("deconv", None, params, 0, False, lines)
    macs = height * width * channels * filters * kernel * kernel
    lines.append(f"  output: {sizes[0]}×{sizes[1]}×{filters} = {sizes[0] * sizes[1] * filters:,} activations")
    lines.append(f"  MACs = H·W·C_in·K·F·F = {height}·{width}·{channels}·{filters}·{kernel}·{kernel} = {macs:,} "
                 f"(each input pixel scatters one F×F kernel per output channel)")
    return Explanation("deconv", (sizes[0], sizes[1], filters), params, macs, True, lines)


def explain_linear(in_features: int, out_features: int, bias: bool = True) -> Explanation:
    """Parameters of a fully connected layer ``n_in → n_out``."""
    _check_positive("linear", in_features=in_features, out_features=out_features)
    params = in_features * out_features + (out_features if bias else 0)
    lines = [f"Fully connected: {in_features} → {out_features}",
             f"  parameters = n_in·n_out{' + n_out' if bias else ''} = {in_features}·{out_features}"
             f"{f' + {out_features}' if bias else ''} = {params:,}",
             f"  output: ({out_features}, 1) = {out_features:,} activations",
             f"  MACs = n_in·n_out = {in_features * out_features:,}"]
    return Explanation("linear", (out_features,), params, in_features * out_features, True, lines)


EXPLAINERS = {"conv": explain_conv, "pool": explain_pool, "deconv": explain_deconv, "linear": explain_linear}
"""The calculator's layer kinds (``nndl explain KIND``)."""

"""Each nndl layer as ONNX nodes (evaluation mode), one small function per layer class.

A function takes the graph builder, the layer, its path, the input tensor's
name and shape (with the batch axis), and returns the output tensor's name.
Most layers are one ONNX operator with the same attributes; the others are
short compositions, written out here:

- ``Maxout``: ``Gemm`` to ``pieces·M`` outputs, ``Reshape`` to ``(…, pieces, M)``
  (rows are piece-major), ``ReduceMax`` over the pieces;
- ``AdaptiveAvgPool2d``: ``GlobalAveragePool`` for 1×1, ``AveragePool`` when
  the input size is a multiple of the output size, else two ``MatMul`` with
  the averaging matrices ``P_h (H_out × H)`` and ``P_wᵀ``: ``y = P_h x P_wᵀ``,
  where row ``i`` of ``P`` averages the input cells ``⌊iH/H_out⌋ … ⌈(i+1)H/H_out⌉ − 1``;
- ``BatchNorm`` without running statistics: the batch mean and variance over
  every axis but the channels, ``(x − μ)/√(σ² + ε)·γ + β``;
- ``Softplus(β)``: ``Softplus(βx)/β``; ``Step``: ``Cast(x > 0)``;
- a convolution with ``padding_mode`` other than zeros: ``Pad`` (reflect,
  edge, or wrap from opset 19) before ``Conv``.
"""

from __future__ import annotations

import numpy as np

from nndl import nn

PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _bias(g, m, path):
    return [g.constant(f"{path}.bias", m.bias.data)] if m.bias is not None else []


def _affine(g, x, shape, weight, bias, path):
    """``x Wᵀ + b`` for ``x`` of shape ``(N, …, D)``: ``Gemm`` for 2-D inputs, ``MatMul`` + ``Add`` otherwise."""
    if len(shape) == 2:
        w = g.constant(f"{path}.weight", weight)
        inputs = [x, w] + ([g.constant(f"{path}.bias", bias)] if bias is not None else [])
        return g.node("Gemm", inputs, path, transB=1)
    # Wᵀ is stored as it is multiplied (a ``.weight_t`` initializer); the importer transposes it back.
    out = g.node("MatMul", [x, g.constant(f"{path}.weight_t", weight.T)], path)
    return g.node("Add", [out, g.constant(f"{path}.bias", bias)], path) if bias is not None else out


def linear(g, m, path, x, shape):
    return _affine(g, x, shape, m.weight.data, None if m.bias is None else m.bias.data, path)


def maxout(g, m, path, x, shape):
    z = _affine(g, x, shape, m.weight.data, None if m.bias is None else m.bias.data, path)
    target = g.constant(f"{path}.shape", [0] * (len(shape) - 1) + [m.pieces, m.out_features], np.int64)
    return g.reduce("ReduceMax", g.node("Reshape", [z, target], path), [len(shape) - 1], path, keepdims=0)


def conv2d(g, m, path, x, shape):
    top, bottom, left, right = m._pads
    if m.padding_mode != "zeros" and any(m._pads):
        if m.padding_mode == "circular" and g.opset < 19:
            raise ValueError(f"export_onnx: '{path}' Conv2d(padding_mode='circular') needs opset 19 or newer "
                             f"(ONNX Pad's 'wrap' mode), got opset {g.opset}")
        pads = g.constant(f"{path}.pads", [0, 0, top, left, 0, 0, bottom, right], np.int64)
        x = g.node("Pad", [x, pads], path, mode=PAD_MODES[m.padding_mode])
        top = bottom = left = right = 0
    return g.node("Conv", [x, g.constant(f"{path}.weight", m.weight.data)] + _bias(g, m, path), path,
                  kernel_shape=list(m.kernel_size), strides=list(m.stride), dilations=list(m.dilation),
                  pads=[top, left, bottom, right], group=m.groups)


def conv_transpose2d(g, m, path, x, shape):
    ph, pw = m.padding
    return g.node("ConvTranspose", [x, g.constant(f"{path}.weight", m.weight.data)] + _bias(g, m, path), path,
                  kernel_shape=list(m.kernel_size), strides=list(m.stride), dilations=list(m.dilation),
                  pads=[ph, pw, ph, pw], output_padding=list(m.output_padding), group=m.groups)


def max_pool2d(g, m, path, x, shape):
    if m.return_indices:
        raise ValueError(f"export_onnx: '{path}' MaxPool2d(return_indices=True) gives two outputs, which a "
                         "chain of modules cannot pass on; export the model without the indices")
    ph, pw = m.padding
    return g.node("MaxPool", [x], path, kernel_shape=list(m.kernel_size), strides=list(m.stride),
                  pads=[ph, pw, ph, pw], dilations=list(m.dilation), ceil_mode=int(m.ceil_mode))


def avg_pool2d(g, m, path, x, shape):
    ph, pw = m.padding
    return g.node("AveragePool", [x], path, kernel_shape=list(m.kernel_size), strides=list(m.stride),
                  pads=[ph, pw, ph, pw], ceil_mode=int(m.ceil_mode), count_include_pad=int(m.count_include_pad))


def averaging_matrix(size_in: int, size_out: int) -> np.ndarray:
    """``P`` of shape ``(size_out, size_in)``: row ``i`` averages cells ``⌊i·n/m⌋ … ⌈(i+1)·n/m⌉ − 1``."""
    matrix = np.zeros((size_out, size_in))
    for i in range(size_out):
        start, stop = (i * size_in) // size_out, -((-(i + 1) * size_in) // size_out)
        matrix[i, start:stop] = 1.0 / (stop - start)
    return matrix


def adaptive_avg_pool2d(g, m, path, x, shape):
    (h, w), (oh, ow) = shape[2:], m.output_size
    oh, ow = oh or h, ow or w  # None keeps the input size
    if (oh, ow) == (1, 1):
        return g.node("GlobalAveragePool", [x], path)
    if (oh, ow) == (h, w):
        return g.node("Identity", [x], path)
    if h % oh == 0 and w % ow == 0:
        kernel = [h // oh, w // ow]
        return g.node("AveragePool", [x], path, kernel_shape=kernel, strides=kernel)
    rows = g.node("MatMul", [g.constant(f"{path}.rows", averaging_matrix(h, oh)), x], path)
    return g.node("MatMul", [rows, g.constant(f"{path}.columns", averaging_matrix(w, ow).T)], path)


def global_avg_pool2d(g, m, path, x, shape):
    return g.node("Flatten", [g.node("GlobalAveragePool", [x], path)], path, axis=1)


def batch_norm(g, m, path, x, shape):
    channels = m.num_features
    # Without affine parameters γ = 1 and β = 0 are constants named so that the importer does not learn them.
    scale = g.constant(f"{path}.weight", m.weight.data) if m.affine else g.constant(f"{path}.unit_scale",
                                                                                     np.ones(channels))
    shift = g.constant(f"{path}.bias", m.bias.data) if m.affine else g.constant(f"{path}.zero_shift",
                                                                                 np.zeros(channels))
    if m.track_running_stats and m.running_mean is not None:
        mean, var = g.constant(f"{path}.running_mean", m.running_mean), g.constant(f"{path}.running_var",
                                                                                   m.running_var)
        return g.node("BatchNormalization", [x, scale, shift, mean, var], path, epsilon=m.eps)
    axes = [0] + list(range(2, len(shape)))
    mean = g.reduce("ReduceMean", x, axes, path, keepdims=1)
    centred = g.node("Sub", [x, mean], path)
    var = g.reduce("ReduceMean", g.node("Mul", [centred, centred], path), axes, path, keepdims=1)
    std = g.node("Sqrt", [g.node("Add", [var, g.constant(f"{path}.eps", m.eps)], path)], path)
    broadcast = (channels,) + (1,) * (len(shape) - 2)
    scale = g.node("Reshape", [scale, g.constant(f"{path}.channel_shape", broadcast, np.int64)], path)
    shift = g.node("Reshape", [shift, g.constant(f"{path}.channel_shape", broadcast, np.int64)], path)
    normalized = g.node("Div", [centred, std], path)
    return g.node("Add", [g.node("Mul", [normalized, scale], path), shift], path)


def layer_norm(g, m, path, x, shape):
    if g.opset < 17:
        raise ValueError(f"export_onnx: '{path}' LayerNorm needs opset 17 or newer, got opset {g.opset}")
    affine = m.elementwise_affine
    scale = g.constant(f"{path}.weight", m.weight.data) if affine else g.constant(
        f"{path}.unit_scale", np.ones(m.normalized_shape))
    inputs = [x, scale] + ([g.constant(f"{path}.bias", m.bias.data)] if affine and m.bias is not None else [])
    return g.node("LayerNormalization", inputs, path, axis=-len(m.normalized_shape), epsilon=m.eps)


def flatten(g, m, path, x, shape):
    rank = len(shape)
    start, end = m.start_dim % rank, m.end_dim % rank
    if end == rank - 1 and start == 1:  # ONNX's Flatten always gives 2 axes: only torch's Flatten(1, -1)
        return g.node("Flatten", [x], path, axis=1)
    # 0 copies the input's size on that axis (the batch stays dynamic); -1 is the merged axis.
    target = [0] * start + [-1] + [int(d) for d in shape[end + 1:]]
    return g.node("Reshape", [x, g.constant(f"{path}.shape", target, np.int64)], path)


def prelu(g, m, path, x, shape):
    slopes = m.weight.data
    if m.num_parameters > 1:  # one slope per channel (axis 1), broadcast over the rest
        slopes = slopes.reshape((m.num_parameters,) + (1,) * (len(shape) - 2))
    return g.node("PRelu", [x, g.constant(f"{path}.weight", slopes)], path)


def softplus(g, m, path, x, shape):
    if m.beta == 1.0:
        return g.node("Softplus", [x], path)
    beta = g.constant(f"{path}.beta", m.beta)
    return g.node("Div", [g.node("Softplus", [g.node("Mul", [x, beta], path)], path), beta], path)


def step(g, m, path, x, shape):
    positive = g.node("Greater", [x, g.constant(f"{path}.zero", 0.0)], path)
    return g.node("Cast", [positive], path, to=g.elem_type)


def upsample(g, m, path, x, shape):
    scales = g.constant(f"{path}.scales", [1.0, 1.0] + [float(s) for s in m.scale_factor], np.float32)
    return g.node("Resize", [x, "", scales], path, mode="nearest", coordinate_transformation_mode="asymmetric",
                  nearest_mode="floor")


def _unsupported(reason):
    def refuse(g, m, path, x, shape):
        raise ValueError(f"export_onnx: '{path}' {type(m).__name__} {reason}")
    return refuse


def _simple(op, **attributes):
    def build(g, m, path, x, shape):
        return g.node(op, [x], path, **{k: v(m) for k, v in attributes.items()})
    return build


LEAVES = {
    nn.Linear: linear, nn.Maxout: maxout, nn.Conv2d: conv2d, nn.ConvTranspose2d: conv_transpose2d,
    nn.MaxPool2d: max_pool2d, nn.AvgPool2d: avg_pool2d, nn.AdaptiveAvgPool2d: adaptive_avg_pool2d,
    nn.GlobalAvgPool2d: global_avg_pool2d, nn.BatchNorm1d: batch_norm, nn.BatchNorm2d: batch_norm,
    nn.LayerNorm: layer_norm, nn.Flatten: flatten, nn.PReLU: prelu, nn.Softplus: softplus, nn.Step: step,
    nn.Upsample: upsample,
    nn.LocalResponseNorm: _simple("LRN", size=lambda m: m.size, alpha=lambda m: m.alpha, beta=lambda m: m.beta,
                                  bias=lambda m: m.k),
    nn.Dropout: _simple("Identity"), nn.Dropout2d: _simple("Identity"), nn.Identity: _simple("Identity"),
    nn.GaussianNoise: _simple("Identity"),
    nn.ReLU: _simple("Relu"), nn.Sigmoid: _simple("Sigmoid"), nn.Tanh: _simple("Tanh"),
    nn.LeakyReLU: _simple("LeakyRelu", alpha=lambda m: m.negative_slope),
    nn.ELU: _simple("Elu", alpha=lambda m: m.alpha),
    nn.Softmax: _simple("Softmax", axis=lambda m: m.axis),
    nn.LogSoftmax: _simple("LogSoftmax", axis=lambda m: m.axis),
    nn.MaxUnpool2d: _unsupported("takes two inputs (values and pooling indices), which a chain of modules "
                                 "cannot pass on"),
}
"""nndl leaf class -> its ONNX emitter."""


def emit_leaf(g, module, path, x, shape) -> str:
    """The output name of ``module``'s nodes on ``x`` (a subclass uses its nearest listed base)."""
    for cls in type(module).__mro__:
        if cls in LEAVES:
            return LEAVES[cls](g, module, path or type(module).__name__, x, shape)
    raise ValueError(f"export_onnx: '{path or '<root>'}' {type(module).__name__} has no ONNX form; "
                     f"exportable layers: {', '.join(sorted(c.__name__ for c in LEAVES))}")

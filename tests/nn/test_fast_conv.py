"""Fast convolution kernels (nndl.nn._fast) against the reference ones (nndl.nn.functional); the reference gradchecked.

Every fast pair must give the reference pair's results on a grid of shapes
(batch 1 and odd sizes, strides, dilations, paddings including 'same', every
padding mode, groups including depthwise, output_padding), in float64 to
1e-10 and in float32 to float32 rounding, for NCHW and channels-last inputs,
with the default knobs and with every path forced (thread splits, one image
per chunk, the channels-last rows layout). The reference pair itself is
checked by central differences in float64.
"""

from __future__ import annotations

import threading
import tracemalloc
import zlib

import numpy as np
import pytest

from nndl.check import numerical_gradient, rel_error
from nndl.nn import _fast, functional
from nndl.nn._fast import conv_rows, correlate, parallel
from nndl.nn._fast.settings import settings
from nndl.nn._fast.windows import channels_last_block, is_channels_last

pytestmark = pytest.mark.chooses_kernel_sets  # compares the two sets itself

TOLERANCE = {np.float64: 1e-10, np.float32: 2e-5}
"""Largest error relative to the result's scale (:func:`rel_error`): float64 to 1e-10, float32 to its rounding."""

# (in, out, kernel, stride, padding, dilation, groups, bias, padding_mode, input shape)
CONV_CASES = [
    (1, 1, 1, 1, 0, 1, 1, True, "zeros", (1, 1, 3, 4)),
    (3, 5, 1, 1, 0, 1, 1, False, "zeros", (2, 3, 4, 5)),          # pointwise
    (4, 6, 1, 2, 0, 1, 2, True, "zeros", (3, 4, 5, 6)),           # strided pointwise, groups
    (3, 4, 3, 1, 1, 1, 1, True, "zeros", (1, 3, 5, 6)),
    (2, 3, (2, 3), (2, 1), (1, 0), 1, 1, True, "zeros", (3, 2, 7, 5)),
    (3, 2, 3, 3, 2, 2, 1, True, "zeros", (2, 3, 9, 8)),
    (2, 3, 2, 1, "same", 1, 1, True, "zeros", (2, 2, 5, 6)),      # odd total padding
    (3, 2, (3, 5), 1, "same", (2, 1), 1, False, "zeros", (1, 3, 7, 9)),
    (2, 3, 5, 2, "valid", 1, 1, True, "zeros", (3, 2, 9, 11)),
    (4, 6, 3, 1, 1, 1, 2, True, "zeros", (2, 4, 5, 5)),
    (3, 3, 3, 2, 1, 1, 3, True, "zeros", (3, 3, 7, 6)),           # depthwise
    (3, 6, 2, 1, 0, 2, 3, False, "zeros", (1, 3, 6, 5)),          # depthwise, channel multiplier 2
    (2, 3, 3, 1, 1, 1, 1, True, "reflect", (2, 2, 5, 6)),
    (2, 2, 3, 2, (2, 1), 1, 1, True, "replicate", (1, 2, 4, 5)),
    (2, 3, 3, 1, 2, 1, 1, True, "circular", (3, 2, 6, 5)),
    (4, 4, 3, 2, 1, 1, 2, True, "reflect", (2, 4, 6, 7)),          # groups with a copying padding mode
    (1, 5, 3, 1, 1, 1, 1, True, "zeros", (2, 1, 5, 4)),           # F > 2C: col2im input gradient
    (16, 8, 3, 1, 1, 1, 1, True, "zeros", (3, 16, 6, 5)),         # rows path (many input channels)
    (16, 24, 3, 2, 1, 1, 1, True, "zeros", (1, 16, 7, 6)),        # rows, strided, channels-last output
    (16, 20, 1, 1, 0, 1, 1, False, "zeros", (3, 16, 4, 5)),       # rows, pointwise: the rows are the input
    (3, 16, 3, 1, "same", 1, 1, True, "zeros", (2, 3, 6, 7)),     # columns, channels-last output
    (18, 18, 3, 1, 1, 1, 1, True, "replicate", (2, 18, 5, 5)),    # rows with a copying padding mode
    (16, 16, 3, 1, 1, 1, 16, True, "zeros", (2, 16, 5, 4)),       # depthwise with many channels
]

# (in, out, kernel, stride, padding, output_padding, groups, dilation, bias, input shape)
TRANSPOSE_CASES = [
    (1, 1, 1, 1, 0, 0, 1, 1, True, (1, 1, 3, 4)),
    (3, 2, 1, 2, 0, 1, 1, 1, True, (2, 3, 3, 2)),
    (2, 3, 2, 2, 0, 0, 1, 1, False, (3, 2, 3, 4)),
    (3, 2, 3, 2, 1, 1, 1, 1, True, (2, 3, 4, 3)),
    (2, 2, 3, 3, 2, 2, 1, 1, True, (1, 2, 3, 3)),
    (2, 3, (2, 3), (2, 1), (1, 0), (1, 0), 1, 1, True, (2, 2, 4, 3)),
    (2, 2, 3, 1, 1, 1, 1, 2, True, (2, 2, 4, 5)),                 # output_padding < dilation (stride 1)
    (4, 6, 3, 2, 1, 1, 2, 1, True, (2, 4, 3, 4)),
    (3, 3, 3, 2, 0, 0, 3, 1, True, (3, 3, 3, 3)),                 # depthwise
    (4, 2, 2, 3, 1, 2, 2, 2, False, (1, 4, 3, 2)),
    (5, 2, 3, 1, 1, 0, 1, 1, True, (2, 5, 3, 4)),                 # stride 1, C_in > 2 C_out: col2im
    (16, 16, 3, 2, 1, 1, 1, 1, True, (2, 16, 3, 4)),              # the adjoint's products take the rows path
    (8, 16, 4, 2, 1, 0, 1, 1, True, (1, 8, 3, 3)),
]

SPLIT = dict(parallel_min_elements=0, column_chunk_bytes=1, threads=3)  # 3 threads: uneven parts of the batch
PATHS = {
    "default": {},
    "rows": dict(SPLIT, row_layout_min_channels=1),
    "columns-last": dict(SPLIT, row_layout_min_channels=10**9, channels_last_min_filters=1),
    "columns": dict(SPLIT, row_layout_min_channels=10**9, channels_last_min_filters=10**9),
}
"""Knobs that force each fast path on small inputs: thread splits and one image per chunk, with the
channels-last rows layout, with per-image columns and a channels-last output, or with columns only."""
FORCED = PATHS["rows"]


def as_channels_last(x: np.ndarray) -> np.ndarray:
    return channels_last_block(x).transpose(0, 3, 1, 2)


def _pair(value):
    return value if isinstance(value, tuple) else (value, value)


def conv_arguments(case, dtype, rng):
    c_in, c_out, kernel, stride, padding, dilation, groups, bias, mode, shape = case
    x = rng.standard_normal(shape).astype(dtype)
    weight = rng.standard_normal((c_out, c_in // groups) + _pair(kernel)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype) if bias else None
    return x, weight, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups, padding_mode=mode)


def transpose_arguments(case, dtype, rng):
    c_in, c_out, kernel, stride, padding, output_padding, groups, dilation, bias, shape = case
    x = rng.standard_normal(shape).astype(dtype)
    weight = rng.standard_normal((c_in, c_out // groups) + _pair(kernel)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype) if bias else None
    return x, weight, b, dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                              dilation=dilation)


def run_pair(kernels, op, x, weight, bias, options, dout):
    """Forward and backward of ``op`` with one kernel set; returns (out, dx, dweight, dbias)."""
    out, cache = getattr(kernels, f"{op}_forward")(x, weight, bias, **options)
    dx, dweight, dbias = getattr(kernels, f"{op}_backward")(dout, cache)
    return out, dx, dweight, dbias


def assert_matches_reference(op, arguments, case, dtype, channels_last, path):
    rng = np.random.default_rng(zlib.crc32(str(case).encode()))
    x, weight, bias, options = arguments(case, dtype, rng)
    out, cache = getattr(functional, f"{op}_forward")(x, weight, bias, **options)
    dout = rng.standard_normal(out.shape).astype(dtype)
    expected = (out,) + getattr(functional, f"{op}_backward")(dout, cache)
    if channels_last:
        x, dout = as_channels_last(x), as_channels_last(dout)
    with settings.override(**PATHS[path]):
        results = run_pair(_fast, op, x, weight, bias, options, dout)
    for name, result, reference in zip(("out", "dx", "dweight", "dbias"), results, expected):
        if reference is None:
            assert result is None, name
            continue
        assert result.shape == reference.shape and result.dtype == reference.dtype == dtype, name
        assert rel_error(result, reference) < TOLERANCE[dtype], name
    # The reference pair's own outputs are ordinary C-contiguous arrays, whatever the input layout.
    assert all(r is None or r.flags.c_contiguous for r in expected)


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CONV_CASES, ids=[str(i) for i in range(len(CONV_CASES))])
def test_fast_conv2d_matches_reference(case, dtype, channels_last, path):
    assert_matches_reference("conv2d", conv_arguments, case, dtype, channels_last, path)


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=[str(i) for i in range(len(TRANSPOSE_CASES))])
def test_fast_conv_transpose2d_matches_reference(case, dtype, channels_last, path):
    assert_matches_reference("conv_transpose2d", transpose_arguments, case, dtype, channels_last, path)


def test_forced_knobs_really_take_the_fast_paths(monkeypatch):
    # The forced settings above must split the batch over threads and store the output channels-last.
    calls = []
    original = parallel.split_batch
    x, weight, bias, options = conv_arguments(CONV_CASES[3], np.float64, np.random.default_rng(0))

    def spy(work, batch, elements):
        parts = []
        result = original(lambda rows: parts.append(rows) or work(rows), batch, elements)
        calls.append(parts)
        return result

    for module in (correlate, conv_rows):
        monkeypatch.setattr(module, "split_batch", spy)
    with settings.override(**FORCED):
        out, _ = _fast.conv2d_forward(x, weight, bias, **options)
    assert is_channels_last(out) and calls and len(calls[0]) == 1  # batch 1: nothing to split
    x = np.concatenate([x] * 5)
    calls.clear()
    with settings.override(**FORCED):
        _fast.conv2d_forward(x, weight, bias, **options)
    assert sorted((p.start, p.stop) for p in calls[0]) == [(0, 1), (1, 3), (3, 5)]


def test_the_kernel_sets_hold_the_conv_pairs():
    from nndl.nn._fast import conv, conv_transpose
    assert _fast.conv2d_forward is conv.conv2d_forward and _fast.conv2d_backward is conv.conv2d_backward
    assert _fast.conv_transpose2d_forward is conv_transpose.conv_transpose2d_forward
    assert functional.conv2d_forward.__module__ == "nndl.nn.functional.conv"
    assert {"conv2d_forward", "conv2d_backward", "conv_transpose2d_forward",
            "conv_transpose2d_backward"} <= set(functional.__all__)


# ---------------------------------------------------------------------- working memory of the backward pass
# (op, input shape, weight shape, options): each would hold a padded copy of δ or of ∂L/∂x of 4-12 MB if
# the backward padded or accumulated the whole batch at once; one image's columns fit in a chunk.
MEMORY_CASES = {
    "correlation-columns": ("conv2d", (1024, 4, 12, 12), (4, 4, 3, 3), dict(padding=1)),
    "correlation-rows": ("conv2d", (512, 16, 8, 8), (16, 16, 3, 3), dict(padding=1)),
    "col2im-stride-1": ("conv2d", (1024, 3, 12, 12), (8, 3, 3, 3), dict(padding=1)),
    "col2im-strided": ("conv2d", (1024, 3, 12, 12), (8, 3, 3, 3), dict(stride=2, padding=1)),
    "reflect": ("conv2d", (1024, 4, 12, 12), (4, 4, 3, 3), dict(padding=1, padding_mode="reflect")),
    "transpose": ("conv_transpose2d", (1024, 8, 6, 6), (8, 4, 4, 4), dict(stride=2, padding=1)),
}
MEMORY_CHUNK = 64 * 2**10
MEMORY_BOUND = 24 * MEMORY_CHUNK
"""1.5 MiB: a few chunks' scratch buffers per thread, well below one padded copy of these batches."""


def held_bytes(arrays) -> int:
    """Bytes of the distinct memory blocks behind ``arrays`` (None skipped, views counted once)."""
    blocks = {}
    for array in arrays:
        if array is not None:
            while isinstance(array.base, np.ndarray):
                array = array.base
            blocks[id(array)] = array.nbytes
    return sum(blocks.values())


@pytest.mark.parametrize("name", list(MEMORY_CASES))
def test_backward_working_memory_is_a_few_chunks(name):
    # Peak traced memory during the backward pass minus the arrays the caller holds (inputs, weights,
    # cache, δ, the gradients returned) stays within a few chunks: δ is padded and ∂L/∂x built one chunk
    # at a time, in the forward's chunk size, even split over threads.
    op, shape, weight_shape, options = MEMORY_CASES[name]
    rng = np.random.default_rng(3)
    x, weight = rng.standard_normal(shape), rng.standard_normal(weight_shape)
    bias = rng.standard_normal(weight_shape[0] if op == "conv2d" else weight_shape[1])
    forward, backward = getattr(_fast, f"{op}_forward"), getattr(_fast, f"{op}_backward")
    with settings.override(column_chunk_bytes=MEMORY_CHUNK, parallel_min_elements=0, threads=2):
        out, cache = forward(x, weight, bias, **options)
        dout = rng.standard_normal(out.shape)
        expected = getattr(functional, f"{op}_backward")(dout, getattr(functional, f"{op}_forward")(
            x, weight, bias, **options)[1])
        del out
        measured = {}

        def measure():
            # In a new thread: its scratch buffers (per thread) start empty, whatever earlier tests left.
            tracemalloc.start()
            try:
                start = tracemalloc.get_traced_memory()[0]
                measured["grads"] = grads = backward(dout, cache)
                measured["extra"] = tracemalloc.get_traced_memory()[1] - start - held_bytes(grads)
            finally:
                tracemalloc.stop()

        thread = threading.Thread(target=measure)
        thread.start()
        thread.join()
    grads, extra = measured["grads"], measured["extra"]
    assert max(dout.nbytes, x.nbytes) > 2 * MEMORY_BOUND  # the case is large enough to tell
    assert extra < MEMORY_BOUND, f"{name}: {extra / 2**20:.2f} MiB above the live arrays"
    for result, reference in zip(grads, expected):
        assert rel_error(result, reference) < TOLERANCE[np.float64]


# ---------------------------------------------------------------------- the reference against central differences
def assert_reference_gradients(op, x, weight, bias, options):
    forward, backward = getattr(functional, f"{op}_forward"), getattr(functional, f"{op}_backward")
    out, cache = forward(x, weight, bias, **options)
    dout = np.random.default_rng(9).standard_normal(out.shape)
    analytic = dict(zip(("x", "weight", "bias"), backward(dout, cache)))

    def loss():
        return float(np.sum(forward(x, weight, bias, **options)[0] * dout))

    for name, value in (("x", x), ("weight", weight), ("bias", bias)):
        if value is not None:
            assert rel_error(analytic[name], numerical_gradient(loss, value)) < 1e-7, name


@pytest.mark.parametrize("case", [CONV_CASES[i] for i in (2, 4, 5, 6, 7, 11, 12, 13, 14, 15)],
                         ids=["1x1-groups", "rect", "dilated", "same", "same-dilated", "depthwise", "reflect",
                              "replicate", "circular", "reflect-groups"])
def test_reference_conv2d_gradcheck(case):
    x, weight, bias, options = conv_arguments(case, np.float64, np.random.default_rng(1))
    assert_reference_gradients("conv2d", x, weight, bias, options)


@pytest.mark.parametrize("case", [TRANSPOSE_CASES[i] for i in (1, 3, 4, 5, 6, 7, 8, 9)],
                         ids=["1x1", "s2", "s3", "rect", "dilated-op", "groups", "depthwise", "groups-dilated"])
def test_reference_conv_transpose2d_gradcheck(case):
    x, weight, bias, options = transpose_arguments(case, np.float64, np.random.default_rng(2))
    assert_reference_gradients("conv_transpose2d", x, weight, bias, options)


def test_reference_conv2d_is_the_notes_sum():
    # z[n, f, h, w] = b_f + Σ_{c,i,j} W[f, c, i, j] a[n, c, h s + i d, w s + j d], term by term.
    rng = np.random.default_rng(3)
    x, weight, bias = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 2, 3)), rng.standard_normal(6)
    out, _ = functional.conv2d_forward(x, weight, bias, stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2)
    a = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)))
    expected = np.empty_like(out)
    for n, f, h, w in np.ndindex(*out.shape):
        group = f // 3
        expected[n, f, h, w] = bias[f] + sum(weight[f, c, i, j] * a[n, 2 * group + c, 2 * h + 2 * i, w + j]
                                             for c in range(2) for i in range(2) for j in range(3))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_reference_backward_can_skip_gradients():
    x, weight, bias, options = conv_arguments(CONV_CASES[3], np.float64, np.random.default_rng(4))
    for kernels in (functional, _fast):
        out, cache = kernels.conv2d_forward(x, weight, bias, **options)
        dx, dweight, dbias = kernels.conv2d_backward(np.ones_like(out), cache, need_input_grad=False)
        assert dx is None and dweight is not None and dbias is not None
        dx, dweight, dbias = kernels.conv2d_backward(np.ones_like(out), cache, need_weight_grad=False)
        assert dx is not None and dweight is None and dbias is None


@pytest.mark.parametrize("kernels", [functional, _fast], ids=["reference", "fast"])
def test_kernels_reject_bad_arguments(kernels):
    x = np.zeros((1, 3, 5, 5))
    with pytest.raises(ValueError, match=r"conv2d_forward: expected input of shape \(N, 4, H, W\)"):
        kernels.conv2d_forward(x, np.zeros((2, 4, 3, 3)))
    with pytest.raises(ValueError, match="conv2d_forward: unknown padding_mode 'mirror'"):
        kernels.conv2d_forward(x, np.zeros((2, 3, 3, 3)), padding_mode="mirror")
    with pytest.raises(ValueError, match="reflect padding"):
        kernels.conv2d_forward(x, np.zeros((2, 3, 3, 3)), padding=5, padding_mode="reflect")
    with pytest.raises(ValueError, match="conv_transpose2d_forward: output_padding"):
        kernels.conv_transpose2d_forward(x, np.zeros((3, 2, 3, 3)), stride=2, output_padding=2)

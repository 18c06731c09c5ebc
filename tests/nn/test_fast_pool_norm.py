"""Fast pooling, normalization and dropout kernels against their references; gradchecks of the references.

Every fast pair (:mod:`nndl.nn._fast`) must give its reference's results
(:mod:`nndl.nn.functional`) on a grid of shapes and options: float64 to 1e-10
relative, float32 to float32 rounding, with channels-last inputs and with
batches split over threads.
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from nndl.check import numerical_gradient, rel_error
from nndl.nn import _fast as fast
from nndl.nn import functional as ref
from nndl.nn._fast import parallel
from nndl.nn._fast.settings import settings

pytestmark = pytest.mark.chooses_kernel_sets  # compares the two sets itself

TOLERANCE = {np.float64: 1e-10, np.float32: 2e-5}
GRAD_TOL = 1e-7


def assert_same(fast_value, ref_value, dtype, scale=None):
    """Equal to rounding, relative to the array's scale (an entry that cancels to ~0 is not held to 1e-10 of itself).

    ``scale`` (default: the largest entry) is the size of the terms the
    value was computed from, for results that cancel to almost nothing.
    """
    if ref_value is None:
        assert fast_value is None
        return
    assert fast_value.shape == ref_value.shape and fast_value.dtype == ref_value.dtype == np.dtype(dtype)
    tol = TOLERANCE[dtype]
    scale = max(float(np.abs(ref_value).max(initial=0.0)), scale or 0.0, 1e-30)
    np.testing.assert_allclose(fast_value, ref_value, rtol=tol, atol=tol * scale)


def channels_last(a):
    """The same values stored NHWC behind the NCHW shape."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def layouts_and_splits(x):
    """``(x, description, context)`` for plain, channels-last and thread-split runs of a 4-D input.

    ``context()`` makes a fresh context manager for each use.
    """
    yield x, "nchw", settings.override
    yield channels_last(x), "channels-last", settings.override
    yield x, "split", ForcedSplit
    yield channels_last(x), "channels-last split", ForcedSplit


class ForcedSplit:
    """Every kernel that can split its batch over threads does, with at least 2 workers."""

    def __enter__(self):
        self._limits = threadpool_limits(limits=3, user_api="blas")
        self._settings = settings.override(parallel_min_elements=0)
        self._settings.__enter__()
        assert parallel.worker_count() >= 2, "could not get two worker threads: the split would not be tested"

    def __exit__(self, *exc):
        self._settings.__exit__(*exc)
        self._limits.unregister()


def check_reference_gradients(forward, backward, arrays, rng, exclude=()):
    """Central differences of ``L = Σ out ⊙ dout`` against the reference backward, for each float array."""
    out, cache = forward(*arrays)
    dout = rng.standard_normal(out.shape)
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for index, (array, grad) in enumerate(zip(arrays, grads)):
        if index in exclude or array is None:
            continue

        def loss():
            return float(np.sum(forward(*arrays)[0] * dout))

        numeric = numerical_gradient(loss, array)
        assert rel_error(grad, numeric) < GRAD_TOL, (index, rel_error(grad, numeric))


# ---------------------------------------------------------------------- pooling
# (kernel, stride, padding, dilation, ceil_mode, shape): batch 1, odd sizes, overlaps, padding, dilation, ceil_mode.
MAX_POOL_GRID = [
    (2, None, 0, 1, False, (2, 3, 6, 8)),
    (2, None, 0, 1, False, (1, 2, 7, 5)),
    (3, 2, 1, 1, False, (3, 4, 7, 9)),
    (3, 1, 1, 1, False, (2, 3, 5, 6)),
    ((2, 3), (1, 2), (1, 0), 1, False, (2, 5, 6, 7)),
    (2, 1, 1, 2, False, (2, 2, 5, 6)),
    (3, 2, 0, 1, True, (2, 3, 10, 11)),
    (2, 2, 1, 1, True, (1, 4, 7, 6)),
    ((3, 2), (2, 3), (1, 0), (2, 1), True, (3, 2, 9, 10)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode, shape", MAX_POOL_GRID)
def test_max_pool2d_fast_equals_reference(kernel, stride, padding, dilation, ceil_mode, shape, dtype):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(shape).astype(dtype)
    x0[0, 0, :2, :2] = 1.0  # a tie: the first maximal tap wins in both
    args = (kernel, stride, padding, dilation, ceil_mode)
    out_ref, cache_ref = ref.max_pool2d_forward(x0, *args)
    dout = rng.standard_normal(out_ref.shape).astype(dtype)
    dx_ref = ref.max_pool2d_backward(dout, cache_ref)
    indices_ref = ref.max_pool2d_indices(cache_ref)
    for x, layout, context in layouts_and_splits(x0):
        for track_argmax in (True, False):  # False: the inference path, argmax recovered on demand
            with context():
                out, cache = fast.max_pool2d_forward(x, *args, track_argmax=track_argmax)
                assert_same(out, out_ref, dtype)
                assert_same(fast.max_pool2d_backward(dout, cache), dx_ref, dtype)
                np.testing.assert_array_equal(fast.max_pool2d_indices(cache), indices_ref, err_msg=layout)


AVG_POOL_GRID = [
    (2, None, 0, False, (2, 3, 6, 8)),
    (3, 2, 1, False, (1, 2, 7, 9)),
    (3, 1, 1, False, (2, 3, 5, 5)),
    ((2, 3), (1, 2), (1, 0), False, (2, 2, 6, 7)),
    (3, 2, 0, True, (2, 3, 10, 11)),
    (2, 2, 1, True, (1, 2, 7, 6)),
    ((3, 2), (2, 3), (1, 0), True, (1, 2, 9, 10)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, shape", AVG_POOL_GRID)
def test_avg_pool2d_fast_equals_reference(kernel, stride, padding, ceil_mode, shape, count_include_pad, dtype):
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal(shape).astype(dtype)
    args = (kernel, stride, padding, count_include_pad, ceil_mode)
    out_ref, cache_ref = ref.avg_pool2d_forward(x0, *args)
    dout = rng.standard_normal(out_ref.shape).astype(dtype)
    dx_ref = ref.avg_pool2d_backward(dout, cache_ref)
    for x, _, context in layouts_and_splits(x0):
        with context():
            out, cache = fast.avg_pool2d_forward(x, *args)
            assert_same(out, out_ref, dtype)
            assert_same(fast.avg_pool2d_backward(dout, cache), dx_ref, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("output_size, shape", [
    (1, (2, 3, 5, 7)), (2, (1, 2, 4, 4)), (3, (2, 2, 7, 5)), ((4, 3), (2, 1, 9, 7)), ((None, 3), (2, 2, 4, 7)),
    ((6, 6), (1, 1, 4, 5))])
def test_adaptive_avg_pool2d_fast_equals_reference(output_size, shape, dtype):
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal(shape).astype(dtype)
    out_ref, cache_ref = ref.adaptive_avg_pool2d_forward(x0, output_size)
    dout = rng.standard_normal(out_ref.shape).astype(dtype)
    dx_ref = ref.adaptive_avg_pool2d_backward(dout, cache_ref)
    for x, _, context in layouts_and_splits(x0):
        with context():
            out, cache = fast.adaptive_avg_pool2d_forward(x, output_size)
            assert_same(out, out_ref, dtype)
            assert_same(fast.adaptive_avg_pool2d_backward(dout, cache), dx_ref, dtype)


# ---------------------------------------------------------------------- normalization
BATCH_NORM_SHAPES = [(2, 3), (7, 4), (1, 3, 2), (3, 4, 5), (2, 3, 3, 3), (1, 2, 3, 5), (5, 6, 4, 7)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", BATCH_NORM_SHAPES)
def test_batch_norm_fast_equals_reference(shape, training, affine, dtype):
    rng = np.random.default_rng(3)
    channels = shape[1]
    x0 = (rng.standard_normal(shape) * 3.0 + 2.0).astype(dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    weight = rng.uniform(0.5, 2.0, channels).astype(dtype) if affine else None
    bias = rng.standard_normal(channels).astype(dtype) if affine else None
    running = () if training else (rng.standard_normal(channels).astype(dtype),
                                   rng.uniform(0.5, 2.0, channels).astype(dtype))
    out_ref, cache_ref = ref.batch_norm_forward(x0, weight, bias, 1e-5, *running)
    grads_ref = ref.batch_norm_backward(dout, cache_ref)
    runs = layouts_and_splits(x0) if len(shape) == 4 else [(x0, "plain", settings.override),
                                                            (x0, "split", ForcedSplit)]
    for x, _, context in runs:
        d = channels_last(dout) if len(shape) == 4 and not x.flags.c_contiguous else dout
        for slab_bytes in (settings.batch_norm_slab_bytes, 1):
            with context(), settings.override(batch_norm_slab_bytes=slab_bytes):
                out, cache = fast.batch_norm_forward(x, weight, bias, 1e-5, *running)
                assert_same(out, out_ref, dtype)
                assert_same(cache.mean, cache_ref.mean, dtype)
                assert_same(cache.var, cache_ref.var, dtype)
                dx, *dparams = fast.batch_norm_backward(d, cache)
                # With 2 values per channel x̂ = ±1 whatever x is, and the exact ∂L/∂x is 0: the result is
                # rounding noise of terms of size |γ δ / σ|, so that is the scale it is compared at.
                terms = np.abs(dout).max() * np.abs(1.0 if weight is None else weight).max() * cache_ref.inv_std.max()
                assert_same(dx, grads_ref[0], dtype, scale=terms)
                for grad, grad_ref in zip(dparams, grads_ref[1:]):
                    assert_same(grad, grad_ref, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weight, bias", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("shape, normalized_ndim", [((2, 5), 1), ((1, 5), 1), ((2, 4, 3), 1), ((2, 3, 3, 4), 2),
                                                    ((1, 2, 3, 4), 3), ((7,), 1)])
def test_layer_norm_fast_equals_reference(shape, normalized_ndim, weight, bias, dtype):
    rng = np.random.default_rng(4)
    param_shape = shape[len(shape) - normalized_ndim:]
    x = (rng.standard_normal(shape) * 3.0 + 7.0).astype(dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    w = rng.uniform(0.5, 2.0, param_shape).astype(dtype) if weight else None
    b = rng.standard_normal(param_shape).astype(dtype) if bias else None
    out_ref, cache_ref = ref.layer_norm_forward(x, normalized_ndim, w, b)
    out, cache = fast.layer_norm_forward(x, normalized_ndim, w, b)
    assert_same(out, out_ref, dtype)
    for grad, grad_ref in zip(fast.layer_norm_backward(dout, cache), ref.layer_norm_backward(dout, cache_ref)):
        assert_same(grad, grad_ref, dtype)


# ---------------------------------------------------------------------- gradchecks of the references (float64)
@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode, shape", MAX_POOL_GRID)
def test_max_pool2d_reference_gradcheck(kernel, stride, padding, dilation, ceil_mode, shape):
    x = np.random.default_rng(5).standard_normal(shape)
    check_reference_gradients(lambda a: ref.max_pool2d_forward(a, kernel, stride, padding, dilation, ceil_mode),
                              ref.max_pool2d_backward, [x], np.random.default_rng(6))


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, shape", AVG_POOL_GRID)
def test_avg_pool2d_reference_gradcheck(kernel, stride, padding, ceil_mode, shape, count_include_pad):
    x = np.random.default_rng(7).standard_normal(shape)
    check_reference_gradients(
        lambda a: ref.avg_pool2d_forward(a, kernel, stride, padding, count_include_pad, ceil_mode),
        ref.avg_pool2d_backward, [x], np.random.default_rng(8))


@pytest.mark.parametrize("output_size, shape", [(2, (2, 3, 4, 4)), ((4, 3), (1, 2, 9, 7)), ((6, 6), (1, 1, 4, 5))])
def test_adaptive_and_global_avg_pool2d_reference_gradcheck(output_size, shape):
    x = np.random.default_rng(9).standard_normal(shape)
    check_reference_gradients(lambda a: ref.adaptive_avg_pool2d_forward(a, output_size),
                              ref.adaptive_avg_pool2d_backward, [x], np.random.default_rng(10))
    check_reference_gradients(ref.global_avg_pool2d_forward, ref.global_avg_pool2d_backward, [x],
                              np.random.default_rng(11))


@pytest.mark.parametrize("kernel, stride, shape", [(2, None, (2, 3, 9, 9)), (3, 3, (1, 2, 9, 8)),
                                                  ((2, 3), (2, 3), (1, 2, 7, 9))])
def test_max_unpool2d_and_upsample_reference_gradcheck(kernel, stride, shape):
    # Disjoint windows: every index is taken once (shared maxima of overlapping pools are not differentiable).
    rng = np.random.default_rng(12)
    pooled, cache = ref.max_pool2d_forward(rng.standard_normal(shape), kernel, stride)
    indices = ref.max_pool2d_indices(cache)
    x = rng.standard_normal(pooled.shape)
    check_reference_gradients(lambda a: ref.max_unpool2d_forward(a, indices, kernel, stride, 0, shape[2:]),
                              ref.max_unpool2d_backward, [x], rng)
    check_reference_gradients(lambda a: ref.upsample_forward(a, (2, 3)), ref.upsample_backward, [x], rng)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4), (2, 3, 3, 2), (1, 2, 3, 3)])
def test_batch_norm_reference_gradcheck(shape, training, affine):
    rng = np.random.default_rng(13)
    channels = shape[1]
    x = rng.standard_normal(shape) * 2.0 + 1.0
    weight = rng.uniform(0.5, 2.0, channels) * rng.choice([-1, 1], channels) if affine else None
    bias = rng.standard_normal(channels) if affine else None
    running = () if training else (rng.standard_normal(channels), rng.uniform(0.5, 2.0, channels))
    check_reference_gradients(lambda a, w, b: ref.batch_norm_forward(a, w, b, 1e-5, *running),
                              ref.batch_norm_backward, [x, weight, bias], rng)


@pytest.mark.parametrize("shape, normalized_ndim", [((3, 5), 1), ((2, 3, 4), 2), ((1, 2, 3, 2), 3)])
def test_layer_norm_reference_gradcheck(shape, normalized_ndim):
    rng = np.random.default_rng(14)
    param_shape = shape[len(shape) - normalized_ndim:]
    x = rng.standard_normal(shape) * 2.0 + 1.0
    weight, bias = rng.uniform(0.5, 2.0, param_shape), rng.standard_normal(param_shape)
    check_reference_gradients(lambda a, w, b: ref.layer_norm_forward(a, normalized_ndim, w, b),
                              ref.layer_norm_backward, [x, weight, bias], rng)


@pytest.mark.parametrize("size", [1, 2, 5])
def test_local_response_norm_reference_gradcheck(size):
    rng = np.random.default_rng(15)
    x = rng.standard_normal((2, 6, 3, 2)) * 2.0
    check_reference_gradients(lambda a: ref.local_response_norm_forward(a, size, 0.6, 0.75, 1.5),
                              ref.local_response_norm_backward, [x], rng)


@pytest.mark.parametrize("mask_shape", [None, (3, 4, 1, 1)])
def test_dropout_reference_gradcheck_and_same_mask_for_the_same_generator(mask_shape):
    x = np.random.default_rng(16).standard_normal((3, 4, 2, 5))

    def forward(a):
        return ref.dropout_forward(a, 0.4, np.random.default_rng(17), True, mask_shape)  # one mask for every call

    check_reference_gradients(forward, ref.dropout_backward, [x], np.random.default_rng(18))
    out, mask = forward(x)
    # The mask is 1[u ≥ p]/(1 − p) for the generator's uniforms, drawn in x's dtype.
    uniforms = np.random.default_rng(17).random(x.shape if mask_shape is None else mask_shape)
    np.testing.assert_array_equal(mask, (uniforms >= 0.4) / 0.6)
    np.testing.assert_array_equal(out, x * mask)
    out, mask = ref.dropout_forward(x, 0.4, 0, training=False)
    assert out is x and mask is None

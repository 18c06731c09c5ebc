"""Kernels of Linear, Maxout and the activations, called directly.

Each reference pair (nndl.nn.functional) is checked against central
differences in float64; each fast pair (nndl.nn._fast) against its reference
on a grid of shapes, in float64 (1e-10 relative) and float32 (to float32
rounding), with and without its work split over threads.
"""

from __future__ import annotations

import numpy as np
import pytest

from nndl.check import numerical_gradient, rel_error
from nndl.nn import _fast as fast
from nndl.nn import functional as reference
from nndl.nn._fast import parallel
from nndl.nn._fast.settings import settings

GRAD_TOL = 1e-7
# Relative to the largest entry; float32: a few ulps (products summed in another order by a split).
FAST_RTOL = {np.float64: 1e-10, np.float32: 16 * float(np.finfo(np.float32).eps)}


def away_from_zero(rng, shape):
    """Normal entries at least 1e-2 from 0 (kinks: a central difference must not straddle one)."""
    x = rng.standard_normal(shape)
    return np.where(x >= 0, 1.0, -1.0) * (np.abs(x) + 1e-2)


def kernel_gradient_errors(forward, backward, inputs, options, rng, backward_options=None):
    """Relative errors of ``backward(δ, cache)`` against central differences of ``Σ δ ⊙ forward(*inputs)``.

    ``inputs`` are the forward's array arguments (None for an absent bias);
    the backward returns one gradient per input, in the same order.
    """
    out, cache = forward(*inputs, **options)
    dout = rng.standard_normal(out.shape)
    grads = backward(dout, cache, **(backward_options or {}))
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert len(grads) == len(inputs)

    def objective() -> float:
        return float(np.sum(forward(*inputs, **options)[0] * dout))

    errors = []
    for grad, x in zip(grads, inputs):
        if x is None:
            assert grad is None
            continue
        assert grad.shape == x.shape and grad.dtype == np.float64
        errors.append(rel_error(grad, numerical_gradient(objective, x)))
    return errors


# ---------------------------------------------------------------------- reference kernels: gradient checks

ELEMENTWISE = [
    ("relu", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 1.5}), ("leaky_relu", {"negative_slope": -0.3}),
    ("elu", {}), ("elu", {"alpha": 0.5}), ("sigmoid", {}), ("tanh", {}), ("softplus", {}), ("softplus", {"beta": 2.5}),
    ("step", {}),
]
SHAPES = [(1, 5), (4, 7), (3, 2, 5), (2, 3, 4, 5)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, options", ELEMENTWISE, ids=lambda c: str(c))
def test_reference_activation_gradients(name, options, shape):
    rng = np.random.default_rng(0)
    forward, backward = getattr(reference, f"{name}_forward"), getattr(reference, f"{name}_backward")
    errors = kernel_gradient_errors(forward, backward, (away_from_zero(rng, shape),), options, rng)
    assert max(errors) < GRAD_TOL


@pytest.mark.parametrize("shape, axis", [((1, 5), -1), ((4, 7), 0), ((3, 2, 5), 1), ((2, 3, 4, 5), -1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_reference_softmax_gradients(name, shape, axis):
    rng = np.random.default_rng(1)
    forward, backward = getattr(reference, f"{name}_forward"), getattr(reference, f"{name}_backward")
    errors = kernel_gradient_errors(forward, backward, (rng.standard_normal(shape) * 3,), {"axis": axis}, rng)
    assert max(errors) < GRAD_TOL


@pytest.mark.parametrize("shape, channels", [((2, 3), 3), ((4, 3, 2, 5), 3), ((1, 3, 4), 1), ((5,), 1)])
def test_reference_prelu_gradients(shape, channels):
    rng = np.random.default_rng(2)
    weight = rng.uniform(-0.5, 1.5, channels)
    errors = kernel_gradient_errors(reference.prelu_forward, reference.prelu_backward,
                                    (away_from_zero(rng, shape), weight), {}, rng)
    assert len(errors) == 2 and max(errors) < GRAD_TOL


@pytest.mark.parametrize("shape", [(1, 5), (4, 5), (3, 2, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_reference_linear_gradients(shape, bias):
    rng = np.random.default_rng(3)
    inputs = (rng.standard_normal(shape), rng.standard_normal((3, 5)), rng.standard_normal(3) if bias else None)
    errors = kernel_gradient_errors(reference.linear_forward, reference.linear_backward, inputs, {}, rng)
    assert len(errors) == (3 if bias else 2) and max(errors) < GRAD_TOL


def test_reference_linear_can_skip_the_input_gradient():
    rng = np.random.default_rng(4)
    x, weight = rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
    _, cache = reference.linear_forward(x, weight, None)
    dout = rng.standard_normal((4, 3))
    dx, dweight, dbias = reference.linear_backward(dout, cache, need_input_grad=False)
    assert dx is None and dbias is None
    np.testing.assert_allclose(dweight, dout.T @ x, rtol=1e-14)


@pytest.mark.parametrize("shape, pieces", [((1, 4), 2), ((5, 4), 3), ((2, 3, 4), 1), ((3, 4), 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_reference_maxout_gradients(shape, pieces, bias):
    rng = np.random.default_rng(5)
    units = 3
    inputs = (rng.standard_normal(shape), rng.standard_normal((pieces * units, shape[-1])),
              rng.standard_normal(pieces * units) if bias else None)
    errors = kernel_gradient_errors(reference.maxout_forward, reference.maxout_backward, inputs,
                                    {"pieces": pieces}, rng)
    assert max(errors) < GRAD_TOL


def test_reference_maxout_is_the_max_of_the_pieces():
    rng = np.random.default_rng(6)
    x, weight, bias = rng.standard_normal((4, 5)), rng.standard_normal((6, 5)), rng.standard_normal(6)
    out, _ = reference.maxout_forward(x, weight, bias, 3)
    z = (x @ weight.T + bias).reshape(4, 3, 2)  # piece-major columns: k·M + j
    np.testing.assert_allclose(out, z.max(axis=1), rtol=1e-14)


# ---------------------------------------------------------------------- fast kernels against the reference

def assert_same(fast_value, reference_value, dtype):
    if reference_value is None:
        assert fast_value is None
        return
    assert fast_value.shape == reference_value.shape and fast_value.dtype == reference_value.dtype == dtype
    assert rel_error(fast_value, reference_value, floor=1e-30) < FAST_RTOL[dtype]


SPLITS = [None, 2, 3]  # None: the default policy; k: forced split over k threads, however small the work


def forced(threads):
    """Knobs that split every product and element-wise pass over ``threads`` threads (None: defaults)."""
    if threads is None:
        return settings.override()
    return settings.override(parallel_min_elements=0, linear_parallel_min_macs=0, threads=threads)


@pytest.mark.parametrize("threads", SPLITS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, out_features, bias", [
    ((1, 5), 3, True), ((7, 13), 11, True), ((4, 3, 8), 6, False), ((64, 100), 37, True), ((2, 5, 3, 9), 4, True),
])
def test_fast_linear_equals_reference(shape, out_features, bias, dtype, threads):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape).astype(dtype)
    weight = rng.standard_normal((out_features, shape[-1])).astype(dtype)
    b = rng.standard_normal(out_features).astype(dtype) if bias else None
    dout = rng.standard_normal(shape[:-1] + (out_features,)).astype(dtype)
    ref_out, ref_cache = reference.linear_forward(x, weight, b)
    ref_grads = reference.linear_backward(dout, ref_cache)
    with forced(threads):
        if threads is not None:
            assert parallel.splitting() and parallel.worker_count() == threads
        out, cache = fast.linear_forward(x, weight, b)
        grads = fast.linear_backward(dout, cache)
        skipped = fast.linear_backward(dout, cache, need_input_grad=False)
    assert_same(out, ref_out, dtype)
    for got, expected in zip(grads, ref_grads):
        assert_same(got, expected, dtype)
    assert skipped[0] is None
    assert_same(skipped[1], ref_grads[1], dtype)


@pytest.mark.parametrize("threads", SPLITS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, units, pieces", [((1, 4), 3, 2), ((9, 6), 5, 3), ((3, 2, 7), 4, 1)])
def test_fast_maxout_equals_reference(shape, units, pieces, dtype, threads):
    rng = np.random.default_rng(8)
    x = rng.standard_normal(shape).astype(dtype)
    weight = rng.standard_normal((pieces * units, shape[-1])).astype(dtype)
    bias = rng.standard_normal(pieces * units).astype(dtype)
    dout = rng.standard_normal(shape[:-1] + (units,)).astype(dtype)
    ref_out, ref_cache = reference.maxout_forward(x, weight, bias, pieces)
    ref_grads = reference.maxout_backward(dout, ref_cache)
    with forced(threads):
        out, cache = fast.maxout_forward(x, weight, bias, pieces)
        grads = fast.maxout_backward(dout, cache)
    assert_same(out, ref_out, dtype)
    for got, expected in zip(grads, ref_grads):
        assert_same(got, expected, dtype)


def channels_last(a):
    """The same NCHW values, stored channels-last (NHWC memory behind the NCHW shape)."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("threads", SPLITS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, layout", [
    ((1, 5), "c"), ((7, 3), "c"), ((5, 4, 3, 2), "c"), ((5, 4, 3, 2), "channels_last"), ((6,), "c"), ((), "c"),
])
def test_fast_relu_equals_reference_exactly(shape, layout, dtype, threads):
    rng = np.random.default_rng(9)
    x = rng.standard_normal(shape).astype(dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    if layout == "channels_last":
        x, dout = channels_last(x), channels_last(dout)
    x[x.__abs__() < 0.1] = 0  # exact zeros: ReLU'(0) = 0 in both
    ref_out, ref_cache = reference.relu_forward(x)
    ref_dx = reference.relu_backward(dout, ref_cache)
    with forced(threads):
        out, cache = fast.relu_forward(x)
        dx = fast.relu_backward(dout, cache)
    for got, expected in ((out, ref_out), (dx, ref_dx)):
        assert got.dtype == expected.dtype == dtype
        np.testing.assert_array_equal(got, expected)
    assert out.strides == ref_out.strides == x.strides  # both keep the input's memory layout


def test_fast_relu_backward_keeps_numpy_broadcasting_and_type_rules():
    x = np.array([[-1.0, 2.0, 0.0], [3.0, -4.0, 5.0]], dtype=np.float32)
    for dout in (np.ones(3, dtype=np.float32), np.ones((2, 3), dtype=np.float64)):
        expected = reference.relu_backward(dout, reference.relu_forward(x)[1])
        got = fast.relu_backward(dout, fast.relu_forward(x)[1])
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "sigmoid", "tanh", "softplus", "step", "prelu", "softmax",
                                  "log_softmax"])
def test_operations_without_speed_machinery_share_the_reference_pair(name):
    assert getattr(fast, f"{name}_forward") is getattr(reference, f"{name}_forward")
    assert getattr(fast, f"{name}_backward") is getattr(reference, f"{name}_backward")


@pytest.mark.parametrize("name, options", ELEMENTWISE + [("softmax", {"axis": 1}), ("log_softmax", {"axis": -1})],
                         ids=lambda c: str(c))
def test_reference_activations_keep_float32(name, options):
    x = away_from_zero(np.random.default_rng(10), (3, 4)).astype(np.float32)
    out, cache = getattr(reference, f"{name}_forward")(x, **options)
    dx = getattr(reference, f"{name}_backward")(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == np.float32

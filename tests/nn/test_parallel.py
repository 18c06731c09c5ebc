"""The threading policy of nndl.nn._fast.parallel: which scope does what to the BLAS, and results that do not depend on it."""

from __future__ import annotations

import numpy as np
import pytest

from nndl import nn
from nndl.nn._fast import parallel
from nndl.nn._fast.settings import settings
from nndl.nn._fast.linear import linear_backward, linear_forward

threadpoolctl = pytest.importorskip("threadpoolctl")


@pytest.fixture
def two_blas_threads():
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        if parallel.blas_threads() != 2:
            pytest.skip("this BLAS cannot be set to 2 threads")
        yield


class Probe(nn.Module):
    """Records the BLAS thread count and nndl's worker budget seen while it computes."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append((parallel.blas_threads(), parallel.worker_count(), parallel.splitting()))
        return x

    def backward(self, dout):
        self.seen.append((parallel.blas_threads(), parallel.worker_count(), parallel.splitting()))
        return dout

    def output_shape(self, input_shape):
        return input_shape


def test_networks_with_convolutions_split_batches_over_single_threaded_blas(two_blas_threads):
    probe = Probe()
    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng=0), probe)
    out = model(np.zeros((2, 1, 5, 5), dtype=np.float32))
    nn.backward(model, np.ones_like(out))
    assert probe.seen == [(1, 2, True), (1, 2, True)]
    assert parallel.blas_threads() == 2 and not parallel.in_compute_scope()   # restored after each call


def test_product_only_networks_keep_blas_threading(two_blas_threads):
    probe = Probe()
    model = nn.Sequential(nn.Linear(3, 4, rng=0), probe)
    nn.backward(model, np.ones_like(model(np.zeros((2, 3), dtype=np.float32))))
    assert probe.seen == [(2, 1, False), (2, 1, False)]
    assert parallel.blas_threads() == 2


def test_nested_scopes_keep_the_outer_policy(two_blas_threads):
    with parallel.compute_scope(split=True):
        with parallel.compute_scope(split=False):
            assert parallel.blas_threads() == 1 and parallel.splitting()
        assert parallel.in_compute_scope()
    assert parallel.blas_threads() == 2 and not parallel.in_compute_scope()


def test_scope_restores_blas_after_an_error(two_blas_threads):
    with pytest.raises(ValueError, match="Conv2d"):
        nn.Conv2d(3, 2, 3)(np.zeros((1, 2, 5, 5), dtype=np.float32))
    assert parallel.blas_threads() == 2 and not parallel.in_compute_scope()


@pytest.mark.parametrize("threads", [2, 3])
def test_linear_split_by_weight_columns_equals_the_plain_products(threads):
    rng = np.random.default_rng(0)
    x, weight, bias = rng.standard_normal((5, 7)), rng.standard_normal((11, 7)), rng.standard_normal(11)
    dout = rng.standard_normal((5, 11))
    with settings.override(parallel_min_elements=0, linear_parallel_min_macs=0, threads=threads):
        out, cache = linear_forward(x, weight, bias)
        dx, dweight, dbias = linear_backward(dout, cache)
    np.testing.assert_allclose(out, x @ weight.T + bias, rtol=1e-14)
    np.testing.assert_allclose(dx, dout @ weight, rtol=1e-14)
    np.testing.assert_allclose(dweight, dout.T @ x, rtol=1e-14)
    np.testing.assert_allclose(dbias, dout.sum(axis=0), rtol=1e-14)


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_and_relu_split_over_threads_give_the_same_numbers(channels_last, training):
    # Partial sums per part, combined: equal to the one-part result to rounding (float64).
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 5, 4, 6)) * 3 + 2
    dout = rng.standard_normal(x.shape)
    if channels_last:
        x, dout = (np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2) for a in (x, dout))

    def run():
        bn = nn.BatchNorm2d(5, dtype=np.float64)
        bn.weight.data[...] = np.linspace(0.5, 2, 5)
        bn.bias.data[...] = np.arange(5.0)
        bn.running_var[...] = 1.5
        bn.train(training)
        model = nn.Sequential(bn, nn.ReLU())
        out = model(x)
        dx = model.backward(dout)
        return out, dx, bn.weight.grad, bn.bias.grad, bn.running_mean.copy(), bn.running_var.copy()

    reference = run()
    with settings.override(parallel_min_elements=0, threads=3):
        split = run()
    for a, b in zip(reference, split):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("kernel, stride, padding", [(2, 2, 0), (3, 2, 1), (3, 1, 1)])
def test_max_pool_split_over_threads_gives_the_same_numbers(kernel, stride, padding):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3, 9, 8))
    dout = rng.standard_normal(nn.MaxPool2d(kernel, stride, padding).output_shape(x.shape))

    def run():
        layer = nn.MaxPool2d(kernel, stride, padding, dtype=np.float64)
        return layer(x), layer.backward(dout)

    reference = run()
    with settings.override(parallel_min_elements=0, threads=3):
        split = run()
    for a, b in zip(reference, split):
        np.testing.assert_array_equal(a, b)

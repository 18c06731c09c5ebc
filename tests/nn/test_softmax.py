import numpy as np
import pytest
import torch

from nndl import nn
from nndl.nn.functional.softmax_kernels import log_softmax_backward, log_softmax_forward, softmax_backward, softmax_forward
from tests.layer_checks import check_layer

CASES = [((1, 5), -1), ((4, 7), 1), ((4, 7), 0), ((3, 2, 5), -1), ((3, 2, 5), 1), ((2, 3, 4, 5), 1), ((6,), 0)]


@pytest.mark.parametrize("shape, axis", CASES)
@pytest.mark.parametrize("layer_cls, torch_cls", [(nn.Softmax, torch.nn.Softmax),
                                                  (nn.LogSoftmax, torch.nn.LogSoftmax)])
def test_gradients_and_torch_parity(layer_cls, torch_cls, shape, axis):
    errors = check_layer(layer_cls(axis=axis), shape, torch_cls(dim=axis))
    assert set(errors) == {"input"}


def _softmax_jacobian(s):
    """Full K×K Jacobian ∂s_k/∂z_i = s_k (1[i=k] − s_i) of one row, built the slow way."""
    return np.diag(s) - np.outer(s, s)


def test_softmax_backward_is_the_jacobian_vector_product():
    rng = np.random.default_rng(3)
    z, delta = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    s, cache = softmax_forward(z)
    dx = softmax_backward(delta, cache)
    expected = np.stack([_softmax_jacobian(row) @ d for row, d in zip(s, delta)])
    np.testing.assert_allclose(dx, expected, rtol=1e-12, atol=1e-15)
    out, cache = log_softmax_forward(z)
    dx = log_softmax_backward(delta, cache)
    # ∂ log s_k / ∂z_i = 1[i=k] − s_i
    expected = np.stack([(np.eye(6) - row[np.newaxis, :]).T @ d for row, d in zip(s, delta)])
    np.testing.assert_allclose(dx, expected, rtol=1e-12, atol=1e-15)


def test_values_sum_to_one_and_are_shift_invariant():
    z = np.random.default_rng(4).standard_normal((3, 5, 2))
    s = nn.Softmax(axis=1)(z)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(nn.Softmax(axis=1)(z + 100.0), s, rtol=1e-13)
    np.testing.assert_allclose(nn.LogSoftmax(axis=1)(z), np.log(s), rtol=1e-13)
    # The notes' definition e^{z_k} / Σ_j e^{z_j}, evaluated naively on small inputs.
    np.testing.assert_allclose(s, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_are_finite_and_correct(dtype):
    info = np.finfo(dtype)
    z = np.array([[1000.0, -1000.0, 0.0], [1000.0, 999.0, -1000.0], [-1000.0, -1000.0, -1000.0]], dtype=dtype)
    with np.errstate(all="raise"):
        s = nn.Softmax()(z)
        log_s = nn.LogSoftmax()(z)
    assert s.dtype == log_s.dtype == dtype
    p = 1 / (1 + np.exp(-1.0))  # softmax([1000, 999]) = [1/(1+e^-1), e^-1/(1+e^-1)]
    expected = np.array([[1.0, 0.0, 0.0], [p, 1 - p, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    # Entries whose true value underflows come back as at most a few hundred smallest-normal numbers.
    np.testing.assert_allclose(s, expected.astype(dtype), rtol=4 * info.eps, atol=1e3 * info.tiny)
    log_p = np.log(p)
    expected_log = np.array([[0.0, -2000.0, -1000.0], [log_p, log_p - 1.0, log_p - 2000.0],
                             [-np.log(3.0)] * 3])
    np.testing.assert_allclose(log_s, expected_log.astype(dtype), rtol=4 * info.eps, atol=4 * info.eps)


def test_kernels_keep_their_names_and_signatures():
    # Losses import these two functions.
    z = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    assert nn.softmax(z, axis=-1).dtype == np.float32
    np.testing.assert_allclose(nn.log_softmax(z, axis=1), np.log(nn.softmax(z, axis=1)), rtol=1e-6)


def test_axis_out_of_range_names_layer():
    with pytest.raises(ValueError, match=r"Softmax\(axis=2\): axis 2 is out of range.*\(3, 4\)"):
        nn.Softmax(axis=2)(np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"LogSoftmax\(axis=-3\)"):
        nn.LogSoftmax(axis=-3).output_shape((3, 4))
    with pytest.raises(ValueError, match="at least 1 axes"):
        nn.Softmax()(np.ones((), dtype=np.float32))
    with pytest.raises(TypeError, match="Softmax: axis must be an int"):
        nn.Softmax(axis=1.0)


def test_repr():
    assert repr(nn.Softmax()) == "Softmax(axis=-1)"
    assert repr(nn.LogSoftmax(axis=1)) == "LogSoftmax(axis=1)"

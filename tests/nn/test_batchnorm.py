import copy

import numpy as np
import pytest
import torch

from nndl import nn
from nndl.check import gradcheck
from nndl.nn._fast.settings import settings
from nndl.nn.core.kernels import kernels
from tests.layer_checks import GRAD_TOL, assert_torch_parity, check_layer, load_into_torch

CASES = [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (2, 3)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (5, 4)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (2, 3, 1)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (3, 4, 5)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (2, 3, 3, 3)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (1, 2, 3, 5)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 2, 3)),
]


def random_batchnorm(cls, channels, seed=0, **kwargs):
    """A float64 layer with random γ, β and running statistics (so no term of a gradient is trivially 1 or 0)."""
    layer = cls(channels, dtype=np.float64, **kwargs)
    rng = np.random.default_rng(seed)
    if layer.affine:
        layer.weight.data[...] = rng.uniform(0.5, 2.0, channels) * rng.choice([-1, 1], channels)
        layer.bias.data[...] = rng.standard_normal(channels)
    if layer.track_running_stats:
        layer.running_mean[...] = rng.standard_normal(channels)
        layer.running_var[...] = rng.uniform(0.5, 2.0, channels)
    return layer


@pytest.mark.parametrize("cls, torch_cls, shape", CASES)
def test_training_gradients_and_torch_parity(cls, torch_cls, shape):
    layer = random_batchnorm(cls, shape[1])
    errors = check_layer(layer, shape, torch_cls(shape[1]))
    assert set(errors) == {"input", "weight", "bias"}


@pytest.mark.parametrize("cls, torch_cls, shape", CASES + [(nn.BatchNorm1d, torch.nn.BatchNorm1d, (1, 3))])
def test_eval_gradients_and_torch_parity(cls, torch_cls, shape):
    layer = random_batchnorm(cls, shape[1]).eval()
    check_layer(layer, shape)
    x = np.random.default_rng(1).standard_normal(shape)
    assert_torch_parity(layer, torch_cls(shape[1]), x, train=False)


@pytest.mark.parametrize("affine, track", [(False, True), (True, False), (False, False)])
@pytest.mark.parametrize("train", [True, False])
def test_options_match_torch(affine, track, train):
    layer = random_batchnorm(nn.BatchNorm2d, 3, affine=affine, track_running_stats=track).train(train)
    torch_layer = torch.nn.BatchNorm2d(3, affine=affine, track_running_stats=track)
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    errors = check_layer(layer, (3, 3, 2, 2))
    assert set(errors) == ({"input", "weight", "bias"} if affine else {"input"})
    assert_torch_parity(layer, torch_layer, np.random.default_rng(2).standard_normal((3, 3, 2, 2)), train=train)


@pytest.mark.parametrize("cls, torch_cls, shape", [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 4)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (3, 4, 5)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (3, 4, 3, 2)),
])
@pytest.mark.parametrize("momentum", [0.1, 0.35, None])
def test_running_statistics_follow_torch_then_eval_outputs_agree(cls, torch_cls, shape, momentum):
    rng = np.random.default_rng(3)
    layer = random_batchnorm(cls, shape[1], momentum=momentum)
    torch_layer = load_into_torch(layer, torch_cls(shape[1], momentum=momentum))
    for step in range(4):
        x = rng.standard_normal(shape) * 3.0 + 2.0
        np.testing.assert_allclose(layer(x), torch_layer(torch.from_numpy(x)).detach().numpy(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(layer.running_mean, torch_layer.running_mean.numpy(), rtol=1e-6)
    np.testing.assert_allclose(layer.running_var, torch_layer.running_var.numpy(), rtol=1e-6)
    assert layer.num_batches_tracked.dtype == np.int64 and layer.num_batches_tracked.shape == ()
    assert int(layer.num_batches_tracked) == int(torch_layer.num_batches_tracked) == 4
    layer.eval()
    torch_layer.eval()
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(layer(x), torch_layer(torch.from_numpy(x)).detach().numpy(), rtol=1e-6, atol=1e-10)
    assert int(layer.num_batches_tracked) == 4  # evaluation does not count


def test_running_variance_is_the_unbiased_batch_variance():
    x = np.array([[1.0], [2.0], [6.0]])
    layer = nn.BatchNorm1d(1, momentum=1.0, dtype=np.float64)
    out = layer(x)
    # batch mean 3, biased variance 14/3 normalizes; unbiased 7 is stored.
    np.testing.assert_allclose(out[:, 0], (x[:, 0] - 3.0) / np.sqrt(14.0 / 3.0 + 1e-5))
    np.testing.assert_allclose(layer.running_mean, [3.0])
    np.testing.assert_allclose(layer.running_var, [7.0])


def test_state_dict_matches_torch_names_shapes_and_loads_into_torch():
    layer = random_batchnorm(nn.BatchNorm2d, 5)
    torch_state = torch.nn.BatchNorm2d(5).state_dict()
    state = layer.state_dict()
    assert list(state) == list(torch_state)
    assert all(state[k].shape == tuple(torch_state[k].shape) for k in state)
    assert state["num_batches_tracked"].dtype == np.int64
    torch_layer = load_into_torch(layer, torch.nn.BatchNorm2d(5)).eval()
    np.testing.assert_array_equal(torch_layer.running_var.numpy(), layer.running_var)
    restored = nn.BatchNorm2d(5, dtype=np.float64)
    restored.load_state_dict({k: v.numpy() for k, v in torch_layer.state_dict().items()})
    np.testing.assert_array_equal(restored.running_mean, layer.running_mean)


@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d(3), (1, 3)), (nn.BatchNorm1d(3), (1, 3, 1)),
                                          (nn.BatchNorm2d(3), (1, 3, 1, 1))])
def test_training_on_one_value_per_channel_is_an_error(layer, shape):
    layer.train()  # the instance is shared by both kernel sets' runs, and the first one ends in eval()
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3"):
        layer(np.ones(shape, dtype=np.float32))
    layer.eval()
    assert layer(np.ones(shape, dtype=np.float32)).shape == shape


@pytest.mark.parametrize("layer, shape, expected", [
    (nn.BatchNorm1d(3), (4, 5), r"BatchNorm1d\(3, .*\(N, C\) or \(N, C, L\) with C = 3, got \(4, 5\)"),
    (nn.BatchNorm1d(3), (4, 3, 2, 2), r"BatchNorm1d.*got \(4, 3, 2, 2\)"),
    (nn.BatchNorm2d(3), (4, 3, 2), r"BatchNorm2d.*\(N, C, H, W\) with C = 3, got \(4, 3, 2\)"),
    (nn.BatchNorm2d(3), (4, 2, 2, 2), r"BatchNorm2d.*C = 3, got \(4, 2, 2, 2\)"),
])
def test_wrong_shapes_are_named(layer, shape, expected):
    with pytest.raises(ValueError, match=expected):
        layer(np.zeros(shape, dtype=np.float32))
    with pytest.raises(ValueError, match=expected):
        layer.output_shape(shape)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm2d(3, momentum=1.5)
    with pytest.raises(TypeError, match="float64 differs from the layer's float32"):
        nn.BatchNorm2d(3)(np.zeros((2, 3, 2, 2)))


def test_float32_statistics_survive_a_large_mean():
    # E[x²] − E[x]² would cancel catastrophically here (|μ|/σ = 1000, float32).
    rng = np.random.default_rng(4)
    x64 = rng.standard_normal((64, 8, 6, 6)) + 1000.0
    layer = nn.BatchNorm2d(8)
    out = layer(x64.astype(np.float32))
    mean = x64.mean(axis=(0, 2, 3), keepdims=True)
    expected = (x64 - mean) / np.sqrt(x64.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
    assert np.abs(out - expected).max() < 2e-3
    np.testing.assert_allclose(layer.running_mean, 0.1 * mean.ravel(), rtol=1e-5)


def test_training_backward_matches_explicit_jacobian():
    # ∂x̂_i/∂x_j = (1[i=j] − 1/m − x̂_i x̂_j/m)/σ, the derivation in batchnorm_backward's docstring.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((7, 1))
    dout = rng.standard_normal((7, 1))
    k = kernels()
    out, cache = k.batch_norm_forward(x, None, None, eps=1e-5)
    sigma = np.sqrt(x.var() + 1e-5)
    jacobian = (np.eye(7) - 1.0 / 7 - np.outer(out[:, 0], out[:, 0]) / 7) / sigma
    dx, dweight, dbias = k.batch_norm_backward(dout, cache)
    np.testing.assert_allclose(dx[:, 0], jacobian.T @ dout[:, 0], rtol=1e-12, atol=1e-14)
    assert dweight is None and dbias is None


def test_backward_does_not_modify_its_inputs():
    layer = random_batchnorm(nn.BatchNorm2d, 3)
    x = np.random.default_rng(6).standard_normal((2, 3, 2, 2))
    x_copy = x.copy()
    out = layer(x)
    dout = np.ones_like(out)
    layer.backward(dout)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(dout, 1.0)


def test_gradients_accumulate_across_backward_calls():
    layer = random_batchnorm(nn.BatchNorm1d, 3)
    x = np.random.default_rng(7).standard_normal((4, 3))
    dout = np.random.default_rng(8).standard_normal((4, 3))
    layer(x)
    layer.backward(dout)
    first = layer.weight.grad.copy()
    layer(x)
    layer.backward(dout)
    np.testing.assert_allclose(layer.weight.grad, 2 * first)


def test_gradcheck_with_large_gamma_and_shifted_input():
    layer = random_batchnorm(nn.BatchNorm2d, 2)
    layer.weight.data[...] = [5.0, -3.0]
    x = np.random.default_rng(9).standard_normal((3, 2, 3, 3)) * 0.5 + 4.0
    errors = gradcheck(copy.deepcopy(layer), x)
    assert max(errors.values()) < GRAD_TOL, errors


@pytest.mark.parametrize("slab_bytes", [1, 400, 1 << 19])
def test_training_kernels_do_not_depend_on_the_slab_size(slab_bytes):
    # Slabs of 1 row, of 2 rows (the last one short: 5 = 2 + 2 + 1) and one slab for the whole batch.
    rng = np.random.default_rng(11)
    x = rng.standard_normal((5, 3, 2, 4)) * 2.0 + 0.5
    dout = rng.standard_normal(x.shape)
    weight, bias = rng.standard_normal(3), rng.standard_normal(3)
    k = kernels("fast")
    with settings.override(batch_norm_slab_bytes=slab_bytes):
        out, cache = k.batch_norm_forward(x, weight, bias)
        dx, dweight, dbias = k.batch_norm_backward(dout, cache)
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
    x_hat = (x - mean) * inv_std
    np.testing.assert_allclose(out, weight[:, None, None] * x_hat + bias[:, None, None], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache.var, x.var(axis=(0, 2, 3)), rtol=1e-12)
    expected_dx = (weight[:, None, None] * inv_std) * (
        dout - dout.mean(axis=(0, 2, 3), keepdims=True)
        - x_hat * (dout * x_hat).mean(axis=(0, 2, 3), keepdims=True))
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dweight, (dout * x_hat).sum(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(dbias, dout.sum(axis=(0, 2, 3)), rtol=1e-12)

"""Gradient clipping against torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""

import math

import numpy as np
import pytest
import torch

from nndl import nn, optim

SHAPES = [(4, 3), (3,), (2, 2, 2)]


def params_with_grads(scale, rng=0):
    generator = np.random.default_rng(rng)
    params = []
    for shape in SHAPES:
        param = nn.Parameter(generator.standard_normal(shape))
        param.grad = scale * generator.standard_normal(shape)
        params.append(param)
    params.append(nn.Parameter(np.zeros(5)))  # no gradient: ignored
    return params


def torch_twins(params):
    twins = []
    for param in params:
        twin = torch.tensor(param.data, requires_grad=True)
        if param.grad is not None:
            twin.grad = torch.tensor(param.grad)
        twins.append(twin)
    return twins


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("scale, max_norm", [(1.0, 0.5), (1.0, 100.0), (10.0, 1.0)])
def test_clip_grad_norm_matches_torch(norm_type, scale, max_norm):
    params = params_with_grads(scale)
    twins = torch_twins(params)
    before = [p.grad.copy() for p in params[:-1]]
    total = optim.clip_grad_norm(params, max_norm, norm_type=norm_type)
    torch_total = torch.nn.utils.clip_grad_norm_(twins, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    assert total == pytest.approx(torch_total.item(), rel=1e-12)
    for param, twin, original in zip(params, twins, before):
        np.testing.assert_allclose(param.grad, twin.grad.numpy(), rtol=1e-12, atol=0)
        if total <= max_norm:
            np.testing.assert_array_equal(param.grad, original)  # below the threshold: untouched
    assert params[-1].grad is None
    if total > max_norm:
        assert optim.grad_norm(params, norm_type) == pytest.approx(max_norm, rel=1e-5)


def test_clip_keeps_the_direction():
    params = params_with_grads(5.0)
    flat_before = np.concatenate([p.grad.ravel() for p in params[:-1]])
    total = optim.clip_grad_norm(params, 1.0)
    flat_after = np.concatenate([p.grad.ravel() for p in params[:-1]])
    assert total == pytest.approx(np.linalg.norm(flat_before), rel=1e-14)
    np.testing.assert_allclose(flat_after, flat_before / (total + 1e-6), rtol=1e-14)


def test_clip_grad_norm_of_nothing_is_zero():
    assert optim.clip_grad_norm([nn.Parameter(np.zeros(2))], 1.0) == 0.0


def test_nonfinite_norm():
    param = nn.Parameter(np.zeros(2))
    param.grad = np.array([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="clip_grad_norm: the total gradient 2.0-norm is inf"):
        optim.clip_grad_norm([param], 1.0, error_if_nonfinite=True)
    assert optim.clip_grad_norm([param], 1.0) == math.inf


def test_clip_grad_value_matches_torch():
    params = params_with_grads(2.0)
    twins = torch_twins(params)
    optim.clip_grad_value(params, 1.5)
    torch.nn.utils.clip_grad_value_(twins, 1.5)
    for param, twin in zip(params[:-1], twins):
        np.testing.assert_array_equal(param.grad, twin.grad.numpy())
        assert np.abs(param.grad).max() == 1.5


def test_clip_keeps_float32():
    param = nn.Parameter(np.ones(4, dtype=np.float32))
    param.grad = np.full(4, 3.0, dtype=np.float32)
    assert optim.clip_grad_norm(param, 1.0) == pytest.approx(6.0)
    assert param.grad.dtype == np.float32
    np.testing.assert_allclose(param.grad, 0.5, rtol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda p: optim.clip_grad_norm(p, -1.0), r"clip_grad_norm: invalid max_norm=-1.0"),
    (lambda p: optim.clip_grad_norm(p, 1.0, norm_type=0), r"clip_grad_norm: norm_type must be a positive number"),
    (lambda p: optim.clip_grad_norm(p, 1.0, norm_type="two"), r"norm_type must be a positive number .* 'two'"),
    (lambda p: optim.clip_grad_value(p, -0.5), r"clip_grad_value: invalid clip_value=-0.5"),
])
def test_bad_clipping_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call(params_with_grads(1.0))

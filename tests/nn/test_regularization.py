import numpy as np
import pytest
import torch

from nndl import nn
from nndl.check import numerical_gradient, rel_error
from tests.layer_checks import GRAD_TOL

W = np.array([[1.0, -2.0], [3.0, 0.5]])
B = np.array([1.0, -1.0])


def linear_with(weight=W, bias=B, dtype=np.float64):
    layer = nn.Linear(weight.shape[1], weight.shape[0], dtype=dtype)
    layer.load_state_dict({"weight": weight, "bias": bias})
    return layer


def mlp(rng):
    """Two float64 layers with every weight at least 0.1 from 0 (|W| has a kink at 0, where
    a central difference would straddle it)."""
    model = nn.Sequential(nn.Linear(4, 3, dtype=np.float64), nn.Linear(3, 2, dtype=np.float64))
    for param in model.parameters():
        param.data[...] = rng.uniform(0.1, 1.5, size=param.shape) * rng.choice([-1.0, 1.0], size=param.shape)
    return model


PENALTIES = [(nn.L2Penalty, {}), (nn.L1Penalty, {}), (nn.ElasticNetPenalty, {"l1_ratio": 0.25})]


def test_l2_penalty_by_hand_excludes_bias():
    layer = linear_with()
    l2 = nn.L2Penalty(0.1)
    # (λ/2)·||W||² = 0.05·(1 + 4 + 9 + 0.25); the bias is not penalized.
    assert l2.penalty(layer) == pytest.approx(0.05 * 14.25, rel=1e-15)
    l2.backward(layer)
    np.testing.assert_allclose(layer.weight.grad, 0.1 * W, rtol=1e-15)
    assert layer.bias.grad is None


def test_l1_penalty_by_hand_with_sign_zero_at_zero():
    layer = linear_with(weight=np.array([[1.0, -2.0], [0.0, 0.5]]))
    l1 = nn.L1Penalty(0.1)
    assert l1(layer) == pytest.approx(0.1 * 3.5, rel=1e-15)
    l1.backward(layer)
    np.testing.assert_array_equal(layer.weight.grad, [[0.1, -0.1], [0.0, 0.1]])


@pytest.mark.parametrize("penalty_cls, kwargs", PENALTIES)
@pytest.mark.parametrize("include_bias", [False, True])
def test_penalty_gradient_matches_central_differences(penalty_cls, kwargs, include_bias, rng):
    penalty = penalty_cls(0.3, include_bias=include_bias, **kwargs)
    model = mlp(rng)
    penalty.backward(model)
    checked = 0
    for name, param in model.named_parameters():
        numeric = numerical_gradient(lambda: penalty.penalty(model), param.data)
        if name.endswith("bias") and not include_bias:
            assert param.grad is None and np.all(numeric == 0), name
        else:
            assert rel_error(param.grad, numeric) < GRAD_TOL, name
            checked += 1
    assert checked == (4 if include_bias else 2)


def test_elastic_net_interpolates_l1_and_l2(rng):
    model = mlp(rng)
    assert nn.ElasticNetPenalty(0.4, l1_ratio=1.0)(model) == pytest.approx(nn.L1Penalty(0.4)(model), rel=1e-14)
    assert nn.ElasticNetPenalty(0.4, l1_ratio=0.0)(model) == pytest.approx(nn.L2Penalty(0.4)(model), rel=1e-14)
    mixed = nn.ElasticNetPenalty(0.4, l1_ratio=0.3)(model)
    assert mixed == pytest.approx(nn.L1Penalty(0.12)(model) + nn.L2Penalty(0.28)(model), rel=1e-14)


def test_elastic_net_matches_scikit_learn_optimum(rng):
    """At scikit-learn's ElasticNet solution, our objective's subgradient contains 0.

    sklearn minimizes (1/2n)||y − Xw − b||² + αρ||w||₁ + (α(1−ρ)/2)||w||²; with ``MSELoss(half=True,
    reduction='sum')`` divided by n and ``ElasticNetPenalty(α, ρ)`` that is our objective, so its
    gradient must vanish on the non-zero coefficients and stay within ±αρ on the zero ones.
    """
    from sklearn.linear_model import ElasticNet

    x = rng.standard_normal((40, 6))
    y = x @ np.array([2.0, -1.0, 0.0, 0.0, 0.5, 0.0]) + 0.1 * rng.standard_normal(40)
    alpha, l1_ratio = 0.2, 0.6
    fitted = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=100_000).fit(x, y)
    layer = linear_with(fitted.coef_[None, :], np.array([fitted.intercept_]))
    loss = nn.MSELoss(reduction="sum", half=True)
    loss(layer(x), y[:, None])
    layer.backward(loss.backward() / len(x))
    penalty = nn.ElasticNetPenalty(alpha, l1_ratio)
    penalty.backward(layer)
    grad = layer.weight.grad[0]
    nonzero = fitted.coef_ != 0
    assert 0 < nonzero.sum() < 6
    np.testing.assert_allclose(grad[nonzero], 0, atol=1e-8)
    # At w_k = 0 the subgradient is smooth part + αρ·[−1, 1]; our sign(0) = 0 leaves the smooth part.
    assert np.all(np.abs(grad[~nonzero]) <= alpha * l1_ratio + 1e-8)
    assert abs(layer.bias.grad[0]) < 1e-8


def test_l2_penalty_equals_sgd_weight_decay_on_the_same_parameters(rng):
    """One SGD step: our θ − γ(g + λW) by hand, on the weight only, equals torch's weight_decay=λ."""
    lr, decay = 0.1, 0.05
    layer = mlp(rng)[0]
    grad_w, grad_b = rng.standard_normal(layer.weight.shape), rng.standard_normal(layer.bias.shape)
    layer.weight.accumulate_grad(grad_w.copy())
    layer.bias.accumulate_grad(grad_b.copy())
    nn.L2Penalty(decay).backward(layer)
    ours = {name: p.data - lr * p.grad for name, p in layer.named_parameters()}

    torch_layer = torch.nn.Linear(4, 3).double()
    torch_layer.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    torch_layer.weight.grad, torch_layer.bias.grad = torch.from_numpy(grad_w), torch.from_numpy(grad_b)
    # The bias gets no decay, as our penalty's default: a separate parameter group.
    torch.optim.SGD([{"params": [torch_layer.weight], "weight_decay": decay},
                     {"params": [torch_layer.bias], "weight_decay": 0.0}], lr=lr).step()
    for name, param in torch_layer.named_parameters():
        np.testing.assert_allclose(ours[name], param.detach().numpy(), rtol=1e-14, atol=1e-15, err_msg=name)
    assert not np.allclose(ours["weight"], layer.weight.data - lr * grad_w)


def test_backward_adds_to_an_existing_gradient():
    layer = linear_with()
    layer.weight.accumulate_grad(np.ones_like(W))
    nn.L2Penalty(0.5).backward(layer)
    np.testing.assert_allclose(layer.weight.grad, 1 + 0.5 * W)


def test_selection_named_pairs_explicit_list_frozen_and_shared(rng):
    layer = linear_with()
    l2 = nn.L2Penalty(2.0)
    assert l2.penalty(layer.named_parameters()) == l2.penalty(layer)
    # An explicit list is taken as is: the bias is penalized because it was chosen.
    assert l2.penalty([layer.bias]) == pytest.approx(2.0)
    assert nn.L2Penalty(2.0, include_bias=True)(layer) == pytest.approx(14.25 + 2.0)
    # A parameter listed twice counts once; a frozen one not at all.
    assert l2.penalty([layer.weight, layer.weight]) == pytest.approx(14.25)
    layer.weight.requires_grad = False
    assert l2.penalty(layer) == 0.0
    l2.backward(layer)
    assert layer.weight.grad is None


def test_penalty_gradient_keeps_float32():
    layer = linear_with(dtype=np.float32)
    for penalty_cls, kwargs in PENALTIES:
        penalty = penalty_cls(0.3, **kwargs)
        layer.zero_grad()
        penalty.backward(layer)
        assert layer.weight.grad.dtype == np.float32
        assert isinstance(penalty(layer), float)


def test_penalty_errors_and_registry():
    with pytest.raises(ValueError, match="L2Penalty: strength must be a finite number >= 0, got -1.0"):
        nn.L2Penalty(-1.0)
    with pytest.raises(ValueError, match=r"l1_ratio must lie in \[0, 1\]"):
        nn.ElasticNetPenalty(1.0, l1_ratio=1.5)
    with pytest.raises(TypeError, match="L1Penalty: expected a Module"):
        nn.L1Penalty(1.0).penalty(3.0)
    with pytest.raises(TypeError, match="got an item of type ndarray"):
        nn.L1Penalty(1.0).penalty([W])
    with pytest.raises(ValueError, match="unknown penalty 'l3'; valid: l1, l2, elastic_net"):
        nn.make_penalty("l3", strength=1.0)
    assert isinstance(nn.make_penalty("l2", strength=0.1), nn.L2Penalty)

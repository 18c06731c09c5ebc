import re

import numpy as np
import pytest
import torch

from nndl import nn
from nndl.check import gradcheck
from tests.layer_checks import assert_torch_parity, check_layer

SHAPES = [(1, 5), (4, 7), (3, 2, 5), (2, 3, 4, 5)]

# ReLU, LeakyReLU, PReLU, ELU and Step have a kink (or a jump) at 0. A central
# difference with step h = 1e-6 straddling the kink measures the average of the
# two one-sided slopes, not the derivative, so inputs are kept at least
# KINK_MARGIN = 1e-2 (10^4 steps) away from 0.
KINK_MARGIN = 1e-2


def away_from_zero(shape, seed=0):
    """Standard normal entries pushed out of (-KINK_MARGIN, KINK_MARGIN), signs kept."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.where(x >= 0, 1.0, -1.0) * (np.abs(x) + KINK_MARGIN)


SMOOTH = [
    (nn.Sigmoid, {}, torch.nn.Sigmoid, {}),
    (nn.Tanh, {}, torch.nn.Tanh, {}),
    (nn.Softplus, {}, torch.nn.Softplus, {}),
    (nn.Softplus, {"beta": 2.5}, torch.nn.Softplus, {"beta": 2.5}),
]
KINKED = [
    (nn.ReLU, {}, torch.nn.ReLU, {}),
    (nn.LeakyReLU, {}, torch.nn.LeakyReLU, {}),
    (nn.LeakyReLU, {"negative_slope": 0.2}, torch.nn.LeakyReLU, {"negative_slope": 0.2}),
    (nn.LeakyReLU, {"negative_slope": 1.5}, torch.nn.LeakyReLU, {"negative_slope": 1.5}),
    (nn.LeakyReLU, {"negative_slope": -0.3}, torch.nn.LeakyReLU, {"negative_slope": -0.3}),
    (nn.ELU, {}, torch.nn.ELU, {}),
    (nn.ELU, {"alpha": 0.5}, torch.nn.ELU, {"alpha": 0.5}),
    (nn.ELU, {"alpha": 2.0}, torch.nn.ELU, {"alpha": 2.0}),
]


def _id(case):
    cls, kwargs = case[0], case[1]
    return cls.__name__ + "".join(f"-{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("case", SMOOTH, ids=_id)
def test_smooth_activation_gradients_and_torch_parity(case, shape):
    cls, kwargs, torch_cls, torch_kwargs = case
    errors = check_layer(cls(**kwargs), shape, torch_cls(**torch_kwargs))
    assert set(errors) == {"input"}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("case", KINKED, ids=_id)
def test_kinked_activation_gradients_and_torch_parity(case, shape):
    cls, kwargs, torch_cls, torch_kwargs = case
    errors = check_layer(cls(**kwargs), shape, torch_cls(**torch_kwargs), inputs=away_from_zero(shape))
    assert set(errors) == {"input"}


@pytest.mark.parametrize("shape", [(1, 3, 4), (2, 3), (4, 3, 2, 5)])
@pytest.mark.parametrize("num_parameters", [1, 3])
def test_prelu_gradients_and_torch_parity(num_parameters, shape):
    layer = nn.PReLU(num_parameters)
    # Slopes other than the common default, so parity proves the weights were copied.
    layer.weight.data[:] = np.random.default_rng(5).uniform(-0.5, 1.5, num_parameters)
    errors = check_layer(layer, shape, torch.nn.PReLU(num_parameters), inputs=away_from_zero(shape))
    assert set(errors) == {"input", "weight"}


def test_prelu_shared_slope_accepts_any_shape_and_sums_its_gradient():
    layer = nn.PReLU(init=0.1, dtype=np.float64)
    x = np.array([[-2.0, 3.0], [-1.0, 0.5]])
    np.testing.assert_array_equal(layer(x), [[-0.2, 3.0], [-0.1, 0.5]])
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_allclose(dx, [[0.1, 1.0], [0.1, 1.0]])
    np.testing.assert_allclose(layer.weight.grad, [-3.0])  # Σ min(z, 0) = -2 - 1


def test_prelu_state_dict_matches_torch():
    state, torch_state = nn.PReLU(4).state_dict(), torch.nn.PReLU(4).state_dict()
    assert list(state) == list(torch_state) == ["weight"]
    assert state["weight"].shape == tuple(torch_state["weight"].shape) == (4,)
    np.testing.assert_array_equal(state["weight"], torch_state["weight"].numpy())  # both start at 0.25


def test_prelu_channel_mismatch_names_layer_and_shapes():
    with pytest.raises(ValueError, match=r"PReLU\(num_parameters=3\).*\(N, 3, \.\.\.\).*\(2, 4, 5\)"):
        nn.PReLU(3)(np.zeros((2, 4, 5), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(N, 3, \.\.\.\).*\(3,\)"):
        nn.PReLU(3)(np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="num_parameters=3"):
        nn.PReLU(3).output_shape((2, 2))


@pytest.mark.parametrize("shape", SHAPES)
def test_step_forward_values_and_zero_gradient(shape):
    x = away_from_zero(shape)
    errors = check_layer(nn.Step(), shape, inputs=x)
    assert errors == {"input": 0.0}
    out = nn.Step()(x)
    np.testing.assert_array_equal(out, (x > 0).astype(np.float64))


def test_step_convention_at_zero_and_gradient_is_zero():
    step = nn.Step()
    x = np.array([-1.5, -0.0, 0.0, 1e-30, 2.0], dtype=np.float32)
    out = step(x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [0, 0, 0, 1, 1])  # H(0) = 0
    dx = step.backward(np.full(5, 3.0, dtype=np.float32))
    assert dx.dtype == np.float32
    np.testing.assert_array_equal(dx, np.zeros(5))


def test_relu_derivative_at_zero_is_zero_as_torch():
    x = np.array([-1.0, 0.0, 2.0])
    relu = nn.ReLU()
    np.testing.assert_array_equal(relu(x), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(relu.backward(np.ones(3)), [0.0, 0.0, 1.0])
    tx = torch.tensor(x, requires_grad=True)
    torch.relu(tx).sum().backward()
    np.testing.assert_array_equal(tx.grad.numpy(), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("make", [
    lambda: (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    lambda: (nn.ELU(0.7), torch.nn.ELU(0.7)),
    lambda: (nn.PReLU(1, init=0.3), torch.nn.PReLU(1, init=0.3)),
], ids=["LeakyReLU", "ELU", "PReLU"])
def test_derivative_at_the_kink_matches_torch(make):
    # At z = 0 exactly both take the left-hand slope (slope, alpha, a).
    # Fresh modules per run: torch accumulates its parameter gradients.
    layer, torch_layer = make()
    x = np.array([[-1.0, 0.0, 2.0]])
    assert_torch_parity(layer, torch_layer, x)


def test_notes_values():
    # σ(0) = 1/2 and σ'(0) = σ(1 − σ) = 1/4; tanh(z) = 2σ(2z) − 1; softplus(0) = log 2.
    z = np.linspace(-4, 4, 9)
    sigmoid = nn.Sigmoid()
    assert sigmoid(np.zeros(1))[0] == 0.5
    assert sigmoid.backward(np.ones(1))[0] == 0.25
    np.testing.assert_allclose(nn.Tanh()(z), 2 * nn.Sigmoid()(2 * z) - 1, rtol=1e-14, atol=1e-15)
    assert nn.Softplus()(np.zeros(1))[0] == pytest.approx(np.log(2.0), rel=1e-15)
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(z), np.maximum(0.1 * z, z))
    np.testing.assert_allclose(nn.ELU(1.0)(np.array([-1.0, 1.0])), [np.exp(-1.0) - 1, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softplus_extreme_inputs_are_finite_and_correct(dtype):
    info = np.finfo(dtype)
    x = np.array([-info.max, -1000.0, -50.0, 0.0, 50.0, 1000.0, info.max], dtype=dtype)
    with np.errstate(all="raise"):
        sig = nn.Sigmoid()(x)
        soft = nn.Softplus()(x)
    assert sig.dtype == soft.dtype == dtype
    # Values that underflow come back as at most a few smallest-normal numbers.
    tiny = 10 * info.tiny
    exact_sigmoid = [0.0, 0.0, np.exp(-50.0) / (1 + np.exp(-50.0)), 0.5, 1 / (1 + np.exp(-50.0)), 1.0, 1.0]
    np.testing.assert_allclose(sig, np.array(exact_sigmoid, dtype=dtype), rtol=4 * info.eps, atol=tiny)
    # softplus(-50) = log1p(e^-50) ≈ e^-50, kept to full relative accuracy (not rounded to 0).
    exact_softplus = [0.0, 0.0, np.log1p(np.exp(-50.0)), np.log(2.0), 50.0 + np.log1p(np.exp(-50.0)), 1000.0,
                      info.max]
    np.testing.assert_allclose(soft, np.array(exact_softplus, dtype=dtype), rtol=4 * info.eps, atol=tiny)
    assert soft[2] > 0 and soft[2] == pytest.approx(np.exp(-50.0), rel=float(4 * info.eps))


@pytest.mark.parametrize("layer_cls", [nn.Sigmoid, nn.Softplus, nn.Tanh])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturating_backward_on_extreme_inputs_has_no_overflow_or_nan(layer_cls, dtype):
    x = np.array([-1000.0, -100.0, 100.0, 1000.0], dtype=dtype)
    layer = layer_cls()
    layer(x)
    # Underflow to a subnormal gradient is harmless; overflow or NaN is not.
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        dx = layer.backward(np.ones_like(x))
    assert dx.dtype == dtype
    expected = {nn.Sigmoid: [0, 0, 0, 0], nn.Tanh: [0, 0, 0, 0], nn.Softplus: [0, 0, 1, 1]}[layer_cls]
    np.testing.assert_allclose(dx, expected, atol=1e-30)


def test_softplus_relation_to_torch_threshold():
    # torch returns z itself where βz > threshold=20; the exact value differs by log1p(e^{-βz})/β.
    x = np.array([19.0, 21.0, 30.0, 60.0])
    ours = nn.Softplus()(x)
    theirs = torch.nn.Softplus()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, np.log1p(np.exp(x)), rtol=1e-15)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=0)
    assert ours[1] - theirs[1] == pytest.approx(np.log1p(np.exp(-21.0)), rel=1e-3)


ALL_LAYERS = [nn.Step, nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.Softplus, nn.PReLU,
              nn.Softmax, nn.LogSoftmax]


@pytest.mark.parametrize("layer_cls", ALL_LAYERS, ids=lambda c: c.__name__)
def test_float32_and_float64_kept(layer_cls):
    for dtype in (np.float32, np.float64):
        layer = layer_cls().to(dtype)
        x = away_from_zero((2, 3)).astype(dtype)
        out = layer(x)
        dx = layer.backward(np.ones_like(out))
        assert out.dtype == dx.dtype == dtype


@pytest.mark.parametrize("layer_cls", ALL_LAYERS, ids=lambda c: c.__name__)
def test_bad_input_types_name_the_layer(layer_cls):
    layer = layer_cls()
    name = re.escape(layer.describe())
    with pytest.raises(TypeError, match=name + ".*numpy array.*list"):
        layer([[1.0, 2.0]])
    with pytest.raises(TypeError, match=name + ".*float32 or float64.*int64"):
        layer(np.ones((2, 3), dtype=np.int64))


@pytest.mark.parametrize("layer_cls", ALL_LAYERS, ids=lambda c: c.__name__)
def test_backward_leaves_dout_untouched_and_rejects_wrong_shape(layer_cls):
    layer = layer_cls()
    x = away_from_zero((3, 4)).astype(np.float32)
    out = layer(x)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    kept = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(dout, kept)
    with pytest.raises(ValueError, match=re.escape(layer.describe()) + r".*\(3, 1\)"):
        layer.backward(dout[:, :1])


@pytest.mark.parametrize("layer_cls", ALL_LAYERS, ids=lambda c: c.__name__)
def test_backward_before_forward_is_an_error(layer_cls):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer_cls().backward(np.zeros((2, 3), dtype=np.float32))


@pytest.mark.parametrize("layer_cls", [nn.Sigmoid, nn.Tanh, nn.ReLU, nn.ELU, nn.Softplus, nn.Step])
def test_elementwise_activations_accept_any_shape_including_scalars(layer_cls):
    for shape in [(), (5,), (2, 1, 3, 1, 2)]:
        x = np.asarray(away_from_zero(shape))
        out = layer_cls()(x)
        assert out.shape == shape == layer_cls().output_shape(shape)
        assert isinstance(out, np.ndarray)


@pytest.mark.parametrize("factory, error, message", [
    (lambda: nn.LeakyReLU("0.1"), TypeError, "LeakyReLU: negative_slope must be a real number"),
    (lambda: nn.LeakyReLU(float("nan")), ValueError, "LeakyReLU: negative_slope must be finite"),
    (lambda: nn.ELU(-1.0), ValueError, r"ELU: alpha must be >= 0.0, got -1.0"),
    (lambda: nn.Softplus(0), ValueError, r"Softplus: beta must be > 0.0"),
    (lambda: nn.Softplus(-2.0), ValueError, r"Softplus: beta must be > 0.0"),
    (lambda: nn.PReLU(0), ValueError, "PReLU: num_parameters must be >= 1, got 0"),
    (lambda: nn.PReLU(2.0), TypeError, "PReLU: num_parameters must be an int"),
    (lambda: nn.PReLU(init=float("inf")), ValueError, "PReLU: init must be finite"),
], ids=["slope-type", "slope-nan", "elu-alpha", "beta-zero", "beta-negative", "prelu-zero", "prelu-float",
        "prelu-init"])
def test_invalid_constructor_arguments(factory, error, message):
    with pytest.raises(error, match=message):
        factory()


@pytest.mark.parametrize("layer, text", [
    (nn.ReLU(), "ReLU()"), (nn.Sigmoid(), "Sigmoid()"), (nn.Tanh(), "Tanh()"), (nn.Step(), "Step()"),
    (nn.LeakyReLU(0.2), "LeakyReLU(negative_slope=0.2)"), (nn.ELU(), "ELU(alpha=1.0)"),
    (nn.Softplus(), "Softplus(beta=1.0)"), (nn.PReLU(3), "PReLU(num_parameters=3)"),
])
def test_repr_like_torch(layer, text):
    assert repr(layer) == text


def test_prelu_gradient_accumulates_and_respects_frozen_weight():
    layer = nn.PReLU(2, dtype=np.float64)
    x = away_from_zero((3, 2, 4))
    dout = np.random.default_rng(2).standard_normal(x.shape)
    layer(x)
    layer.backward(dout)
    first = layer.weight.grad.copy()
    layer(x)
    layer.backward(dout)
    np.testing.assert_allclose(layer.weight.grad, 2 * first)
    frozen = nn.PReLU(2, dtype=np.float64)
    frozen.weight.requires_grad = False
    frozen(x)
    frozen.backward(dout)
    assert frozen.weight.grad is None
    assert set(gradcheck(frozen, x)) == {"input"}

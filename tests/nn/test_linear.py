import numpy as np
import pytest
import torch

from nndl import nn
from tests.layer_checks import check_layer


@pytest.mark.parametrize("shape", [(1, 5), (4, 5), (3, 2, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients_and_torch_parity(shape, bias):
    errors = check_layer(nn.Linear(5, 3, bias=bias, rng=1), shape, torch.nn.Linear(5, 3, bias=bias))
    assert set(errors) == ({"input", "weight", "bias"} if bias else {"input", "weight"})


def test_linear_state_dict_matches_torch_names_and_shapes():
    layer = nn.Linear(7, 4)
    torch_state = torch.nn.Linear(7, 4).state_dict()
    state = layer.state_dict()
    assert list(state) == list(torch_state)
    assert all(state[k].shape == tuple(torch_state[k].shape) for k in state)


def test_linear_rejects_wrong_feature_count_naming_layer_and_shapes():
    layer = nn.Linear(5, 3)
    with pytest.raises(ValueError, match=r"Linear\(in_features=5, out_features=3, bias=True\).*\(N, 5\).*\(2, 4\)"):
        layer(np.zeros((2, 4), dtype=np.float32))


def test_linear_refuses_silent_dtype_cast():
    with pytest.raises(TypeError, match="float64 differs from the layer's float32"):
        nn.Linear(2, 2)(np.zeros((1, 2)))
    with pytest.raises(TypeError, match="float32 or float64"):
        nn.Linear(2, 2)(np.zeros((1, 2), dtype=np.int64))


def test_linear_default_init_is_he_uniform_and_bias_zero():
    layer = nn.Linear(600, 400, rng=0)
    bound = np.sqrt(6.0 / 600)
    assert np.abs(layer.weight.data).max() <= bound
    # U(-b, b) has variance b^2/3 = 2/fan_in: He's variance for ReLU layers.
    assert layer.weight.data.var() == pytest.approx(2.0 / 600, rel=0.02)
    assert np.all(layer.bias.data == 0)


def test_linear_same_seed_same_weights():
    a, b = nn.Linear(6, 3, rng=42), nn.Linear(6, 3, rng=42)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(a.weight.data, nn.Linear(6, 3, rng=43).weight.data)


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="backward called before forward"):
        nn.Linear(2, 2).backward(np.zeros((1, 2), dtype=np.float32))


def test_first_layer_can_skip_its_input_gradient_with_the_same_parameter_gradients():
    x = np.random.default_rng(0).standard_normal((4, 5))
    full = nn.Sequential(nn.Linear(5, 3, rng=1, dtype=np.float64), nn.Tanh(), nn.Linear(3, 2, rng=2, dtype=np.float64))
    lean = nn.Sequential(nn.Linear(5, 3, rng=1, dtype=np.float64), nn.Tanh(), nn.Linear(3, 2, rng=2, dtype=np.float64))
    dout = np.ones((4, 2))
    full(x)
    lean(x)
    assert full.backward(dout).shape == (4, 5)
    assert nn.backward_parameters(lean, dout) is None
    for (name, a), (_, b) in zip(full.named_parameters(), lean.named_parameters()):
        np.testing.assert_array_equal(a.grad, b.grad, err_msg=name)
    # A module that cannot skip runs its ordinary backward.
    tanh = nn.Tanh(dtype=np.float64)
    tanh(x)
    np.testing.assert_array_equal(nn.backward_parameters(tanh, np.ones((4, 5))), 1 - np.tanh(x) ** 2)

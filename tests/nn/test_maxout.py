import numpy as np
import pytest
import torch

from nndl import nn
from tests.layer_checks import check_layer


class TorchMaxout(torch.nn.Module):
    """The reference: torch.nn.Linear(D, pieces*M), viewed as (..., pieces, M), max over the pieces."""

    def __init__(self, in_features, out_features, pieces, bias=True):
        super().__init__()
        self.pieces, self.out_features = pieces, out_features
        self.weight = torch.nn.Parameter(torch.empty(pieces * out_features, in_features))
        self.bias = torch.nn.Parameter(torch.empty(pieces * out_features)) if bias else None

    def forward(self, x):
        z = torch.nn.functional.linear(x, self.weight, self.bias)
        return z.view(*z.shape[:-1], self.pieces, self.out_features).max(dim=-2).values


def _min_gap_between_pieces(layer, x):
    """Smallest difference between the winning piece and the runner-up, over every output."""
    z = x @ layer.weight.data.T.astype(np.float64)
    if layer.bias is not None:
        z = z + layer.bias.data
    grouped = np.sort(z.reshape(z.shape[:-1] + (layer.pieces, layer.out_features)), axis=-2)
    return np.min(grouped[..., -1, :] - grouped[..., -2, :])


@pytest.mark.parametrize("shape", [(1, 5), (4, 5), (3, 2, 5)])
@pytest.mark.parametrize("pieces, bias", [(2, True), (3, True), (4, False)])
def test_maxout_gradients_and_torch_parity(pieces, bias, shape):
    layer = nn.Maxout(5, 3, pieces, bias=bias, init="pytorch", rng=pieces)
    x = np.random.default_rng(0).standard_normal(shape)
    # max is not differentiable where two pieces tie: the central difference (step 1e-6 on inputs and
    # weights, moving z by ~1e-5 at most) must not swap the winner, so the winning margin is checked first.
    assert _min_gap_between_pieces(layer, x) > 1e-3
    errors = check_layer(layer, shape, TorchMaxout(5, 3, pieces, bias), inputs=x)
    assert set(errors) == ({"input", "weight", "bias"} if bias else {"input", "weight"})


def test_maxout_is_the_elementwise_max_of_separate_linear_maps():
    in_features, out_features, pieces = 6, 4, 3
    layer = nn.Maxout(in_features, out_features, pieces, rng=7, init="pytorch", dtype=np.float64)
    x = np.random.default_rng(8).standard_normal((5, in_features))
    weights = layer.weight.data.reshape(pieces, out_features, in_features)
    biases = layer.bias.data.reshape(pieces, out_features)
    maps = []
    for k in range(pieces):
        linear = nn.Linear(in_features, out_features, dtype=np.float64)
        linear.load_state_dict({"weight": weights[k], "bias": biases[k]})
        maps.append(linear)
    outputs = np.stack([linear(x) for linear in maps])
    np.testing.assert_array_equal(layer(x), outputs.max(axis=0))

    # Backward: each unit's gradient goes only to its winning map, through that map's own backward.
    dout = np.random.default_rng(9).standard_normal((5, out_features))
    winners = outputs.argmax(axis=0)
    dx = layer.backward(dout)
    expected_dx = np.zeros_like(x)
    for k, linear in enumerate(maps):
        expected_dx += linear.backward(np.where(winners == k, dout, 0.0))
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-13, atol=1e-15)
    expected_dweight = np.stack([linear.weight.grad for linear in maps]).reshape(layer.weight.shape)
    np.testing.assert_allclose(layer.weight.grad, expected_dweight, rtol=1e-13, atol=1e-15)
    expected_dbias = np.stack([linear.bias.grad for linear in maps]).reshape(layer.bias.shape)
    np.testing.assert_allclose(layer.bias.grad, expected_dbias, rtol=1e-13, atol=1e-15)


def test_maxout_ties_send_the_gradient_to_the_lowest_piece():
    layer = nn.Maxout(2, 1, 3, dtype=np.float64)
    layer.weight.data[:] = [[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]  # pieces 0 and 1 are the same map
    layer.bias.data[:] = 0.0
    x = np.array([[2.0, 5.0]])
    np.testing.assert_array_equal(layer(x), [[2.0]])
    layer.backward(np.array([[1.0]]))
    np.testing.assert_array_equal(layer.weight.grad, [[2.0, 5.0], [0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(layer.bias.grad, [1.0, 0.0, 0.0])


def test_maxout_state_dict_layout_and_parameter_count():
    layer = nn.Maxout(7, 4, 3)
    state = layer.state_dict()
    assert list(state) == ["weight", "bias"]
    assert state["weight"].shape == (12, 7) and state["bias"].shape == (12,)
    assert layer.num_parameters() == 3 * (4 * 7 + 4)
    assert set(nn.Maxout(7, 4, 3, bias=False).state_dict()) == {"weight"}
    # Same layout as torch.nn.Linear(7, 3*4): the state dict loads into it unchanged.
    torch.nn.Linear(7, 12).load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})


def test_maxout_with_one_piece_is_linear():
    layer = nn.Maxout(3, 2, 1, rng=0, dtype=np.float64)
    linear = nn.Linear(3, 2, dtype=np.float64)
    linear.load_state_dict(layer.state_dict())
    x = np.random.default_rng(1).standard_normal((4, 3))
    np.testing.assert_array_equal(layer(x), linear(x))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"pieces": 0}, ValueError, "Maxout: pieces must be >= 1, got 0"),
    ({"pieces": -2}, ValueError, "Maxout: pieces must be >= 1, got -2"),
    ({"pieces": 2.0}, TypeError, "Maxout: pieces must be an int"),
    ({"pieces": 2, "out_features": 0}, ValueError, "Maxout: out_features must be >= 1"),
    ({"pieces": 2, "init": "glorot"}, ValueError, "unknown init 'glorot'; valid: he_uniform"),
])
def test_maxout_invalid_arguments(kwargs, error, message):
    arguments = {"in_features": 3, "out_features": 2, **kwargs}
    with pytest.raises(error, match=message):
        nn.Maxout(**arguments)


def test_maxout_input_checks_and_repr():
    layer = nn.Maxout(3, 2, 4)
    assert repr(layer) == "Maxout(in_features=3, out_features=2, pieces=4, bias=True)"
    with pytest.raises(ValueError, match=r"Maxout\(in_features=3.*\(N, 3\).*\(2, 5\)"):
        layer(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(TypeError, match="float64 differs from the layer's float32"):
        layer(np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"Maxout\(.*float32 or float64.*int32"):
        layer(np.zeros((2, 3), dtype=np.int32))
    layer(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"dout has shape \(2, 3\), expected \(2, 2\)"):
        layer.backward(np.zeros((2, 3), dtype=np.float32))


def test_maxout_accepts_a_callable_init():
    def constant_init(shape, rng=None, dtype=np.float32):
        return np.full(shape, 0.5, dtype=dtype)

    layer = nn.Maxout(3, 2, 2, init=constant_init)
    assert np.all(layer.weight.data == 0.5) and layer.weight.dtype == np.float32

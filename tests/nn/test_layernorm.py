import numpy as np
import pytest
import torch

from nndl import nn
from tests.layer_checks import check_layer


def random_layernorm(normalized_shape, seed=0, **kwargs):
    layer = nn.LayerNorm(normalized_shape, dtype=np.float64, **kwargs)
    rng = np.random.default_rng(seed)
    if layer.weight is not None:
        layer.weight.data[...] = rng.uniform(0.5, 2.0, layer.weight.shape) * rng.choice([-1, 1], layer.weight.shape)
    if layer.bias is not None:
        layer.bias.data[...] = rng.standard_normal(layer.bias.shape)
    return layer


@pytest.mark.parametrize("normalized_shape, shape", [
    (5, (2, 5)), (5, (1, 5)), (3, (2, 4, 3)), ((3, 4), (2, 3, 3, 4)), ((2, 3, 4), (1, 2, 3, 4)), (7, (7,)),
])
@pytest.mark.parametrize("train", [True, False])
def test_gradients_and_torch_parity(normalized_shape, shape, train):
    layer = random_layernorm(normalized_shape).train(train)
    errors = check_layer(layer, shape, torch.nn.LayerNorm(normalized_shape))
    assert set(errors) == {"input", "weight", "bias"}


@pytest.mark.parametrize("kwargs, names", [
    (dict(elementwise_affine=False), {"input"}),
    (dict(bias=False), {"input", "weight"}),
    (dict(eps=0.1), {"input", "weight", "bias"}),
])
def test_options_match_torch(kwargs, names):
    layer = random_layernorm((3, 2), **kwargs)
    torch_layer = torch.nn.LayerNorm((3, 2), **kwargs)
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    errors = check_layer(layer, (4, 3, 2), torch_layer)
    assert set(errors) == names


def test_output_is_normalized_per_sample_and_same_in_eval():
    x = np.random.default_rng(1).standard_normal((6, 4, 5)) * 3 + 7
    layer = nn.LayerNorm((4, 5), dtype=np.float64)
    out = layer(x)
    np.testing.assert_allclose(out.reshape(6, -1).mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.reshape(6, -1).var(axis=1), 1.0 / (1.0 + 1e-5 / x.reshape(6, -1).var(axis=1)))
    np.testing.assert_array_equal(layer.eval()(x), out)


def test_wrong_trailing_shape_is_named():
    layer = nn.LayerNorm((3, 4))
    with pytest.raises(ValueError, match=r"LayerNorm\(\(3, 4\), .*\(\*, 3, 4\), got \(2, 4, 3\)"):
        layer(np.zeros((2, 4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"got \(4,\)"):
        layer.output_shape((4,))
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.LayerNorm(0)


def test_output_does_not_alias_the_cache():
    layer = nn.LayerNorm(4, elementwise_affine=False, dtype=np.float64)
    x = np.random.default_rng(2).standard_normal((3, 4))
    out = layer(x)
    dout = np.random.default_rng(3).standard_normal((3, 4))
    expected = layer.backward(dout)
    out[...] = 0.0  # a later in-place operation must not change what backward uses
    np.testing.assert_array_equal(layer.backward(dout), expected)

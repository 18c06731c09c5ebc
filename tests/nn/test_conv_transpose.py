import numpy as np
import pytest
import torch

from nndl import nn
from nndl.nn.core.kernels import kernels
from tests.layer_checks import check_layer

# A representative grid (not the full product): kernel 1/2/3/5, stride 1/2/3,
# padding 0/1/2, output_padding, dilation 1/2, groups 1/2/C, bias on/off,
# batch 1 and odd, non-square inputs and kernels.
# (in, out, kernel, stride, padding, output_padding, groups, dilation, bias, input shape)
TRANSPOSE_GRID = [
    (1, 1, 1, 1, 0, 0, 1, 1, True, (1, 1, 3, 4)),
    (3, 2, 1, 2, 0, 1, 1, 1, True, (2, 3, 3, 2)),
    (2, 3, 2, 2, 0, 0, 1, 1, True, (2, 2, 3, 4)),
    (2, 2, 3, 1, 1, 0, 1, 1, False, (1, 2, 5, 4)),
    (3, 2, 3, 2, 1, 1, 1, 1, True, (2, 3, 4, 3)),
    (2, 2, 3, 3, 2, 2, 1, 1, True, (3, 2, 3, 3)),
    (1, 2, 5, 2, 2, 1, 1, 1, True, (1, 1, 3, 4)),
    (2, 3, (2, 3), (2, 1), (1, 0), (1, 0), 1, 1, True, (2, 2, 4, 3)),
    (2, 2, 3, 1, 1, 1, 1, 2, True, (2, 2, 4, 5)),   # output_padding < dilation (stride 1)
    (2, 3, 3, 2, 2, 0, 1, 2, True, (1, 2, 4, 4)),
    (4, 6, 3, 2, 1, 1, 2, 1, True, (2, 4, 3, 4)),
    (3, 3, 3, 2, 0, 0, 3, 1, True, (2, 3, 3, 3)),   # depthwise
    (4, 2, 2, 3, 1, 2, 2, 2, False, (1, 4, 3, 2)),
    (5, 2, 3, 1, 1, 0, 1, 1, True, (2, 5, 3, 4)),    # stride 1, C_in > 2 C_out: col2im forward
]


@pytest.mark.parametrize("config", TRANSPOSE_GRID, ids=[str(i) for i in range(len(TRANSPOSE_GRID))])
def test_conv_transpose2d_gradients_and_torch_parity(config):
    c_in, c_out, kernel, stride, padding, output_padding, groups, dilation, bias, shape = config
    kwargs = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, bias=bias,
                  dilation=dilation)
    layer = nn.ConvTranspose2d(c_in, c_out, kernel, init="pytorch", rng=2, **kwargs)
    errors = check_layer(layer, shape, torch.nn.ConvTranspose2d(c_in, c_out, kernel, **kwargs),
                         gradcheck_kwargs={"max_coords": 150})
    assert set(errors) == ({"input", "weight", "bias"} if bias else {"input", "weight"})


def test_conv_transpose_is_the_adjoint_of_conv():
    # <conv(y), x> = <y, conv_transpose(x)> for the same weight: the defining property (active kernel set).
    k = kernels()
    conv2d_forward, conv2d_backward, conv_transpose2d_forward = (k.conv2d_forward, k.conv2d_backward,
                                                                 k.conv_transpose2d_forward)
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((4, 3, 3, 2))  # conv: 6 -> 4 channels with groups 2
    y = rng.standard_normal((2, 6, 9, 8))
    conv_y, conv_cache = conv2d_forward(y, weight, stride=2, padding=1, dilation=(1, 2), groups=2)
    x = rng.standard_normal(conv_y.shape)
    out_padding = (y.shape[2] + 2 - 2 - 1) % 2, (y.shape[3] + 2 - 2 - 1) % 2
    transposed, _ = conv_transpose2d_forward(x, weight, stride=2, padding=1, output_padding=out_padding,
                                             groups=2, dilation=(1, 2))
    assert transposed.shape == y.shape
    np.testing.assert_allclose(np.sum(conv_y * x), np.sum(y * transposed), rtol=1e-12)
    # ... and its forward is the convolution's input gradient.
    dy, _, _ = conv2d_backward(x, conv_cache)
    np.testing.assert_allclose(transposed, dy, rtol=1e-12, atol=1e-12)


def test_conv_transpose_kernel_pair_matches_module():
    conv_transpose2d_forward, conv_transpose2d_backward = (kernels().conv_transpose2d_forward,
                                                           kernels().conv_transpose2d_backward)
    rng = np.random.default_rng(1)
    layer = nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1, rng=0, dtype=np.float64)
    x = rng.standard_normal((2, 2, 3, 4))
    out, cache = conv_transpose2d_forward(x, layer.weight.data, layer.bias.data, stride=2, padding=1,
                                          output_padding=1)
    np.testing.assert_array_equal(out, layer(x))
    dout = rng.standard_normal(out.shape)
    dx, dweight, dbias = conv_transpose2d_backward(dout, cache)
    np.testing.assert_allclose(dx, layer.backward(dout), rtol=1e-12)
    np.testing.assert_allclose(dweight, layer.weight.grad, rtol=1e-12)
    np.testing.assert_allclose(dbias, layer.bias.grad, rtol=1e-12)


@pytest.mark.parametrize("n, f, s, p", [(2, 3, 2, 0), (4, 4, 2, 1), (3, 3, 1, 1), (5, 2, 3, 0)])
def test_notes_transposed_output_size(n, f, s, p):
    # 003 §4.1.3: an n x n input with an f x f filter, padding p and stride s gives s(n - 1) + f - 2p.
    layer = nn.ConvTranspose2d(1, 1, f, stride=s, padding=p)
    expected = s * (n - 1) + f - 2 * p
    assert layer.output_shape((1, 1, n, n)) == (1, 1, expected, expected)
    assert layer(np.ones((1, 1, n, n), dtype=np.float32)).shape == (1, 1, expected, expected)


def test_conv_transpose_state_dict_and_repr_match_torch():
    args, kwargs = (4, 6, (3, 2)), dict(stride=2, padding=1, output_padding=1, groups=2)
    layer, torch_layer = nn.ConvTranspose2d(*args, **kwargs), torch.nn.ConvTranspose2d(*args, **kwargs)
    torch_state = torch_layer.state_dict()
    assert list(layer.state_dict()) == list(torch_state)
    assert all(layer.state_dict()[k].shape == tuple(torch_state[k].shape) for k in torch_state)
    assert repr(layer) == repr(torch_layer)


def test_conv_transpose_rejects_bad_input():
    layer = nn.ConvTranspose2d(3, 2, 3)
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(3, 2.*\(N, 3, H, W\).*\(1, 2, 4, 4\)"):
        layer(np.zeros((1, 2, 4, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(3, 2.*4-D input.*\(3, 4, 4\)"):
        layer(np.zeros((3, 4, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"empty output"):
        nn.ConvTranspose2d(1, 1, 1, padding=1)(np.zeros((1, 1, 1, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.ConvTranspose2d(4, 3, 3, groups=2)

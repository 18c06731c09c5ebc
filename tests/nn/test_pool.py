import numpy as np
import pytest
import torch

from nndl import nn
from nndl.nn.core.kernels import kernels
from nndl.nn.functional._pool_geometry import adaptive_bins
from tests.layer_checks import assert_torch_parity, check_layer

# A representative grid: kernel 1/2/3/5 (square or not), stride default/1/2/3,
# padding 0/1/2, batch 1 and odd sizes, overlapping and disjoint windows.
# (kernel, stride, padding, input shape)
POOL_GRID = [
    (1, None, 0, (1, 1, 3, 4)),
    (2, None, 0, (2, 3, 6, 8)),
    (2, None, 0, (1, 2, 7, 5)),      # odd sizes: last row/column dropped
    (2, 1, 1, (2, 2, 5, 4)),
    (3, 2, 1, (2, 2, 7, 9)),         # overlapping windows
    (3, 3, 0, (1, 3, 9, 6)),
    (3, 1, 0, (3, 1, 5, 5)),
    (5, 2, 2, (1, 2, 8, 7)),
    ((2, 3), (1, 2), (1, 0), (2, 2, 6, 7)),
    ((3, 1), (3, 1), 0, (2, 1, 9, 3)),
]


@pytest.mark.parametrize("kernel, stride, padding, shape", POOL_GRID)
def test_max_pool2d_gradients_and_torch_parity(kernel, stride, padding, shape):
    layer = nn.MaxPool2d(kernel, stride, padding)
    check_layer(layer, shape, torch.nn.MaxPool2d(kernel, stride, padding), gradcheck_kwargs={"max_coords": 150})


@pytest.mark.parametrize("kernel, stride, padding, dilation, shape", [
    (2, 1, 1, 2, (2, 2, 5, 6)), ((3, 2), 2, (1, 0), (2, 1), (1, 2, 7, 5))])
def test_max_pool2d_dilation_matches_torch(kernel, stride, padding, dilation, shape):
    check_layer(nn.MaxPool2d(kernel, stride, padding, dilation), shape,
                torch.nn.MaxPool2d(kernel, stride, padding, dilation))


@pytest.mark.parametrize("kernel, stride, padding, shape", POOL_GRID)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_gradients_and_torch_parity(kernel, stride, padding, shape, count_include_pad):
    layer = nn.AvgPool2d(kernel, stride, padding, count_include_pad=count_include_pad)
    check_layer(layer, shape, torch.nn.AvgPool2d(kernel, stride, padding, count_include_pad=count_include_pad),
                gradcheck_kwargs={"max_coords": 150})


@pytest.mark.parametrize("output_size, shape", [
    (1, (2, 3, 5, 7)), (2, (1, 2, 4, 4)), (3, (2, 2, 7, 5)), ((4, 3), (2, 1, 9, 7)), ((5, 2), (1, 2, 5, 8)),
    ((None, 3), (2, 2, 4, 7)), ((6, 6), (1, 1, 4, 5))])  # last: upsampling bins overlap
def test_adaptive_avg_pool2d_gradients_and_torch_parity(output_size, shape):
    check_layer(nn.AdaptiveAvgPool2d(output_size), shape, torch.nn.AdaptiveAvgPool2d(output_size))


def test_adaptive_bins_follow_torch_formula():
    # start = floor(i H / out), end = ceil((i + 1) H / out): 7 -> 3 gives [0,3), [2,5), [4,7).
    assert adaptive_bins(7, 3) == [(0, 3), (2, 5), (4, 7)]
    assert adaptive_bins(10, 4) == [(0, 3), (2, 5), (5, 8), (7, 10)]


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 5, 7)])
def test_global_avg_pool2d_gradients_and_value(shape):
    layer = nn.GlobalAvgPool2d()
    check_layer(layer, shape)
    x = np.random.default_rng(0).standard_normal(shape)
    np.testing.assert_allclose(layer(x), torch.nn.AdaptiveAvgPool2d(1)(torch.tensor(x)).numpy()[:, :, 0, 0],
                               rtol=1e-12)
    assert layer.output_shape(shape) == shape[:2]


# ---------------------------------------------------------------------- max-pool ties and overlaps
def test_max_pool_tie_sends_gradient_to_first_position_in_row_major_order():
    # Window 0 is all equal -> its top-left; window 1 ties at its top-right and bottom-left -> top-right.
    x = np.array([[[[5., 5., 1., 7.],
                    [5., 5., 7., 2.]]]])
    layer = nn.MaxPool2d(2)
    out = layer(x)
    np.testing.assert_array_equal(out, [[[[5., 7.]]]])
    dx = layer.backward(np.array([[[[10., 20.]]]]))
    np.testing.assert_array_equal(dx, [[[[10., 0., 0., 20.],
                                         [0., 0., 0., 0.]]]])
    assert np.count_nonzero(dx) == out.size  # exactly one position per window
    # PyTorch breaks ties the same way.
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.MaxPool2d(2)(tx).backward(torch.tensor([[[[10., 20.]]]]))
    np.testing.assert_array_equal(dx, tx.grad.numpy())


def test_max_pool_constant_input_overlapping_windows():
    x = np.zeros((1, 1, 5, 5))
    layer = nn.MaxPool2d(3, stride=2)
    dx = layer.backward(np.ones_like(layer(x)))
    # Every window's first tap (its top-left corner) gets that window's gradient.
    expected = np.zeros((5, 5))
    expected[0:3:2, 0:3:2] = 1.0
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_max_pool_overlapping_windows_accumulate():
    # The centre of a 5x5 is the maximum of all four 3x3 windows at stride 2.
    x = -np.ones((1, 1, 5, 5))
    x[0, 0, 2, 2] = 9.0
    dout = np.array([[[[1., 2.], [3., 4.]]]])
    k = kernels()
    out, cache = k.max_pool2d_forward(x, 3, stride=2)
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 9.0))
    dx = k.max_pool2d_backward(dout, cache)
    assert dx[0, 0, 2, 2] == 10.0 and np.count_nonzero(dx) == 1


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 2)])
def test_max_pool_backward_after_evaluation_forward(kernel, stride):
    # Evaluation skips the winning-tap bookkeeping; a backward pass then recovers it, ties included.
    x = np.round(np.random.default_rng(0).standard_normal((2, 3, 7, 6)))
    dout = np.random.default_rng(1).standard_normal(nn.MaxPool2d(kernel, stride).output_shape(x.shape))
    trained, evaluated = nn.MaxPool2d(kernel, stride), nn.MaxPool2d(kernel, stride).eval()
    np.testing.assert_array_equal(trained(x), evaluated(x))
    np.testing.assert_array_equal(trained.backward(dout), evaluated.backward(dout))
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.MaxPool2d(kernel, stride)(tx).backward(torch.tensor(dout))
    np.testing.assert_allclose(evaluated.backward(dout), tx.grad.numpy(), rtol=1e-12)


def test_max_pool_padding_is_never_selected():
    x = -np.ones((1, 1, 2, 2)) * np.array([[1., 2.], [3., 4.]])
    out = nn.MaxPool2d(2, stride=1, padding=1)(x)
    assert out.max() == -1.0 and np.isfinite(out).all()


def test_max_pool_return_indices_equal_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8))
    for args in [(2,), (3, 2, 1), ((2, 3), (1, 2), (1, 0))]:
        out, indices = nn.MaxPool2d(*args, return_indices=True)(x)
        t_out, t_indices = torch.nn.MaxPool2d(*args, return_indices=True)(torch.tensor(x))
        np.testing.assert_array_equal(out, t_out.numpy())
        assert indices.dtype == np.int64
        np.testing.assert_array_equal(indices, t_indices.numpy())


# ---------------------------------------------------------------------- shapes and errors
def test_pool_reprs_and_output_shapes():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert repr(nn.AvgPool2d(3, 2, 1, count_include_pad=False)) == (
        "AvgPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), count_include_pad=False)")
    assert nn.MaxPool2d(3, 2).output_shape((4, 6, 13, 13)) == (4, 6, 6, 6)
    assert nn.AdaptiveAvgPool2d((2, None)).output_shape((1, 3, 9, 5)) == (1, 3, 2, 5)


@pytest.mark.parametrize("layer", [nn.MaxPool2d(2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(2), nn.GlobalAvgPool2d()])
def test_pools_reject_non_4d_input(layer):
    with pytest.raises(ValueError, match=type(layer).__name__ + r".*4-D input \(N, C, H, W\).*\(3, 4, 4\)"):
        layer(np.zeros((3, 4, 4), dtype=np.float32))


def test_pools_reject_input_smaller_than_window_and_big_padding():
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=\(3, 3\).*\(1, 1, 2, 5\).*kernel 3x3"):
        nn.MaxPool2d(3)(np.zeros((1, 1, 2, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="at most half"):
        nn.AvgPool2d(2, padding=2)


@pytest.mark.parametrize("layer", [nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(3),
                                   nn.GlobalAvgPool2d()])
def test_pools_keep_float32(layer):
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 7)).astype(np.float32)
    out = layer(x)
    assert out.dtype == np.float32 and layer.backward(np.ones_like(out)).dtype == np.float32


def test_max_pool_return_indices_backward_accepts_tuple():
    layer = nn.MaxPool2d(2, return_indices=True)
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 4))
    out, indices = layer(x)
    plain = nn.MaxPool2d(2)
    plain(x)
    np.testing.assert_array_equal(layer.backward((np.ones_like(out), None)), plain.backward(np.ones_like(out)))
    assert_torch_parity(nn.MaxPool2d(2), torch.nn.MaxPool2d(2), x)


# (kernel, stride, padding, dilation, input shape): partial last windows kept, the
# "last window may not start in the padding" rule (7 with 2/2 pad 1), dilation.
CEIL_GRID = [
    (3, 2, 0, 1, (2, 3, 10, 11)),    # floor mode would give 4 x 5, ceil 5 x 5
    (2, 2, 0, 1, (1, 2, 7, 5)),
    (2, 2, 1, 1, (1, 2, 7, 6)),      # the rule drops a window starting in the padding
    (3, 3, 1, 1, (2, 1, 8, 9)),
    ((3, 2), (2, 3), (1, 0), (2, 1), (1, 2, 9, 10)),
    (3, 1, 1, 1, (1, 2, 5, 5)),      # stride 1: same as floor mode
]


@pytest.mark.parametrize("kernel, stride, padding, dilation, shape", CEIL_GRID)
def test_max_pool2d_ceil_mode_matches_torch(kernel, stride, padding, dilation, shape):
    layer = nn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=True)
    torch_layer = torch.nn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=True)
    assert layer.output_shape(shape) == tuple(torch_layer(torch.zeros(shape)).shape)
    check_layer(layer, shape, torch_layer, gradcheck_kwargs={"max_coords": 150})
    x = np.random.default_rng(1).standard_normal(shape)
    _, indices = nn.MaxPool2d(kernel, stride, padding, dilation, return_indices=True, ceil_mode=True)(x)
    _, torch_indices = torch.nn.MaxPool2d(kernel, stride, padding, dilation, return_indices=True, ceil_mode=True)(
        torch.from_numpy(x))
    np.testing.assert_array_equal(indices, torch_indices.numpy())


def test_max_pool2d_ceil_mode_sizes_and_repr():
    assert nn.MaxPool2d(3, 2, ceil_mode=True).output_shape((1, 64, 112, 112)) == (1, 64, 56, 56)  # GoogLeNet
    assert nn.MaxPool2d(3, 2).output_shape((1, 64, 112, 112)) == (1, 64, 55, 55)
    assert nn.MaxPool2d(2, 2, ceil_mode=True).output_shape((1, 1, 14, 14)) == (1, 1, 7, 7)
    assert "ceil_mode=True" in repr(nn.MaxPool2d(2, ceil_mode=True))
    assert "ceil_mode" not in repr(nn.MaxPool2d(2))


@pytest.mark.parametrize("kernel, stride, padding, shape", [
    (3, 2, 0, (2, 3, 10, 11)), (2, 2, 1, (1, 2, 7, 6)), (3, 3, 1, (2, 1, 8, 9)),
    ((3, 2), (2, 3), (1, 0), (1, 2, 9, 10))])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_ceil_mode_matches_torch(kernel, stride, padding, shape, count_include_pad):
    # The overhang of the last windows is never in the divisor; the zero border is when count_include_pad.
    layer = nn.AvgPool2d(kernel, stride, padding, count_include_pad=count_include_pad, ceil_mode=True)
    torch_layer = torch.nn.AvgPool2d(kernel, stride, padding, ceil_mode=True, count_include_pad=count_include_pad)
    assert layer.output_shape(shape) == tuple(torch_layer(torch.zeros(shape)).shape)
    check_layer(layer, shape, torch_layer)
    assert "ceil_mode=True" in repr(layer)

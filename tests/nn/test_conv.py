import numpy as np
import pytest
import torch

from nndl import nn
from nndl.nn._fast import col2im, correlate, parallel, windows
from nndl.nn._fast.settings import settings
from nndl.nn.core.kernels import kernels
from nndl.nn.functional._geometry import conv_geometry
from nndl.nn.functional.conv import conv2d_forward
from tests.layer_checks import assert_torch_parity, check_layer

# A representative grid rather than the full product of every axis: each row
# hits several of kernel 1/2/3/5 (square or not), stride 1/2/3, padding
# 0/1/2/'same'/'valid' (symmetric or not), dilation 1/2, groups 1/2/C,
# bias on/off, padding modes, batch size 1 and odd, non-square inputs.
# (in, out, kernel, stride, padding, dilation, groups, bias, mode, input shape)
CONV_GRID = [
    (1, 1, 1, 1, 0, 1, 1, True, "zeros", (1, 1, 3, 4)),
    (3, 2, 1, 1, 0, 1, 1, True, "zeros", (2, 3, 4, 5)),          # pointwise: no column copy
    (2, 3, 1, 2, 0, 1, 1, True, "zeros", (3, 2, 5, 6)),          # 1x1 strided
    (2, 2, 1, 1, 1, 1, 1, False, "zeros", (1, 2, 3, 3)),         # 1x1 padded
    (2, 3, 2, 2, 0, 1, 1, True, "zeros", (2, 2, 6, 7)),
    (3, 4, 3, 1, 1, 1, 1, True, "zeros", (2, 3, 5, 6)),
    (2, 3, 3, 2, 1, 1, 1, True, "zeros", (1, 2, 7, 9)),
    (2, 2, 3, 3, 2, 1, 1, True, "zeros", (2, 2, 8, 7)),
    (1, 2, 5, 1, 2, 1, 1, True, "zeros", (1, 1, 6, 6)),
    (2, 3, 5, 2, "valid", 1, 1, True, "zeros", (3, 2, 9, 11)),
    (3, 2, (2, 3), 1, (1, 0), 1, 1, True, "zeros", (2, 3, 5, 7)),
    (2, 2, (3, 1), (2, 1), 0, 1, 1, True, "zeros", (2, 2, 7, 4)),
    (2, 3, 3, 1, 2, 2, 1, True, "zeros", (2, 2, 7, 8)),
    (2, 2, 2, 1, "same", 1, 1, True, "zeros", (2, 2, 5, 6)),     # odd total padding: extra at bottom/right
    (2, 3, 4, 1, "same", 1, 1, False, "zeros", (1, 2, 6, 5)),
    (2, 2, (2, 3), 1, "same", (1, 2), 1, True, "zeros", (3, 2, 5, 7)),
    (3, 2, 5, 1, "same", 2, 1, True, "zeros", (1, 3, 9, 10)),
    (4, 6, 3, 1, 1, 1, 2, True, "zeros", (2, 4, 5, 5)),
    (3, 3, 3, 2, 1, 1, 3, True, "zeros", (2, 3, 7, 6)),          # depthwise
    (3, 6, 2, 1, 0, 1, 3, False, "zeros", (1, 3, 4, 5)),         # depthwise, channel multiplier 2
    (4, 2, 3, 3, 2, 2, 2, True, "zeros", (2, 4, 9, 8)),
    (2, 3, 3, 1, 1, 1, 1, True, "reflect", (2, 2, 5, 6)),
    (2, 2, 3, 1, (2, 1), 1, 1, True, "replicate", (1, 2, 4, 5)),
    (2, 3, 3, 2, 1, 1, 1, True, "circular", (2, 2, 6, 5)),
    (2, 2, 3, 1, 0, 1, 1, True, "zeros", (2, 2, 3, 3)),          # kernel as large as the input
    (1, 3, 3, 1, 1, 1, 1, True, "zeros", (2, 1, 5, 4)),          # stride 1, F > 2C: col2im input gradient
]


def _pair(value):
    return value if isinstance(value, tuple) else (value, value)


def _conv_pair(config, rng=1):
    c_in, c_out, kernel, stride, padding, dilation, groups, bias, mode, _ = config
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias, padding_mode=mode)
    return (nn.Conv2d(c_in, c_out, kernel, init="pytorch", rng=rng, **kwargs),
            torch.nn.Conv2d(c_in, c_out, kernel, **kwargs))


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's own performance note
@pytest.mark.parametrize("config", CONV_GRID, ids=[str(i) for i in range(len(CONV_GRID))])
def test_conv2d_gradients_and_torch_parity(config):
    layer, torch_layer = _conv_pair(config)
    errors = check_layer(layer, config[-1], torch_layer, gradcheck_kwargs={"max_coords": 150})
    assert set(errors) == ({"input", "weight", "bias"} if config[7] else {"input", "weight"})


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("config", [CONV_GRID[6], CONV_GRID[13], CONV_GRID[18], CONV_GRID[21]])
@pytest.mark.parametrize("threads", [1, 3])
def test_conv2d_batch_chunking_and_threads_change_nothing(config, threads):
    # A 1-byte budget forces one image per column chunk, and the batch of 5 is split over
    # `threads` workers (uneven parts); results must not change.
    layer, torch_layer = _conv_pair(config)
    shape = (5,) + config[-1][1:]
    with settings.override(column_chunk_bytes=1, parallel_min_elements=0, threads=threads):
        assert len(list(windows.batch_chunks(5, 100))) == 5
        x = np.random.default_rng(3).standard_normal(shape)
        assert_torch_parity(layer, torch_layer, x, rng=4)


@pytest.mark.parametrize("stride, dilation, pads", [((1, 1), (1, 1), (1, 1, 1, 1)), ((2, 1), (1, 2), (0, 1, 2, 0))])
@pytest.mark.parametrize("threads", [1, 3])
def test_both_column_layouts_agree(stride, dilation, pads, threads):
    # Channels-last rows (im2row, taps ordered (i, j, c)) and per-image columns give the same
    # forward product and ∂L/∂W, also with one image per chunk split unevenly over threads.
    rng = np.random.default_rng(6)
    padded = rng.standard_normal((5, 4, 9, 8))
    weight_shape = (3, 4, 2, 3)
    geom = conv_geometry((5, 4, 9 - pads[0] - pads[1], 8 - pads[2] - pads[3]), weight_shape, stride, pads,
                         dilation, 1, "test")
    dout = rng.standard_normal((5, 3) + geom.out_size)
    weight, bias = rng.standard_normal(weight_shape), rng.standard_normal(3)
    results = {}
    for layout, min_channels in (("rows", 1), ("columns", 10**9)):
        with settings.override(column_chunk_bytes=1, parallel_min_elements=0, threads=threads,
                               row_layout_min_channels=min_channels):
            results[layout] = (correlate.correlate(padded, weight, geom, 1, bias),
                               correlate.correlate_weight_grad(padded, dout, geom))
    taps = windows.window_view(padded, geom)
    expected_out = np.einsum("fcij,ncijhw->nfhw", weight, taps) + bias[:, None, None]
    expected_grad = np.einsum("nfhw,ncijhw->fcij", dout, taps)
    for out, grad in results.values():
        np.testing.assert_allclose(out, expected_out, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("interior_only", [True, False])
@pytest.mark.parametrize("uneven_chunks", [False, True])
def test_both_input_gradient_algorithms_agree(interior_only, uneven_chunks):
    # Stride 1 may use the full correlation with the flipped kernel instead of col2im (itself one
    # contiguous add per tap over a padded-width grid): same numbers, also over chunks of 2, 2 and 1 images.
    rng = np.random.default_rng(5)
    weight = rng.standard_normal((4, 3, 2, 3))
    geom = conv_geometry((5, 6, 6, 7), weight.shape, (1, 1), (1, 0, 2, 1), (2, 1), 2, "test")
    item_bytes = 6 * geom.taps * geom.out_size[0] * geom.padded_size[1] * 8
    dout = rng.standard_normal((5, 4) + geom.out_size)
    with settings.override(column_chunk_bytes=int(2.5 * item_bytes) if uneven_chunks else settings.column_chunk_bytes):
        by_correlation = col2im._input_grad_by_correlation(dout, weight, geom, 2, interior_only)
        by_col2im = col2im._input_grad_by_col2im(dout, weight, geom, 2, interior_only)
    assert by_col2im.shape == ((5, 6, 6, 7) if interior_only else (5, 6) + geom.padded_size)
    np.testing.assert_allclose(by_correlation, by_col2im, rtol=1e-12, atol=1e-12)
    # And both equal the definition: every output's Wᵀδ added onto the pixels its window read.
    expected = np.zeros((5, 6) + geom.padded_size)
    contributions = np.einsum("gfcij,ngfhw->ngcijhw", weight.reshape(2, 2, 3, 2, 3),
                              dout.reshape(5, 2, 2, *geom.out_size))
    for i in range(2):
        for j in range(3):
            rows, cols = geom.tap_slices(i, j)
            expected[:, :, rows, cols] += contributions[:, :, :, i, j].reshape(5, 6, *geom.out_size)
    if interior_only:
        expected = expected[:, :, 1:7, 2:9]
    np.testing.assert_allclose(by_col2im, expected, rtol=1e-12, atol=1e-12)


def test_conv2d_kernel_pair_matches_module():
    # The module computes with the active kernel set's pair, nothing else.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 6, 7))
    layer = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, rng=0, dtype=np.float64)
    conv2d_forward, conv2d_backward = kernels().conv2d_forward, kernels().conv2d_backward
    out, cache = conv2d_forward(x, layer.weight.data, layer.bias.data, stride=2, padding=1, groups=2)
    np.testing.assert_array_equal(out, layer(x))
    dout = rng.standard_normal(out.shape)
    dx, dweight, dbias = conv2d_backward(dout, cache)
    np.testing.assert_allclose(dx, layer.backward(dout), rtol=1e-12)
    np.testing.assert_allclose(dweight, layer.weight.grad, rtol=1e-12)
    np.testing.assert_allclose(dbias, dout.sum(axis=(0, 2, 3)), rtol=1e-12)
    assert conv2d_backward(dout, cache, need_input_grad=False)[0] is None


def test_conv2d_is_cross_correlation():
    # A kernel with a single 1 at its top-left tap reads the pixel up-left of the centre (no flip).
    x = np.arange(25, dtype=np.float64).reshape(1, 1, 5, 5)
    weight = np.zeros((1, 1, 3, 3))
    weight[0, 0, 0, 0] = 1.0
    out, _ = conv2d_forward(x, weight, padding=1)
    np.testing.assert_array_equal(out[0, 0, 1:, 1:], x[0, 0, :-1, :-1])


def test_conv2d_state_dict_matches_torch():
    layer = nn.Conv2d(4, 6, (3, 2), groups=2)
    torch_state = torch.nn.Conv2d(4, 6, (3, 2), groups=2).state_dict()
    assert list(layer.state_dict()) == list(torch_state) == ["weight", "bias"]
    assert all(layer.state_dict()[k].shape == tuple(torch_state[k].shape) for k in torch_state)


def test_conv2d_repr_matches_torch():
    for args, kwargs in [((3, 8, 3), dict(padding=1)), ((4, 4, (3, 5)), dict(stride=2, groups=2, bias=False)),
                         ((2, 2, 3), dict(padding="same", dilation=2, padding_mode="reflect"))]:
        assert repr(nn.Conv2d(*args, **kwargs)) == repr(torch.nn.Conv2d(*args, **kwargs))


# ---------------------------------------------------------------------- the notes' sizes and counts
def test_notes_32x32x3_ten_5x5_filters_pad_2():
    layer = nn.Conv2d(3, 10, 5, stride=1, padding=2)
    assert layer.output_shape((1, 3, 32, 32)) == (1, 10, 32, 32)
    assert layer.num_parameters() == 760  # 10 x (5*5*3 + 1)


@pytest.mark.parametrize("stride, size", [(1, 5), (2, 3)])
def test_notes_7x7_input_3x3_kernel(stride, size):
    layer = nn.Conv2d(1, 1, 3, stride=stride)
    assert layer.output_shape((1, 1, 7, 7)) == (1, 1, size, size)
    x = np.ones((1, 1, 7, 7), dtype=np.float32)
    assert layer(x).shape == (1, 1, size, size)


def test_notes_five_3x3_filters_on_256x256x3():
    layer = nn.Conv2d(3, 5, 3, stride=1, padding=1)
    assert layer.num_parameters() == 140  # (3*3*3 + 1) x 5
    assert layer.output_shape((1, 3, 256, 256)) == (1, 5, 256, 256)
    assert nn.MaxPool2d(2).output_shape((1, 5, 256, 256)) == (1, 5, 128, 128)


def test_notes_lenet_table_sizes_and_parameters():
    # 003 §3.5: CONV1 (f=5) 28x28x8 with 608 parameters, POOL1 14x14x8, CONV2 10x10x16 with 3216, POOL2 5x5x16.
    conv1, pool, conv2 = nn.Conv2d(3, 8, 5), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5)
    shape = conv1.output_shape((1, 3, 32, 32))
    assert shape == (1, 8, 28, 28) and conv1.num_parameters() == 608
    shape = pool.output_shape(shape)
    assert shape == (1, 8, 14, 14)
    shape = conv2.output_shape(shape)
    assert shape == (1, 16, 10, 10) and conv2.num_parameters() == 3216
    assert pool.output_shape(shape) == (1, 16, 5, 5)
    # 001 prints "(4 x 4 x 3 + 1) x 6 = 196" for six 4x4x3 filters: a slip, (48 + 1) x 6 = 294.
    assert nn.Conv2d(3, 6, 4).num_parameters() == 294
    assert nn.Conv2d(1, 6, 5).num_parameters() == 156  # 001: LeNet C1


# ---------------------------------------------------------------------- bad input
def test_conv2d_rejects_wrong_channel_count():
    layer = nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8, kernel_size=\(3, 3\).*\(N, 3, H, W\).*\(2, 4, 5, 5\)"):
        layer(np.zeros((2, 4, 5, 5), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\).*\(2, 4, 5, 5\)"):
        layer.output_shape((2, 4, 5, 5))


def test_conv2d_rejects_input_smaller_than_dilated_kernel():
    layer = nn.Conv2d(1, 1, 3, dilation=2, padding=1)
    with pytest.raises(ValueError, match=r"Conv2d\(1, 1.*\(1, 1, 2, 9\).*padded to 4x11.*kernel 5x5"):
        layer(np.zeros((1, 1, 2, 9), dtype=np.float32))


@pytest.mark.parametrize("shape", [(3, 5, 5), (1, 3, 5, 5, 1)])
def test_conv2d_rejects_non_4d_input(shape):
    with pytest.raises(ValueError, match=r"Conv2d\(3, 2.*4-D input \(N, C, H, W\).*" + str(shape).replace("(", r"\(")
                       .replace(")", r"\)")):
        nn.Conv2d(3, 2, 3)(np.zeros(shape, dtype=np.float32))


def test_conv2d_rejects_bad_arguments():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    # padding='same' with a stride is valid: tests/nn/test_same_padding.py
    with pytest.raises(ValueError, match="padding_mode 'mirror'; valid: zeros, reflect, replicate, circular"):
        nn.Conv2d(3, 6, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="padding must be an int, a pair, 'same' or 'valid'"):
        nn.Conv2d(3, 6, 3, padding="full")
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair"):
        nn.Conv2d(3, 6, (3, 3, 3))


def test_conv2d_refuses_dtype_mismatch_and_keeps_float64():
    with pytest.raises(TypeError, match="float64 differs from the layer's float32"):
        nn.Conv2d(1, 1, 1)(np.zeros((1, 1, 2, 2)))
    layer = nn.Conv2d(2, 3, 3, padding=1, dtype=np.float64)
    out = layer(np.ones((1, 2, 4, 4)))
    assert out.dtype == np.float64 and layer.backward(np.ones_like(out)).dtype == np.float64


def test_conv2d_default_init_is_he_uniform_with_zero_bias():
    layer = nn.Conv2d(16, 32, 5, rng=0)
    fan_in = 16 * 25
    assert np.abs(layer.weight.data).max() <= np.sqrt(6.0 / fan_in)
    assert layer.weight.data.var() == pytest.approx(2.0 / fan_in, rel=0.05)
    assert np.all(layer.bias.data == 0)


def test_conv2d_frozen_weight_gets_no_gradient():
    layer = nn.Conv2d(2, 2, 3)
    layer.weight.requires_grad = False
    out = layer(np.ones((1, 2, 4, 4), dtype=np.float32))
    dx = layer.backward(np.ones_like(out))
    assert layer.weight.grad is None and layer.bias.grad is not None and dx.shape == (1, 2, 4, 4)


def test_split_batch_covers_the_batch_in_order_and_restores_blas_threads():
    before = [c.num_threads for c in parallel._blas_controllers()]
    with settings.override(parallel_min_elements=0, threads=3):
        parts = parallel.split_batch(lambda rows: (rows.start, rows.stop), 7, elements=1)
    assert parts == [(0, 2), (2, 4), (4, 7)]
    assert [c.num_threads for c in parallel._blas_controllers()] == before
    assert parallel.split_batch(lambda rows: (rows.start, rows.stop), 1, elements=1) == [(0, 1)]

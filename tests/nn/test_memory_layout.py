"""Channels-last memory (NCHW shape, NHWC storage): which layers produce it, and that no result depends on it.

Inside a network, fast convolutions with many channels return channels-last
arrays; BatchNorm2d, ReLU, MaxPool2d, padding and Flatten's backward keep
the layout they are given; the reference kernels always return C-contiguous
arrays. Every check compares the two layouts of the same values in float64
(results must agree to rounding) and, end to end, a small network with
torch. Layers are run through ``forward``/``backward`` directly, as inside a
network (the outermost call of a network may convert its result).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.layer_checks import assert_torch_parity
from nndl import nn
from nndl.nn._fast.settings import settings
from nndl.nn._fast.windows import channels_last_block, dense, is_channels_last, pad_images
from nndl.nn.core.kernels import kernel_set_name, use_kernels

torch = pytest.importorskip("torch")


def as_channels_last(x: np.ndarray) -> np.ndarray:
    return channels_last_block(x).transpose(0, 3, 1, 2)


def run(layer, x, dout):
    """Forward and backward, as inside a network; returns the output, input gradient and parameter gradients."""
    layer.zero_grad()
    out = layer.forward(x)
    dx = layer.backward(dout)
    return out, dx, {name: p.grad.copy() for name, p in layer.named_parameters()}


def assert_same_results(a, b, rtol=1e-12):
    out_a, dx_a, grads_a = a
    out_b, dx_b, grads_b = b
    np.testing.assert_allclose(out_a, out_b, rtol=rtol, atol=1e-12, err_msg="output")
    np.testing.assert_allclose(dx_a, dx_b, rtol=rtol, atol=1e-12, err_msg="input gradient")
    for name in grads_a:
        np.testing.assert_allclose(grads_a[name], grads_b[name], rtol=rtol, atol=1e-12, err_msg=name)


def test_is_channels_last():
    x = np.zeros((2, 3, 4, 5))
    assert not is_channels_last(x)
    assert is_channels_last(as_channels_last(x))
    assert not is_channels_last(x[:, :, ::2])                      # neither layout
    assert not is_channels_last(np.zeros((2, 1, 4, 5)))            # both layouts: reported as NCHW
    assert not is_channels_last(np.zeros((2, 3)))


def test_dense_keeps_the_stride_order():
    x = as_channels_last(np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5))
    assert dense(x) is x
    sliced = x[:, :, 1:3]
    copy = dense(sliced)
    assert is_channels_last(copy)
    np.testing.assert_array_equal(copy, sliced)


@pytest.mark.parametrize("pads", [(0, 0, 0, 0), (1, 1, 1, 1), (2, 0, 1, 3)])
@pytest.mark.parametrize("source_last", [False, True])
@pytest.mark.parametrize("target_last", [None, False, True])
def test_pad_images_layouts(pads, source_last, target_last):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    source = as_channels_last(x) if source_last else x
    padded = pad_images(source, pads, value=-7.0, channels_last=target_last)
    top, bottom, left, right = pads
    expected = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=-7.0)
    np.testing.assert_array_equal(padded, expected)
    assert is_channels_last(padded) == (source_last if target_last is None else target_last)


@pytest.mark.parametrize("in_channels, out_channels, kernel, stride, padding", [
    (3, 16, 3, 1, 1),      # per-image columns, channels-last output
    (16, 16, 3, 1, 1),     # rows both ways, input gradient by correlation
    (16, 24, 3, 2, 1),     # rows, input gradient by col2im (stride 2)
    (16, 8, 2, 1, 0),      # rows with few filters
    (16, 40, 3, 1, 2),     # rows; input gradient by col2im (F > 2C)
    (16, 24, 1, 1, 0),     # pointwise: the rows are the input block itself
    (16, 24, 1, 2, 0),     # strided pointwise
    (4, 8, 3, 1, "same"),  # all NCHW
])
def test_conv_results_do_not_depend_on_the_input_layout(in_channels, out_channels, kernel, stride, padding):
    rng = np.random.default_rng(1)
    layer = nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=padding, rng=2, dtype=np.float64)
    x = rng.standard_normal((3, in_channels, 7, 6))
    out_shape = layer.output_shape(x.shape)
    dout = rng.standard_normal(out_shape)
    reference = run(layer, x, dout)
    # Fast kernels store many channels channels-last; reference kernels always return C-contiguous arrays.
    fast_layout = (in_channels >= settings.row_layout_min_channels
                   or out_channels >= settings.channels_last_min_filters)
    assert is_channels_last(reference[0]) == (kernel_set_name() == "fast" and fast_layout)
    assert reference[0].flags.c_contiguous or is_channels_last(reference[0])
    assert_same_results(reference, run(layer, as_channels_last(x), as_channels_last(dout)))
    assert_same_results(reference, run(layer, as_channels_last(x), dout))
    # And both equal the definition, z = b + Σ W ⋆ x (one einsum over the window view).
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(layer.weight.data),
                                          torch.from_numpy(layer.bias.data), stride=stride, padding=padding)
    np.testing.assert_allclose(reference[0], expected.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm2d_keeps_the_layout_and_the_numbers(training):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5, 3, 6)) * 2 + 1
    dout = rng.standard_normal(x.shape)
    results, layers = [], []
    for data in (x, as_channels_last(x)):
        layer = nn.BatchNorm2d(5, dtype=np.float64)
        layer.weight.data[...] = rng.standard_normal(5) if not layers else layers[0].weight.data
        layer.bias.data[...] = np.arange(5.0)
        layer.running_mean[...] = 0.5
        layer.running_var[...] = 2.0
        layer.train(training)
        results.append(run(layer, data, as_channels_last(dout) if is_channels_last(data) else dout))
        layers.append(layer)
        if kernel_set_name() == "fast":  # the fast kernels keep the layout (the reference ones need not)
            assert is_channels_last(results[-1][0]) == is_channels_last(data)
            assert is_channels_last(results[-1][1]) == is_channels_last(data)
    assert_same_results(*results)
    np.testing.assert_allclose(layers[0].running_mean, layers[1].running_mean, rtol=1e-14)
    np.testing.assert_allclose(layers[0].running_var, layers[1].running_var, rtol=1e-14)


def test_max_pool_and_relu_keep_the_layout_and_the_numbers():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 6, 8))
    for layer in (nn.MaxPool2d(2), nn.MaxPool2d(3, stride=2, padding=1), nn.ReLU()):
        dout = rng.standard_normal(layer.output_shape(x.shape))
        reference = run(layer, x, dout)
        last = run(layer, as_channels_last(x), as_channels_last(dout))
        if kernel_set_name() == "fast":  # the fast kernels keep the layout (the reference ones need not)
            assert is_channels_last(last[0]) and is_channels_last(last[1])
        assert_same_results(reference, last, rtol=0)


def test_flatten_returns_the_gradient_in_the_input_layout():
    x = as_channels_last(np.random.default_rng(5).standard_normal((2, 3, 4, 5)))
    layer = nn.Flatten()
    out = layer(x)
    np.testing.assert_array_equal(out, np.ascontiguousarray(x).reshape(2, 60))  # NCHW order, as torch
    dx = layer.backward(np.arange(120.0).reshape(2, 60))
    assert is_channels_last(dx)
    np.testing.assert_array_equal(dx, np.arange(120.0).reshape(2, 3, 4, 5))


@pytest.mark.parametrize("train", [True, False])
def test_channels_last_network_matches_torch(train):
    # Every layer of the CIFAR benchmark's kind, with enough filters that the convolutions
    # run channels-last, against torch (float64): output, input gradient, every parameter gradient.
    def build(lib, **kwargs):
        return lib.Sequential(
            lib.Conv2d(3, 16, 3, padding=1, **kwargs), lib.BatchNorm2d(16), lib.ReLU(),
            lib.Conv2d(16, 16, 3, padding=1, **kwargs), lib.BatchNorm2d(16), lib.ReLU(), lib.MaxPool2d(2),
            lib.Conv2d(16, 32, 3, padding=1, **kwargs), lib.BatchNorm2d(32), lib.ReLU(), lib.MaxPool2d(2),
            lib.Flatten(), lib.Linear(32 * 2 * 3, 5))

    model = build(nn, rng=6)
    x = np.random.default_rng(7).standard_normal((4, 3, 8, 13))
    assert_torch_parity(model, build(torch.nn), x, rng=8, train=train)
    with use_kernels("fast"):
        assert is_channels_last(model.to(np.float64)[3].forward(np.ones((1, 16, 4, 4))))
    with use_kernels("reference"):
        assert model[3].forward(np.ones((1, 16, 4, 4))).flags.c_contiguous


@pytest.mark.parametrize("layer", [nn.Conv2d(3, 16, 3, padding=1, dtype=np.float64),
                                   nn.Conv2d(16, 24, 3, stride=2, dtype=np.float64),
                                   nn.ConvTranspose2d(16, 16, 2, stride=2, dtype=np.float64)],
                         ids=["columns", "rows", "transpose"])
def test_public_outputs_are_c_contiguous_unless_channels_last_is_asked_for(layer):
    # Inside the fast kernels these layers store their results channels-last; the outermost
    # call and the public backward entry hand out ordinary NCHW arrays, channels-last only on request.
    x = as_channels_last(np.random.default_rng(8).standard_normal((2, layer.in_channels, 6, 6)))
    out = layer(x)
    assert out.flags.c_contiguous
    assert nn.backward(layer, np.ones_like(out)).flags.c_contiguous
    model = nn.Sequential(layer, nn.ReLU()).to(memory_format="channels_last")
    kept = model(x)
    assert is_channels_last(kept) == (kernel_set_name() == "fast" and layer.out_channels >= 16
                                      and isinstance(layer, nn.Conv2d))
    np.testing.assert_allclose(kept, np.maximum(out, 0), rtol=1e-12, atol=1e-12)


def test_flatten_keeps_torch_order_after_a_channels_last_convolution():
    # Flatten reads (C, H, W) order whatever the storage of its input, as torch.nn.Flatten.
    conv = nn.Conv2d(16, 16, 3, padding=1, rng=0, dtype=np.float64)
    x = np.random.default_rng(9).standard_normal((2, 16, 3, 4))
    inner = conv.forward(x)
    flat = nn.Flatten().forward(inner)
    np.testing.assert_array_equal(flat, np.ascontiguousarray(inner).reshape(2, -1))
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(conv.weight.data),
                                          torch.from_numpy(conv.bias.data), padding=1).flatten(1)
    np.testing.assert_allclose(flat, expected.numpy(), rtol=1e-12, atol=1e-12)

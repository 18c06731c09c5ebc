"""Conv2d(padding='same') for every stride: TensorFlow's rule out = ⌈n/s⌉, the extra padding after.

The expected paddings are worked by hand from the notes' size formula
``⌊(n + p − f)/s⌋ + 1`` with ``f = d(k − 1) + 1``: the least total ``p``
giving ``⌈n/s⌉`` outputs is ``(⌈n/s⌉ − 1)s + f − n``.
"""

import numpy as np
import pytest

from nndl import nn
from nndl.check import gradcheck
from nndl.nn.functional._geometry import resolve_padding, same_padding

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("size, kernel, stride, dilation, expected", [
    (7, 3, 2, 1, (1, 1)),   # out 4: 3·2 + 3 − 7 = 2
    (8, 3, 2, 1, (0, 1)),   # out 4: 3·2 + 3 − 8 = 1, after
    (8, 4, 2, 1, (1, 1)),   # out 4: 3·2 + 4 − 8 = 2
    (9, 5, 3, 1, (1, 1)),   # out 3: 2·3 + 5 − 9 = 2
    (10, 5, 3, 1, (2, 2)),  # out 4: 3·3 + 5 − 10 = 4
    (5, 1, 2, 1, (0, 0)),   # out 3: 2·2 + 1 − 5 = 0
    (6, 3, 2, 2, (1, 2)),   # f = 5, out 3: 2·2 + 5 − 6 = 3
    (3, 5, 2, 1, (2, 2)),   # out 2: 1·2 + 5 − 3 = 4
    (11, 3, 4, 1, (0, 0)),  # out 3: 2·4 + 3 − 11 = 0
    (4, 3, 1, 1, (1, 1)),   # stride 1: d(k − 1) = 2
    (4, 4, 1, 1, (1, 2)),   # stride 1, even kernel: 3, the odd pixel after (PyTorch's 'same' too)
])
def test_padding_by_hand(size, kernel, stride, dilation, expected):
    assert same_padding(size, kernel, stride, dilation) == expected


def test_resolve_padding_needs_the_input_size_only_for_a_stride():
    assert resolve_padding("same", (3, 4), (1, 1), (1, 1), "t") == (1, 1, 1, 2)
    assert resolve_padding("same", (3, 3), (2, 2), (1, 1), "t") is None
    assert resolve_padding("same", (3, 3), (2, 1), (1, 1), "t", in_size=(8, 7)) == (0, 1, 1, 1)


@pytest.mark.parametrize("shape, kernel, stride, dilation", [
    ((2, 3, 8, 7), 3, 2, 1), ((1, 2, 9, 10), (5, 4), (3, 2), 1), ((2, 2, 6, 5), 3, 2, 2), ((1, 2, 5, 5), 1, 2, 1),
])
def test_layer_output_is_ceil_and_equals_explicit_padding(shape, kernel, stride, dilation):
    layer = nn.Conv2d(shape[1], 4, kernel, stride=stride, padding="same", dilation=dilation, rng=0,
                      dtype=np.float64)
    x = np.random.default_rng(1).standard_normal(shape)
    out = layer(x)
    s = (stride, stride) if isinstance(stride, int) else stride
    assert out.shape == (shape[0], 4, -(-shape[2] // s[0]), -(-shape[3] // s[1]))
    assert layer.output_shape(shape) == out.shape
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    top, bottom = same_padding(shape[2], k[0], s[0], dilation)
    left, right = same_padding(shape[3], k[1], s[1], dilation)
    padded = torch.nn.functional.pad(torch.tensor(x), (left, right, top, bottom))
    expected = torch.nn.functional.conv2d(padded, torch.tensor(layer.weight.data), torch.tensor(layer.bias.data),
                                          stride=s, dilation=dilation)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-10, atol=1e-12)


def test_gradcheck_and_kernel_sets_agree_with_stride_2():
    layer = nn.Conv2d(2, 3, 3, stride=2, padding="same", rng=0, dtype=np.float64)
    x = np.random.default_rng(2).standard_normal((2, 2, 6, 5))
    errors = gradcheck(layer, x, rng=1)
    assert max(errors.values()) < 1e-7, errors
    results = []
    for name in ("fast", "reference"):
        with nn.use_kernels(name):
            results.append(nn.Conv2d(2, 3, 3, stride=2, padding="same", rng=0, dtype=np.float64)(x))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-13)


def test_functional_conv2d_accepts_same_with_stride():
    x = np.random.default_rng(3).standard_normal((1, 1, 7, 7))
    w = np.random.default_rng(4).standard_normal((1, 1, 3, 3))
    out, _ = nn.conv2d_forward(x, w, None, 2, "same")
    assert out.shape == (1, 1, 4, 4)

"""nndl.data.kernels: the notes' kernels, cross-correlation and true convolution against scipy.signal."""

import numpy as np
import pytest
from scipy import signal

from nndl import nn
from nndl.data import kernels

rng = np.random.default_rng(0)
IMAGE = rng.standard_normal((7, 6))


@pytest.mark.parametrize("name", kernels.KERNEL_NAMES)
@pytest.mark.parametrize("mode", ["valid", "same"])
def test_equal_to_scipy(name, mode):
    k = kernels.kernel(name)
    np.testing.assert_allclose(kernels.correlate2d(IMAGE, k, mode), signal.correlate2d(IMAGE, k, mode),
                               rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(kernels.convolve2d(IMAGE, k, mode), signal.convolve2d(IMAGE, k, mode),
                               rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (4, 4)])
@pytest.mark.parametrize("mode", ["valid", "same"])
def test_even_and_rectangular_kernels_equal_scipy(shape, mode):
    k = rng.standard_normal(shape)
    np.testing.assert_allclose(kernels.correlate2d(IMAGE, k, mode), signal.correlate2d(IMAGE, k, mode), rtol=1e-12)
    np.testing.assert_allclose(kernels.convolve2d(IMAGE, k, mode), signal.convolve2d(IMAGE, k, mode), rtol=1e-12)


def test_the_notes_kernels_by_hand():
    image = np.arange(25, dtype=np.float64).reshape(5, 5)  # I(x, y) = 5x + y
    same = lambda name: kernels.correlate2d(image, kernels.kernel(name), "same")  # noqa: E731
    np.testing.assert_array_equal(same("identity"), image)
    # shift: cross-correlation reads I(x, y − 1) (the image moves right), convolution I(x, y + 1) (left)
    np.testing.assert_array_equal(same("shift")[:, 1:], image[:, :-1])
    np.testing.assert_array_equal(kernels.convolve2d(image, kernels.kernel("shift"), "same")[:, :-1], image[:, 1:])
    valid = lambda name, f=kernels.correlate2d: f(image, kernels.kernel(name))  # noqa: E731
    np.testing.assert_allclose(valid("blur"), image[1:-1, 1:-1])  # a linear ramp is its own local mean
    np.testing.assert_allclose(valid("sharpen"), image[1:-1, 1:-1])  # weights sum to 1: a ramp is kept
    # vertical edges: left minus right column = 3 · (−2) per row on a ramp rising by 1 per column
    np.testing.assert_allclose(valid("edge_vertical"), np.full((3, 3), -6.0))
    np.testing.assert_allclose(valid("edge_vertical", kernels.convolve2d), np.full((3, 3), 6.0))  # flipped: sign
    np.testing.assert_allclose(valid("edge_horizontal"), np.full((3, 3), -30.0))


def test_output_size_is_n_minus_f_plus_1_and_stacks_are_kept():
    stack = rng.standard_normal((2, 3, 9, 8))
    out = kernels.correlate2d(stack, kernels.kernel("blur"))
    assert out.shape == (2, 3, 7, 6)
    np.testing.assert_allclose(out[1, 2], signal.correlate2d(stack[1, 2], kernels.kernel("blur"), "valid"))


def test_conv2d_layer_is_a_cross_correlation():
    k = kernels.kernel("edge_vertical")
    layer = nn.Conv2d(1, 1, 3, bias=False, dtype=np.float64)
    layer.weight.data[...] = k
    out = layer(IMAGE[None, None])[0, 0]
    np.testing.assert_allclose(out, kernels.correlate2d(IMAGE, k), rtol=1e-12)
    layer.weight.data[...] = k[::-1, ::-1]
    np.testing.assert_allclose(layer(IMAGE[None, None])[0, 0], kernels.convolve2d(IMAGE, k), rtol=1e-12)


def test_kernels_are_copies_and_errors_name_the_choices():
    kernels.kernel("identity")[1, 1] = 5.0
    assert kernels.kernel("identity")[1, 1] == 1.0
    with pytest.raises(ValueError, match="valid: identity"):
        kernels.kernel("emboss")
    with pytest.raises(ValueError, match="larger than the image"):
        kernels.correlate2d(np.zeros((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="mode"):
        kernels.convolve2d(IMAGE, np.ones((3, 3)), "full")


def test_float32_is_kept():
    assert kernels.correlate2d(IMAGE.astype(np.float32), kernels.kernel("blur").astype(np.float32)).dtype == np.float32

"""Rotation, scale, translation (against scipy.ndimage), brightness, contrast, blur, cutout, PCA colour jitter.

Every transform: the same rng gives the same batch, the dtype is kept, the
input is not modified, and each image gets its own draw (the batch equals the
images transformed one at a time with the same parameters).
"""

import numpy as np
import pytest
from scipy import ndimage

from nndl import data
from nndl.data import affine_transform

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 3, 9, 11))

TRANSFORMS = [
    data.RandomRotation(40.0), data.RandomScale((0.7, 1.3)), data.RandomTranslation(0.2),
    data.RandomBrightness(0.5), data.RandomContrast((0.5, 1.5)), data.GaussianBlur((0.3, 1.5)), data.Cutout(4),
    data.PCAColorJitter(0.5).fit(X),
]


def per_image(function, x):
    return np.stack([function(n, x[n]) for n in range(len(x))])


# ---------------------------------------------------------------------- against scipy.ndimage
def test_rotation_equals_scipy_rotate():
    angles = np.random.default_rng(1).uniform(-40, 40, size=4)
    out = data.RandomRotation(40.0, fill=0.5)(X, rng=1)
    expected = per_image(lambda n, img: np.stack([
        ndimage.rotate(ch, angles[n], reshape=False, order=1, mode="grid-constant", cval=0.5) for ch in img]), X)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_scale_equals_scipy_affine_transform():
    factors = np.random.default_rng(2).uniform(0.7, 1.3, size=4)
    out = data.RandomScale((0.7, 1.3))(X, rng=2)
    centre = np.array([4.0, 5.0])
    expected = per_image(lambda n, img: np.stack([
        ndimage.affine_transform(ch, np.eye(2) / factors[n], offset=centre - centre / factors[n], order=1,
                                 mode="grid-constant") for ch in img]), X)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_translation_equals_scipy_shift():
    shifts = np.random.default_rng(3).uniform(-np.array([1.8, 2.2]), np.array([1.8, 2.2]), size=(4, 2))
    out = data.RandomTranslation(0.2)(X, rng=3)
    expected = per_image(lambda n, img: np.stack([
        ndimage.shift(ch, shifts[n], order=1, mode="grid-constant") for ch in img]), X)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_blur_equals_scipy_gaussian_filter():
    blur = data.GaussianBlur((0.3, 1.5))
    sigmas = np.random.default_rng(4).uniform(0.3, 1.5, size=4)
    expected = per_image(lambda n, img: np.stack([
        ndimage.gaussian_filter(ch, sigmas[n], mode="reflect", radius=blur.radius) for ch in img]), X)
    np.testing.assert_allclose(blur(X, rng=4), expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------- hand-computed cases
def test_quarter_turn_and_whole_pixel_shift_by_hand():
    square = np.arange(2 * 25, dtype=np.float64).reshape(1, 2, 5, 5)
    turned = affine_transform(square, data.RandomRotation.matrices([90.0]), np.zeros((1, 2)))
    np.testing.assert_allclose(turned, np.rot90(square, axes=(2, 3)), atol=1e-12)  # counterclockwise
    moved = affine_transform(square, np.eye(2)[None], np.array([[1.0, -2.0]]), fill=-1.0)
    expected = np.full_like(square, -1.0)
    expected[:, :, 1:, :3] = square[:, :, :-1, 2:]  # down one row, left two columns
    np.testing.assert_array_equal(moved, expected)


def test_zoom_by_two_reads_half_pixels():
    # s = 2 about the centre c = 1.5 of a 4-pixel row: output j reads 1.5 + (j − 1.5)/2 = 0.75, 1.25, 1.75, 2.25
    row = np.array([0.0, 4.0, 8.0, 12.0]).reshape(1, 1, 1, 4)
    out = affine_transform(row, (np.eye(2) / 2)[None], np.zeros((1, 2)))
    np.testing.assert_allclose(out[0, 0, 0], [3.0, 5.0, 7.0, 9.0])


def test_brightness_and_contrast_by_hand():
    delta = np.random.default_rng(5).uniform(-0.5, 0.5, size=4)
    np.testing.assert_allclose(data.RandomBrightness(0.5)(X, rng=5), X + delta[:, None, None, None], rtol=1e-14)
    alpha = np.random.default_rng(6).uniform(0.5, 1.5, size=4)[:, None, None, None]
    mean = X.mean(axis=(2, 3), keepdims=True)
    out = data.RandomContrast((0.5, 1.5))(X, rng=6)
    np.testing.assert_allclose(out, mean + alpha * (X - mean), rtol=1e-12)
    np.testing.assert_allclose(out.mean(axis=(2, 3)), X.mean(axis=(2, 3)), atol=1e-12)  # the mean is kept


def test_cutout_hides_one_square_per_image():
    ones = np.ones((50, 1, 8, 8))
    out = data.Cutout(3, fill=0.0)(ones, rng=7)
    hidden = out[:, 0] == 0.0
    for mask in hidden:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        assert 1 <= len(rows) <= 3 and 1 <= len(cols) <= 3
        assert mask.sum() == len(rows) * len(cols)  # a rectangle (a square clipped at the border)
        assert np.all(np.diff(rows) == 1) and np.all(np.diff(cols) == 1)
    assert (hidden.sum(axis=(1, 2)) == 9).mean() > 0.4  # most squares lie fully inside


def test_pca_color_jitter_components_and_offset():
    jitter = data.PCAColorJitter(0.1).fit(X)
    pixels = X.transpose(0, 2, 3, 1).reshape(-1, 3)
    values, vectors = np.linalg.eigh(np.cov(pixels, rowvar=False))
    np.testing.assert_allclose(jitter.eigenvalues_, values, rtol=1e-12)
    np.testing.assert_allclose(np.abs(jitter.eigenvectors_.T @ vectors), np.eye(3), atol=1e-12)
    alphas = np.random.default_rng(8).normal(0, 0.1, size=(4, 3))
    offsets = np.stack([sum(a[i] * values[i] * vectors[:, i] for i in range(3)) for a in alphas])
    out = jitter(X, rng=8)
    np.testing.assert_allclose(out - X, np.broadcast_to(offsets[:, :, None, None], X.shape), atol=1e-12)


# ---------------------------------------------------------------------- the batch-transform contract
@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: type(t).__name__)
def test_contract(transform):
    for dtype in (np.float32, np.float64):
        x = X.astype(dtype)
        before = x.copy()
        out = transform(x, rng=np.random.default_rng(9))
        assert out.dtype == dtype and out.shape == x.shape
        np.testing.assert_array_equal(x, before)
        np.testing.assert_array_equal(out, transform(x, rng=np.random.default_rng(9)))
    out = transform(X, rng=10)
    assert not np.allclose(out[0] - X[0], out[1] - X[1]), "every image gets its own draw"
    assert not np.array_equal(out, transform(X, rng=11))


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: type(t).__name__)
def test_refuses_non_float_or_non_batch_input(transform):
    with pytest.raises(ValueError, match=type(transform).__name__):
        transform(np.zeros((2, 3, 4, 4), dtype=np.uint8), rng=0)
    with pytest.raises(ValueError, match=type(transform).__name__):
        transform(np.zeros((3, 4, 4)), rng=0)


@pytest.mark.parametrize("make, message", [
    (lambda: data.RandomScale((0.0, 1.0)), "lo > 0"), (lambda: data.RandomRotation((10, -10)), "lo <= hi"),
    (lambda: data.RandomTranslation(1.5), "max_fraction"), (lambda: data.Cutout(0), "size"),
    (lambda: data.GaussianBlur(0.0), "sigma"), (lambda: data.PCAColorJitter(-1), "std"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_pca_jitter_needs_fit_and_compose_runs_them_all():
    with pytest.raises(RuntimeError, match="fit"):
        data.PCAColorJitter()(X, rng=0)
    out = data.Compose(TRANSFORMS)(X, rng=12)
    assert out.shape == X.shape and np.all(np.isfinite(out))

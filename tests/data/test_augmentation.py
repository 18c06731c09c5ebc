import numpy as np
import pytest

from nndl.data import Compose, DataLoader, GaussianNoise, RandomCrop, RandomHorizontalFlip


@pytest.fixture
def batch():
    # 64 images, 2 channels, 4x5, every pixel value distinct and nonzero
    return (np.arange(64 * 2 * 4 * 5, dtype=np.float32).reshape(64, 2, 4, 5) + 1)


def test_flip_mirrors_width_axis_of_chosen_images(batch):
    out = RandomHorizontalFlip(0.5)(batch, np.random.default_rng(0))
    flipped = np.array([np.array_equal(o, b[:, :, ::-1]) for o, b in zip(out, batch)])
    kept = np.array([np.array_equal(o, b) for o, b in zip(out, batch)])
    assert np.all(flipped ^ kept) and 16 < flipped.sum() < 48
    np.testing.assert_array_equal(out[flipped][0, 0, 0], batch[flipped][0, 0, 0, ::-1])
    np.testing.assert_array_equal(batch, np.arange(64 * 2 * 4 * 5, dtype=np.float32).reshape(64, 2, 4, 5) + 1)
    assert out.dtype == np.float32


def test_flip_by_hand():
    image = np.array([[[[1, 2, 3], [4, 5, 6]]]], dtype=np.float64)
    np.testing.assert_array_equal(RandomHorizontalFlip(1.0)(image, 0), [[[[3, 2, 1], [6, 5, 4]]]])
    np.testing.assert_array_equal(RandomHorizontalFlip(0.0)(image, 0), image)


def test_crop_by_hand_without_padding_is_a_window():
    image = np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)
    crops = {tuple(RandomCrop(2)(image, seed).ravel()) for seed in range(40)}
    assert crops == {(1, 2, 4, 5), (2, 3, 5, 6), (4, 5, 7, 8), (5, 6, 8, 9)}


@pytest.mark.parametrize("size, padding, mode", [(4, 1, "constant"), ((3, 5), (2, 0), "edge"),
                                                 ((4, 5), 2, "reflect"), (2, 0, "constant")])
def test_each_crop_is_the_padded_image_at_some_offset(batch, size, padding, mode):
    crop = RandomCrop(size, padding, padding_mode=mode)
    out = crop(batch, np.random.default_rng(1))
    (h, w), (ph, pw) = crop.size, crop.padding
    assert out.shape == (64, 2, h, w) and out.dtype == batch.dtype
    padded = np.pad(batch, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode=mode)
    offsets = set()
    for n in range(len(batch)):
        matches = [(t, l) for t in range(padded.shape[2] - h + 1) for l in range(padded.shape[3] - w + 1)
                   if np.array_equal(out[n], padded[n, :, t:t + h, l:l + w])]
        assert len(matches) >= 1
        offsets.add(matches[0])
    # per-image offsets: 64 draws reach more than one position whenever there is room
    positions = (padded.shape[2] - h + 1) * (padded.shape[3] - w + 1)
    assert len(offsets) == positions if positions <= 4 else len(offsets) > 4


def test_crop_with_fill_value():
    out = RandomCrop(3, padding=1, fill=-7.0)(np.ones((50, 1, 1, 1)), 0)
    assert out.shape == (50, 1, 3, 3)
    assert np.all(np.isin(out, [1.0, -7.0])) and np.all((out == 1.0).sum(axis=(1, 2, 3)) == 1)


@pytest.mark.parametrize("transform", [RandomHorizontalFlip(), RandomCrop(3, 1), GaussianNoise(0.1),
                                       Compose([RandomCrop(4, 1), RandomHorizontalFlip(), GaussianNoise(0.5)])])
def test_same_seed_same_result(batch, transform):
    a, b = transform(batch, 7), transform(batch, 7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, transform(batch, 8))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_noise_statistics_and_dtype(dtype):
    x = np.full((200, 3, 8, 8), 2.0, dtype=dtype)
    out = GaussianNoise(0.3)(x, 0)
    assert out.dtype == dtype and np.all(x == 2.0)
    noise = (out - x).astype(np.float64)
    # 38,400 draws: the sample mean's std is 0.3/196 ≈ 0.0015, the sample std's ≈ 0.0011
    assert abs(noise.mean()) < 0.006 and abs(noise.std() - 0.3) < 0.005
    np.testing.assert_array_equal(GaussianNoise(0.0)(x, 0), x)


def test_compose_applies_in_order_with_one_generator():
    log = []

    def first(xb, rng):
        log.append(("first", rng))
        return xb * 2

    def second(xb, rng):
        log.append(("second", rng))
        return xb + 1

    out = Compose([first, second])(np.ones((1, 1, 1, 1)), 0)
    np.testing.assert_array_equal(out, [[[[3.0]]]])
    assert [name for name, _ in log] == ["first", "second"] and log[0][1] is log[1][1]


def test_augmentation_inside_data_loader_is_reproducible(batch):
    labels = np.arange(64)
    transform = Compose([RandomCrop((4, 5), padding=1), RandomHorizontalFlip()])
    runs = [[xb for xb, _ in DataLoader(batch, labels, batch_size=16, rng=3, transform=transform)]
            for _ in range(2)]
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    plain = [xb for xb, _ in DataLoader(batch, labels, batch_size=16, rng=3)]
    assert any(not np.array_equal(a, b) for a, b in zip(runs[0], plain))


@pytest.mark.parametrize("build, message", [
    (lambda: RandomHorizontalFlip(1.5), r"prob must be in \[0, 1\]"),
    (lambda: RandomCrop(0), "size must be an int >= 1"),
    (lambda: RandomCrop(3, -1), "padding must be an int >= 0"),
    (lambda: RandomCrop(3, padding_mode="wrap"), "unknown padding_mode 'wrap'; valid: constant, edge, reflect"),
    (lambda: GaussianNoise(-1.0), "std must be >= 0"),
])
def test_bad_parameters(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"RandomCrop: crop \(9, 9\) larger than the padded image \(6, 6\)"):
        RandomCrop(9, 1)(np.zeros((2, 1, 4, 4)), 0)
    with pytest.raises(ValueError, match=r"expected a batch of images \(N, C, H, W\), got shape \(4, 4\)"):
        RandomHorizontalFlip()(np.zeros((4, 4)), 0)
    with pytest.raises(TypeError, match="float32 or float64 array, got uint8"):
        GaussianNoise(1.0)(np.zeros((1, 1, 2, 2), dtype=np.uint8), 0)
    with pytest.raises(TypeError, match="must be callable"):
        Compose([RandomHorizontalFlip(), "flip"])

import numpy as np
import pytest

from nndl.data import load_digits

sklearn_datasets = pytest.importorskip("sklearn.datasets")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_load_digits_images_are_sklearn_pixels_over_16(dtype):
    images, labels = load_digits(dtype=dtype)
    reference = sklearn_datasets.load_digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == dtype
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    np.testing.assert_array_equal(images.reshape(1797, 64), (reference.data / 16).astype(dtype))
    np.testing.assert_array_equal(labels, reference.target)
    assert np.array_equal(np.bincount(labels), np.bincount(reference.target)) and labels.max() == 9


def test_load_digits_flatten_gives_rows_of_64():
    flat, labels = load_digits(flatten=True)
    images, _ = load_digits()
    assert flat.shape == (1797, 64)
    np.testing.assert_array_equal(flat, images.reshape(1797, 64))


def test_load_digits_without_sklearn_says_how_to_install(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install "nndl\[data\]"'):
        load_digits()


def test_import_nndl_does_not_import_sklearn():
    import subprocess
    import sys
    code = "import sys, nndl, nndl.data; assert 'sklearn' not in sys.modules, 'sklearn imported'"
    subprocess.run([sys.executable, "-c", code], check=True)

import gzip
import struct

import numpy as np
import pytest

from nndl.data import DataFormatError, load_mnist, read_idx, write_idx


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """An IDX file written by hand from the format's definition (independent of write_idx)."""
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_mnist(folder, images, labels, prefix="train", compress=True):
    ext = ".gz" if compress else ""
    for name, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        raw = idx_bytes(array)
        (folder / (name + ext)).write_bytes(gzip.compress(raw) if compress else raw)


@pytest.fixture
def mnist_arrays(rng):
    return rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=7, dtype=np.uint8)


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("kind, prefix", [("train", "train"), ("test", "t10k")])
def test_load_mnist_round_trip(tmp_path, mnist_arrays, compress, kind, prefix):
    images, labels = mnist_arrays
    write_mnist(tmp_path, images, labels, prefix, compress)
    x, y = load_mnist(tmp_path, kind=kind)
    assert x.shape == (7, 1, 28, 28) and x.dtype == np.float32
    assert y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0], images.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(y, labels)
    assert 0.0 <= x.min() and x.max() <= 1.0


@pytest.mark.parametrize("dtype, code", [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C),
                                         (np.float32, 0x0D), (np.float64, 0x0E)])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_read_idx_every_type_and_write_idx_inverse(tmp_path, rng, dtype, code, name):
    array = (rng.normal(0, 50, size=(3, 2, 5))).astype(dtype)
    path = tmp_path / name
    raw = idx_bytes(array, code)
    path.write_bytes(gzip.compress(raw) if name.endswith(".gz") else raw)
    read = read_idx(path)
    assert read.dtype == dtype and read.dtype.isnative
    np.testing.assert_array_equal(read, array)
    write_idx(tmp_path / ("w" + name), array)
    assert (gzip.decompress((tmp_path / ("w" + name)).read_bytes()) if name.endswith(".gz")
            else (tmp_path / ("w" + name)).read_bytes()) == raw


def corrupt(raw: bytes, how: str) -> bytes:
    if how == "bad magic":
        return b"\x08\x03" + raw[2:]
    if how == "unknown type":
        return raw[:2] + b"\x0a" + raw[3:]
    if how == "short data":
        return raw[:-5]
    if how == "trailing bytes":
        return raw + b"\x00"
    if how == "short header":
        return raw[:9]
    raise AssertionError(how)


@pytest.mark.parametrize("how, message", [
    ("bad magic", "bad IDX magic number 0x0803"),
    ("unknown type", "unknown type code 0x0A"),
    ("short data", r"IDX data truncated: header shape \(7, 28, 28\) of uint8 needs 5488 bytes .* found 5483"),
    ("trailing bytes", "trailing bytes"),
    ("short header", "truncated IDX header"),
])
def test_corrupt_idx_raises_naming_the_file(tmp_path, mnist_arrays, how, message):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(corrupt(idx_bytes(mnist_arrays[0]), how))
    with pytest.raises(DataFormatError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value) and info.value.path == str(path)
    assert isinstance(info.value, ValueError)


def test_truncated_gzip_is_reported(tmp_path, mnist_arrays):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(mnist_arrays[0]))[:-20])
    with pytest.raises(DataFormatError, match="corrupt or truncated gzip"):
        read_idx(path)


def test_mnist_wrong_dims_count_mismatch_and_label_range(tmp_path, mnist_arrays):
    images, labels = mnist_arrays
    write_mnist(tmp_path, images.reshape(7, 784), labels)
    with pytest.raises(DataFormatError, match=r"images of shape \(N, rows, cols\), got uint8 of shape \(7, 784\)"):
        load_mnist(tmp_path)
    write_mnist(tmp_path, images, labels[:6])
    with pytest.raises(DataFormatError, match="6 labels for 7 images"):
        load_mnist(tmp_path)
    bad = labels.copy()
    bad[4] = 10
    write_mnist(tmp_path, images, bad)
    with pytest.raises(DataFormatError, match=r"train-labels-idx1-ubyte.gz: label 10 at index 4 out of range \[0, 10\)"):
        load_mnist(tmp_path)


def test_missing_mnist_files_and_bad_kind(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, kind="test")
    with pytest.raises(ValueError, match="unknown kind 'val'; valid: train, test"):
        load_mnist(tmp_path, kind="val")

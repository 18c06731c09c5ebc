import os
import pickle

import numpy as np
import pytest

from nndl.data import DataFormatError, load_cifar10, safe_load_pickle
from nndl.data.cifar import BATCH_NAMES


def make_batches(rng, kind, per_batch=3):
    return [(rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8),
             rng.integers(0, 10, size=per_batch).tolist()) for _ in BATCH_NAMES[kind]]


def write_binary(folder, kind, batches):
    for name, (data, labels) in zip(BATCH_NAMES[kind], batches):
        records = np.concatenate([np.asarray(labels, dtype=np.uint8)[:, None], data], axis=1)
        (folder / f"{name}.bin").write_bytes(records.tobytes())


def write_python(folder, kind, batches, protocol=pickle.DEFAULT_PROTOCOL):
    for name, (data, labels) in zip(BATCH_NAMES[kind], batches):
        batch = {b"batch_label": b"training batch", b"labels": labels, b"data": data,
                 b"filenames": [f"img_{i}.png".encode() for i in range(len(labels))]}
        with open(folder / name, "wb") as file:
            pickle.dump(batch, file, protocol=protocol)


def expected(batches):
    data = np.concatenate([d for d, _ in batches]).reshape(-1, 3, 32, 32)
    return data.astype(np.float32) / np.float32(255), np.concatenate([l for _, l in batches]).astype(np.int64)


@pytest.mark.parametrize("kind", ["train", "test"])
@pytest.mark.parametrize("version", ["binary", "python", "python-protocol-2", "binary-subfolder",
                                     "python-subfolder"])
def test_load_cifar10_round_trip(tmp_path, rng, kind, version):
    batches = make_batches(rng, kind)
    folder = tmp_path
    if version.endswith("subfolder"):
        folder = tmp_path / ("cifar-10-batches-bin" if version.startswith("binary") else "cifar-10-batches-py")
        folder.mkdir()
    if version.startswith("binary"):
        write_binary(folder, kind, batches)
    else:
        write_python(folder, kind, batches, protocol=2 if version.endswith("2") else pickle.DEFAULT_PROTOCOL)
    x, y = load_cifar10(tmp_path, kind=kind)
    want_x, want_y = expected(batches)
    assert x.shape == (3 * len(batches), 3, 32, 32) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x, want_x)
    np.testing.assert_array_equal(y, want_y)


def test_python_batch_written_by_numpy_1_names_is_read(tmp_path, rng):
    """Published CIFAR pickles name numpy.core.multiarray (numpy 1); those names map to the installed numpy."""
    data = rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)
    raw = pickle.dumps({b"data": data, b"labels": [3, 9]}, protocol=2)
    assert b"numpy._core.multiarray" in raw
    (tmp_path / "test_batch").write_bytes(raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    x, y = load_cifar10(tmp_path, kind="test")
    np.testing.assert_array_equal(x.reshape(2, 3072), data / np.float32(255))
    assert y.tolist() == [3, 9]


def test_cifar_channel_layout_is_red_green_blue_planes(tmp_path):
    pixels = np.concatenate([np.full(1024, 10), np.full(1024, 20), np.full(1024, 30)]).astype(np.uint8)
    write_binary(tmp_path, "test", [(pixels[None], [7])])
    x, y = load_cifar10(tmp_path, kind="test", dtype=np.float64)
    assert x.dtype == np.float64 and y.tolist() == [7]
    np.testing.assert_array_equal(x[0, :, 5, 9] * 255, [10, 20, 30])


def test_missing_batch_lists_what_was_searched(tmp_path, rng):
    write_binary(tmp_path, "train", make_batches(rng, "train"))
    os.remove(tmp_path / "data_batch_4.bin")
    with pytest.raises(FileNotFoundError, match="data_batch_4.bin"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize("size, message", [(3073 * 2 - 1, "size 6145 bytes is not a positive multiple of the 3073"),
                                           (0, "size 0 bytes")])
def test_truncated_binary_batch(tmp_path, size, message):
    path = tmp_path / "test_batch.bin"
    path.write_bytes(bytes(size))
    with pytest.raises(DataFormatError, match=message) as info:
        load_cifar10(tmp_path, kind="test")
    assert str(path) in str(info.value)


def test_binary_label_out_of_range(tmp_path, rng):
    data, labels = make_batches(rng, "test")[0]
    labels[1] = 12
    write_binary(tmp_path, "test", [(data, labels)])
    with pytest.raises(DataFormatError, match=r"test_batch.bin: label 12 of record 1 out of range \[0, 10\)"):
        load_cifar10(tmp_path, kind="test")


@pytest.mark.parametrize("batch, message", [
    ({b"labels": [1]}, r"missing key b'data'"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}, "1 labels for 2 images"),
    ({b"data": np.zeros((1, 3000), np.uint8), b"labels": [1]}, r"uint8 array of shape \(N, 3072\), got uint8 array"),
    ({b"data": np.zeros((1, 3072)), b"labels": [1]}, "got float64 array"),
    ({b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]}, r"label 10 of record 0 out of range"),
    ({b"data": np.zeros((1, 3072), np.uint8), b"labels": ["cat"]}, "list of integers"),
    ([1, 2], "expected a pickled dict, got list"),
])
def test_bad_python_batch(tmp_path, batch, message):
    path = tmp_path / "test_batch"
    with open(path, "wb") as file:
        pickle.dump(batch, file)
    with pytest.raises(DataFormatError, match=message) as info:
        load_cifar10(tmp_path, kind="test")
    assert str(path) in str(info.value)


def test_truncated_pickle(tmp_path, rng):
    write_python(tmp_path, "test", make_batches(rng, "test"))
    path = tmp_path / "test_batch"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataFormatError, match="test_batch: not a readable pickle"):
        load_cifar10(tmp_path, kind="test")


class CallsOsSystem:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class CallsEval:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return eval, (f"open({str(self.marker)!r}, 'w').close()",)


@pytest.mark.parametrize("payload, refused", [(CallsOsSystem, r"'posix\.system'|'os\.system'"),
                                              (CallsEval, r"'(builtins|__builtin__)\.eval'")])
@pytest.mark.parametrize("protocol", [0, 2, pickle.DEFAULT_PROTOCOL, 5])
def test_malicious_pickle_is_refused_without_running_it(tmp_path, payload, refused, protocol):
    marker = tmp_path / "marker"
    batch = {b"data": np.zeros((1, 3072), np.uint8), b"labels": [payload(marker)]}
    path = tmp_path / "test_batch"
    with open(path, "wb") as file:
        pickle.dump(batch, file, protocol=protocol)
    with pytest.raises(DataFormatError, match=f"test_batch: refused to unpickle global {refused}"):
        load_cifar10(tmp_path, kind="test")
    assert not marker.exists()
    # the same file, loaded unrestricted, does run the payload: the test above can fail
    with open(path, "rb") as file:
        pickle.load(file)
    assert marker.exists()


@pytest.mark.parametrize("module, name", [("numpy", "load"), ("builtins", "getattr"), ("numpy.core.multiarray",
                                                                                       "frombuffer")])
def test_other_globals_are_refused(tmp_path, module, name):
    path = tmp_path / "p.pkl"
    path.write_bytes(f"c{module}\n{name}\n.".encode())
    with pytest.raises(DataFormatError, match=f"refused to unpickle global '{module}.{name}'"):
        safe_load_pickle(path)


def test_codecs_encode_only_admitted_for_latin1(tmp_path):
    path = tmp_path / "p.pkl"
    with open(path, "wb") as file:
        pickle.dump(b"\x00\xff", file, protocol=2)
    assert safe_load_pickle(path) == b"\x00\xff"
    path.write_bytes(b"c_codecs\nencode\n(Vabc\nVrot13\ntR.")
    with pytest.raises(DataFormatError, match="only as encode"):
        safe_load_pickle(path)

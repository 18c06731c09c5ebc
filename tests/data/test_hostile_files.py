"""Hostile and malformed data files: each reader refuses them with DataFormatError naming the file,
before allocating what they declare."""

import gzip
import io
import pickle
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from nndl.data import DataFormatError, load_csv, load_npz, read_cifar_python_batch, read_idx, safe_load_pickle
from nndl.data.safe_pickle import MAX_DEPTH


def refused(path, message, reader, *args, **kwargs):
    with pytest.raises(DataFormatError, match=message) as info:
        reader(path, *args, **kwargs)
    assert str(path) in str(info.value)
    return info.value


# ---------------------------------------------------------------------- pickles
def test_huge_memo_index_is_refused_before_the_memo_grows(tmp_path):
    path = tmp_path / "memo.pkl"
    path.write_bytes(b"\x80\x02]r\xff\xff\xff\x7f.")  # 9 bytes: [] stored at memo index 2**31 - 1
    assert len(path.read_bytes()) == 9
    refused(path, r"memo index 2147483647 at byte 3: indices must be assigned in order", safe_load_pickle)


def test_memo_read_before_write_is_refused(tmp_path):
    path = tmp_path / "get.pkl"
    path.write_bytes(b"\x80\x02h\x05.")
    refused(path, "memo index 5 read at byte 2 before it was stored", safe_load_pickle)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_nesting_is_refused_before_it_is_built(tmp_path, depth):
    path = tmp_path / "deep.pkl"
    # None wrapped in `depth` one-element tuples, used as a dict key (hashing it recursed in C)
    path.write_bytes(b"\x80\x02}N" + b"\x85" * depth + b"Ns.")
    refused(path, f"nested deeper than {MAX_DEPTH} levels", safe_load_pickle)


def test_nesting_within_the_limit_loads(tmp_path):
    value = None
    for _ in range(MAX_DEPTH - 1):
        value = (value,)
    path = tmp_path / "ok.pkl"
    path.write_bytes(pickle.dumps({value: [1, 2]}, protocol=2))
    assert safe_load_pickle(path) == {value: [1, 2]}
    path.write_bytes(pickle.dumps({"v": [value]}, protocol=2))  # one level deeper than the limit
    refused(path, "nested deeper", safe_load_pickle)


def _ndarray_call(shape, dtype="u1"):
    args = b"".join(b"J" + struct.pack("<i", n) for n in shape) + b"\x86"[:len(shape) == 2] + \
        (b"\x85" if len(shape) == 1 else b"")
    return (b"\x80\x02cnumpy\nndarray\n" + args + b"X" + struct.pack("<I", len(dtype)) + dtype.encode() +
            b"\x86R.")


def test_numpy_ndarray_cannot_be_called_to_allocate_from_no_data(tmp_path):
    path = tmp_path / "alloc.pkl"
    path.write_bytes(_ndarray_call((200000, 3072)))
    assert len(path.read_bytes()) < 150
    refused(path, "calling numpy.ndarray directly is refused", safe_load_pickle)


def test_array_state_must_hold_the_bytes_it_declares(tmp_path):
    # A real array pickle whose shape is enlarged: numpy finds too few bytes.
    raw = pickle.dumps(np.arange(6, dtype=np.uint8), protocol=2)
    patched = raw.replace(b"K\x06\x85", b"J\x00\x00\x00\x10\x85")  # shape (6,) -> (2**28,)
    assert patched != raw
    path = tmp_path / "short.pkl"
    path.write_bytes(patched)
    refused(path, "not a readable pickle", safe_load_pickle)


def test_object_arrays_are_refused(tmp_path):
    path = tmp_path / "obj.pkl"
    path.write_bytes(pickle.dumps({"data": np.array([1, "a"], dtype=object)}, protocol=2))
    refused(path, "object dtype", safe_load_pickle)


def test_oversized_pickle_is_refused_by_its_size(tmp_path):
    path = tmp_path / "big.pkl"
    path.write_bytes(pickle.dumps(bytes(5000)))
    refused(path, "declares 5,0[0-9]{2} bytes of pickle, more than the limit of 1,000", safe_load_pickle,
            max_bytes=1000)


def test_declared_string_longer_than_the_file(tmp_path):
    path = tmp_path / "str.pkl"
    path.write_bytes(b"\x80\x04\x8e" + struct.pack("<Q", 2**62) + b"abc.")  # BINBYTES8 of 2**62 bytes
    refused(path, "not a readable pickle: opcode stream broken", safe_load_pickle)


def test_cifar_python_batch_with_a_bad_key_or_labels(tmp_path):
    path = tmp_path / "test_batch"
    loop = []
    loop.append(loop)
    path.write_bytes(pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": loop}, protocol=2))
    refused(path, "b'labels'", read_cifar_python_batch)


# ---------------------------------------------------------------------- IDX
def _idx_header(code, shape):
    return bytes([0, 0, code, len(shape)]) + np.asarray(shape, dtype=">u4").tobytes()


def test_idx_declaring_more_than_the_file_holds_is_refused_before_allocating(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(_idx_header(0x08, (60000, 28, 28)) + bytes(8))
    refused(path, r"IDX data truncated: header shape \(60000, 28, 28\) of uint8 needs 47040000 bytes after the "
                  "header, found 8", read_idx)


def test_idx_header_whose_size_overflows_64_bits_is_refused_by_the_limit(tmp_path):
    path = tmp_path / "overflow-idx"
    path.write_bytes(_idx_header(0x0E, (2**32 - 1,) * 5))
    refused(path, "more than the limit", read_idx)


def test_idx_gzip_bomb_is_refused_after_decompressing_only_what_the_header_declares(tmp_path):
    path = tmp_path / "bomb-idx1-ubyte.gz"
    payload = _idx_header(0x08, (16,)) + bytes(16) + bytes(64 * 2**20)  # 64 MiB of trailing zeros
    path.write_bytes(gzip.compress(payload, compresslevel=9))
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        refused(path, "IDX data has trailing bytes", read_idx)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20  # the 64 MiB are never decompressed


def test_idx_consistent_but_over_the_limit(tmp_path):
    path = tmp_path / "big-idx"
    path.write_bytes(_idx_header(0x08, (2000,)) + bytes(2000))
    refused(path, "declares 2,000 bytes of IDX data .* more than the limit of 1,000", read_idx, max_bytes=1000)
    assert read_idx(path).shape == (2000,)


@pytest.mark.parametrize("mangle, message", [
    (lambda raw: raw[:10] + bytes(b ^ 0x55 for b in raw[10:40]) + raw[40:], "corrupt or truncated gzip data"),
    (lambda raw: raw[:-12], "corrupt or truncated gzip data|IDX data truncated"),
])
def test_idx_corrupt_gzip(tmp_path, mangle, message):
    path = tmp_path / "c-idx1-ubyte.gz"
    path.write_bytes(mangle(gzip.compress(_idx_header(0x08, (500,)) + bytes(range(250)) * 2)))
    refused(path, message, read_idx)


# ---------------------------------------------------------------------- CSV
@pytest.mark.parametrize("content, kwargs, message", [
    (b"1,2,0\n3,\xff\xfe,1\n", {}, r"line 2: not UTF-8 text \(byte 0xff at offset 8"),
    (b'1,"' + b"9" * 200_000 + b'",0\n', {}, "line 1: not readable as CSV"),
    (b"1,2,1e20\n", {}, r"line 1, column 3: target 1e\+20 is outside the range of int64"),
    (b"1,2,-9.3e18\n", {}, r"target -9.3e\+18 is outside the range of int64"),
    (b"1,1e39,0\n", {}, r"line 1, column 2: 1e\+39 overflows float32"),
    (b"1,2,1e39\n", {"target_dtype": np.float32}, r"line 1, column 3: 1e\+39 overflows float32"),
    (b"1,2,300\n", {"target_dtype": np.uint8}, "outside the range of uint8"),
], ids=["utf8", "field-limit", "label-1e20", "label-negative", "float32-overflow", "target-overflow", "uint8"])
def test_csv_hostile_cells(tmp_path, content, kwargs, message):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    refused(path, message, load_csv, **kwargs)


def test_csv_large_values_within_range_load(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"1e38,2,9000000000000000000\n")
    x, y = load_csv(path)
    assert x[0, 0] == np.float32(1e38) and y[0] == 9 * 10**18


def test_csv_over_the_limit(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1,2,0\n" * 100)
    refused(path, "more than the limit of 100 bytes", load_csv, max_bytes=100)


# ---------------------------------------------------------------------- NPZ
def _npy(array, header_shape=None, data=None):
    buffer = io.BytesIO()
    header = np.lib.format.header_data_from_array_1_0(array)
    if header_shape is not None:
        header["shape"] = header_shape
    np.lib.format.write_array_header_1_0(buffer, header)
    buffer.write(array.tobytes() if data is None else data)
    return buffer.getvalue()


def _npz(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def test_npz_header_declaring_a_huge_array_without_its_data(tmp_path):
    path = tmp_path / "d.npz"
    _npz(path, {"x.npy": _npy(np.zeros(0, np.uint8), header_shape=(200000, 3072), data=b""),
                "y.npy": _npy(np.zeros(3))})
    assert path.stat().st_size < 600
    refused(path, r"array 'x': header declares shape \(200000, 3072\) of uint8 \(614400000 bytes\), the archive "
                  "holds 0 bytes", load_npz)


def test_npz_over_the_limit_and_within_it(tmp_path):
    path = tmp_path / "d.npz"
    np.savez_compressed(path, x=np.arange(500.0).reshape(250, 2), y=np.arange(250))
    refused(path, "array 'x' .* more than the limit of 1,000 bytes", load_npz, max_bytes=1000)
    x, y = load_npz(path)
    np.testing.assert_array_equal(x, np.arange(500.0).reshape(250, 2))
    np.testing.assert_array_equal(y, np.arange(250))


def test_npz_fortran_order_and_zero_sized_arrays(tmp_path):
    path = tmp_path / "d.npz"
    x = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    np.savez(path, x=x, y=np.zeros((3, 0)))
    loaded, y = load_npz(path)
    np.testing.assert_array_equal(loaded, x)
    assert y.shape == (3, 0)


@pytest.mark.parametrize("how, message", [
    ("header", "array 'x' has no valid .npy header"),
    ("deflate", "array 'x' is corrupt"),
    ("method", r"array 'x' is corrupt \(NotImplementedError"),
    ("trailing", "array 'x': header declares shape"),
])
def test_npz_corrupt_members(tmp_path, how, message):
    path = tmp_path / "d.npz"
    x = np.arange(4000, dtype=np.int64)
    if how == "header":
        content = _npy(x).replace(b"'shape': (4000,)", b"'shape': (4000,,")
        _npz(path, {"x.npy": content, "y.npy": _npy(x)})
    elif how == "trailing":
        _npz(path, {"x.npy": _npy(x) + b"extra", "y.npy": _npy(x)})
    else:
        _npz(path, {"x.npy": _npy(x), "y.npy": _npy(x)}, compression=zipfile.ZIP_DEFLATED)
        raw = bytearray(path.read_bytes())
        if how == "deflate":
            start = raw.index(b"x.npy") + 5 + 200
            raw[start:start + 40] = bytes(b ^ 0xA5 for b in raw[start:start + 40])
        else:  # compression method 99 in the local header and the central directory
            for marker in (b"PK\x03\x04", b"PK\x01\x02"):
                at = raw.index(marker)
                offset = 8 if marker == b"PK\x03\x04" else 10
                raw[at + offset:at + offset + 2] = struct.pack("<H", 99)
        path.write_bytes(bytes(raw))
    refused(path, message, load_npz)

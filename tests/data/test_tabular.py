import numpy as np
import pytest

from nndl.data import DataFormatError, load_csv, load_npz


@pytest.fixture
def table(rng):
    features = np.round(rng.normal(0, 10, size=(6, 3)), 4)
    labels = rng.integers(0, 3, size=6)
    return features, labels


def write_csv(path, rows, header=None, delimiter=","):
    lines = [delimiter.join(header)] if header else []
    lines += [delimiter.join(repr(float(v)) if not isinstance(v, str) else v for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n\n")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csv_round_trip_target_last(tmp_path, table, delimiter, dtype):
    features, labels = table
    path = tmp_path / "t.csv"
    write_csv(path, np.column_stack([features, labels]), header=["a", "b", "c", "label"], delimiter=delimiter)
    x, y = load_csv(path, delimiter=delimiter, skip_header=True, dtype=dtype)
    assert x.dtype == dtype and y.dtype == np.int64
    np.testing.assert_array_equal(x, features.astype(dtype))
    np.testing.assert_array_equal(y, labels)


def test_csv_target_by_index_name_or_none(tmp_path, table):
    features, labels = table
    path = tmp_path / "t.csv"
    write_csv(path, np.column_stack([labels, features]), header=["y", "a", "b", "c"])
    x, y = load_csv(path, target_column=0, skip_header=True, dtype=np.float64)
    np.testing.assert_array_equal(x, features)
    np.testing.assert_array_equal(y, labels)
    x, y = load_csv(path, target_column="b", skip_header=True, dtype=np.float64, target_dtype=np.float64)
    np.testing.assert_array_equal(y, features[:, 1])
    np.testing.assert_array_equal(x, np.column_stack([labels, features[:, [0, 2]]]))
    x, y = load_csv(path, target_column=None, skip_header=True, dtype=np.float64)
    assert y is None and x.shape == (6, 4)


@pytest.mark.parametrize("text, message", [
    ("1,2,0\n3,4\n", "line 2: 2 columns, expected 3 as on line 1"),
    ("1,2,0\n3,x4,1\n", "line 2, column 2: 'x4' is not a number"),
    ("1,2,0\n\n3,4,1\n5,,1\n", "line 4, column 2: empty cell"),
    ("1,inf,0\n", "line 1, column 2: 'inf' is not a finite number"),
    ("1,2,0.5\n", r"line 1, column 3: target 0.5 is not a whole number"),
    ("a,b,c\n1,2,0\n", "line 1, column 1: 'a' is not a number"),
    ("\n\n", "no data rows"),
])
def test_csv_errors_name_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=message) as info:
        load_csv(path)
    assert str(path) in str(info.value)


def test_csv_unknown_target_name(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="no column 'z'; columns: a, b"):
        load_csv(path, target_column="z", skip_header=True)
    with pytest.raises(ValueError, match="target_column 2 out of range for 2 columns"):
        load_csv(path, target_column=2, skip_header=True)


@pytest.mark.parametrize("compressed", [False, True])
def test_npz_round_trip(tmp_path, table, compressed):
    features, labels = table
    path = tmp_path / "d.npz"
    (np.savez_compressed if compressed else np.savez)(path, inputs=features.astype(np.float32), targets=labels)
    x, y = load_npz(path, x_key="inputs", y_key="targets")
    assert x.dtype == np.float32 and y.dtype == labels.dtype
    np.testing.assert_array_equal(x, features.astype(np.float32))
    np.testing.assert_array_equal(y, labels)
    x, y = load_npz(path, x_key="inputs", y_key=None)
    assert y is None and x.shape == (6, 3)


def test_npz_object_array_is_refused(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.array([{"a": 1}, None], dtype=object), y=np.array([0, 1]))
    with pytest.raises(DataFormatError, match="array 'x' cannot be read without unpickling"):
        load_npz(path)


def test_npz_missing_key_mismatch_and_corrupt(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((3, 2)), labels=np.zeros(3))
    with pytest.raises(DataFormatError, match="no array 'y'; arrays present: x, labels"):
        load_npz(path)
    np.savez(path, x=np.zeros((3, 2)), y=np.zeros(4))
    with pytest.raises(DataFormatError, match=r"'x' of shape \(3, 2\) and 'y' of shape \(4,\) differ"):
        load_npz(path)
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(DataFormatError, match="d.npz: not a readable .npz archive"):
        load_npz(path)

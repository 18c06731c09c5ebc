"""Numeric tables from CSV and NPZ files.

``load_csv`` reads numbers only: a ragged row, an empty or non-numeric cell,
or a NaN/inf cell raises ``DataFormatError`` naming the file, the line and
the column. ``load_npz`` uses ``np.load(allow_pickle=False)``, so an archive
holding object arrays (which would need unpickling) is refused.
"""

from __future__ import annotations

import csv
import os
import zipfile

import numpy as np

from nndl.data.errors import DataFormatError


def _float_dtype(dtype, where: str) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{where}: dtype must be float32 or float64, got {dtype}")
    return dtype


def _parse_cell(path, text: str, line: int, column: int) -> float:
    if not text.strip():
        raise DataFormatError(path, f"line {line}, column {column}: empty cell")
    try:
        value = float(text)
    except ValueError:
        raise DataFormatError(path, f"line {line}, column {column}: {text!r} is not a number") from None
    if not np.isfinite(value):
        raise DataFormatError(path, f"line {line}, column {column}: {text!r} is not a finite number")
    return value


def _read_rows(path, delimiter: str, skip_header: bool):
    """(header or None, [(line number, cells)]) with blank lines dropped."""
    header, rows = None, []
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.reader(file, delimiter=delimiter)
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue
            if skip_header and header is None:
                header = [c.strip() for c in cells]
                continue
            rows.append((reader.line_num, cells))
    return header, rows


def load_csv(path: str | os.PathLike, target_column: int | str | None = -1, delimiter: str = ",",
             skip_header: bool = False, dtype=np.float32, target_dtype=np.int64
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a numeric CSV file into features and a target column.

    Parameters
    ----------
    path : str or PathLike
        The file (UTF-8; quoted cells allowed; blank lines ignored).
    target_column : int, str or None
        Index of the target column (negative counts from the end), its name in
        the header (needs ``skip_header=True``), or None for no target.
    delimiter : str
        Cell separator.
    skip_header : bool
        The first non-blank line holds column names. Without it, a header line
        is reported as a non-numeric cell.
    dtype : float32 or float64
        Type of the features.
    target_dtype : dtype
        Type of the target: int64 (class labels; every value must be a whole
        number) or a float type (regression).

    Returns
    -------
    x : ndarray, shape (N, D)
        Every column except the target.
    y : ndarray, shape (N,), or None
        The target column, None if ``target_column`` is None.

    Raises
    ------
    DataFormatError
        Ragged rows, empty/non-numeric/non-finite cells (naming line and
        1-based column), a non-integer class label, or no data rows.
    """
    dtype = _float_dtype(dtype, "load_csv")
    target_dtype = np.dtype(target_dtype)
    header, rows = _read_rows(path, delimiter, skip_header)
    if not rows:
        raise DataFormatError(path, "no data rows")
    width = len(header) if header is not None else len(rows[0][1])
    for line, cells in rows:
        if len(cells) != width:
            source = "the header" if header is not None else f"line {rows[0][0]}"
            raise DataFormatError(path, f"line {line}: {len(cells)} columns, expected {width} as on {source}")
    try:  # fast path: numpy parses the whole table in C
        table = np.array([cells for _, cells in rows], dtype=np.float64)
        ok = bool(np.all(np.isfinite(table)))
    except ValueError:
        ok = False
    if not ok:  # slow path, only to say which cell is bad
        table = np.array([[_parse_cell(path, text, line, j + 1) for j, text in enumerate(cells)]
                          for line, cells in rows])
    if target_column is None:
        return table.astype(dtype), None
    if isinstance(target_column, str):
        if header is None:
            raise ValueError(f"load_csv: target_column '{target_column}' is a name; pass skip_header=True")
        if target_column not in header:
            raise ValueError(f"load_csv: {os.fspath(path)} has no column '{target_column}'; columns: "
                             f"{', '.join(header)}")
        index = header.index(target_column)
    else:
        if not -width <= target_column < width:
            raise ValueError(f"load_csv: target_column {target_column} out of range for {width} columns")
        index = target_column % width
    target = table[:, index]
    if np.issubdtype(target_dtype, np.integer):
        fractional = target != np.round(target)
        if np.any(fractional):
            row = int(np.argmax(fractional))
            raise DataFormatError(path, f"line {rows[row][0]}, column {index + 1}: target {float(target[row])!r} is not a "
                                        f"whole number; pass target_dtype=np.float32 for a regression target")
    elif not np.issubdtype(target_dtype, np.floating):
        raise TypeError(f"load_csv: target_dtype must be an integer or float type, got {target_dtype}")
    features = np.delete(table, index, axis=1)
    return features.astype(dtype), target.astype(target_dtype)


def load_npz(path: str | os.PathLike, x_key: str = "x", y_key: str | None = "y"
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """Read features and targets from a ``.npz`` archive without unpickling.

    Parameters
    ----------
    path : str or PathLike
        An archive written by ``np.savez`` / ``np.savez_compressed``.
    x_key, y_key : str
        Names of the feature and target arrays; ``y_key=None`` reads features only.

    Returns
    -------
    x : ndarray
        As stored (no cast).
    y : ndarray or None
        As stored; must have as many rows as ``x``.

    Raises
    ------
    DataFormatError
        Not an npz archive, a missing key (the message lists the keys
        present), an object array, or mismatched lengths.
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
        raise DataFormatError(path, f"not a readable .npz archive ({error})") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataFormatError(path, "is a single .npy array, not an .npz archive")
    with archive:
        arrays = []
        for key in (x_key, y_key):
            if key is None:
                arrays.append(None)
                continue
            if key not in archive.files:
                raise DataFormatError(path, f"no array '{key}'; arrays present: {', '.join(archive.files) or 'none'}")
            try:
                arrays.append(archive[key])
            except ValueError as error:  # object arrays need pickle, which is off
                raise DataFormatError(path, f"array '{key}' cannot be read without unpickling "
                                            f"(object arrays are refused): {error}") from error
            except (OSError, zipfile.BadZipFile, EOFError) as error:
                raise DataFormatError(path, f"array '{key}' is corrupt ({error})") from error
    x, y = arrays
    if y is not None and (x.ndim == 0 or y.ndim == 0 or len(x) != len(y)):
        raise DataFormatError(path, f"'{x_key}' of shape {x.shape} and '{y_key}' of shape {y.shape} differ "
                                    "in number of samples")
    return x, y

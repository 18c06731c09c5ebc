"""Numeric tables from CSV files (and ``load_npz``, re-exported from :mod:`nndl.data.npz`).

``load_csv`` reads numbers only: a ragged row, an empty or non-numeric cell,
a NaN/inf cell (also one that overflows the requested float type), a class
label that is not a whole number in the integer type's range, text that is
not UTF-8 or that the csv module cannot split raises ``DataFormatError``
naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import io
import os

import numpy as np

from nndl.data.errors import DataFormatError
from nndl.data.limits import check_limit
from nndl.data.npz import load_npz  # noqa: F401  (its home before the readers were split)


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
    with open(path, "rb") as file:
        raw = file.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise DataFormatError(path, f"line {line}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset "
                                    f"{error.start} cannot be decoded)") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue
            if skip_header and header is None:
                header = [c.strip() for c in cells]
                continue
            rows.append((reader.line_num, cells))
    except csv.Error as error:  # an overlong field, a stray quote...
        raise DataFormatError(path, f"line {reader.line_num}: not readable as CSV ({error})") from None
    return header, rows


def _check_finite(path, array: np.ndarray, source: np.ndarray, rows, columns, dtype) -> None:
    """Name the first cell that overflows ``dtype`` (e.g. 1e39 in float32)."""
    bad = ~np.isfinite(array)
    if np.any(bad):
        row, column = np.argwhere(bad)[0]
        raise DataFormatError(path, f"line {rows[row][0]}, column {columns[column] + 1}: {float(source[row, column])!r} "
                                    f"overflows {np.dtype(dtype).name}")


def load_csv(path: str | os.PathLike, target_column: int | str | None = -1, delimiter: str = ",",
             skip_header: bool = False, dtype=np.float32, target_dtype=np.int64, max_bytes: int | None = None
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
        number in the type's range) or a float type (regression).
    max_bytes : int, optional
        Largest file accepted (default ``nndl.data.limits.MAX_DATA_BYTES``).

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
        1-based column), a value that overflows ``dtype``, a non-integer or
        out-of-range class label, undecodable text, or no data rows.
    """
    dtype = _float_dtype(dtype, "load_csv")
    target_dtype = np.dtype(target_dtype)
    if not (np.issubdtype(target_dtype, np.integer) or np.issubdtype(target_dtype, np.floating)):
        raise TypeError(f"load_csv: target_dtype must be an integer or float type, got {target_dtype}")
    check_limit(path, os.path.getsize(path), max_bytes, "CSV text")
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
    columns = np.arange(width)
    if target_column is None:
        with np.errstate(over="ignore"):
            features = table.astype(dtype)
        _check_finite(path, features, table, rows, columns, dtype)
        return features, None
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
        info = np.iinfo(target_dtype)
        # float(info.max) rounds up to 2**63 for int64: compare against the exact power of two instead.
        outside = (target < info.min) | (target >= float(info.max) + 1)
        if np.any(outside):
            row = int(np.argmax(outside))
            raise DataFormatError(path, f"line {rows[row][0]}, column {index + 1}: target {float(target[row])!r} is "
                                        f"outside the range of {target_dtype.name} [{info.min}, {info.max}]")
        y = target.astype(target_dtype)
    else:
        with np.errstate(over="ignore"):  # reported just below, naming the cell
            y = target.astype(target_dtype)
        _check_finite(path, y[:, None], table[:, [index]], rows, [index], target_dtype)
    keep = np.delete(columns, index)
    with np.errstate(over="ignore"):
        features = table[:, keep].astype(dtype)
    _check_finite(path, features, table[:, keep], rows, keep, dtype)
    return features, y


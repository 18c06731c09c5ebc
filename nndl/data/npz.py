"""Arrays from ``.npz`` archives, read member by member with every declared size checked first.

``np.load`` allocates the array an ``.npy`` header declares before reading
its data, so a few hundred bytes can ask for gigabytes. Here the header is
parsed first, its object dtypes refused (they would need unpickling), and the
declared size compared with the member's size in the archive and with
``max_bytes`` before the array is allocated; the data is then decompressed
into it chunk by chunk, never beyond the declared size.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib

import numpy as np

from nndl.data.errors import DataFormatError
from nndl.data.limits import check_limit

_NPY_MAGIC = b"\x93NUMPY"
_MAX_HEADER = 10_000  # np.load's own default limit on an .npy header


def _read_header(member):
    """(shape, fortran_order, dtype) of an open ``.npy`` member; the stream is left at the data."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(member, max_header_size=_MAX_HEADER)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(member, max_header_size=_MAX_HEADER)
    return np.lib.format._read_array_header(member, version, max_header_size=_MAX_HEADER)


def _read_member(path, archive: zipfile.ZipFile, name: str, key: str, max_bytes) -> np.ndarray:
    info = archive.getinfo(name)
    with archive.open(info) as member:
        try:
            shape, fortran_order, dtype = _read_header(member)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
            raise  # the compressed stream itself is broken: reported as a corrupt member by the caller
        except Exception as error:  # ValueError, SyntaxError, tokenize errors from a mangled header
            raise DataFormatError(path, f"array '{key}' has no valid .npy header ({type(error).__name__}: "
                                        f"{error})") from error
        if dtype.hasobject:
            raise DataFormatError(path, f"array '{key}' cannot be read without unpickling (object arrays are "
                                        f"refused): dtype {dtype}")
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        check_limit(path, nbytes, max_bytes, f"array '{key}' (shape {shape}, {dtype})")
        stored = info.file_size - member.tell()
        if stored != nbytes:
            raise DataFormatError(path, f"array '{key}': header declares shape {shape} of {dtype} ({nbytes} bytes), "
                                        f"the archive holds {stored} bytes of data")
        array = np.empty(count, dtype=dtype)
        view = memoryview(array.view(np.uint8)) if nbytes else memoryview(b"")
        filled = 0
        while filled < nbytes:
            chunk = member.read(min(nbytes - filled, 1 << 24))
            if not chunk:
                raise DataFormatError(path, f"array '{key}' truncated: {filled} of {nbytes} bytes")
            view[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
        if member.read(1):
            raise DataFormatError(path, f"array '{key}' has bytes beyond its declared shape {shape}")
    order = "F" if fortran_order else "C"
    return array.reshape(shape, order=order)


def load_npz(path: str | os.PathLike, x_key: str = "x", y_key: str | None = "y", max_bytes: int | None = None
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """Read features and targets from a ``.npz`` archive without unpickling.

    Parameters
    ----------
    path : str or PathLike
        An archive written by ``np.savez`` / ``np.savez_compressed``.
    x_key, y_key : str
        Names of the feature and target arrays; ``y_key=None`` reads features only.
    max_bytes : int, optional
        Largest array accepted (default ``nndl.data.limits.MAX_DATA_BYTES``).

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
        present), an object array, a corrupt or truncated member, a header
        declaring more data than the member holds or than ``max_bytes``, or
        mismatched lengths.
    """
    with open(path, "rb") as file:
        if file.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
            raise DataFormatError(path, "is a single .npy array, not an .npz archive")
    try:
        archive = zipfile.ZipFile(path)
    except Exception as error:  # BadZipFile, OSError, ValueError, EOFError from a mangled directory
        raise DataFormatError(path, f"not a readable .npz archive ({type(error).__name__}: {error})") from error
    with archive:
        names = {name[:-4] if name.endswith(".npy") else name: name for name in archive.namelist()}
        arrays = []
        for key in (x_key, y_key):
            if key is None:
                arrays.append(None)
                continue
            if key not in names:
                raise DataFormatError(path, f"no array '{key}'; arrays present: {', '.join(names) or 'none'}")
            try:
                arrays.append(_read_member(path, archive, names[key], key, max_bytes))
            except DataFormatError:
                raise
            except MemoryError as error:
                raise DataFormatError(path, f"array '{key}' could not be allocated") from error
            except Exception as error:  # BadZipFile (CRC), zlib.error, NotImplementedError (method), EOFError...
                raise DataFormatError(path, f"array '{key}' is corrupt ({type(error).__name__}: {error})") from error
    x, y = arrays
    if y is not None and (x.ndim == 0 or y.ndim == 0 or len(x) != len(y)):
        raise DataFormatError(path, f"'{x_key}' of shape {x.shape} and '{y_key}' of shape {y.shape} differ "
                                    "in number of samples")
    return x, y

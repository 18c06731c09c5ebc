"""The IDX format of MNIST and Fashion-MNIST, read from files the user already has.

An IDX file is a big-endian header followed by the raw array:

====== ======================================================================
bytes  meaning
====== ======================================================================
0-1    zero
2      element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
       0x0D float32, 0x0E float64
3      number of dimensions ``ndim``
4..    ``ndim`` sizes, each an unsigned 32-bit big-endian integer
then   ``prod(sizes)`` elements, big-endian, C order
====== ======================================================================

MNIST's ``train-images-idx3-ubyte`` therefore starts with ``00 00 08 03``
(the "magic number" 2051) and ``train-labels-idx1-ubyte`` with ``00 00 08 01``
(2049). Files may be gzip-compressed; that is detected from the content.
"""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from nndl.data.errors import DataFormatError

IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"

# The names MNIST and Fashion-MNIST are distributed under; some mirrors use a
# dot instead of the last dash. Each may also end in ".gz".
MNIST_PREFIXES = {"train": "train", "test": "t10k"}


def _read_bytes(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as file:
        raw = file.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DataFormatError(path, f"corrupt or truncated gzip data ({error})") from error


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into an array of its stored shape.

    Parameters
    ----------
    path : str or PathLike
        The file.

    Returns
    -------
    ndarray
        Shape ``(d1, ..., d_ndim)`` from the header, the header's element type
        in native byte order (uint8 for MNIST).

    Raises
    ------
    DataFormatError
        Bad magic number (nonzero first bytes, unknown type code, zero
        dimensions), header shorter than announced, or a data size different
        from the one the header announces (truncated or trailing bytes).
    """
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataFormatError(path, f"too short for an IDX header: {len(raw)} bytes, expected at least 4")
    if raw[0] != 0 or raw[1] != 0:
        raise DataFormatError(path, f"bad IDX magic number 0x{raw[:4].hex()}: the first two bytes must be zero")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        valid = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataFormatError(path, f"bad IDX magic number 0x{raw[:4].hex()}: unknown type code 0x{code:02X} "
                                    f"(valid: {valid})")
    if ndim == 0:
        raise DataFormatError(path, f"bad IDX magic number 0x{raw[:4].hex()}: zero dimensions")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataFormatError(path, f"truncated IDX header: {ndim} dimensions need {header_size} bytes, "
                                    f"file has {len(raw)}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header_size
    if found != expected:
        what = "truncated" if found < expected else "has trailing bytes"
        raise DataFormatError(path, f"IDX data {what}: header shape {shape} of {dtype.name} needs {expected} bytes "
                                    f"after the header, found {found}")
    data = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (the inverse of ``read_idx``).

    Parameters
    ----------
    path : str or PathLike
        Destination; gzip-compressed when ``compress`` is True, or when it is
        None and the name ends in ``.gz``.
    array : ndarray
        uint8, int8, int16, int32, float32 or float64, at least 1-D.
    """
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(f"write_idx: IDX has no type for {array.dtype}; valid: "
                        f"{', '.join(d.name for d in codes)}")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"write_idx: need 1 to 255 dimensions, got {array.ndim}")
    code = codes[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    if compress is None:
        compress = os.fspath(path).endswith(".gz")
    with open(path, "wb") as file:
        file.write(gzip.compress(payload) if compress else payload)


def _find_mnist_file(directory: str | os.PathLike, prefix: str, part: str) -> str:
    """The first existing spelling of e.g. ``train-images-idx3-ubyte[.gz]`` in ``directory``."""
    stem = {"images": "images-idx3-ubyte", "labels": "labels-idx1-ubyte"}[part]
    dotted = stem.replace("-idx", ".idx", 1)
    names = [f"{prefix}-{s}{ext}" for s in (stem, dotted) for ext in ("", ".gz")]
    for name in names:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError(f"load_mnist: none of {', '.join(names)} found in {os.fspath(directory)}")


def load_mnist(directory: str | os.PathLike, kind: str = "train", num_classes: int = 10,
               dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST or Fashion-MNIST from IDX files in ``directory``.

    Parameters
    ----------
    directory : str or PathLike
        Folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each optionally
        ``.gz``, or with ``.idx`` in place of ``-idx``).
    kind : {'train', 'test'}
        Which split to read.
    num_classes : int
        Labels must lie in ``[0, num_classes)``.
    dtype : float32 or float64
        Floating type of the images.

    Returns
    -------
    images : ndarray, shape (N, 1, rows, cols)
        Pixels divided by 255, in [0, 1] (``rows = cols = 28`` for MNIST).
    labels : ndarray of int64, shape (N,)
    """
    if kind not in MNIST_PREFIXES:
        raise ValueError(f"load_mnist: unknown kind '{kind}'; valid: {', '.join(MNIST_PREFIXES)}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"load_mnist: dtype must be float32 or float64, got {dtype}")
    prefix = MNIST_PREFIXES[kind]
    images_path = _find_mnist_file(directory, prefix, "images")
    labels_path = _find_mnist_file(directory, prefix, "labels")
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataFormatError(images_path, f"expected uint8 images of shape (N, rows, cols), got {images.dtype} "
                                           f"of shape {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataFormatError(labels_path, f"expected uint8 labels of shape (N,), got {labels.dtype} of shape "
                                           f"{labels.shape}")
    if len(labels) != len(images):
        raise DataFormatError(labels_path, f"{len(labels)} labels for {len(images)} images in {images_path}")
    if labels.size and labels.max() >= num_classes:
        bad = int(np.argmax(labels >= num_classes))
        raise DataFormatError(labels_path, f"label {labels[bad]} at index {bad} out of range [0, {num_classes})")
    return (images[:, None].astype(dtype) / dtype.type(255)), labels.astype(np.int64)

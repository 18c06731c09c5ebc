"""The IDX format of MNIST and Fashion-MNIST, and their loaders (downloading on request).

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
import math
import os
import zlib

import numpy as np

from nndl.data import sources
from nndl.data.download import fetch
from nndl.data.errors import DataFormatError
from nndl.data.limits import check_limit

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


def _open(path: str | os.PathLike):
    """The file as a binary stream, decompressed on the fly (bounded reads) when it starts with gzip's magic."""
    file = open(path, "rb")
    if file.read(2) == _GZIP_MAGIC:
        file.seek(0)
        return gzip.GzipFile(fileobj=file, mode="rb"), file, None
    size = os.fstat(file.fileno()).st_size
    file.seek(0)
    return file, file, size


def _read_exactly(path, stream, count: int, what: str) -> bytes:
    data = stream.read(count)
    if len(data) != count:
        raise DataFormatError(path, f"truncated {what}: needs {count} bytes, file has {len(data)}")
    return data


def _read_into(path, stream, out: np.ndarray, what: str) -> None:
    """Fill ``out`` from ``stream`` chunk by chunk (never more than ``out.nbytes`` is decompressed)."""
    view = memoryview(out.reshape(-1).view(np.uint8))
    filled = 0
    while filled < len(view):
        count = stream.readinto(view[filled:filled + (1 << 24)])
        if not count:
            raise DataFormatError(path, f"IDX data truncated: {what} needs {len(view)} bytes after the header, "
                                        f"found {filled}")
        filled += count


def read_idx(path: str | os.PathLike, max_bytes: int | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into an array of its stored shape.

    The header is read first; the data size it declares is checked against
    ``max_bytes`` and (for a raw file) against the file's size before the
    array is allocated, and a compressed file is decompressed only up to the
    declared size plus one byte, so a small file cannot cost more than it
    declares.

    Parameters
    ----------
    path : str or PathLike
        The file.
    max_bytes : int, optional
        Largest data size accepted (default ``nndl.data.limits.MAX_DATA_BYTES``, 4 GiB).

    Returns
    -------
    ndarray
        Shape ``(d1, ..., d_ndim)`` from the header, the header's element type
        in native byte order (uint8 for MNIST).

    Raises
    ------
    DataFormatError
        Bad magic number (nonzero first bytes, unknown type code, zero
        dimensions), header shorter than announced, a data size different
        from the one the header announces (truncated or trailing bytes), a
        declared size over the limit, or corrupt gzip data.
    """
    stream, file, size = _open(path)
    try:
        with file:
            return _read_idx(path, stream, size, max_bytes)
    except DataFormatError:
        raise
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise DataFormatError(path, f"corrupt or truncated gzip data ({type(error).__name__}: {error})") from error
    except MemoryError as error:
        raise DataFormatError(path, "the data size its header declares could not be allocated") from error


def _read_idx(path, stream, size: int | None, max_bytes) -> np.ndarray:
    magic = stream.read(4)
    if len(magic) < 4:
        raise DataFormatError(path, f"too short for an IDX header: {len(magic)} bytes, expected at least 4")
    if magic[0] != 0 or magic[1] != 0:
        raise DataFormatError(path, f"bad IDX magic number 0x{magic.hex()}: the first two bytes must be zero")
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        valid = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataFormatError(path, f"bad IDX magic number 0x{magic.hex()}: unknown type code 0x{code:02X} "
                                    f"(valid: {valid})")
    if ndim == 0:
        raise DataFormatError(path, f"bad IDX magic number 0x{magic.hex()}: zero dimensions")
    header_size = 4 + 4 * ndim
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DataFormatError(path, f"truncated IDX header: {ndim} dimensions need {header_size} bytes, "
                                    f"file has {4 + len(sizes)}")
    shape = tuple(int(d) for d in np.frombuffer(sizes, dtype=">u4"))
    dtype = IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow however large the header's sizes
    check_limit(path, expected, max_bytes, f"IDX data (header shape {shape} of {dtype.name})")
    if size is not None and size - header_size != expected:
        found = size - header_size
        what = "truncated" if found < expected else "has trailing bytes"
        raise DataFormatError(path, f"IDX data {what}: header shape {shape} of {dtype.name} needs {expected} bytes "
                                    f"after the header, found {found}")
    data = np.empty(shape, dtype=dtype)
    _read_into(path, stream, data, f"header shape {shape} of {dtype.name}")
    if stream.read(1):
        raise DataFormatError(path, f"IDX data has trailing bytes: header shape {shape} of {dtype.name} needs "
                                    f"{expected} bytes after the header, found more")
    return data.astype(dtype.newbyteorder("="), copy=False)


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


FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")


def _find_mnist_file(directory: str | os.PathLike, prefix: str, part: str, loader: str = "load_mnist",
                     hint: str = "") -> str:
    """The first existing spelling of e.g. ``train-images-idx3-ubyte[.gz]`` in ``directory``."""
    stem = {"images": "images-idx3-ubyte", "labels": "labels-idx1-ubyte"}[part]
    dotted = stem.replace("-idx", ".idx", 1)
    names = [f"{prefix}-{s}{ext}" for s in (stem, dotted) for ext in ("", ".gz")]
    for name in names:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError(f"{loader}: none of {', '.join(names)} found in {os.fspath(directory)}{hint}")


def load_mnist(directory: str | os.PathLike | None = None, kind: str = "train", num_classes: int = 10,
               dtype=np.float32, *, train: bool | None = None, download: bool = False, source=None,
               root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST from IDX files in ``directory``, downloading them first if asked.

    Parameters
    ----------
    directory : str or PathLike, optional
        Folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each optionally
        ``.gz``, or with ``.idx`` in place of ``-idx``). Default: the ``mnist``
        folder of the cache (``$NNDL_DATA``, else ``~/.cache/nndl``; see
        :func:`nndl.data.download.data_home`).
    kind : {'train', 'test'}
        Which split to read.
    num_classes : int
        Labels must lie in ``[0, num_classes)``.
    dtype : float32 or float64
        Floating type of the images.
    train : bool, optional
        torchvision's spelling of ``kind``: True for 'train', False for 'test'.
    download : bool
        Fetch the split's two ``.gz`` files into ``directory`` when they are
        not there; each is kept only once its size and MD5 checksum match the
        published ones. Files already there (downloaded before, or put there
        by hand in any of the spellings above) are read as they are, as
        torchvision does; the IDX reader checks their format. Without it
        nothing is fetched.
    source : DataSource, optional
        Mirrors and checksums (default :data:`nndl.data.sources.MNIST`).
    root : str or PathLike, optional
        torchvision's name for ``directory``.

    Returns
    -------
    images : ndarray, shape (N, 1, rows, cols)
        Pixels divided by 255, in [0, 1] (``rows = cols = 28`` for MNIST).
    labels : ndarray of int64, shape (N,)

    Raises
    ------
    FileNotFoundError
        Files missing and ``download`` False (the message says how to get them).
    DownloadError
        No mirror delivered the file with its published checksum.
    DataFormatError
        A file is not valid IDX or does not hold MNIST-shaped data.
    """
    return _load_idx_pair("load_mnist", sources.MNIST if source is None else source, "mnist", directory, root,
                          kind, train, download, num_classes, dtype)


def load_fashion_mnist(directory: str | os.PathLike | None = None, kind: str = "train", dtype=np.float32, *,
                       train: bool | None = None, download: bool = False, source=None,
                       root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load Fashion-MNIST (same IDX files and shapes as MNIST; classes in ``FASHION_MNIST_CLASSES``).

    Arguments as in :func:`load_mnist`; the cache folder is ``fashion_mnist``
    and the default source :data:`nndl.data.sources.FASHION_MNIST`.
    """
    return _load_idx_pair("load_fashion_mnist", sources.FASHION_MNIST if source is None else source,
                          "fashion_mnist", directory, root, kind, train, download, 10, dtype)


def _load_idx_pair(loader, source, name, directory, root, kind, train, download, num_classes, dtype):
    kind = sources.split_kind(loader, kind, train)
    if kind not in MNIST_PREFIXES:
        raise ValueError(f"{loader}: unknown kind '{kind}'; valid: {', '.join(MNIST_PREFIXES)}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{loader}: dtype must be float32 or float64, got {dtype}")
    folder = sources.dataset_folder(directory, root, name, loader)
    prefix = MNIST_PREFIXES[kind]
    hint = sources.not_found_hint(source, folder)
    try:
        images_path = _find_mnist_file(folder, prefix, "images", loader, hint)
        labels_path = _find_mnist_file(folder, prefix, "labels", loader, hint)
    except FileNotFoundError:
        if not download:
            raise
        wanted = [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]
        paths = fetch(source, folder, wanted)
        images_path, labels_path = paths[wanted[0]], paths[wanted[1]]
    return _read_mnist_pair(images_path, labels_path, num_classes, dtype)


def _read_mnist_pair(images_path, labels_path, num_classes, dtype):
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

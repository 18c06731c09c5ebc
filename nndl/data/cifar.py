"""CIFAR-10 (either published version) and CIFAR-100 (Python version), downloaded on request.

* Binary version (``cifar-10-batches-bin``): ``data_batch_1.bin`` ...
  ``data_batch_5.bin`` and ``test_batch.bin``, each a run of 3073-byte
  records: one label byte, then 3072 pixel bytes (1024 red, 1024 green, 1024
  blue, each a 32x32 image in row-major order).
* Python version (``cifar-10-batches-py``): ``data_batch_1`` ... ``data_batch_5``
  and ``test_batch``, each a pickled dict with ``b'data'`` (uint8, shape
  (N, 3072), same pixel layout) and ``b'labels'`` (N ints). These are read
  with ``RestrictedUnpickler``: a file naming any global other than numpy's
  array reconstruction is refused without running it.

``load_cifar10`` looks in the given folder and in its ``cifar-10-batches-bin``
and ``cifar-10-batches-py`` subfolders and prefers the binary version when
both are present (it needs no unpickling). With ``download=True`` it fetches
and reads the Python version (the archive torchvision and Keras use).

CIFAR-100's Python version has one ``train`` and one ``test`` file, pickled
dicts with ``b'data'`` as above, ``b'fine_labels'`` (100 classes) and
``b'coarse_labels'`` (20 superclasses).
"""

from __future__ import annotations

import os

import numpy as np

from nndl.data import sources
from nndl.data.download import fetch
from nndl.data.errors import DataFormatError
from nndl.data.limits import read_limited
from nndl.data.safe_pickle import safe_load_pickle

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
IMAGE_SHAPE = (3, 32, 32)
PIXELS = 3 * 32 * 32
RECORD_BYTES = 1 + PIXELS
BATCH_NAMES = {
    "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test": ("test_batch",),
}
VERSIONS = {"binary": (".bin", "cifar-10-batches-bin"), "python": ("", "cifar-10-batches-py")}


def _check_labels(path, labels: np.ndarray, num_classes: int) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = int(np.argmax((labels < 0) | (labels >= num_classes)))
        raise DataFormatError(path, f"label {labels[bad]} of record {bad} out of range [0, {num_classes})")


def read_cifar_binary_batch(path: str | os.PathLike, num_classes: int = 10, max_bytes: int | None = None
                            ) -> tuple[np.ndarray, np.ndarray]:
    """One binary CIFAR-10 batch file.

    Its size on disk is checked against ``max_bytes`` (default
    ``nndl.data.limits.MAX_DATA_BYTES``) before it is read.

    Returns
    -------
    images : ndarray of uint8, shape (N, 3, 32, 32)
    labels : ndarray of int64, shape (N,)

    Raises
    ------
    DataFormatError
        The size is not a multiple of 3073 bytes or over the limit, or a label is out of range.
    """
    raw = read_limited(path, max_bytes, "CIFAR-10 records")
    if len(raw) == 0 or len(raw) % RECORD_BYTES:
        raise DataFormatError(path, f"size {len(raw)} bytes is not a positive multiple of the {RECORD_BYTES}-byte "
                                    f"record (1 label byte + {PIXELS} pixel bytes): truncated or not CIFAR-10 binary")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    _check_labels(path, labels, num_classes)
    return records[:, 1:].reshape((-1, *IMAGE_SHAPE)).copy(), labels


def read_cifar_python_batch(path: str | os.PathLike, num_classes: int = 10, max_bytes: int | None = None,
                            labels_key: bytes = b"labels") -> tuple[np.ndarray, np.ndarray]:
    """One Python-version (pickled) CIFAR batch file, read with the bounded, restricted unpickler.

    See :func:`nndl.data.safe_pickle.safe_load_pickle`; ``max_bytes`` limits the file's size.
    ``labels_key`` is ``b'labels'`` for CIFAR-10, ``b'fine_labels'`` or
    ``b'coarse_labels'`` for CIFAR-100 (``train`` and ``test`` files).

    Returns
    -------
    images : ndarray of uint8, shape (N, 3, 32, 32)
    labels : ndarray of int64, shape (N,)

    Raises
    ------
    DataFormatError
        A refused pickle global, a corrupt, too deep or oversized pickle, a missing ``b'data'`` or
        ``b'labels'`` entry, wrong shapes or types, or a label out of range.
    """
    batch = safe_load_pickle(path, max_bytes=max_bytes)
    if not isinstance(batch, dict):
        raise DataFormatError(path, f"expected a pickled dict, got {type(batch).__name__}")
    # Published files hold bytes keys (Python 2 str read as bytes); a file
    # written from Python 3 with str keys is read the same way.
    batch = {key.encode("utf-8", "surrogatepass") if isinstance(key, str) else key: value
             for key, value in batch.items()}
    for key in (b"data", labels_key):
        if key not in batch:
            raise DataFormatError(path, f"missing key {key!r}; found keys {sorted(map(repr, batch))}")
    data = batch[b"data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != PIXELS:
        got = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataFormatError(path, f"b'data' must be a uint8 array of shape (N, {PIXELS}), got {got}")
    try:
        labels = np.asarray(batch[labels_key])
    except Exception as error:  # ragged, cyclic or huge values: not a list of integers, whatever numpy says
        raise DataFormatError(path, f"{labels_key!r} is not a list of integers ({error})") from error
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataFormatError(path, f"{labels_key!r} must be a list of integers, got {labels.dtype} of shape "
                                    f"{labels.shape}")
    if len(labels) != len(data):
        raise DataFormatError(path, f"{len(labels)} labels for {len(data)} images")
    labels = labels.astype(np.int64)
    _check_labels(path, labels, num_classes)
    return data.reshape((-1, *IMAGE_SHAPE)), labels


READERS = {"binary": read_cifar_binary_batch, "python": read_cifar_python_batch}


def _locate(directory: str | os.PathLike, kind: str, hint: str = "") -> tuple[str, list[str]]:
    """(version, file paths) of the first complete set of batch files found."""
    names = BATCH_NAMES[kind]
    searched = []
    for version, (suffix, subfolder) in VERSIONS.items():
        for folder in (os.fspath(directory), os.path.join(directory, subfolder)):
            paths = [os.path.join(folder, name + suffix) for name in names]
            if all(os.path.isfile(p) for p in paths):
                return version, paths
            searched.append(f"{folder} ({version}: {', '.join(n + suffix for n in names)})")
    raise FileNotFoundError(f"load_cifar10: no complete set of CIFAR-10 {kind} batches; looked in "
                            + "; ".join(searched) + hint)


def load_cifar10(directory: str | os.PathLike | None = None, kind: str = "train", dtype=np.float32, *,
                 train: bool | None = None, download: bool = False, source=None,
                 root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load CIFAR-10 (binary or Python version, detected) from ``directory``, downloading it first if asked.

    Parameters
    ----------
    directory : str or PathLike, optional
        Folder holding the batch files, or their ``cifar-10-batches-bin`` /
        ``cifar-10-batches-py`` folder. Default: the ``cifar10`` folder of the
        cache (``$NNDL_DATA``, else ``~/.cache/nndl``).
    kind : {'train', 'test'}
        ``'train'`` concatenates ``data_batch_1`` to ``data_batch_5`` (50,000
        images); ``'test'`` reads ``test_batch`` (10,000).
    dtype : float32 or float64
        Floating type of the images.
    train : bool, optional
        torchvision's spelling of ``kind``.
    download : bool
        When no complete set of batches is there: fetch the Python version's
        archive (163 MB) into ``directory`` (kept only once its size and MD5
        match the published ones), extract the batch files (by their listed
        names: links refused, the archive's own paths never used) and check
        each one's MD5. Batches already there are read as they are, as
        torchvision does; the readers check their format.
    source : DataSource, optional
        Mirrors and checksums (default :data:`nndl.data.sources.CIFAR10`).
    root : str or PathLike, optional
        torchvision's name for ``directory``.

    Returns
    -------
    images : ndarray, shape (N, 3, 32, 32)
        Pixels divided by 255, in [0, 1]; channels red, green, blue.
    labels : ndarray of int64, shape (N,)
        Indices into ``CIFAR10_CLASSES``.
    """
    kind, dtype, folder, source = _prepare("load_cifar10", kind, train, dtype, directory, root, "cifar10",
                                           source, sources.CIFAR10)
    try:
        version, paths = _locate(folder, kind, sources.not_found_hint(source, folder))
    except FileNotFoundError:
        if not download:
            raise
        names = [f"{VERSIONS['python'][1]}/{name}" for name in BATCH_NAMES[kind]]
        fetched = fetch(source, folder, names)
        version, paths = "python", [fetched[name] for name in names]
    parts = [READERS[version](path) for path in paths]
    return _scaled(parts, dtype)


CIFAR100_FOLDER = "cifar-100-python"
CIFAR100_LABELS = {"fine": (b"fine_labels", 100), "coarse": (b"coarse_labels", 20)}


def load_cifar100(directory: str | os.PathLike | None = None, kind: str = "train", dtype=np.float32, *,
                  label: str = "fine", train: bool | None = None, download: bool = False, source=None,
                  root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load CIFAR-100 (Python version: files ``train`` and ``test``), downloading it first if asked.

    Parameters
    ----------
    directory : str or PathLike, optional
        Folder holding ``train`` and ``test``, or their ``cifar-100-python``
        folder. Default: the ``cifar100`` folder of the cache.
    kind : {'train', 'test'}
        50,000 training or 10,000 test images.
    dtype : float32 or float64
    label : {'fine', 'coarse'}
        The 100 classes, or the 20 superclasses grouping them (names in the
        archive's ``meta`` file).
    train, download, source, root
        As in :func:`load_cifar10` (default source :data:`nndl.data.sources.CIFAR100`).

    Returns
    -------
    images : ndarray, shape (N, 3, 32, 32)
        Pixels divided by 255, in [0, 1].
    labels : ndarray of int64, shape (N,)
        In ``[0, 100)`` (fine) or ``[0, 20)`` (coarse).
    """
    if label not in CIFAR100_LABELS:
        raise ValueError(f"load_cifar100: unknown label '{label}'; valid: {', '.join(CIFAR100_LABELS)}")
    kind, dtype, folder, source = _prepare("load_cifar100", kind, train, dtype, directory, root, "cifar100",
                                           source, sources.CIFAR100)
    candidates = [os.path.join(folder, kind), os.path.join(folder, CIFAR100_FOLDER, kind)]
    path = next((c for c in candidates if os.path.isfile(c)), None)
    if path is None and download:
        name = f"{CIFAR100_FOLDER}/{kind}"
        path = fetch(source, folder, [name])[name]
    elif path is None:
        raise FileNotFoundError(f"load_cifar100: no CIFAR-100 file '{kind}' in {' or '.join(candidates)}"
                                + sources.not_found_hint(source, folder))
    key, num_classes = CIFAR100_LABELS[label]
    return _scaled([read_cifar_python_batch(path, num_classes=num_classes, labels_key=key)], dtype)


def _prepare(loader, kind, train, dtype, directory, root, name, source, default):
    kind = sources.split_kind(loader, kind, train)
    if kind not in BATCH_NAMES:
        raise ValueError(f"{loader}: unknown kind '{kind}'; valid: {', '.join(BATCH_NAMES)}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{loader}: dtype must be float32 or float64, got {dtype}")
    folder = sources.dataset_folder(directory, root, name, loader)
    return kind, dtype, folder, default if source is None else source


def _scaled(parts, dtype):
    images = np.concatenate([images for images, _ in parts])
    labels = np.concatenate([labels for _, labels in parts])
    return images.astype(dtype) / dtype.type(255), labels

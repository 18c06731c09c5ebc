"""A restricted unpickler for data sets distributed as pickles (CIFAR-10's Python version).

Unpickling an arbitrary file can run arbitrary code: a pickle names globals
(``os.system``, ``builtins.eval``, ...) and calls them while loading. The
unpickler here resolves only the handful of globals needed to rebuild plain
containers, bytes, strings, numbers and numpy arrays, and refuses every other
global *before* anything is called, with an error naming the file and the
refused global.
"""

from __future__ import annotations

import os
import pickle
from typing import Any, Callable

import numpy as np

from nndl.data.errors import DataFormatError


_LATIN1_NAMES = ("latin1", "latin-1", "iso-8859-1", "iso8859-1")


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    # Protocols 0-2 have no bytes opcode, so Python 3 writes b"..." as
    # _codecs.encode("...", "latin1"). Only that exact use is admitted: any
    # other codec name is refused, so the global cannot be used as a gadget.
    if not isinstance(text, str) or str(encoding).lower().replace("_", "-") not in _LATIN1_NAMES:
        raise pickle.UnpicklingError(f"_codecs.encode is admitted only as encode(str, 'latin1'), got encoding {encoding!r}")
    return text.encode("latin-1")


def _numpy_globals() -> dict[tuple[str, str], Callable[..., Any]]:
    """numpy's array and scalar reconstruction functions under their pickled names.

    numpy 2 pickles name ``numpy._core``; files written with numpy 1 (all
    published CIFAR pickles) name ``numpy.core``. Both map to the functions of
    the installed numpy, so nothing is imported by a name read from the file.
    """
    try:  # numpy >= 2
        from numpy._core import multiarray, numeric
    except ImportError:  # pragma: no cover - numpy 1
        from numpy.core import multiarray, numeric
    resolved = {
        ("multiarray", "_reconstruct"): multiarray._reconstruct,
        ("multiarray", "scalar"): multiarray.scalar,
        ("numeric", "_frombuffer"): numeric._frombuffer,  # protocol 5, contiguous arrays
    }
    table: dict[tuple[str, str], Callable[..., Any]] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
    }
    for package in ("numpy.core", "numpy._core"):
        for (module, name), function in resolved.items():
            table[(f"{package}.{module}", name)] = function
    return table


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that admits only the globals in ``ALLOWED_GLOBALS``.

    Parameters
    ----------
    file : binary file object
        The open pickle.
    path : str or PathLike
        The file's name, used in error messages.
    encoding : str
        How Python 2 ``str`` objects are decoded; ``'bytes'`` (the default)
        keeps them as bytes, which is how CIFAR-10's keys (``b'data'``,
        ``b'labels'``) come back.
    """

    ALLOWED_GLOBALS = _numpy_globals()

    def __init__(self, file, path: str | os.PathLike, encoding: str = "bytes"):
        super().__init__(file, encoding=encoding)
        self.path = os.fspath(path)

    def find_class(self, module: str, name: str):
        try:
            return self.ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise DataFormatError(
                self.path,
                f"refused to unpickle global '{module}.{name}': only numpy array reconstruction and "
                "plain containers, bytes, strings and numbers are allowed in a data file") from None

    def persistent_load(self, pid):
        raise DataFormatError(self.path, f"refused persistent id {pid!r} in a data file")


def safe_load_pickle(path: str | os.PathLike, encoding: str = "bytes") -> Any:
    """Load a data pickle with ``RestrictedUnpickler``.

    Raises
    ------
    DataFormatError
        The file refers to a global outside the allowed set (nothing from the
        file has been called), or it is truncated or corrupt.
    """
    with open(path, "rb") as file:
        try:
            return RestrictedUnpickler(file, path, encoding=encoding).load()
        except DataFormatError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
                IndexError, KeyError, MemoryError, UnicodeDecodeError) as error:
            raise DataFormatError(path, f"not a readable pickle ({type(error).__name__}: {error})") from error

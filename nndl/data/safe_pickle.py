"""A restricted, bounded unpickler for data sets distributed as pickles (CIFAR-10's Python version).

Unpickling an arbitrary file can run arbitrary code: a pickle names globals
(``os.system``, ``builtins.eval``, ...) and calls them while loading. It can
also cost far more than its size: a 9-byte pickle can ask for a memo table of
billions of slots, a few hundred bytes can nest tuples deeply enough to crash
the interpreter, and ``numpy.ndarray(shape, dtype)`` allocates an
uninitialised array of any size from no data. So :func:`safe_load_pickle`

1. scans the opcode stream without executing it (``pickletools.genops``):
   every declared length must be present in the file, objects may nest at
   most ``max_depth`` levels, memo indices must be assigned in order and stay
   below ``max_memo``;
2. unpickles with :class:`RestrictedUnpickler`, which resolves only the
   globals needed to rebuild plain containers, bytes, strings, numbers and
   numpy arrays (arrays only from bytes read from the file: ``numpy.ndarray``
   cannot be called, object dtypes are refused), and refuses every other
   global *before* anything is called;
3. checks the result holds no object arrays.

Every failure is a ``DataFormatError`` naming the file.
"""

from __future__ import annotations

import io
import os
import pickle
import pickletools
from typing import Any, Callable

import numpy as np

from nndl.data.errors import DataFormatError
from nndl.data.limits import read_limited

MAX_DEPTH = 100
"""Default limit on how deeply objects nest in a data pickle (CIFAR batches nest 5 levels)."""
MAX_MEMO = 1_000_000
"""Default limit on the number of memo entries of a data pickle."""

_LATIN1_NAMES = ("latin1", "latin-1", "iso-8859-1", "iso8859-1")
_MUTATORS = frozenset({"APPEND", "APPENDS", "SETITEM", "SETITEMS", "ADDITEMS", "BUILD"})
_PUTS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_GETS = frozenset({"GET", "BINGET", "LONG_BINGET"})


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    # Protocols 0-2 have no bytes opcode, so Python 3 writes b"..." as
    # _codecs.encode("...", "latin1"). Only that exact use is admitted: any
    # other codec name is refused, so the global cannot be used as a gadget.
    if not isinstance(text, str) or str(encoding).lower().replace("_", "-") not in _LATIN1_NAMES:
        raise pickle.UnpicklingError(f"_codecs.encode is admitted only as encode(str, 'latin1'), got encoding {encoding!r}")
    return text.encode("latin-1")


class _NdarrayClass:
    """Stands for ``numpy.ndarray`` in a pickle: passed to ``_reconstruct``, never called."""

    def __call__(self, *args, **kwargs):
        raise pickle.UnpicklingError("calling numpy.ndarray directly is refused (it allocates an array from no "
                                     "data); arrays must be rebuilt from the bytes stored in the file")


_NDARRAY = _NdarrayClass()


def _safe_dtype(spec, align=False, copy=False) -> np.dtype:
    dtype = np.dtype(spec, align=bool(align), copy=bool(copy))
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"object dtype {dtype} refused: it would need unpickling arbitrary objects")
    return dtype


def _numpy_globals() -> dict[tuple[str, str], Callable[..., Any]]:
    """numpy's array and scalar reconstruction functions under their pickled names, wrapped.

    numpy 2 pickles name ``numpy._core``; files written with numpy 1 (all
    published CIFAR pickles) name ``numpy.core``. Both map to the same
    wrappers around the installed numpy, so nothing is imported by a name read
    from the file.
    """
    try:  # numpy >= 2
        from numpy._core import multiarray, numeric
    except ImportError:  # pragma: no cover - numpy 1
        from numpy.core import multiarray, numeric

    def reconstruct(subtype, shape, typecode):
        # numpy pickles an array as _reconstruct(ndarray, (0,), b'b') followed by
        # __setstate__ with the raw bytes, which numpy checks against the shape.
        if subtype is not _NDARRAY or tuple(shape) != (0,):
            raise pickle.UnpicklingError(f"_reconstruct is admitted only as _reconstruct(numpy.ndarray, (0,), ...), "
                                         f"got shape {shape!r}")
        return multiarray._reconstruct(np.ndarray, (0,), typecode)

    def scalar(dtype, data=None):
        if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes):
            raise pickle.UnpicklingError("numpy scalars are admitted only from a non-object dtype and bytes")
        return multiarray.scalar(dtype, data)

    def frombuffer(buffer, dtype, shape, order):
        if not isinstance(dtype, np.dtype) or dtype.hasobject:
            raise pickle.UnpicklingError("numpy arrays are admitted only with a non-object dtype")
        return numeric._frombuffer(buffer, dtype, shape, order)  # a view of bytes read from the file

    table: dict[tuple[str, str], Callable[..., Any]] = {
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): _safe_dtype,
        ("_codecs", "encode"): _latin1_encode,
    }
    for package in ("numpy.core", "numpy._core"):
        table[(f"{package}.multiarray", "_reconstruct")] = reconstruct
        table[(f"{package}.multiarray", "scalar")] = scalar
        table[(f"{package}.numeric", "_frombuffer")] = frombuffer  # protocol 5, contiguous arrays
    return table


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that admits only the globals in ``ALLOWED_GLOBALS``.

    This class alone does not bound memory or nesting: use
    :func:`safe_load_pickle`, which scans the file first.

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
        except (KeyError, TypeError):
            raise DataFormatError(
                self.path,
                f"refused to unpickle global '{module}.{name}': only numpy array reconstruction and "
                "plain containers, bytes, strings and numbers are allowed in a data file") from None

    def persistent_load(self, pid):
        raise DataFormatError(self.path, f"refused persistent id {pid!r} in a data file")


def check_opcodes(data: bytes, path: str | os.PathLike, max_depth: int = MAX_DEPTH,
                  max_memo: int = MAX_MEMO) -> None:
    """Scan a pickle's opcodes without executing them; raise ``DataFormatError`` if it is malformed or too costly.

    The stack of the pickle machine is simulated with one depth per object
    (0 for a number or a string, 1 + the deepest member for a container), so
    a structure nested deeper than ``max_depth`` is refused before it exists.
    """
    markobject = pickletools.markobject
    stack: list[int] = []  # object ids
    marks: list[int] = []
    depth: list[int] = []  # depth of each object id
    memo: dict[int, int] = {}

    def new(level: int) -> int:
        if level > max_depth:
            raise DataFormatError(path, f"objects nested deeper than {max_depth} levels (at byte {pos})")
        depth.append(level)
        return len(depth) - 1

    pos = 0
    stream = io.BytesIO(data)
    try:
        for op, arg, pos in pickletools.genops(stream):
            before, name = op.stack_before, op.name
            if name == "MARK":
                marks.append(len(stack))
                continue
            if name in _PUTS or name == "MEMOIZE":  # the object stays on the stack
                index = len(memo) if name == "MEMOIZE" else int(arg)
                if not stack:
                    raise DataFormatError(path, f"{name} at byte {pos} on an empty stack")
                if index > len(memo) or index >= max_memo:
                    raise DataFormatError(path, f"memo index {index} at byte {pos}: indices must be assigned in "
                                                f"order and stay below {max_memo}")
                memo[index] = stack[-1]
                continue
            if name in _GETS:
                if arg not in memo:
                    raise DataFormatError(path, f"memo index {arg} read at byte {pos} before it was stored")
                stack.append(memo[arg])
                continue
            if markobject in before:
                if not marks:
                    raise DataFormatError(path, f"{name} without a MARK at byte {pos}")
                items = stack[marks.pop():]
                del stack[len(stack) - len(items):]
                below = before.index(markobject)
            else:
                items, below = [], len(before)
            if len(stack) < below or (marks and len(stack) - below < marks[-1]):
                raise DataFormatError(path, f"{name} at byte {pos} needs {below} objects, the stack has fewer")
            popped = stack[len(stack) - below:] + items
            del stack[len(stack) - below:]
            if name in _MUTATORS:
                target = popped[0]
                depth[target] = max(depth[target], 1 + max((depth[i] for i in popped[1:]), default=-1))
                if depth[target] > max_depth:
                    raise DataFormatError(path, f"objects nested deeper than {max_depth} levels (at byte {pos})")
                stack.append(target)
            elif name == "DUP":
                stack.extend(popped * 2)
            elif op.stack_after:
                stack.append(new(1 + max((depth[i] for i in popped), default=-1)))
    except DataFormatError:
        raise
    except Exception as error:  # genops reports unknown opcodes and short reads as ValueError
        raise DataFormatError(path, f"not a readable pickle: opcode stream broken before byte {stream.tell()} "
                                    f"({type(error).__name__}: {error})") from error


def _check_result(value, path, seen=None) -> None:
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, np.ndarray) and value.dtype.hasobject:
        raise DataFormatError(path, f"object array of dtype {value.dtype} refused")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_result(key, path, seen)
            _check_result(item, path, seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _check_result(item, path, seen)


def safe_load_pickle(path: str | os.PathLike, encoding: str = "bytes", max_bytes: int | None = None,
                     max_depth: int = MAX_DEPTH, max_memo: int = MAX_MEMO) -> Any:
    """Load a data pickle: scanned with :func:`check_opcodes`, then read with ``RestrictedUnpickler``.

    Parameters
    ----------
    path : str or PathLike
    encoding : str
        See :class:`RestrictedUnpickler`.
    max_bytes : int, optional
        Largest file accepted (default ``nndl.data.limits.MAX_DATA_BYTES``).
    max_depth, max_memo : int
        Deepest nesting and most memo entries accepted.

    Raises
    ------
    DataFormatError
        The file refers to a global outside the allowed set (nothing from the
        file has been called), declares more than it holds, nests too deeply,
        or is truncated or corrupt.
    """
    data = read_limited(path, max_bytes, "pickle")
    check_opcodes(data, path, max_depth, max_memo)
    try:
        result = RestrictedUnpickler(io.BytesIO(data), path, encoding=encoding).load()
    except DataFormatError:
        raise
    except Exception as error:  # the file is hostile or corrupt: whatever failed, say so and name it
        raise DataFormatError(path, f"not a readable pickle ({type(error).__name__}: {error})") from error
    _check_result(result, path)
    return result

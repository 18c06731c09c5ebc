"""Atomic file writes that follow the umask and clean up after an interrupted predecessor."""

from __future__ import annotations

import os
import secrets


def _prefix(path: str) -> str:
    return f".nndl-{os.path.basename(path)}."


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one.

    The bytes go to ``.nndl-<name>.<random>.tmp`` in the same directory, are
    flushed to disk, then renamed over ``path``. The temporary file is created
    with mode 0666 minus the umask, like any file the user writes. Temporary
    files of an earlier write to the same ``path`` that was killed before its
    rename are removed first.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    prefix = _prefix(path)
    for name in os.listdir(directory):
        if name.startswith(prefix) and name.endswith(".tmp"):
            try:
                os.remove(os.path.join(directory, name))
            except OSError:
                pass  # gone already, or not ours to remove: the write below does not depend on it
    temporary = os.path.join(directory, f"{prefix}{secrets.token_hex(6)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise

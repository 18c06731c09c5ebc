"""Size limits of the file readers: what a file declares is checked before anything is allocated.

A file from a stranger can declare a size it does not hold (an IDX header
announcing 60,000 x 28 x 28 images in a 20-byte file, a pickle building a
200,000 x 3072 array from no data) or hold a compressed stream that expands
far beyond its own size. Every reader compares the declared size with the
bytes actually present, and with ``max_bytes`` (default
:data:`MAX_DATA_BYTES`), before allocating the array.
"""

from __future__ import annotations

import os

from nndl.data.errors import DataFormatError

MAX_DATA_BYTES = 4 * 2**30
"""Default limit on the decoded data of one file (4 GiB); every reader takes ``max_bytes=`` to change it."""


def check_limit(path: str | os.PathLike, declared: int, max_bytes: int | None, what: str = "data") -> None:
    """Raise ``DataFormatError`` if ``declared`` bytes exceed ``max_bytes`` (None: :data:`MAX_DATA_BYTES`)."""
    limit = MAX_DATA_BYTES if max_bytes is None else int(max_bytes)
    if declared > limit:
        raise DataFormatError(path, f"declares {declared:,} bytes of {what}, more than the limit of {limit:,} "
                                    "bytes (pass max_bytes= to read a larger file)")


def read_limited(path: str | os.PathLike, max_bytes: int | None, what: str = "file") -> bytes:
    """The whole file, after checking its size against the limit (the size on disk is what is read)."""
    size = os.path.getsize(path)
    check_limit(path, size, max_bytes, what)
    with open(path, "rb") as file:
        return file.read()

"""The error raised for a data file that is truncated, corrupt or not in the expected format."""

from __future__ import annotations

import os


class DataFormatError(ValueError):
    """A data file is truncated, corrupt or not in the expected format.

    The message names the file and what is wrong (bad magic number, wrong
    size, label out of range, refused pickle global, ...). ``path`` holds the
    file's path.
    """

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

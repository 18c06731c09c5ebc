"""The header of a safetensors file, read and checked without reading the tensors.

A safetensors file is an 8-byte little-endian header length ``n``, ``n`` bytes
of JSON (``{name: {"dtype", "shape", "data_offsets": [begin, end]}, ...,
"__metadata__": {str: str}}``), then the tensors' bytes. The header alone
tells what the file holds (names, dtypes, shapes) and what loading it will
cost, so it is checked first: the length must fit the file, every entry must
be well formed, every tensor's byte range must match its shape and lie in
the file.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass

MAX_HEADER_BYTES = 100 * 2**20
"""Largest header accepted (safetensors' own limit)."""

ITEMSIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
             "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8, "C64": 8}


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or does not fit the model or optimizer it is loaded into.

    The message names the file and what is wrong.
    """


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the header declares it."""

    dtype: str
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def read_header(path: str | os.PathLike) -> tuple[dict[str, TensorInfo], dict[str, str]]:
    """``({name: TensorInfo}, metadata)`` of a safetensors file; only the header is read.

    Raises
    ------
    CheckpointError
        The file is too short, its header length does not fit the file or
        exceeds :data:`MAX_HEADER_BYTES`, the header is not a JSON object of
        well-formed entries, or a tensor's byte range does not match its
        shape or lies outside the file.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            prefix = file.read(8)
            if len(prefix) < 8:
                raise CheckpointError(f"{path}: not a readable safetensors checkpoint ({size} bytes, too short "
                                      "for a header)")
            length = int.from_bytes(prefix, "little")
            if length > min(size - 8, MAX_HEADER_BYTES):
                raise CheckpointError(f"{path}: not a readable safetensors checkpoint (header length {length} "
                                      f"does not fit a file of {size} bytes)")
            raw = file.read(length)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the file ({exc})") from exc
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors checkpoint (header is not JSON: "
                              f"{type(exc).__name__})") from exc
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: not a readable safetensors checkpoint (header is not a JSON object)")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"{path}: metadata must map names to strings")
    data_size = size - 8 - length
    tensors = {name: _entry(path, name, entry, data_size) for name, entry in header.items()}
    return tensors, metadata


def _entry(path: str, name: str, entry, data_size: int) -> TensorInfo:
    where = f"{path}: tensor '{name}'"
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise CheckpointError(f"{where}: expected an entry with dtype, shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in ITEMSIZES:
        raise CheckpointError(f"{where}: unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise CheckpointError(f"{where}: shape must be a list of non-negative integers, got {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)
            and 0 <= offsets[0] <= offsets[1] <= data_size):
        raise CheckpointError(f"{where}: data_offsets {offsets!r} outside the {data_size} bytes of data")
    info = TensorInfo(dtype, tuple(shape))
    if offsets[1] - offsets[0] != info.size * ITEMSIZES[dtype]:
        raise CheckpointError(f"{where}: shape {info.shape} of {dtype} needs {info.size * ITEMSIZES[dtype]} bytes, "
                              f"data_offsets give {offsets[1] - offsets[0]}")
    return info

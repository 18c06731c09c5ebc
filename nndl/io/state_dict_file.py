"""Plain state-dict files: safetensors with the model's tensors under torch's keys, nothing else.

What PyTorch writes with ``safetensors.torch.save_file(module.state_dict(), path)``
and reads with ``module.load_state_dict(safetensors.torch.load_file(path), strict=True)``.

An nndl training checkpoint (:func:`nndl.io.save`) is a safetensors file too,
with the same model keys, plus the optimizer's buffers in a separate
namespace, ``optimizer::<parameter index>.<buffer name>`` (``optimizer::3.exp_avg``),
and the configuration and training state as metadata. torch's strict loading
would reject those extra keys; :func:`checkpoint_state_dict` writes the model
part alone (``nndl export CHECKPOINT OUT.safetensors``), and
:func:`load_state_dict` leaves the namespace out when it reads a checkpoint.
"""

from __future__ import annotations

import os

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file
from safetensors.numpy import save as serialize

from nndl.io.atomic import write_atomic
from nndl.io.header import CheckpointError, read_header
from nndl.nn.core.module import Module

OPTIMIZER_NAMESPACE = "optimizer::"
"""Prefix of the optimizer's tensors in a training checkpoint; never part of a model state dict."""

READABLE_DTYPES = {"F16", "F32", "F64", "I8", "I16", "I32", "I64", "U8", "BOOL"}
"""safetensors dtypes NumPy reads (bfloat16 and float8 are not among them)."""


def _contiguous(array: np.ndarray) -> np.ndarray:
    # copy(order="C") rather than np.ascontiguousarray, which turns 0-d arrays into shape (1,).
    return array if array.flags.c_contiguous else array.copy(order="C")


def save_state_dict(model: Module, path) -> None:
    """Write ``model.state_dict()`` to ``path`` as a plain safetensors file (model tensors only, torch's keys).

    ``torch_module.load_state_dict(safetensors.torch.load_file(path), strict=True)``
    accepts it for the torch module of the same architecture (e.g. the
    torchvision model of a zoo model, or :func:`nndl.io.to_torch`'s result).
    The file is written atomically.
    """
    if not isinstance(model, Module):
        raise TypeError(f"save_state_dict: expected an nndl Module, got {type(model).__name__}")
    tensors = {key: _contiguous(np.asarray(value)) for key, value in model.state_dict().items()}
    write_atomic(os.fspath(path), serialize(tensors, metadata={"format": "pt"}))


def load_state_dict(path) -> dict[str, np.ndarray]:
    """Read a safetensors state dict (e.g. written by torch) as ``{key: ndarray}``.

    Tensors of an nndl checkpoint's ``optimizer::`` namespace are left out, so
    ``model.load_state_dict(load_state_dict(checkpoint_path))`` works too.

    Raises
    ------
    CheckpointError
        If the file is not a readable safetensors file, or holds a dtype NumPy
        cannot read (bfloat16: convert with ``tensor.float()`` in torch first).
    """
    path = os.fspath(path)
    header, _ = read_header(path)  # bounded checks of the header before any tensor is read
    for name, info in header.items():
        if info.dtype not in READABLE_DTYPES:
            raise CheckpointError(f"{path}: tensor '{name}' has dtype {info.dtype}, which NumPy cannot read; "
                                  f"readable: {', '.join(sorted(READABLE_DTYPES))}")
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read the tensors ({exc})") from exc
    return {key: value for key, value in tensors.items() if not key.startswith(OPTIMIZER_NAMESPACE)}


def checkpoint_state_dict(checkpoint_path, path) -> list[str]:
    """Write the model tensors of an nndl checkpoint to ``path`` as a plain state dict (``model_only``).

    Returns the keys written. The optimizer's ``optimizer::`` tensors and the
    metadata (configuration, training state) are left out.
    """
    tensors = load_state_dict(checkpoint_path)
    write_atomic(os.fspath(path), serialize({k: _contiguous(v) for k, v in tensors.items()},
                                            metadata={"format": "pt"}))
    return list(tensors)

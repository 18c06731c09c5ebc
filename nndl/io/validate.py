"""Checks of a checkpoint's metadata and tensors, so that a malformed file fails with a CheckpointError.

Every value read from a file is checked for its type before it is used, and
the model a configuration describes is built within the number of elements
the file's own tensors hold (:func:`nndl.nn.core.init.allocation_limit`).
"""

from __future__ import annotations

import json

import numpy as np

from nndl.nn.core.init import AllocationLimitError, allocation_limit
from nndl.io.header import CheckpointError, TensorInfo

MODEL_DTYPES = ("float32", "float64")
BUDGET_SLACK = 65_536
"""Elements a model may create beyond twice what the file holds (scratch arrays of initializers)."""


def metadata_json(metadata: dict, key: str, path: str, kind: type, default=None):
    """The JSON value stored under ``key``, which must be a ``kind``; ``default`` when absent."""
    if key not in metadata:
        return default
    try:
        value = json.loads(metadata[key])
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: metadata '{key}' is not valid JSON ({type(exc).__name__})") from exc
    if not isinstance(value, kind):
        raise CheckpointError(f"{path}: metadata '{key}' must be a JSON {kind.__name__}, got {type(value).__name__}")
    return value


def build_model(config: dict | None, metadata: dict, infos: dict[str, TensorInfo], path: str):
    """The model ``config`` describes, refused if building it would create more elements than the file holds."""
    from nndl.nn.core.config import from_config
    from nndl.nn.core.module import Module

    if config is None:
        raise CheckpointError(f"{path}: the model configuration was not saved "
                              f"({metadata.get('model_config_error', 'unknown reason')}); pass model=")
    dtype = metadata.get("dtype", "float32")
    if dtype not in MODEL_DTYPES:
        raise CheckpointError(f"{path}: metadata 'dtype' must be one of {', '.join(MODEL_DTYPES)}, got {dtype[:40]!r}")
    stored = sum(info.size for name, info in infos.items() if "::" not in name)
    try:
        with allocation_limit(2 * stored + BUDGET_SLACK):
            model = from_config(config)
    except AllocationLimitError as exc:
        raise CheckpointError(f"{path}: the model configuration declares more parameters than the file's "
                              f"{stored:,} stored elements: {exc}") from None
    except Exception as exc:  # unknown class, bad arguments, nesting too deep: the configuration is malformed
        raise CheckpointError(f"{path}: cannot rebuild the model from its configuration ({type(exc).__name__}: "
                              f"{exc})") from exc
    if not isinstance(model, Module):
        raise CheckpointError(f"{path}: the configuration builds a {type(model).__name__}, not a Module")
    return model.to(dtype)


def check_tensors(model, tensors: dict[str, np.ndarray], path: str) -> None:
    """Every stored value of a floating parameter or buffer is a finite floating array."""
    expected = model.state_dict()
    for key, value in tensors.items():
        target = expected.get(key)
        if target is None or not np.issubdtype(np.asarray(target).dtype, np.floating):
            continue  # unknown keys and integer buffers are reported by load_state_dict
        if not np.issubdtype(value.dtype, np.floating):
            raise CheckpointError(f"{path}: tensor '{key}' must be a floating array, got {value.dtype}")
        if not np.all(np.isfinite(value)):
            bad = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
            raise CheckpointError(f"{path}: tensor '{key}' holds {bad} non-finite value(s) (NaN or inf)")


def optimizer_state(tensors: dict[str, np.ndarray], meta: dict, prefix: str, path: str) -> dict:
    """PyTorch's optimizer state-dict layout rebuilt from the ``optimizer::`` tensors and the JSON metadata."""
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        index, dot, name = key[len(prefix):].partition(".")
        if not (dot and name and index.isascii() and index.isdigit()):
            raise CheckpointError(f"{path}: optimizer tensor '{key}' is not named '{prefix}<index>.<name>'")
        state.setdefault(int(index), {})[name] = value
    scalars = meta.get("scalars", {})
    groups = meta.get("param_groups")
    if not isinstance(scalars, dict) or not all(isinstance(k, str) and k.isascii() and k.isdigit()
                                                and isinstance(v, dict) for k, v in scalars.items()):
        raise CheckpointError(f"{path}: metadata 'optimizer' scalars must map parameter indices to tables")
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise CheckpointError(f"{path}: metadata 'optimizer' needs param_groups, a list of tables")
    for index, values in scalars.items():
        state.setdefault(int(index), {}).update(values)
    # JSON turned tuples (Adam's betas) into lists; hyperparameters are tuples again.
    groups = [{k: (tuple(v) if isinstance(v, list) and k != "params" else v) for k, v in group.items()}
              for group in groups]
    return {"state": state, "param_groups": groups}

"""Checkpoints: one safetensors file with the model, its configuration and the training state.

Layout of the file:

- tensors named exactly as the model's ``state_dict()`` (PyTorch's names), so
  ``safetensors.torch.load_file`` gives weights a torch model accepts once the
  ``optimizer::`` entries are left out;
- ``optimizer::<index>.<name>``: the optimizer's per-parameter buffers
  (momentum, moments);
- metadata (JSON strings): the model's constructor configuration, its dtype,
  the optimizer's class, hyperparameters and step counts, the completed
  epoch, the state of the training generator and of every generator inside
  the model (dropout), the schedule's state, and user ``extra`` values.

Nothing is pickled. Files are written atomically: to a temporary file in the
same directory, flushed to disk, then renamed over the target, so a crash
leaves either the old checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file
from safetensors.numpy import save as serialize

from nndl.nn.core.config import ConfigError, from_config, to_config
from nndl.nn.core.module import Module

FORMAT = "nndl.checkpoint"
VERSION = "1"
OPTIMIZER_PREFIX = "optimizer::"
BIT_GENERATORS = {name: getattr(np.random, name) for name in ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")}


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or does not fit the model or optimizer it is loaded into."""


@dataclass
class Checkpoint:
    """What :func:`load` returns."""

    model: Module
    epoch: int | None = None
    rng: np.random.Generator | None = None
    extra: dict = field(default_factory=dict)
    optimizer_state: dict | None = None
    scheduler_state: dict | None = None
    config: dict | None = None


def _contiguous(array: np.ndarray) -> np.ndarray:
    # Not np.ascontiguousarray: it turns 0-d arrays (num_batches_tracked) into shape (1,).
    return array if array.flags.c_contiguous else array.copy(order="C")


def _generator_state(rng: np.random.Generator) -> dict:
    return rng.bit_generator.state


def _generator_from_state(state: dict, path: str) -> np.random.Generator:
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in BIT_GENERATORS:
        raise CheckpointError(f"{path}: unknown random generator '{name}'; valid: {', '.join(BIT_GENERATORS)}")
    bit_generator = BIT_GENERATORS[name]()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _module_generators(model: Module):
    """``{'<module path>:<attribute>': Generator}`` for every generator a module holds (e.g. dropout masks)."""
    found = {}
    for path, module in model.named_modules():
        for attribute, value in vars(module).items():
            if isinstance(value, np.random.Generator):
                found[f"{path}:{attribute}"] = value
    return found


def _split_optimizer_state(state: dict) -> tuple[dict[str, np.ndarray], dict]:
    tensors, scalars = {}, {}
    for index, buffers in state["state"].items():
        for name, value in buffers.items():
            if isinstance(value, np.ndarray):
                tensors[f"{OPTIMIZER_PREFIX}{index}.{name}"] = _contiguous(value)
            else:
                scalars.setdefault(str(index), {})[name] = value.item() if isinstance(value, np.generic) else value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store a {type(value).__name__} in checkpoint metadata")


def save(model: Module, path, optimizer=None, epoch: int | None = None, rng: np.random.Generator | None = None,
         scheduler=None, extra: dict | None = None) -> None:
    """Write a checkpoint of ``model`` (and optionally the training state) to ``path``.

    Parameters
    ----------
    model : Module
    path : str or path-like
    optimizer : Optimizer, optional
        Its buffers and step counts are saved so training resumes exactly.
    epoch : int, optional
        Number of completed epochs.
    rng : Generator, optional
        The training generator (shuffling); its state is saved.
    scheduler : optional
        A learning-rate schedule with ``state_dict()``.
    extra : dict, optional
        Any JSON-serializable values.
    """
    path = os.fspath(path)
    tensors = {k: _contiguous(v) for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "version": VERSION, "dtype": np.dtype(model.dtype).name}
    try:
        metadata["model_config"] = json.dumps(to_config(model))
    except ConfigError as exc:
        metadata["model_config_error"] = str(exc)  # loadable into a model the caller builds
    if optimizer is not None:
        optimizer_tensors, optimizer_meta = _split_optimizer_state(optimizer.state_dict())
        tensors.update(optimizer_tensors)
        optimizer_meta["class"] = type(optimizer).__name__
        metadata["optimizer"] = json.dumps(optimizer_meta, default=_json_default)
    if epoch is not None:
        metadata["epoch"] = str(int(epoch))
    if rng is not None:
        metadata["rng"] = json.dumps(_generator_state(rng))
    generators = _module_generators(model)
    if generators:
        metadata["module_rngs"] = json.dumps({k: _generator_state(g) for k, g in generators.items()})
    if scheduler is not None:
        metadata["scheduler"] = json.dumps(scheduler.state_dict(), default=_json_default)
    metadata["extra"] = json.dumps(extra or {}, default=_json_default)

    data = serialize(tensors, metadata=metadata)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".nndl-", suffix=".tmp", dir=directory)
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


def read_metadata(path) -> dict[str, str]:
    """The raw metadata strings of a checkpoint (nothing else is read)."""
    from safetensors import safe_open

    path = os.fspath(path)
    try:
        with safe_open(path, framework="np") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors checkpoint ({exc})") from exc
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an nndl checkpoint (metadata format is {metadata.get('format')!r})")
    return metadata


def _json(metadata: dict, key: str, path: str, default=None):
    if key not in metadata:
        return default
    try:
        return json.loads(metadata[key])
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: metadata '{key}' is not valid JSON ({exc})") from exc


def _optimizer_state(tensors: dict, meta: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        index, name = key[len(OPTIMIZER_PREFIX):].split(".", 1)
        state.setdefault(int(index), {})[name] = value
    for index, scalars in meta.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(scalars)
    groups = []
    for group in meta["param_groups"]:
        # JSON turned tuples (Adam's betas) into lists; hyperparameters are tuples again.
        groups.append({k: (tuple(v) if isinstance(v, list) and k != "params" else v) for k, v in group.items()})
    return {"state": state, "param_groups": groups}


def load(path, model: Module | None = None, optimizer=None, scheduler=None) -> Checkpoint:
    """Read a checkpoint written by :func:`save`.

    Parameters
    ----------
    path : str or path-like
    model : Module, optional
        Load into this model; by default a new one is built from the saved
        configuration.
    optimizer, scheduler : optional
        Restored in place from the saved state when given.

    Returns
    -------
    Checkpoint
        ``model`` with the saved weights and generators, ``epoch``, ``rng``
        (the training generator, ready to continue), ``extra``, and the raw
        optimizer and schedule states.
    """
    path = os.fspath(path)
    metadata = read_metadata(path)
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read tensors ({exc})") from exc
    config = _json(metadata, "model_config", path)
    if model is None:
        if config is None:
            raise CheckpointError(f"{path}: the model configuration was not saved "
                                  f"({metadata.get('model_config_error', 'unknown reason')}); pass model=")
        try:
            model = from_config(config)
        except (ConfigError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: cannot rebuild the model: {exc}") from exc
        model.to(metadata.get("dtype", "float32"))
    model_tensors = {k: v for k, v in tensors.items() if not k.startswith(OPTIMIZER_PREFIX)}
    try:
        model.load_state_dict(model_tensors)
    except KeyError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    generators = _module_generators(model)
    for key, state in _json(metadata, "module_rngs", path, {}).items():
        if key in generators:
            generators[key].bit_generator.state = state

    optimizer_meta = _json(metadata, "optimizer", path)
    optimizer_state = None
    if optimizer_meta is not None:
        optimizer_state = _optimizer_state({k: v for k, v in tensors.items() if k.startswith(OPTIMIZER_PREFIX)},
                                           optimizer_meta)
        if optimizer is not None:
            if optimizer_meta.get("class") != type(optimizer).__name__:
                raise CheckpointError(f"{path}: saved optimizer is {optimizer_meta.get('class')}, "
                                      f"not {type(optimizer).__name__}")
            optimizer.load_state_dict(optimizer_state)
    elif optimizer is not None:
        raise CheckpointError(f"{path}: no optimizer state was saved")
    scheduler_state = _json(metadata, "scheduler", path)
    if scheduler is not None:
        if scheduler_state is None:
            raise CheckpointError(f"{path}: no schedule state was saved")
        scheduler.load_state_dict(scheduler_state)
    rng_state = _json(metadata, "rng", path)
    return Checkpoint(
        model=model,
        epoch=int(metadata["epoch"]) if "epoch" in metadata else None,
        rng=_generator_from_state(rng_state, path) if rng_state is not None else None,
        extra=_json(metadata, "extra", path, {}),
        optimizer_state=optimizer_state,
        scheduler_state=scheduler_state,
        config=config,
    )

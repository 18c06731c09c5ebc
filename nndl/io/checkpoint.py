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
  the model (dropout), the schedule's state, the statistics of the training
  inputs (``model.input_statistics``, recorded by ``Trainer.fit``), and user
  ``extra`` values.

Nothing is pickled. Files are written atomically: to a temporary file in the
same directory, flushed to disk, then renamed over the target, so a crash
leaves either the old checkpoint or the new one, never half of one.

A checkpoint is data, never instructions: loading one reads that file only,
builds only classes of nndl's registry, checks the header (names, shapes,
dtypes) before reading any tensor, builds the model within the number of
elements the file's tensors hold, and requires every parameter to be a finite
floating array. Every malformed file raises :class:`CheckpointError` naming
it and what is wrong.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file
from safetensors.numpy import save as serialize

from nndl.io.atomic import write_atomic
from nndl.io.header import CheckpointError, read_header
from nndl.io.validate import build_model, check_tensors, metadata_json, optimizer_state
from nndl.nn.core.config import ConfigError, to_config
from nndl.nn.core.module import Module
from nndl.train.input_range import InputStatistics

FORMAT = "nndl.checkpoint"
VERSION = "1"
OPTIMIZER_PREFIX = "optimizer::"
BIT_GENERATORS = {name: getattr(np.random, name) for name in ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")}


@dataclass(repr=False)
class Checkpoint:
    """What :func:`load` returns."""

    model: Module
    epoch: int | None = None
    rng: np.random.Generator | None = None
    extra: dict = field(default_factory=dict)
    optimizer_state: dict | None = None
    scheduler_state: dict | None = None
    config: dict | None = None
    input_statistics: InputStatistics | None = None

    def __repr__(self) -> str:
        # A summary: the optimizer's buffers alone can print as tens of thousands of characters.
        parts = [f"model={type(self.model).__name__} ({self.model.num_parameters():,} parameters, "
                 f"{np.dtype(self.model.dtype).name})", f"epoch={self.epoch}"]
        if self.rng is not None:
            parts.append(f"rng={type(self.rng.bit_generator).__name__}")
        if self.optimizer_state is not None:
            state = self.optimizer_state.get("state", {})
            arrays = sum(isinstance(v, np.ndarray) for buffers in state.values() for v in buffers.values())
            parts.append(f"optimizer_state=<{len(state)} parameter states, {arrays} arrays>")
        if self.scheduler_state is not None:
            parts.append(f"scheduler_state=<{len(self.scheduler_state)} entries>")
        if self.input_statistics is not None:
            s = self.input_statistics
            parts.append(f"input_statistics=<min {s.min:.4g}, max {s.max:.4g}, mean {s.mean:.4g}, std {s.std:.4g}>")
        parts.append(f"extra keys={sorted(self.extra)}")
        return f"Checkpoint({', '.join(parts)})"


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
    try:
        bit_generator.state = state
    except Exception as exc:  # a malformed state: TypeError, ValueError, KeyError, OverflowError...
        raise CheckpointError(f"{path}: invalid state of the {name} generator ({type(exc).__name__}: {exc})") \
            from exc
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
    statistics = getattr(model, "input_statistics", None)
    if statistics is not None:
        metadata["input_statistics"] = json.dumps(statistics.to_dict())
    metadata["extra"] = json.dumps(extra or {}, default=_json_default)

    write_atomic(path, serialize(tensors, metadata=metadata))


def read_metadata(path) -> dict[str, str]:
    """The raw metadata strings of a checkpoint (only the file's header is read)."""
    path = os.fspath(path)
    _, metadata = read_header(path)
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an nndl checkpoint (metadata format is {metadata.get('format')!r})")
    return metadata


def load(path, model: Module | None = None, optimizer=None, scheduler=None) -> Checkpoint:
    """Read a checkpoint written by :func:`save`.

    Parameters
    ----------
    path : str or path-like
    model : Module, optional
        Load into this model; by default a new one is built from the saved
        configuration (classes of nndl's registry only, within the number of
        elements the file's tensors hold).
    optimizer, scheduler : optional
        Restored in place from the saved state when given.

    Returns
    -------
    Checkpoint
        ``model`` with the saved weights and generators (and
        ``model.input_statistics`` when saved), ``epoch``, ``rng`` (the
        training generator, ready to continue), ``extra``, the raw optimizer
        and schedule states, and ``input_statistics``.

    Raises
    ------
    CheckpointError
        The file is not a readable nndl checkpoint, its metadata is malformed,
        its configuration names an unknown class or declares a model larger
        than its tensors, a tensor is missing, extra, of the wrong shape, not
        floating (parameters) or not finite, or the saved optimizer or
        schedule does not fit the one given.
    """
    path = os.fspath(path)
    infos, metadata = read_header(path)
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an nndl checkpoint (metadata format is {metadata.get('format')!r})")
    config = metadata_json(metadata, "model_config", path, dict)
    if model is None:
        model = build_model(config, metadata, infos, path)
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError, MemoryError) as exc:
        raise CheckpointError(f"{path}: cannot read tensors ({exc})") from exc
    model_tensors = {k: v for k, v in tensors.items() if not k.startswith(OPTIMIZER_PREFIX)}
    check_tensors(model, model_tensors, path)
    try:
        model.load_state_dict(model_tensors)
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    generators = _module_generators(model)
    for key, state in metadata_json(metadata, "module_rngs", path, dict, {}).items():
        restored = _generator_from_state(state, path)  # checked even when no module of this model holds it
        if key in generators:
            generators[key].bit_generator.state = restored.bit_generator.state

    optimizer_meta = metadata_json(metadata, "optimizer", path, dict)
    state = None
    if optimizer_meta is not None:
        state = optimizer_state({k: v for k, v in tensors.items() if k.startswith(OPTIMIZER_PREFIX)},
                                optimizer_meta, OPTIMIZER_PREFIX, path)
        if optimizer is not None:
            if optimizer_meta.get("class") != type(optimizer).__name__:
                raise CheckpointError(f"{path}: saved optimizer is {optimizer_meta.get('class')}, "
                                      f"not {type(optimizer).__name__}")
            _restore(optimizer, state, path, "optimizer")
    elif optimizer is not None:
        raise CheckpointError(f"{path}: no optimizer state was saved")
    scheduler_state = metadata_json(metadata, "scheduler", path, dict)
    if scheduler is not None:
        if scheduler_state is None:
            raise CheckpointError(f"{path}: no schedule state was saved")
        _restore(scheduler, scheduler_state, path, "schedule")
    rng_state = metadata_json(metadata, "rng", path, dict)
    statistics = _input_statistics(metadata, path)
    if statistics is not None:
        model.input_statistics = statistics
    return Checkpoint(
        model=model,
        epoch=_epoch(metadata, path),
        rng=_generator_from_state(rng_state, path) if rng_state is not None else None,
        extra=metadata_json(metadata, "extra", path, dict, {}),
        optimizer_state=state,
        scheduler_state=scheduler_state,
        config=config,
        input_statistics=statistics,
    )


def _input_statistics(metadata: dict, path: str) -> InputStatistics | None:
    values = metadata_json(metadata, "input_statistics", path, dict)
    if values is None:
        return None
    try:
        return InputStatistics.from_dict(values)
    except ValueError as exc:
        raise CheckpointError(f"{path}: metadata 'input_statistics' is malformed: {exc}") from None


def _epoch(metadata: dict, path: str) -> int | None:
    if "epoch" not in metadata:
        return None
    text = metadata["epoch"]
    if not (text.isascii() and text.isdigit() and len(text) < 19):
        raise CheckpointError(f"{path}: metadata 'epoch' must be a non-negative integer, got {text[:40]!r}")
    return int(text)


def _restore(target, state: dict, path: str, what: str) -> None:
    try:
        target.load_state_dict(state)
    except CheckpointError:
        raise
    except Exception as exc:  # the saved state does not fit: missing keys, wrong types or shapes
        raise CheckpointError(f"{path}: the saved {what} state does not fit {type(target).__name__} "
                              f"({type(exc).__name__}: {exc})") from exc

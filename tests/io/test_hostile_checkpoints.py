"""Malformed and hostile checkpoints: every one raises CheckpointError naming the file, before costly work."""

import json
import os
import struct
import tracemalloc

import numpy as np
import pytest
from safetensors.numpy import save, save_file

from nndl import io, nn, optim
from nndl.io.checkpoint import FORMAT, VERSION
from nndl.models import mlp
from nndl.nn.core.config import to_config


def write(path, tensors=None, **metadata):
    text = {"format": FORMAT, "version": VERSION, "dtype": "float32", "extra": "{}"}
    text.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()})
    save_file(tensors or {}, str(path), metadata=text)
    return path


def refused(path, message, **kwargs):
    with pytest.raises(io.CheckpointError, match=message) as info:
        io.load(path, **kwargs)
    assert str(path) in str(info.value)


def linear_config(n_in, n_out):
    config = to_config(nn.Linear(2, 3))
    text = json.dumps(config).replace("2", str(n_in), 1).replace("3", str(n_out), 1)
    assert str(n_in) in text and str(n_out) in text
    return json.loads(text)


def test_tiny_file_declaring_a_huge_linear_layer_fails_before_allocating(tmp_path):
    path = write(tmp_path / "big.safetensors", model_config=linear_config(16000, 16000))
    assert path.stat().st_size < 1000
    tracemalloc.start()
    try:
        refused(path, "the model configuration declares more parameters than the file's 0 stored elements")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20  # 256 million weights were never drawn


def test_many_small_layers_adding_up_past_the_file_are_refused(tmp_path):
    small = nn.Sequential(*[nn.Linear(64, 64) for _ in range(4)])
    good = tmp_path / "good.safetensors"
    io.save(small, good)
    metadata = io.read_metadata(good)
    metadata["model_config"] = json.dumps(to_config(nn.Sequential(*[nn.Linear(64, 64) for _ in range(200)])))
    tensors = {k: np.ascontiguousarray(v) for k, v in small.state_dict().items()}
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(save(tensors, metadata=metadata))
    refused(bad, "declares more parameters than the file's 16,640 stored elements")
    assert io.load(good).model.num_parameters() == 16640


@pytest.mark.parametrize("metadata, message", [
    ({"model_config": {"class": "os.system", "arguments": {}}}, "cannot rebuild the model"),
    ({"model_config": "[" * 100_000}, "metadata 'model_config' is not valid JSON"),
    ({"model_config": [1, 2]}, "metadata 'model_config' must be a JSON dict, got list"),
    ({"model_config": {"class": "nndl.nn.Linear"}}, "cannot rebuild the model"),
    ({"dtype": "complex128"}, "metadata 'dtype' must be one of float32, float64"),
    ({"epoch": "ten"}, "metadata 'epoch' must be a non-negative integer, got 'ten'"),
    ({"epoch": "-1"}, "metadata 'epoch' must be a non-negative integer"),
    ({"extra": [1]}, "metadata 'extra' must be a JSON dict, got list"),
    ({"rng": {"bit_generator": "os.system"}}, "unknown random generator 'os.system'"),
    ({"rng": {"bit_generator": "PCG64", "state": "x"}}, "invalid state of the PCG64 generator"),
    ({"rng": "null"}, "metadata 'rng' must be a JSON dict, got NoneType"),
    ({"module_rngs": {"0:rng": {"bit_generator": "PCG64"}}}, "invalid state of the PCG64 generator"),
    ({"optimizer": {"class": "SGD"}}, "needs param_groups"),
    ({"optimizer": {"param_groups": [], "scalars": {"x": 1}}}, "scalars must map parameter indices"),
])
def test_odd_metadata_is_a_checkpoint_error(tmp_path, metadata, message):
    model = mlp([3, 4, 2], rng=0)
    base = tmp_path / "base.safetensors"
    io.save(model, base)
    tensors = {k: np.ascontiguousarray(v) for k, v in model.state_dict().items()}
    saved = io.read_metadata(base)
    path = write(tmp_path / "odd.safetensors", tensors, **{"model_config": saved["model_config"], **metadata})
    refused(path, message)


def test_optimizer_tensor_with_a_bad_name(tmp_path):
    model = mlp([3, 4, 2], rng=0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    path = tmp_path / "m.safetensors"
    io.save(model, path, optimizer=opt)
    tensors = {k: np.ascontiguousarray(v) for k, v in model.state_dict().items()}
    tensors["optimizer::x.momentum_buffer"] = np.zeros(2, np.float32)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(save(tensors, metadata=io.read_metadata(path)))
    refused(bad, "optimizer tensor 'optimizer::x.momentum_buffer' is not named")


def test_optimizer_state_that_does_not_fit_is_a_checkpoint_error(tmp_path):
    model = mlp([3, 4, 2], rng=0)
    path = tmp_path / "m.safetensors"
    opt = optim.SGD(model.parameters(), lr=0.1)
    io.save(model, path, optimizer=opt)
    metadata = io.read_metadata(path)
    metadata["optimizer"] = json.dumps({"class": "SGD", "param_groups": [{"lr": "fast"}], "scalars": {}})
    tensors = {k: np.ascontiguousarray(v) for k, v in model.state_dict().items()}
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(save(tensors, metadata=metadata))
    refused(bad, "the saved optimizer state does not fit SGD", optimizer=optim.SGD(model.parameters(), lr=0.1))


@pytest.mark.parametrize("change, message", [
    (lambda v: np.full(v.shape, np.nan, v.dtype), r"tensor '1.weight' holds 12 non-finite value\(s\)"),
    (lambda v: np.where(np.arange(v.size).reshape(v.shape) == 0, np.inf, v).astype(v.dtype), "1 non-finite"),
    (lambda v: v > 0, "tensor '1.weight' must be a floating array, got bool"),
    (lambda v: v.astype(np.int32), "tensor '1.weight' must be a floating array, got int32"),
    (lambda v: v.astype(np.complex64), "tensor '1.weight' must be a floating array, got complex64"),
])
def test_parameters_must_be_finite_floating_arrays(tmp_path, change, message):
    model = mlp([3, 4, 2], rng=0)
    path = tmp_path / "m.safetensors"
    io.save(model, path)
    tensors = {k: np.ascontiguousarray(v) for k, v in model.state_dict().items()}
    tensors["1.weight"] = np.ascontiguousarray(change(tensors["1.weight"]))
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(save(tensors, metadata=io.read_metadata(path)))
    refused(bad, message)


def _raw(header: dict, data: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


@pytest.mark.parametrize("content, message", [
    (b"\x01\x02", "too short for a header"),
    (struct.pack("<Q", 2**40) + b"{}", "header length 1099511627776 does not fit a file of 10 bytes"),
    (struct.pack("<Q", 4) + b"\xff\xfe{}", "header is not JSON"),
    (_raw([1]), "header is not a JSON object"),
    (_raw({"__metadata__": {"format": 3}}), "metadata must map names to strings"),
    (_raw({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(8)),
     r"tensor 'w': data_offsets \[0, 16\] outside the 8 bytes of data"),
    (_raw({"w": {"dtype": "F32", "shape": [2**62, 4], "data_offsets": [0, 8]}}, bytes(8)),
     "needs 73786976294838206464 bytes, data_offsets give 8"),
    (_raw({"w": {"dtype": "OBJ", "shape": [1], "data_offsets": [0, 8]}}, bytes(8)), "unknown dtype 'OBJ'"),
    (_raw({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}), "shape must be a list of non-negative"),
    (_raw({"w": [1]}), "expected an entry with dtype, shape and data_offsets"),
])
def test_malformed_headers(tmp_path, content, message):
    path = tmp_path / "h.safetensors"
    path.write_bytes(content)
    refused(path, message)


def test_interrupted_saves_leave_temporary_files_that_the_next_save_removes(tmp_path):
    path = tmp_path / "m.safetensors"
    orphan = tmp_path / ".nndl-m.safetensors.0123abcd.tmp"
    orphan.write_bytes(b"half a checkpoint")
    other = tmp_path / ".nndl-other.safetensors.0123abcd.tmp"  # another file's: left alone
    other.write_bytes(b"x")
    io.save(mlp([3, 4, 2], rng=0), path)
    assert sorted(os.listdir(tmp_path)) == sorted([path.name, other.name])


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_checkpoints_follow_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        io.save(mlp([3, 4, 2], rng=0), tmp_path / "m.safetensors")
    finally:
        os.umask(previous)
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o777 == mode

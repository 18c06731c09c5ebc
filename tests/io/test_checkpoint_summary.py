"""A checkpoint's repr is a summary; the training inputs' statistics are saved, loaded and checked."""

import json

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from nndl import io, nn, optim
from nndl.io import CheckpointError
from nndl.models import mlp
from nndl.train import Trainer


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    x = np.random.default_rng(0).standard_normal((64, 20)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = mlp([20, 64, 2], rng=0)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    Trainer(model, nn.SoftmaxCrossEntropy(), opt).fit(x, y, epochs=2, batch_size=16, rng=0, verbose=0)
    path = tmp_path_factory.mktemp("ckpt") / "model.safetensors"
    io.save(model, path, optimizer=opt, epoch=2, rng=np.random.default_rng(1), extra={"note": "x", "a": 1})
    return model, path


def test_repr_is_a_summary_without_arrays(trained):
    model, path = trained
    text = repr(io.load(path))
    stats = model.input_statistics
    assert text == (f"Checkpoint(model=MLP ({model.num_parameters():,} parameters, float32), epoch=2, rng=PCG64, "
                    "optimizer_state=<4 parameter states, 8 arrays>, "
                    f"input_statistics=<min {stats.min:.4g}, max {stats.max:.4g}, mean {stats.mean:.4g}, "
                    f"std {stats.std:.4g}>, extra keys=['a', 'note'])")
    assert len(text) < 300 and "array(" not in text


def test_statistics_round_trip_exactly(trained):
    model, path = trained
    loaded = io.load(path)
    assert loaded.input_statistics == model.input_statistics
    assert loaded.input_statistics.samples == 64
    fresh = mlp([20, 64, 2], rng=1)
    io.load(path, model=fresh)
    assert fresh.input_statistics == model.input_statistics


@pytest.mark.parametrize("statistics, message", [
    ('{"min": 0, "max": 1, "mean": 0.5, "std": 0.1}', "need exactly the keys min, max, mean, std, samples"),
    ('{"min": 0, "max": NaN, "mean": 0.5, "std": 0.1, "samples": 3}', "'max' must be a finite number, got nan"),
    ('{"min": 0, "max": 1, "mean": 2, "std": 0.1, "samples": 3}', "inconsistent (need min <= mean <= max"),
    ('{"min": 0, "max": 1, "mean": 0.5, "std": 0.1, "samples": true}', "'samples' must be a positive integer"),
    ('[1, 2]', "metadata 'input_statistics' must be a JSON dict, got list"),
])
def test_malformed_statistics_are_refused_naming_the_key(trained, tmp_path, statistics, message):
    _, path = trained
    metadata = io.read_metadata(path)
    metadata["input_statistics"] = statistics
    bad = tmp_path / "bad.safetensors"
    save_file(load_file(path), bad, metadata=metadata)
    with pytest.raises(CheckpointError, match="bad.safetensors") as info:
        io.load(bad)
    assert message in str(info.value)


def test_a_model_never_trained_saves_no_statistics(tmp_path):
    path = tmp_path / "new.safetensors"
    io.save(mlp([3, 2], rng=0), path)
    assert "input_statistics" not in io.read_metadata(path)
    assert io.load(path).input_statistics is None
    assert json.loads(io.read_metadata(path)["extra"]) == {}

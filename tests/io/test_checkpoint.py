import json
import os

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file, save_file

from nndl import io, nn, optim
from nndl.models import mlp
from nndl.train import LRSchedulerCallback, Trainer


def problem(n=96):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    return x, (x[:, :3].sum(1) > 0).astype(np.int64)


def make_run(seed=0):
    model = mlp([6, 12, 2], dropout=0.25, rng=seed)
    opt = optim.Adam(model.parameters(), lr=0.01)
    schedule = optim.StepLR(opt, step_size=2, gamma=0.5)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), opt, callbacks=[LRSchedulerCallback(schedule)])
    return model, opt, schedule, trainer


def test_resume_from_checkpoint_is_bit_identical_to_uninterrupted_training(tmp_path):
    x, y = problem()
    model, _, _, trainer = make_run()
    straight = trainer.fit(x, y, epochs=6, batch_size=16, rng=5, verbose=0)

    model_a, opt_a, schedule_a, trainer_a = make_run()
    first = trainer_a.fit(x, y, epochs=3, batch_size=16, rng=5, verbose=0)
    path = tmp_path / "half.safetensors"
    io.save(model_a, path, optimizer=opt_a, epoch=3, rng=trainer_a.rng, scheduler=schedule_a)

    model_b, opt_b, schedule_b, trainer_b = make_run(seed=99)  # different initial weights, all overwritten
    checkpoint = io.load(path, model=model_b, optimizer=opt_b, scheduler=schedule_b)
    second = trainer_b.fit(x, y, epochs=6, batch_size=16, rng=checkpoint.rng, initial_epoch=checkpoint.epoch,
                           verbose=0)
    assert first["loss"] + second["loss"] == straight["loss"]
    assert first["lr"] + second["lr"] == straight["lr"]
    final, resumed = model.state_dict(), model_b.state_dict()
    assert all(np.array_equal(final[k], resumed[k]) for k in final)


def test_model_is_rebuilt_from_its_saved_configuration(tmp_path):
    model = mlp([6, 12, 3], batch_norm=True, dropout=0.1, rng=0).to(np.float64)
    x = np.random.default_rng(0).standard_normal((4, 6))
    model.train()
    model(x)  # moves the running statistics away from their initial values
    model.eval()
    path = tmp_path / "m.safetensors"
    io.save(model, path, extra={"note": "hello"})
    checkpoint = io.load(path)
    assert type(checkpoint.model) is type(model)
    assert checkpoint.model.dtype == np.float64
    assert checkpoint.extra == {"note": "hello"}
    checkpoint.model.eval()
    np.testing.assert_array_equal(checkpoint.model(x), model(x))


def test_file_holds_pytorch_state_dict_names_and_loads_into_torch(tmp_path):
    model = nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 2, rng=1))
    path = tmp_path / "m.safetensors"
    io.save(model, path, optimizer=optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    tensors = load_file(str(path))
    weights = {k: torch.from_numpy(v) for k, v in tensors.items() if not k.startswith("optimizer::")}
    reference = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    reference.load_state_dict(weights)  # strict: same names and shapes
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(reference(torch.from_numpy(x)).detach().numpy(), model(x), rtol=1e-6)


def test_optimizer_state_round_trips(tmp_path):
    x, y = problem()
    model, opt, _, trainer = make_run()
    trainer.fit(x, y, epochs=1, batch_size=32, rng=0, verbose=0)
    path = tmp_path / "m.safetensors"
    io.save(model, path, optimizer=opt)
    fresh = optim.Adam(mlp([6, 12, 2], dropout=0.25, rng=0).parameters(), lr=0.5)
    state = io.load(path, optimizer=fresh).optimizer_state
    saved, restored = opt.state_dict(), fresh.state_dict()
    assert restored["param_groups"] == saved["param_groups"]
    for index, buffers in saved["state"].items():
        for name, value in buffers.items():
            np.testing.assert_array_equal(restored["state"][index][name], value)
    assert state["param_groups"][0]["betas"] == (0.9, 0.999)


def test_write_is_atomic_when_interrupted(tmp_path, monkeypatch):
    model = mlp([3, 4, 2], rng=0)
    path = tmp_path / "m.safetensors"
    io.save(model, path, extra={"version": 1})

    def crash(src, dst):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        io.save(mlp([3, 4, 2], rng=1), path, extra={"version": 2})
    monkeypatch.undo()
    assert io.load(path).extra == {"version": 1}
    assert os.listdir(tmp_path) == ["m.safetensors"]  # no temporary file left behind


def test_unreadable_or_foreign_files_are_rejected_with_the_path(tmp_path):
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01 not a checkpoint")
    with pytest.raises(io.CheckpointError, match="garbage.safetensors: not a readable"):
        io.load(garbage)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": np.zeros(2, dtype=np.float32)}, str(foreign))
    with pytest.raises(io.CheckpointError, match="foreign.safetensors: not an nndl checkpoint"):
        io.load(foreign)


def test_loading_into_a_different_model_reports_every_key(tmp_path):
    path = tmp_path / "m.safetensors"
    io.save(mlp([3, 4, 2], rng=0), path)
    with pytest.raises(io.CheckpointError, match=r"1.weight: expected shape \(5, 3\), got \(4, 3\)"):
        io.load(path, model=mlp([3, 5, 2], rng=0))


def test_metadata_is_json_and_never_pickled(tmp_path):
    path = tmp_path / "m.safetensors"
    model, opt, schedule, _ = make_run()
    io.save(model, path, optimizer=opt, epoch=2, rng=np.random.default_rng(3), scheduler=schedule)
    metadata = io.read_metadata(path)
    for key in ("model_config", "optimizer", "rng", "module_rngs", "scheduler", "extra"):
        json.loads(metadata[key])
    assert metadata["epoch"] == "2"
    assert b"pickle" not in path.read_bytes()

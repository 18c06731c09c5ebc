"""`nndl train` never loses a run: per-epoch checkpoints, Ctrl-C and divergence save the last complete epoch,
--resume continues bit for bit; `nndl evaluate` never reads a location saved in a checkpoint; bad input never
gives a traceback."""

import glob
import json
import os

import numpy as np
import pytest
from safetensors.numpy import save

from nndl import io
from nndl.cli import main
from nndl.train.trainer import Trainer

MLP = ['[model]\nname = "mlp"\nhidden = [16]\ndropout = 0.2\n[optimizer]\nname = "adam"\nlr = 0.01\n'
       '[training]\nvalidation_split = 0.2\nbatch_size = 64\n']


def run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out


def config(tmp_path, text=MLP[0]):
    path = tmp_path / "run.toml"
    path.write_text(text)
    return str(path)


def weights(checkpoint):
    return {k: v for k, v in io.load(checkpoint).model.state_dict().items()}


def assert_same_weights(a, b):
    first, second = weights(a), weights(b)
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)


def fail_at_batch(monkeypatch, n, error):
    """Make the n-th training batch (1-based, counted over the run) raise ``error`` before its update."""
    original = Trainer._loss
    calls = {"n": 0}

    def loss(self, scores, target, epoch, batch, history):
        calls["n"] += 1
        if calls["n"] == n:
            if error == "nan":
                scores = np.full_like(scores, np.nan)
            else:
                raise error
        return original(self, scores, target, epoch, batch, history)

    monkeypatch.setattr(Trainer, "_loss", loss)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Four epochs without interruption (the reference every resumed run must equal exactly)."""
    tmp_path = tmp_path_factory.mktemp("reference")
    assert main(["train", config(tmp_path), "--epochs", "4", "--out", str(tmp_path), "--quiet"]) == 0
    (checkpoint,) = glob.glob(str(tmp_path / "*" / "checkpoint.safetensors"))
    return checkpoint


def test_a_checkpoint_is_saved_every_epoch(tmp_path, capsys, monkeypatch):
    saved = []
    original = io.save
    monkeypatch.setattr(io, "save", lambda model, path, **kw: (saved.append(kw["epoch"]), original(model, path, **kw)))
    code, _ = run(["train", config(tmp_path), "--epochs", "3", "--out", str(tmp_path), "--quiet"], capsys)
    assert code == 0 and saved == [1, 2, 3, 3]  # each epoch, then the final weights with the test result


@pytest.mark.parametrize("save_every", [1, 3])
def test_ctrl_c_saves_the_last_complete_epoch_and_resume_is_exact(tmp_path, capsys, monkeypatch, uninterrupted,
                                                                  save_every):
    batches_per_epoch = 18  # 1437 training digits, 20% held out, batches of 64
    fail_at_batch(monkeypatch, 2 * batches_per_epoch + 5, KeyboardInterrupt())  # inside epoch 3
    code, out = run(["train", config(tmp_path), "--epochs", "4", "--out", str(tmp_path), "--quiet",
                     "--save-every", str(save_every)], capsys)
    assert code == 130
    (run_dir,) = glob.glob(str(tmp_path / "*-digits-mlp"))
    assert f"interrupted: epoch 2 saved to {run_dir}/checkpoint.safetensors" in " ".join(out.split())
    assert f"nndl train --resume {run_dir}" in " ".join(out.split())
    checkpoint = os.path.join(run_dir, "checkpoint.safetensors")
    assert io.load(checkpoint).epoch == 2
    monkeypatch.undo()
    code, out = run(["train", "--resume", run_dir, "--epochs", "4", "--quiet"], capsys)
    assert code == 0, out
    assert io.load(checkpoint).epoch == 4
    assert_same_weights(checkpoint, uninterrupted)
    with open(os.path.join(run_dir, "history.csv")) as f:
        assert [line.split(",")[0] for line in f.read().split()[1:]] == ["1", "2", "3", "4"]


def test_divergence_saves_the_last_good_epoch_and_exits_1(tmp_path, capsys, monkeypatch, uninterrupted):
    fail_at_batch(monkeypatch, 18 + 3, "nan")  # epoch 2, batch 3
    code, out = run(["train", config(tmp_path), "--epochs", "4", "--out", str(tmp_path), "--quiet"], capsys)
    assert code == 1
    text = " ".join(out.split())
    assert "training diverged at epoch 2, batch 3" in text and "epoch 1 saved to" in text
    (checkpoint,) = glob.glob(str(tmp_path / "*" / "checkpoint.safetensors"))
    assert io.load(checkpoint).epoch == 1
    monkeypatch.undo()
    assert run(["train", "--resume", checkpoint, "--epochs", "4", "--quiet"], capsys)[0] == 0
    assert_same_weights(checkpoint, uninterrupted)


def test_interrupt_before_the_first_epoch_saves_nothing(tmp_path, capsys, monkeypatch):
    fail_at_batch(monkeypatch, 2, KeyboardInterrupt())
    code, out = run(["train", config(tmp_path), "--epochs", "2", "--out", str(tmp_path), "--quiet"], capsys)
    assert code == 130 and "interrupted before the first epoch ended: nothing saved" in out
    assert not glob.glob(str(tmp_path / "*" / "checkpoint.safetensors"))


def test_resume_refuses_other_data_or_changed_settings(tmp_path, capsys):
    x = np.random.default_rng(0).standard_normal((60, 4)).astype(np.float32)
    np.savez(tmp_path / "a.npz", x=x, y=np.arange(60) % 3)
    np.savez(tmp_path / "b.npz", x=x + 1, y=np.arange(60) % 3)
    text = '[data]\nname = "npz"\n[model]\nname = "mlp"\n[training]\nvalidation_split = 0.0\n'
    code, _ = run(["train", config(tmp_path, text), "--data-path", str(tmp_path / "a.npz"), "--epochs", "1",
                   "--out", str(tmp_path / "runs"), "--quiet"], capsys)
    assert code == 0
    (run_dir,) = glob.glob(str(tmp_path / "runs" / "*"))
    code, out = run(["train", "--resume", run_dir, "--epochs", "2"], capsys)
    assert code == 2 and "needs path" in out  # the saved location is not used
    code, out = run(["train", "--resume", run_dir, "--epochs", "2", "--data-path", str(tmp_path / "b.npz")], capsys)
    assert code == 2 and "the training data differ from the run's" in out
    code, out = run(["train", "--resume", run_dir, "--lr", "0.1"], capsys)
    assert code == 2 and "lr cannot be changed" in out
    code, out = run(["train", "--resume", run_dir, "--epochs", "2", "--data-path", str(tmp_path / "a.npz"),
                     "--quiet"], capsys)
    assert code == 0 and io.load(os.path.join(run_dir, "checkpoint.safetensors")).epoch == 2


def test_evaluate_never_reads_a_location_saved_in_the_checkpoint(tmp_path, capsys):
    code, _ = run(["train", config(tmp_path), "--epochs", "1", "--out", str(tmp_path), "--quiet"], capsys)
    (checkpoint,) = glob.glob(str(tmp_path / "*" / "checkpoint.safetensors"))
    secret = tmp_path / "secret.csv"
    secret.write_text("root:SECRET:0:0\n")
    metadata = io.read_metadata(checkpoint)
    extra = json.loads(metadata["extra"])
    extra["config"]["data"] = {"name": "csv", "path": str(secret)}
    metadata["extra"] = json.dumps(extra)
    tensors = {k: np.ascontiguousarray(v) for k, v in io.load(checkpoint).model.state_dict().items()}
    hostile = tmp_path / "hostile.safetensors"
    hostile.write_bytes(save(tensors, metadata=metadata))
    code, out = run(["evaluate", str(hostile)], capsys)
    assert code == 2
    assert "was trained on 'csv' data: give its location with --data-path" in " ".join(out.split())
    assert "SECRET" not in out and str(secret) not in out
    code, out = run(["evaluate", str(hostile), "--data", "digits"], capsys)
    assert code == 0 and "on 360 test samples" in out


def test_nan_in_the_data_is_reported_before_training(tmp_path, capsys):
    x = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    x[7, 1] = np.nan
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(40) % 2)
    code, out = run(["train", config(tmp_path, '[data]\nname = "npz"\n[model]\nname = "mlp"\n'),
                     "--data-path", str(tmp_path / "d.npz"), "--out", str(tmp_path / "runs")], capsys)
    assert code == 2 and "inputs hold NaN or inf values" in out and "learning rate" not in out
    assert not os.path.exists(tmp_path / "runs")


BAD_CONFIGS = [
    ("[training]\nepochs = 2.7\n", "[training] epochs: expected an integer, got 2.7"),
    ('[training]\nepochs = "ten"\n', "[training] epochs: expected an integer, got 'ten'"),
    ("[training]\nbatch_size = -1\n", "[training] batch_size: expected a value >= 1, got -1"),
    ("[training]\nvalidation_split = 1.5\n", "[training] validation_split: expected a value in [0.0, 1.0)"),
    ('[model]\nwidth = "wide"\n', "[model] width: expected an integer, got 'wide'"),
    ('[optimizer]\nlr = "fast"\n', "[optimizer] lr: expected a number, got 'fast'"),
    ("[model]\nname = 3\n", "[model] name: expected a string, got 3"),
    ('[data]\nname = "csv"\n', "[data] name = 'csv' needs path"),
    ("training = 3\n", "'training' must be a table"),
    ("x = " + "[" * 5000 + "]" * 5000 + "\n", "not valid TOML"),
    ("[training\n", "not valid TOML"),
]


@pytest.mark.parametrize("text, message", BAD_CONFIGS, ids=range(len(BAD_CONFIGS)))
def test_bad_configs_name_the_key_without_a_traceback(tmp_path, capsys, text, message):
    code, out = run(["train", config(tmp_path, text), "--out", str(tmp_path)], capsys)
    assert code == 2
    assert message in " ".join(out.split())


def test_bad_command_lines_give_one_line_errors(tmp_path, capsys):
    (tmp_path / "garbage.toml").write_bytes(b"\xff\xfe\x00 binary")
    (tmp_path / "garbage.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    np.save(tmp_path / "nan.npy", np.array([[np.nan] * 64]))
    np.save(tmp_path / "complex.npy", np.ones((1, 64), np.complex64))
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert main(["train", config(tmp_path), "--epochs", "1", "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    capsys.readouterr()
    (checkpoint,) = glob.glob(str(tmp_path / "runs" / "*" / "checkpoint.safetensors"))
    cases = [
        (["train", str(tmp_path / "garbage.toml")], "garbage.toml: not valid TOML"),
        (["train", str(tmp_path / "missing.toml")], "missing.toml"),
        (["train", "--save-every", "0"], "--save-every: expected a positive integer, got 0"),
        (["train", "--resume", str(tmp_path / "nothing")], "no checkpoint found"),
        (["train", config(tmp_path), "--resume", checkpoint], "do not give a config file too"),
        (["evaluate", str(tmp_path / "garbage.safetensors")], "garbage.safetensors: not a readable"),
        (["evaluate", checkpoint, "--data", "imagenet"], "--data: unknown 'imagenet'"),
        (["evaluate", checkpoint, "--data", "mnist"], "give its location with --data-path"),
        (["evaluate", checkpoint, "--data", "mnist", "--data-path", str(tmp_path)], "none of"),
        (["predict", checkpoint, str(tmp_path / "nan.npy")], "nan.npy: holds NaN or inf values"),
        (["predict", checkpoint, str(tmp_path / "complex.npy")], "expected real numbers, got dtype complex64"),
        (["predict", checkpoint, str(tmp_path / "objects.npy")], "objects.npy: cannot read a numpy array"),
        (["predict", checkpoint, str(tmp_path / "missing.npy")], "missing.npy"),
        (["summary", str(tmp_path / "garbage.safetensors"), "--input", "64"], "garbage.safetensors"),
    ]
    for argv, message in cases:
        code, out = run(argv, capsys)
        assert code == 2, (argv, out)
        assert message in " ".join(out.split()), (argv, out)


def test_trainer_reports_non_finite_data_before_any_update():
    from nndl import nn, optim
    from nndl.models import mlp

    x = np.random.default_rng(0).standard_normal((32, 5)).astype(np.float32)
    x[21, 3] = np.inf
    model = mlp([5, 4, 2], rng=0)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match=r"Trainer.fit: x holds NaN or inf values \(first in sample 21\)"):
        trainer.fit(x, np.arange(32) % 2, epochs=1, verbose=0)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(ValueError, match="Trainer.evaluate: y holds NaN"):
        trainer.evaluate(x[:3] * 0, np.array([0.0, np.nan, 1.0]))

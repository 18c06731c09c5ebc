import glob
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from nndl import io
from nndl.cli import main


def run(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().out


def test_train_one_epoch_on_defaults_writes_a_loadable_checkpoint(tmp_path, capsys):
    code, out = run(["train", "--epochs", "1", "--out", str(tmp_path), "--seed", "3"], capsys)
    assert code == 0
    assert "test accuracy" in out
    (checkpoint,) = glob.glob(str(tmp_path / "*" / "checkpoint.safetensors"))
    loaded = io.load(checkpoint)
    assert loaded.epoch == 1
    assert loaded.extra["config"]["training"]["seed"] == 3
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert accuracy == pytest.approx(loaded.extra["test"]["accuracy"], abs=5e-5)
    assert os.path.exists(os.path.join(os.path.dirname(checkpoint), "history.csv"))

    code, out = run(["evaluate", checkpoint], capsys)
    assert code == 0
    assert float(out.split("accuracy ")[1].split()[0]) == pytest.approx(accuracy, abs=5e-5)

    from nndl.data import load_digits

    x, _ = load_digits()
    np.save(tmp_path / "x.npy", x[:7])
    code, out = run(["predict", checkpoint, str(tmp_path / "x.npy"), "--output", str(tmp_path / "p.npy")], capsys)
    assert code == 0
    expected = np.argmax(loaded.model.eval()(x[:7]), axis=1)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), expected)


def test_config_file_and_flags_override_it(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('[model]\nname = "mlp"\nhidden = [32]\n[optimizer]\nname = "adam"\nlr = 0.01\n'
                      '[training]\nepochs = 5\nvalidation_split = 0.0\n')
    code, _ = run(["train", str(config), "--epochs", "2", "--lr", "0.002", "--out", str(tmp_path), "--quiet"], capsys)
    assert code == 0
    (checkpoint,) = glob.glob(str(tmp_path / "*" / "checkpoint.safetensors"))
    saved = io.load(checkpoint).extra["config"]
    assert saved["optimizer"] == {"name": "adam", "lr": 0.002}
    assert saved["training"]["epochs"] == 2
    assert saved["model"]["hidden"] == [32]


@pytest.mark.parametrize("text, message", [
    ("[model]\nhiden = 3\n", "[model]: unknown key(s) hiden for 'small_cnn'; valid: dropout, name, width"),
    ("[training]\nepoch = 3\n", "[training]: unknown key(s) epoch; valid: batch_size"),
    ("[optimiser]\nlr = 3\n", "unknown table(s) optimiser; valid: data, model"),
    ("[optimizer]\nname = \"sgdd\"\n", "[optimizer] name: unknown 'sgdd'; valid: sgd"),
    ("[optimizer]\nmomentun = 0.9\n", "[optimizer]: unknown key(s) momentun for 'sgd'"),
])
def test_bad_config_key_exits_non_zero_naming_the_key(tmp_path, capsys, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    code, out = run(["train", str(config), "--out", str(tmp_path)], capsys)
    assert code == 2
    assert message in " ".join(out.split())
    assert not glob.glob(str(tmp_path / "*" / "checkpoint.safetensors"))


def test_console_script_is_installed_and_reports_errors():
    result = subprocess.run([sys.executable, "-m", "nndl", "evaluate", "/nonexistent/checkpoint.safetensors"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "/nonexistent/checkpoint.safetensors" in result.stdout


EXAMPLES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "examples", "*.toml")))


@pytest.mark.parametrize("path", EXAMPLES, ids=os.path.basename)
def test_example_configs_are_valid(path):
    from nndl.cli.config import load_config

    config = load_config(path)
    assert config["data"]["name"] in ("digits", "mnist", "cifar10")


def test_example_configs_cover_every_optimizer():
    from nndl.cli.config import load_config
    from nndl.cli.registry import OPTIMIZERS

    used = {load_config(path)["optimizer"]["name"] for path in EXAMPLES}
    assert set(OPTIMIZERS) <= used


def test_explicit_loop_example_learns_the_digits():
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
    try:
        import mlp_digits
    finally:
        sys.path.pop(0)
    assert mlp_digits.main(epochs=15) >= 0.95


def test_default_job_reaches_98_percent_on_the_digits(tmp_path, capsys):
    code, out = run(["train", "--out", str(tmp_path), "--quiet"], capsys)
    assert code == 0
    assert "training small_cnn" in out
    assert float(out.split("test accuracy ")[1].split()[0]) >= 0.98


def _write_fake_mnist(directory, rng):
    from nndl.data import write_idx

    directory.mkdir()
    for prefix, n in (("train", 60), ("t10k", 20)):
        write_idx(directory / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(directory / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))


def _write_fake_cifar_binary(directory, rng):
    directory.mkdir()
    for name, n in [(f"data_batch_{i}.bin", 8) for i in range(1, 6)] + [("test_batch.bin", 10)]:
        records = np.concatenate([(np.arange(n) % 10).astype(np.uint8)[:, None],
                                  rng.integers(0, 256, (n, 3072), dtype=np.uint8)], axis=1)
        (directory / name).write_bytes(records.tobytes())


@pytest.mark.parametrize("example, writer", [("mnist_lenet5.toml", _write_fake_mnist),
                                             ("cifar10_cnn.toml", _write_fake_cifar_binary)])
def test_image_examples_train_on_files_in_their_format(tmp_path, capsys, example, writer):
    """The LeNet-5/MNIST and CIFAR-10 configurations run end to end on small files written in each format."""
    writer(tmp_path / "data", np.random.default_rng(0))
    text = (pathlib.Path(__file__).parents[1] / "examples" / example).read_text()
    config = tmp_path / example
    config.write_text(re.sub(r'path = ".*"', f'path = "{tmp_path / "data"}"', text))
    code, out = run(["train", str(config), "--epochs", "1", "--batch-size", "16", "--out", str(tmp_path / "runs")],
                    capsys)
    assert code == 0, out
    (checkpoint,) = glob.glob(str(tmp_path / "runs" / "*" / "checkpoint.safetensors"))
    model = io.load(checkpoint).model
    expected_input = (1, 1, 28, 28) if "mnist" in example else (1, 3, 32, 32)
    assert model.output_shape(expected_input) == (1, 10)

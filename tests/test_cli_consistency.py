"""Consistent commands: --version, evaluate's report, C×H×W everywhere, honest headers, no empty runs."""

import glob
import os
import sys

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion
from sklearn.metrics import precision_recall_fscore_support

import nndl
from nndl import data, io, nn, optim
from nndl.cli import main
from nndl.cli.registry import digits as digits_split
from nndl.models import mlp
from nndl.train import Trainer


def run(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"nndl {nndl.__version__}\n"


@pytest.fixture(scope="module")
def python_checkpoint(tmp_path_factory):
    """A model trained in Python on the digits (no 'nndl train' configuration in its checkpoint)."""
    x, y = data.load_digits()
    model = mlp([64, 32, 10], rng=0)
    Trainer(model, nn.SoftmaxCrossEntropy(), optim.Adam(model.parameters(), lr=1e-2)).fit(
        x[:600], y[:600], epochs=3, batch_size=64, rng=0, verbose=0)
    path = tmp_path_factory.mktemp("py") / "python.safetensors"
    io.save(model, path)
    return model, str(path)


def test_evaluate_a_python_checkpoint_needs_data_and_prints_the_class_report(python_checkpoint, capsys):
    model, path = python_checkpoint
    code, out = run(["evaluate", path], capsys)
    assert code == 2
    assert "no training configuration saved (not written by 'nndl train'); name its data set with --data" in \
        " ".join(out.split())

    code, out = run(["evaluate", path, "--data", "digits"], capsys)
    assert code == 0
    lines = out.splitlines()
    _, _, x_test, y_test = digits_split({"test_size": 0.2}, 0)  # the split 'nndl train' draws with seed 0
    scores = Trainer(model, nn.SoftmaxCrossEntropy(), optimizer=None).predict(x_test)
    predicted = scores.argmax(axis=1)
    loss = nn.SoftmaxCrossEntropy()(scores, y_test)
    assert f"loss {loss:.4f} · accuracy {np.mean(predicted == y_test):.4f} on 360 test samples" in lines
    start = lines.index("confusion matrix (rows: true class, columns: predicted class):")
    assert lines[start + 1].split() == [str(c) for c in range(10)]
    expected = sk_confusion(y_test, predicted, labels=range(10))
    for c in range(10):
        assert [int(v) for v in lines[start + 2 + c].split()] == [c, *expected[c]]
    assert lines[start + 12].split() == ["class", "precision", "recall", "f1", "support"]
    precision, recall, f1, support = precision_recall_fscore_support(y_test, predicted, labels=range(10),
                                                                     zero_division=0)
    for c in range(10):
        assert lines[start + 13 + c].split() == [str(c), f"{precision[c]:.4f}", f"{recall[c]:.4f}",
                                                 f"{f1[c]:.4f}", str(support[c])]
    macro = precision_recall_fscore_support(y_test, predicted, average="macro", zero_division=0)
    assert lines[start + 23].split() == ["macro", *(f"{v:.4f}" for v in macro[:3]), "360"]


def test_predict_and_evaluate_warn_once_on_unscaled_inputs(python_checkpoint, tmp_path, capsys):
    _, path = python_checkpoint
    x, _ = data.load_digits()
    np.save(tmp_path / "raw.npy", x[:20] * 16)
    np.save(tmp_path / "scaled.npy", x[:20])
    code, out = run(["predict", path, str(tmp_path / "raw.npy")], capsys)
    assert code == 0
    warned = [line for line in out.splitlines() if line.startswith("warning: Trainer.predict: inputs are far outside")]
    assert len(warned) == 1 and "inputs: min 0, max 16" in warned[0]
    code, out = run(["predict", path, str(tmp_path / "scaled.npy")], capsys)
    assert code == 0 and "warning" not in out


def test_explain_reads_input_as_channels_height_width(capsys):
    code, out = run(["explain", "conv", "--input", "3x32x28", "--filters", "8", "--kernel", "5"], capsys)
    assert code == 0
    assert out.splitlines()[0] == "--input 3x32x28 read as C×H×W = 3×32×28 (the notes write H×W×C = 32×28×3)"
    assert "H_out = (H − F + 2P)/S + 1 = (32 − 5 + 2·0)/1 + 1 = 27/1 + 1 = 28" in out
    assert "W_out = (W − F + 2P)/S + 1 = (28 − 5 + 2·0)/1 + 1 = 23/1 + 1 = 24" in out
    assert "parameters = (F·F·C_in + 1)·K = (5·5·3 + 1)·8 = 608" in out
    code, out = run(["explain", "pool", "--input", "6x28x28", "--kernel", "2"], capsys)
    assert code == 0 and "output: 14×14×6 = 1,176 activations" in out
    code, out = run(["explain", "deconv", "--input", "10x16x16", "--filters", "3", "--kernel", "2", "--stride", "2"],
                    capsys)
    assert code == 0 and "32×32×3" in out
    code, out = run(["explain", "conv", "--input", "32x32", "--filters", "8", "--kernel", "5"], capsys)
    assert code == 2 and "--input must be C x H x W, e.g. 3x32x32, got '32x32'" in out


def test_train_header_separates_training_and_validation_samples(tmp_path, capsys):
    code, out = run(["train", "--epochs", "1", "--out", str(tmp_path), "--quiet"], capsys)
    assert code == 0
    # 1797 digits: 360 for the test set, 10% of the remaining 1437 (144) for validation.
    assert "on digits: 1293 training, 144 validation and 360 test samples" in out
    assert "trained 1 epoch in " in out


def test_zero_epochs_is_refused_before_anything_is_written(tmp_path, capsys):
    code, out = run(["train", "--epochs", "0", "--out", str(tmp_path)], capsys)
    assert code == 2
    assert "[training] epochs = 0: nothing to train, so no checkpoint would be written; give --epochs 1 or more" \
        in " ".join(out.split())
    assert os.listdir(tmp_path) == []
    code, _ = run(["train", "--epochs", "1", "--out", str(tmp_path), "--quiet"], capsys)
    (run_dir,) = glob.glob(str(tmp_path / "*"))
    code, out = run(["train", "--resume", run_dir, "--epochs", "1"], capsys)
    assert code == 2 and "the run has completed 1 epoch(s), so no checkpoint would be written; give --epochs 2" \
        in " ".join(out.split())


def test_example_loop_uses_every_training_sample_once_per_epoch():
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
    try:
        import mlp_digits
    finally:
        sys.path.pop(0)
    indices = np.arange(10, 110)
    rng = np.random.default_rng(0)
    epochs = [np.concatenate(list(mlp_digits.epoch_batches(indices, 32, rng))) for _ in range(3)]
    for order in epochs:
        assert len(order) == 100 and np.array_equal(np.sort(order), indices)
    assert [len(b) for b in mlp_digits.epoch_batches(indices, 32, rng)] == [32, 32, 32, 4]
    assert not np.array_equal(epochs[0], epochs[1])  # a fresh permutation each epoch

"""``nndl train`` writes the run files; ``nndl report`` and ``nndl diagnose`` read them (exit statuses asserted)."""

import json
import os

import pytest

pytest.importorskip("matplotlib", reason="the run's figures need matplotlib (the plot extra)")

from nndl.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    assert main(["train", "--epochs", "2", "--out", str(out), "--quiet"]) == 0
    (path,) = [os.path.join(out, d) for d in os.listdir(out)]
    return path


def test_train_writes_the_run_files(run_dir):
    names = set(os.listdir(run_dir))
    assert {"checkpoint.safetensors", "config.json", "history.csv", "history.json", "summary.json", "summary.txt",
            "confusion.json", "diagnosis.json", "monitor.json", "plots"} <= names
    assert sorted(os.listdir(os.path.join(run_dir, "plots"))) == ["confusion_matrix.png", "learning_curves.png",
                                                                  "monitor_statistics.png"]
    history = json.load(open(os.path.join(run_dir, "history.json")))
    assert history["epoch"] == [0, 1] and len(history["history"]["val_loss"]) == 2
    assert len(history["history"]["0.weight/update_ratio"]) == 2  # the Monitor's statistics
    diagnosis = json.load(open(os.path.join(run_dir, "diagnosis.json")))
    assert diagnosis["ok"] is True and diagnosis["checks"]["cannot_overfit"] == "skipped: overfit_steps=0"
    confusion = json.load(open(os.path.join(run_dir, "confusion.json")))
    assert sum(map(sum, confusion["matrix"])) == 360  # the digits' test split


def test_report_command(run_dir, tmp_path, capsys):
    output = tmp_path / "r.html"
    assert main(["report", run_dir, "-o", str(output)]) == 0
    page = output.read_text()
    assert page.count("data:image/png;base64,") == 3 and "<script" not in page
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "not a run directory" in capsys.readouterr().out


def test_diagnose_a_checkpoint_is_healthy(run_dir, capsys):
    assert main(["diagnose", os.path.join(run_dir, "checkpoint.safetensors"), "--samples", "128"]) == 0
    assert "Diagnosis: no findings" in capsys.readouterr().out


def test_diagnose_a_config_with_findings(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text('[model]\nname = "mlp"\n\n[optimizer]\nname = "sgd"\nlr = 20.0\n')
    assert main(["diagnose", str(config), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and "update_ratio" in {f["code"] for f in data["findings"]}
    assert main(["diagnose", str(tmp_path / "missing.toml")]) == 2

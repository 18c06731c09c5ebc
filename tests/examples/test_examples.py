"""The examples of issue 14 run in a short setting and print sane figures; the linear autoencoder finds PCA's subspace."""

import importlib
import math
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("scipy")

EXAMPLES = Path(__file__).parents[2] / "examples"


def example(name):
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(EXAMPLES))


def is_fraction(value) -> bool:
    return isinstance(value, float) and 0.0 <= value <= 1.0


def test_linear_autoencoder_learns_the_pca_subspace():
    angles, model, pca = example("autoencoder_pca").linear_autoencoder_angles(code_size=4, epochs=100, seed=0)
    assert angles.shape == (4,) and angles.max() < 0.05
    # Same subspace, so the same reconstruction error as PCA's (PCA's is the optimum).
    from nndl.data import load_digits

    x, _ = load_digits(flatten=True, dtype=np.float64)
    pca_error = np.mean((pca.inverse_transform(pca.transform(x)) - x) ** 2)
    assert pca_error <= np.mean((model(x) - x) ** 2) < 1.01 * pca_error


def test_transfer_learning_example(capsys):
    result = example("transfer_learning").main(seeds=(0,), pretrain_epochs=2, epochs=8)
    assert set(result) == {"transfer", "fine_tuned", "scratch"}
    for values in result.values():
        assert len(values) == 1 and is_fraction(values[0]) and values[0] > 0.3   # chance is 0.2
    assert "transfer + fine-tuning:" in capsys.readouterr().out


def test_multitask_example(capsys):
    result = example("multitask").main(seeds=(0,), n_train=100, epochs=4)
    assert set(result) == {"digit", "parity", "high"}
    for task, (multi, single) in result.items():
        chance = 0.1 if task == "digit" else 0.5
        assert is_fraction(multi) and is_fraction(single) and multi > chance + 0.1 and single > chance + 0.1
    assert "multi-task   single-task" in capsys.readouterr().out


def test_ensembles_example(capsys):
    result = example("ensembles").main(n_train=200, members=3, sizes=(1, 3), epochs=4, mc_passes=4)
    assert is_fraction(result["member_error"]) and 0.0 < result["member_error"] < 0.6
    assert set(result["ensemble_error"]) == {1, 3} and all(map(is_fraction, result["ensemble_error"].values()))
    assert -1.0 <= result["correlation"] <= 1.0
    assert is_fraction(result["dropout_deterministic_error"]) and is_fraction(result["dropout_mc_error"])
    assert "ensemble of  3: error" in capsys.readouterr().out


def test_autoencoder_example_with_denoising(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    figure = tmp_path / "reconstructions.png"
    result = example("autoencoder_pca").main(code_size=4, epochs=3, figure=str(figure))
    assert figure.stat().st_size > 1000
    for key in ("mse_pca", "mse_linear_ae", "mse_noisy_input"):
        assert math.isfinite(result[key]) and 0.0 < result[key] < 1.0
    assert set(result["denoising"]) == {"PCA", "linear AE", "denoising AE"}
    assert all(0.0 < v < result["mse_noisy_input"] for v in result["denoising"].values())
    assert "largest principal angle" in capsys.readouterr().out

"""The small-topic examples (universal approximation, L1 vs L2, augmentation), run in a short setting.

Full-size figures are in each example's docstring; these runs are small
enough for CI and check the direction of each claim where a short run can.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_universal_approximation_error_falls_with_width(capsys):
    errors = load("universal_approximation").main(widths=(1, 16), points=64, epochs=300)
    assert "width" in capsys.readouterr().out
    assert set(errors) == {"sin(πx)", "|x|", "step"}
    for name in ("sin(πx)", "|x|"):
        narrow, wide = errors[name]
        assert wide < 0.5 * narrow, (name, errors[name])


def test_l1_gives_sparser_weights_than_l2_at_similar_accuracy(capsys):
    results = load("l1_vs_l2_sparsity").main(epochs=20)
    assert "penalty" in capsys.readouterr().out
    (acc_l2, sparse_l2), (acc_l1, sparse_l1) = results["L2"], results["L1"]
    assert sparse_l1 > sparse_l2 + 0.05
    assert abs(acc_l1 - acc_l2) < 0.05 and min(acc_l1, acc_l2) > 0.85


def test_augmentation_example_runs(capsys):
    results = load("augmentation_few_images").main(per_class=5, epochs=3, seeds=(0,))
    assert "augmented" in capsys.readouterr().out
    for name in ("plain", "augmented"):
        assert len(results[name]) == 1 and 0.0 <= results[name][0] <= 1.0
    assert results["plain"][0] > 0.15  # above chance (0.1) after three epochs on 50 images

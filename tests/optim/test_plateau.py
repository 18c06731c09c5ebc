"""ReduceLROnPlateau fed the same metrics as PyTorch's sets the same rates."""

import math

import numpy as np
import pytest
import torch

from nndl import optim
from tests.optim.test_lr_scheduler import lr_history, nndl_optimizer, torch_optimizer

# A loss that falls, stalls with noise, falls a little and stalls again.
LOSSES = [1.0, 0.8, 0.7, 0.69995, 0.7, 0.71, 0.7, 0.69, 0.7, 0.7, 0.7, 0.65, 0.64, 0.66, 0.66,
          0.66, 0.66, 0.66, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.49, 0.5, 0.5, float("nan")]
ACCURACIES = [0.1, 0.3, 0.5, 0.5, 0.51, 0.5, 0.5, 0.52, 0.52, 0.52, 0.6, 0.6, 0.6, 0.6, 0.6,
              0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.71, 0.7, 0.7, 0.7, 0.7, 0.7]

CONFIGS = [
    (dict(patience=2), LOSSES),
    (dict(patience=0, factor=0.5), LOSSES),
    (dict(patience=1, threshold=0.05), LOSSES),
    (dict(patience=1, threshold=0.005, threshold_mode="abs", cooldown=2), LOSSES),
    (dict(patience=1, factor=0.2, min_lr=0.005), LOSSES),
    (dict(patience=0, factor=0.5, min_lr=[0.02, 0.0]), LOSSES),
    (dict(patience=1, factor=0.5, eps=0.02), LOSSES),
    (dict(mode="max", patience=2), ACCURACIES),
    (dict(mode="max", patience=1, threshold=0.01, threshold_mode="abs", cooldown=1), ACCURACIES),
]


@pytest.mark.parametrize("kwargs, metrics", CONFIGS, ids=[str(c[0]) for c in CONFIGS])
def test_plateau_matches_torch(kwargs, metrics):
    optimizer = nndl_optimizer()
    ours = lr_history(optimizer, optim.ReduceLROnPlateau(optimizer, **kwargs), metrics=metrics)
    torch_opt = torch_optimizer()
    theirs = lr_history(torch_opt, torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **kwargs), metrics=metrics)
    assert len(np.unique(theirs[:, 0])) > 1  # the configuration does reduce the rate
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


def test_plateau_reduces_after_patience_bad_epochs():
    optimizer = nndl_optimizer()
    schedule = optim.ReduceLROnPlateau(optimizer, patience=2, factor=0.5)
    history = lr_history(optimizer, schedule, epochs=5, metrics=[1.0, 1.0, 1.0, 1.0, 1.0])[:, 0]
    # Epoch 0 sets best = 1.0; epochs 1, 2, 3 are bad; the third bad one (> patience) halves the rate.
    np.testing.assert_allclose(history, [0.1, 0.1, 0.1, 0.1, 0.05])
    assert schedule.get_last_lr()[0] == pytest.approx(0.05)


def test_plateau_state_dict_round_trip():
    optimizer = nndl_optimizer()
    schedule = optim.ReduceLROnPlateau(optimizer, patience=1, cooldown=1)
    lr_history(optimizer, schedule, epochs=10, metrics=LOSSES)
    saved_optimizer, saved = optimizer.state_dict(), schedule.state_dict()
    expected = lr_history(optimizer, schedule, epochs=19, metrics=LOSSES[10:])
    fresh_optimizer = nndl_optimizer()
    fresh = optim.ReduceLROnPlateau(fresh_optimizer, patience=1, cooldown=1)
    fresh_optimizer.load_state_dict(saved_optimizer)
    fresh.load_state_dict(saved)
    np.testing.assert_array_equal(lr_history(fresh_optimizer, fresh, epochs=19, metrics=LOSSES[10:]), expected)
    assert math.isinf(optim.ReduceLROnPlateau(nndl_optimizer()).state_dict()["best"])


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(mode="minimum"), ValueError, r"ReduceLROnPlateau: unknown mode 'minimum'; valid: min, max"),
    (dict(threshold_mode="relative"), ValueError, r"unknown threshold_mode 'relative'; valid: rel, abs"),
    (dict(factor=1.0), ValueError, r"ReduceLROnPlateau: invalid factor=1.0; expected 0.0 <= factor < 1.0"),
    (dict(factor=0.0), ValueError, r"ReduceLROnPlateau: invalid factor=0"),
    (dict(patience=-1), ValueError, r"ReduceLROnPlateau: patience must be an integer >= 0, got -1"),
    (dict(min_lr=[0.1]), ValueError, r"ReduceLROnPlateau: expected 2 min_lr values \(one per param group\), got 1"),
    (dict(min_lr=-0.1), ValueError, r"ReduceLROnPlateau: invalid min_lr=-0.1"),
])
def test_plateau_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        optim.ReduceLROnPlateau(nndl_optimizer(), **kwargs)

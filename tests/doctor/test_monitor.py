"""Monitor: per-layer statistics per epoch into the History, the values they should have, and no side effects."""

import json
import math

import numpy as np
import pytest

from nndl import nn, optim
from nndl.doctor import Monitor
from nndl.doctor.probe import activation_stats
from nndl.doctor.facts import activation_facts
from nndl.train import Trainer

from .nets import he_mlp


def fit(model, x, y, monitor, epochs=3, lr=0.05, seed=0):
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=lr, momentum=0.9),
                      callbacks=[monitor])
    history = trainer.fit(x, y, epochs=epochs, batch_size=32, rng=seed, verbose=0,
                          validation_data=(x[:64], y[:64]))
    return trainer, history


def test_statistics_per_epoch_in_the_history(digits_flat):
    x, y = digits_flat
    monitor = Monitor(every=2)
    trainer, history = fit(he_mlp(0), x, y, monitor)
    for key in ("0/mean", "0/std", "1/dead", "3/dead", "4/grad_norm", "0.weight/update_ratio",
                "4.weight/update_ratio"):
        assert len(history[key]) == 3 == len(monitor.history[key]), key
        assert all(math.isfinite(v) for v in history[key]), key
    assert history["loss"][0] > history["loss"][-1]
    assert all(0 <= v <= 1 for v in history["1/dead"])
    assert all(1e-5 < v < 1 for v in history["2.weight/update_ratio"])
    assert "saturated" not in "".join(history.history)  # no tanh/sigmoid here
    assert list(monitor.activations) == ["0", "1", "2", "3", "4"]
    assert len(monitor.activations["1"]) == 2000 and monitor.activations["1"].min() >= 0
    assert [e["epoch"] for e in monitor.epochs] == [0, 1, 2]
    assert not any(m._forward_hooks or m._backward_hooks or m._forward_pre_hooks for m in trainer.model.modules())


def test_values_match_a_direct_computation(digits_flat):
    """With every=1 and one batch per epoch, the statistics are those of that batch's forward pass."""
    x, y = digits_flat
    x, y = x[:32], y[:32]
    model = he_mlp(1)
    weights = {name: p.data.copy() for name, p in model.named_parameters() if p.data.ndim == 2}
    # the forward pass the first training step will make
    expected = {}
    h = x
    for name, layer in model.named_children():
        h = layer(h)
        expected[name] = activation_stats(h, activation_facts(layer))
    monitor = Monitor(every=1)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1), callbacks=[monitor])
    history = trainer.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    for name, stats in expected.items():
        for key, value in stats.items():
            assert history[f"{name}/{key}"][0] == pytest.approx(value, rel=1e-6), (name, key)
    for name, old in weights.items():
        ratio = np.linalg.norm(dict(model.named_parameters())[name].data - old) / np.linalg.norm(old)
        assert history[f"{name}/update_ratio"][0] == pytest.approx(ratio, rel=1e-6)


def test_training_is_unchanged_by_monitoring(digits_flat):
    x, y = digits_flat
    _, plain = fit(he_mlp(2), x, y, Monitor(every=10**6), epochs=2)
    trainer, watched = fit(he_mlp(2), x, y, Monitor(every=1), epochs=2)
    assert plain["loss"] == watched["loss"] and plain["val_loss"] == watched["val_loss"]


def test_saturation_of_a_tanh_net_and_run_dir(tmp_path, digits_flat):
    x, y = digits_flat
    model = nn.Sequential(nn.Linear(64, 32, rng=0), nn.Tanh(), nn.Linear(32, 10, rng=0))
    model[0].weight.data *= 20
    monitor = Monitor(every=1, run_dir=str(tmp_path))
    _, history = fit(model, x, y, monitor, epochs=2)
    assert history["1/saturated"][0] > 0.5
    saved = json.loads((tmp_path / "monitor.json").read_text())
    assert [e["epoch"] for e in saved["epochs"]] == [0, 1]
    assert saved["layer_types"] == {"0": "Linear", "1": "Tanh", "2": "Linear"}
    assert saved["epochs"][1]["layers"]["1"]["saturated"] == pytest.approx(history["1/saturated"][1])


def test_bad_arguments():
    with pytest.raises(ValueError, match="every and samples must be >= 1"):
        Monitor(every=0)

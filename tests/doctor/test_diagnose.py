"""diagnose: planted faults found by code and layer, healthy networks clean, everything restored bit for bit."""

import math

import numpy as np
import pytest

from nndl import nn, optim
from nndl.doctor import CODES, Diagnosis, Thresholds, diagnose
from nndl.models.small_cnn import SmallCNN

from .nets import deep_net, he_mlp
from .state import assert_same, capture


def scale_weights(model, factor):
    for param in model.parameters():
        if param.data.ndim >= 2:
            param.data *= factor


def codes_at(diagnosis, code):
    return [f.layer for f in diagnosis.findings if f.code == code]


class WrongSignLinear(nn.Linear):
    """A planted bug: backward returns the negative of every gradient (∂L/∂x, ∂L/∂W, ∂L/∂b)."""

    def backward(self, dout, need_input_grad=True):
        return super().backward(-dout, need_input_grad)


# ---------------------------------------------------------------- healthy networks
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_he_relu_mlp_is_healthy(digits_flat, seed):
    x, y = digits_flat
    model = he_mlp(seed)
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y, optim.Adam(model.parameters(), lr=1e-3))
    assert d.ok, str(d)
    assert d.findings == [] and abs(d.loss - math.log(10)) < math.log(10)
    assert d.checks["update_ratio"] == "ok" and d.checks["cannot_overfit"] == "ok"
    assert {row["layer"] for row in d.layers} == {"0", "1", "2", "3", "4"}
    assert all(row["dead"] < 0.2 for row in d.layers if row["type"] == "ReLU")


@pytest.mark.parametrize("seed", [0, 1])
def test_small_cnn_is_healthy(digits_images, seed):
    x, y = digits_images
    model = SmallCNN(width=8, rng=seed)
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y, optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    assert d.ok, str(d)
    assert all(v == "ok" or v.startswith("skipped: no such") for v in d.checks.values()), d.checks


def test_xavier_tanh_net_is_healthy(digits_flat):
    x, y = digits_flat
    d = diagnose(deep_net(nn.Tanh), nn.SoftmaxCrossEntropy(), x, y)
    assert d.ok, str(d)
    assert d.checks["saturated"] == "ok" and d.checks["update_ratio"] == "skipped: no optimizer given"


def test_hinge_loss_expected_value_is_c_minus_one(digits_flat):
    x, y = digits_flat
    d = diagnose(he_mlp(0), nn.MulticlassHingeLoss(), x, y)
    assert d.ok, str(d)
    model = he_mlp(0)
    scale_weights(model, 0.0)  # all scores 0: every wrong class violates the margin by exactly 1
    d = diagnose(model, nn.MulticlassHingeLoss(), x, y, overfit_steps=0)
    assert d.loss == pytest.approx(9.0)


# ---------------------------------------------------------------- planted faults
def test_tiny_weights_in_a_deep_tanh_net_vanish(digits_flat):
    x, y = digits_flat
    model = deep_net(nn.Tanh, depth=10)
    scale_weights(model, 0.01)
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y, overfit_steps=0)
    found = d.find("vanishing_gradients")
    assert len(found) == 1 and found[0].layer == "0"  # the first Linear gets the smallest signal
    assert found[0].value < 1e-12 and found[0].threshold == 1e-3
    assert not d.find("exploding_gradients") and not d.find("saturated")


def test_large_weights_in_a_sigmoid_net_saturate(digits_flat):
    x, y = digits_flat
    model = deep_net(nn.Sigmoid, depth=4)
    scale_weights(model, 10.0)
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y, overfit_steps=0)
    layers = codes_at(d, "saturated")
    assert layers == ["1", "3", "5"]  # every Sigmoid, by its dotted name
    assert all(f.value > 0.25 for f in d.find("saturated"))


def test_negative_relu_biases_kill_units(digits_flat):
    x, y = digits_flat
    model = he_mlp(0)
    model[0].bias.data[:] = -10.0
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y, overfit_steps=0)
    found = d.find("dead_relu", "1")
    assert len(found) == 1 and found[0].value >= 0.9
    assert codes_at(d, "dead_relu")[0] == "1"  # the first dead layer is named first


def test_dead_relu_fraction_counts_channels_of_a_conv(digits_images):
    x, y = digits_images
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, rng=0), nn.ReLU(), nn.Flatten(), nn.Linear(512, 10, rng=0))
    model[0].bias.data[:6] = -100.0  # 6 of 8 filters never fire
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y, overfit_steps=0)
    assert d.find("dead_relu", "1")[0].value == pytest.approx(6 / 8)


def test_large_logits_give_a_bad_initial_loss(digits_flat):
    x, y = digits_flat
    model = he_mlp(0)
    model[4].weight.data *= 100.0
    model[4].bias.data *= 100.0
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y, overfit_steps=0)
    found = d.find("initial_loss")
    assert len(found) == 1 and found[0].layer == ""
    assert found[0].value > 20 and found[0].threshold == pytest.approx(2 * math.log(10))


def test_learning_rate_10_gives_huge_update_ratios(digits_flat):
    x, y = digits_flat
    model = he_mlp(0)
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y, optim.SGD(model.parameters(), lr=10.0), overfit_steps=0)
    assert codes_at(d, "update_ratio") == ["0", "2", "4"]
    assert all(f.value > 0.1 for f in d.find("update_ratio"))
    # and a tiny one is flagged as too small
    model = he_mlp(0)
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y, optim.SGD(model.parameters(), lr=1e-9), overfit_steps=0)
    assert codes_at(d, "update_ratio") == ["0", "2", "4"]
    assert all(f.value < 1e-5 and f.threshold == 1e-5 for f in d.find("update_ratio"))


def test_wrong_sign_backward_cannot_overfit_and_is_named(digits_flat):
    x, y = digits_flat
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(64, 64, rng=rng), nn.ReLU(), nn.Linear(64, 32, rng=rng), nn.ReLU(),
                          WrongSignLinear(32, 10, rng=rng))
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y)
    found = d.find("cannot_overfit")
    assert len(found) == 1 and found[0].layer == "4"
    assert "layer '4' backpropagates a wrong gradient" in found[0].message
    assert found[0].value > found[0].threshold


def test_correct_network_that_cannot_fit_names_no_layer(digits_flat):
    x, y = digits_flat
    d = diagnose(he_mlp(0), nn.SoftmaxCrossEntropy(), x, np.roll(y, 1), overfit_steps=3)
    found = d.find("cannot_overfit")
    assert len(found) == 1 and found[0].layer == "" and "every layer" in found[0].message


def test_nan_in_one_layer_is_named(digits_flat):
    x, y = digits_flat
    model = he_mlp(0)
    model[2].weight.data[3, 5] = np.nan
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y)
    assert d.codes() == ["nonfinite"] and d.findings[0].layer == "2"
    assert d.checks["cannot_overfit"] == "skipped: non-finite values"


def test_nan_in_a_backward_is_named(digits_flat):
    x, y = digits_flat

    class NanBackward(nn.ReLU):
        def backward(self, dout):
            dx = super().backward(dout)
            dx[0, 0] = np.inf
            return dx

    model = nn.Sequential(nn.Linear(64, 32, rng=0), NanBackward(), nn.Linear(32, 10, rng=0))
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y)
    assert d.codes() == ["nonfinite"] and d.findings[0].layer == "1"
    assert "backpropagated" in d.findings[0].message


# ---------------------------------------------------------------- restoration
def trained_cnn_and_optimizer(x, y):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Dropout(0.3, rng=2), nn.Linear(64, 10, rng=3))
    loss_fn = nn.SoftmaxCrossEntropy()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):  # optimizer state, running statistics and generators all moved away from their start
        model.zero_grad()
        loss_fn(model(x[:32]), y[:32])
        nn.backward(model, loss_fn.backward())
        opt.step()
    model.zero_grad()
    loss_fn(model(x[:32]), y[:32])
    nn.backward(model, loss_fn.backward())  # leave gradients in .grad
    model.eval()
    return model, loss_fn, opt


@pytest.mark.parametrize("fault", ["none", "wrong_sign", "nan"])
def test_everything_restored_bit_for_bit(digits_images, fault):
    x, y = digits_images
    model, loss_fn, opt = trained_cnn_and_optimizer(x, y)
    if fault == "wrong_sign":
        y = np.roll(y, 3)  # cannot overfit in 5 steps: runs the per-layer gradient check too
    if fault == "nan":
        model[6].weight.data[0, 0] = np.nan
    rng = np.random.default_rng(7)
    before = capture(model, opt, [rng])
    d = diagnose(model, loss_fn, x, y, opt, rng=rng, overfit_steps=5)
    assert isinstance(d, Diagnosis)
    if fault == "wrong_sign":
        assert d.checks["cannot_overfit"] == "found"
    assert_same(before, capture(model, opt, [rng]))
    assert model.training is False and all(not m.training for m in model.modules())


def test_restored_even_when_a_check_raises(digits_flat):
    x, y = digits_flat
    model = he_mlp(0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before = capture(model, opt)

    class Exploding(optim.SGD):
        def step(self, closure=None):
            super().step(closure)
            raise RuntimeError("boom")

    bad = Exploding(model.parameters(), lr=0.1)
    with pytest.raises(RuntimeError, match="boom"):
        diagnose(model, nn.SoftmaxCrossEntropy(), x, y, bad)
    assert_same(before, capture(model, opt))


# ---------------------------------------------------------------- the result object
def test_diagnosis_prints_a_table_and_serializes(digits_flat):
    x, y = digits_flat
    model = he_mlp(0)
    model[0].bias.data[:] = -10.0
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y, overfit_steps=0)
    text = str(d)
    assert text.splitlines()[1].split() == ["code", "layer", "value", "threshold", "message", "remedy"]
    assert "dead_relu" in text and not d.ok
    data = d.to_dict()
    assert data["ok"] is False and {f["code"] for f in data["findings"]} <= set(CODES)
    assert data["findings"][0].keys() == {"code", "layer", "value", "threshold", "message", "remedy"}
    import json
    json.dumps(data)  # JSON-ready: NaN written as text


def test_thresholds_are_adjustable(digits_flat):
    x, y = digits_flat
    model = he_mlp(0)
    d = diagnose(model, nn.SoftmaxCrossEntropy(), x, y, overfit_steps=0,
                 thresholds=Thresholds(initial_loss_factor=0.5))
    assert d.codes() == ["initial_loss"]


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="model must be an nndl Module"):
        diagnose(object(), nn.SoftmaxCrossEntropy(), np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="same, non-zero number"):
        diagnose(he_mlp(0), nn.SoftmaxCrossEntropy(), np.zeros((2, 64), np.float32), np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="reduction='none'"):
        diagnose(he_mlp(0), nn.SoftmaxCrossEntropy(reduction="none"), np.zeros((2, 64), np.float32),
                 np.zeros(2, np.int64))

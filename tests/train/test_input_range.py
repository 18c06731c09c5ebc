"""Inputs far outside the training range (or un-scaled for a new model) warn exactly once per call."""

import warnings

import numpy as np
import pytest

from nndl import data, io, nn, optim
from nndl.models import mlp
from nndl.train import Trainer
from nndl.train.input_range import FRESH_RMS_LIMIT, InputRangeWarning, InputStatistics


def range_warnings(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, InputRangeWarning)]


@pytest.fixture(scope="module")
def digits():
    x, y = data.load_digits(flatten=True)  # 0–16 counts divided by 16
    return x, y


def images(n=200, seed=0):
    """Synthetic 3x8x8 'photos' with 0–255 pixel values (as read from files) and a label from their brightness."""
    generator = np.random.default_rng(seed)
    raw = generator.integers(0, 256, size=(n, 3 * 8 * 8)).astype(np.float32)
    labels = (raw[:, :96].mean(axis=1) > raw[:, 96:].mean(axis=1)).astype(np.int64)
    return raw, labels


def fit(x, y, epochs=1, **kwargs):
    model = mlp([x.shape[1], 16, int(y.max()) + 1], rng=0)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.05))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer.fit(x, y, epochs=epochs, batch_size=64, rng=0, verbose=0, **kwargs)
    return trainer, range_warnings(record)


def calls(fn, *args):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fn(*args)
    return range_warnings(record)


def test_statistics_are_exact_and_accumulated_in_float64():
    x = np.arange(24, dtype=np.float32).reshape(6, 4) / 4
    stats = InputStatistics.of(x)
    assert (stats.min, stats.max, stats.samples) == (0.0, 5.75, 6)
    assert stats.mean == pytest.approx(np.mean(x, dtype=np.float64), rel=1e-15)
    assert stats.std == pytest.approx(np.std(x.astype(np.float64)), rel=1e-12)
    assert stats.rms == pytest.approx(np.sqrt(np.mean(x.astype(np.float64) ** 2)), rel=1e-12)
    assert InputStatistics.from_dict(stats.to_dict()) == stats
    big = np.random.default_rng(0).standard_normal((300, 5000)).astype(np.float32)  # several row blocks
    many = InputStatistics.of(big)
    assert many.mean == pytest.approx(float(np.mean(big, dtype=np.float64)), rel=1e-9)
    assert many.std == pytest.approx(float(np.std(big.astype(np.float64))), rel=1e-9)


def test_far_means_more_than_one_training_span_outside_the_range():
    stats = InputStatistics(0.0, 1.0, 0.5, 0.3, 10)
    assert not stats.far_outside(-1.0, 2.0)  # exactly one span beyond: not far
    assert stats.far_outside(-1.01, 0.5)
    assert stats.far_outside(0.0, 2.01)
    assert not stats.far_outside(0.2, 0.4)


def test_unscaled_digits_warn_once_in_fit_and_scaled_digits_never(digits):
    x, y = digits
    trainer, found = fit(x, y, epochs=3, validation_split=0.2)
    assert found == []
    assert calls(trainer.predict, x) == [] and calls(trainer.evaluate, x, y) == []
    stats = trainer.model.input_statistics
    assert (stats.min, stats.max) == (0.0, 1.0) and stats.samples == round(0.8 * len(x))

    _, found = fit(x * 16, y, epochs=3, validation_split=0.2)
    assert len(found) == 1
    assert found[0].startswith("Trainer.fit: the inputs look un-scaled (root mean square 7.7")
    assert f"> {FRESH_RMS_LIMIT:g}" in found[0] and "min 0, max 16" in found[0]


def test_model_trained_on_scaled_digits_warns_once_per_call_on_0_to_16_digits(digits):
    x, y = digits
    trainer, _ = fit(x, y)
    for call, args in ((trainer.predict, (x * 16,)), (trainer.evaluate, (x * 16, y))):
        found = calls(call, *args)
        assert len(found) == 1
        assert "inputs are far outside the range the model was trained on" in found[0]
        assert "inputs: min 0, max 16" in found[0] and "training data: min 0, max 1," in found[0]
    assert calls(trainer.predict, x[:5]) == []


def test_0_to_255_images_warn_once_and_scaled_images_never():
    raw, labels = images()
    _, found = fit(raw, labels, epochs=2, validation_data=(raw[:50], labels[:50]))
    assert len(found) == 1 and "un-scaled" in found[0]

    scaled = raw / 255
    trainer, found = fit(scaled, labels, epochs=2, validation_data=(scaled[:50], labels[:50]))
    assert found == []
    assert len(calls(trainer.predict, raw)) == 1
    assert calls(trainer.predict, scaled) == []
    # Continuing to train the scaled model on raw images: one warning for the whole fit (validation included).
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer.fit(raw, labels, epochs=2, batch_size=64, validation_data=(raw[:50], labels[:50]), rng=0,
                    verbose=0)
    found = range_warnings(record)
    assert len(found) == 1 and found[0].startswith("Trainer.fit: inputs are far outside")


def test_warnings_can_be_turned_off_and_integer_inputs_are_not_judged(digits):
    x, y = digits
    model = mlp([64, 8, 10], rng=0)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.01),
                      warn_input_range=False)
    found = calls(lambda: trainer.fit(x * 16, y, epochs=1, rng=0, verbose=0))
    assert found == [] and model.input_statistics.max == 16.0
    assert calls(trainer.predict, x * 1000) == []
    untrained = Trainer(mlp([64, 8, 10], rng=0), nn.SoftmaxCrossEntropy(), optimizer=None)
    assert calls(untrained.predict, x * 1000) == []  # no recorded statistics: nothing to compare with


def test_statistics_survive_a_checkpoint_and_predict_after_loading_warns(digits, tmp_path):
    x, y = digits
    trainer, _ = fit(x, y)
    path = tmp_path / "digits.safetensors"
    io.save(trainer.model, path)
    assert io.read_metadata(path)["input_statistics"].startswith('{"min": 0.0, "max": 1.0, "mean": 0.3')
    loaded = io.load(path)
    assert loaded.input_statistics == trainer.model.input_statistics
    assert loaded.model.input_statistics == trainer.model.input_statistics
    fresh = Trainer(loaded.model, nn.SoftmaxCrossEntropy(), optimizer=None)
    assert len(calls(fresh.predict, x * 16)) == 1
    assert calls(fresh.predict, x) == []

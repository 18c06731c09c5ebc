"""One seed for everything, metrics that follow the loss, and the progress display's wording."""

import io as stdio

import numpy as np
import pytest
from rich.console import Console

import nndl
from nndl import nn, optim
from nndl.models import autoencoder, mlp
from nndl.random import as_generator
from nndl.train import ProgressBar, Trainer
from nndl.train.metrics import default_metrics, mean_absolute_error


def problem(n=96, seed=0):
    generator = np.random.default_rng(seed)
    x = generator.standard_normal((n, 6)).astype(np.float32)
    return x, (x[:, 0] - x[:, 2] > 0).astype(np.int64)


def test_manual_seed_makes_every_rng_none_reproducible():
    nndl.manual_seed(123)
    first = [nn.Linear(4, 3).weight.data.copy(), as_generator(None).random(3)]
    nndl.manual_seed(123)
    second = [nn.Linear(4, 3).weight.data.copy(), as_generator(None).random(3)]
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    nndl.manual_seed(124)
    assert not np.array_equal(nn.Linear(4, 3).weight.data, first[0])
    # An explicit seed is untouched by manual_seed.
    nndl.manual_seed(1)
    a = nn.Linear(4, 3, rng=5).weight.data
    nndl.manual_seed(2)
    assert np.array_equal(nn.Linear(4, 3, rng=5).weight.data, a)
    with pytest.raises(TypeError, match="manual_seed: seed must be a non-negative int, got -1"):
        nndl.manual_seed(-1)


def test_two_fits_with_the_same_seeds_give_bit_identical_weights():
    """The Trainer docstring's claim: same seeds (model and fit), same weights bit for bit; dropout included."""
    x, y = problem()

    def run(model_seed, fit_seed):
        nndl.manual_seed(model_seed)
        model = mlp([6, 32, 32, 2], dropout=0.3, batch_norm=True)  # rng=None: weights and masks from the seed
        trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.Adam(model.parameters(), lr=1e-2))
        history = trainer.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, rng=fit_seed, verbose=0)
        return model.state_dict(), history.history

    (w1, h1), (w2, h2) = run(7, 0), run(7, 0)
    assert h1 == h2
    assert list(w1) == list(w2) and all(w1[k].tobytes() == w2[k].tobytes() for k in w1)
    w3, _ = run(8, 0)  # another model seed: other initial weights, other result
    first = next(iter(w1))
    assert not np.array_equal(w1[first], w3[first])
    w4, h4 = run(7, 1)  # another fit seed: other split and shuffling
    assert h4["loss"] != h1["loss"]


def test_default_metrics_follow_the_loss():
    assert default_metrics(nn.SoftmaxCrossEntropy()) == ("accuracy",)
    assert default_metrics(nn.BCEWithLogitsLoss()) == ("accuracy",)
    assert default_metrics(nn.MulticlassHingeLoss()) == ("accuracy",)
    assert default_metrics(nn.MSELoss()) == ("mse", "mae")
    assert default_metrics(nn.L1Loss()) == ("mse", "mae")
    assert mean_absolute_error(np.array([1.0, -2.0]), np.array([0.5, 0.0])) == 1.25

    x, y = problem()
    model = autoencoder([6, 3], rng=0)
    trainer = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.05))
    history = trainer.fit(x, x, epochs=2, batch_size=32, validation_split=0.25, rng=0, verbose=0)
    assert list(history.history) == ["loss", "mse", "mae", "val_loss", "val_mse", "val_mae", "lr"]
    result = trainer.evaluate(x, x)
    reconstruction = trainer.predict(x)
    assert result["loss"] == pytest.approx(float(np.mean((reconstruction - x) ** 2)), rel=1e-6)
    assert result["mse"] == pytest.approx(result["loss"], rel=1e-6)
    assert result["mae"] == pytest.approx(float(np.mean(np.abs(reconstruction - x), dtype=np.float64)), rel=1e-6)

    classifier = mlp([6, 4, 2], rng=0)
    logs = Trainer(classifier, nn.SoftmaxCrossEntropy(), optim.SGD(classifier.parameters(), lr=0.1)).fit(
        x, y, epochs=1, rng=0, verbose=0)
    assert list(logs.history) == ["loss", "accuracy", "lr"]


def _bar_lines(quiet, epochs, initial_epoch=0, model=None):
    x, y = problem()
    buffer = stdio.StringIO()
    model = model or mlp([6, 4, 2], rng=0)
    bar = ProgressBar(quiet=quiet, console=Console(file=buffer, width=200))
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1), callbacks=[bar])
    trainer.fit(x, y, epochs=epochs, rng=0, initial_epoch=initial_epoch)
    return buffer.getvalue().strip().splitlines(), model


def test_quiet_line_counts_epochs_in_words():
    lines, model = _bar_lines(True, 1)
    assert lines[0].startswith("trained 1 epoch in ") and "epochs" not in lines[0]
    lines, _ = _bar_lines(True, 2)
    assert lines[0].startswith("trained 2 epochs in ")
    lines, _ = _bar_lines(True, 4, initial_epoch=1, model=model)
    assert lines[0].startswith("trained 3 epochs (epochs 2–4 of 4) in ")


class _Recorder:
    """Stands in for rich's Progress: records the loss field as set at the start and after each batch."""

    def __init__(self):
        self.fields = []

    def add_task(self, name, total, loss):
        self.fields.append(loss)
        return 0

    def update(self, task, advance, loss):
        self.fields.append(loss)


def test_batch_bar_shows_no_loss_before_the_first_batch():
    bar = ProgressBar(batch_bar=True, console=Console(file=stdio.StringIO(), width=120))
    bar._progress, bar._task = _Recorder(), 0
    bar._task = bar._progress.add_task("train", total=2, loss="")
    bar.on_batch_end(0, {"loss": 0.123456, "size": 4})
    assert bar._progress.fields == ["", "loss 0.1235"]
    x, y = problem()
    buffer = stdio.StringIO()
    model = mlp([6, 4, 2], rng=0)
    live = ProgressBar(batch_bar=True, console=Console(file=buffer, width=200, force_terminal=True))
    Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1), callbacks=[live]).fit(
        x, y, epochs=1, rng=0)
    assert "nan" not in buffer.getvalue()

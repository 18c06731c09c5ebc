import io as stdio

import numpy as np
import pytest
from rich.console import Console

from nndl import data, nn, optim
from nndl.models import mlp
from nndl.train import (Callback, CSVLogger, EarlyStopping, History, LRSchedulerCallback, ModelCheckpoint, ProgressBar,
                        Trainer, TrainingDivergedError)


@pytest.fixture(scope="module")
def digits_split():
    x, y = data.load_digits(flatten=True)
    return data.train_test_split(x, y, test_size=0.2, stratify=y, rng=0)


def small_problem(n=120, rng=0):
    generator = np.random.default_rng(rng)
    x = generator.standard_normal((n, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def small_model(seed=0, dropout=0.0):
    return mlp([5, 16, 2], dropout=dropout, rng=seed)


@pytest.mark.parametrize("make_optimizer", [
    lambda params: optim.SGD(params, lr=0.05, momentum=0.9),
    lambda params: optim.Adam(params, lr=2e-3),
], ids=["sgd-momentum", "adam"])
def test_mlp_reaches_97_percent_on_digits(digits_split, make_optimizer):
    x_train, x_test, y_train, y_test = digits_split
    model = mlp([64, 256, 10], rng=0)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), make_optimizer(model.parameters()))
    history = trainer.fit(x_train, y_train, epochs=40, batch_size=32, rng=0, verbose=0)
    assert history["loss"][-1] < history["loss"][0] / 5
    assert trainer.evaluate(x_test, y_test)["accuracy"] >= 0.97


def test_same_seed_gives_bit_identical_weights_and_history():
    x, y = small_problem()
    runs = []
    for _ in range(2):
        model = small_model(dropout=0.2)
        trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
        history = trainer.fit(x, y, epochs=4, batch_size=16, validation_split=0.25, rng=7, verbose=0)
        runs.append((model.state_dict(), history.history))
    (w1, h1), (w2, h2) = runs
    assert h1 == h2
    assert all(np.array_equal(w1[k], w2[k]) for k in w1)
    model = small_model(dropout=0.2)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    other = trainer.fit(x, y, epochs=4, batch_size=16, validation_split=0.25, rng=8, verbose=0)
    assert other.history["loss"] != h1["loss"]


def test_history_records_every_quantity_per_epoch():
    x, y = small_problem()
    model = small_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    schedule = optim.StepLR(opt, step_size=1, gamma=0.5)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), opt, metrics=("accuracy", "f1"),
                      callbacks=[LRSchedulerCallback(schedule)])
    history = trainer.fit(x, y, epochs=3, validation_data=(x[:20], y[:20]), rng=0, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1", "lr"}
    assert history["lr"] == [0.1, 0.05, 0.025]
    assert history.epoch == [0, 1, 2]
    assert history["val_loss"][-1] == pytest.approx(trainer.evaluate(x[:20], y[:20])["loss"], rel=1e-12)


def test_train_mode_for_fit_and_eval_mode_for_predict():
    x, y = small_problem()
    model = small_model(dropout=0.5)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1))
    trainer.fit(x, y, epochs=1, rng=0, verbose=0)
    first = trainer.predict(x)
    assert not model.training
    np.testing.assert_array_equal(first, trainer.predict(x))  # dropout is off: deterministic


def test_early_stopping_restores_best_weights_when_stopping():
    x, y = small_problem()
    model = small_model()
    # A learning rate this large makes validation loss rise after the first epochs.
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=3.0, momentum=0.9),
                      callbacks=[stopper := EarlyStopping(monitor="val_loss", patience=1)])
    snapshots = []

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.trainer.model.state_dict())

    trainer.callbacks.append(Snapshot())
    history = trainer.fit(x, y, epochs=30, validation_data=(x[:40], y[:40]), rng=0, verbose=0)
    best = int(np.argmin(history["val_loss"]))
    assert stopper.best_epoch == best
    assert len(history.epoch) == best + 1 + 2  # patience 1: stops on the second epoch without improvement
    restored = model.state_dict()
    assert all(np.array_equal(restored[k], snapshots[best][k]) for k in restored)


def test_early_stopping_restores_best_weights_when_epochs_run_out():
    x, y = small_problem()
    model = small_model()
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=3.0, momentum=0.9),
                      callbacks=[EarlyStopping(monitor="val_loss", patience=100)])
    history = trainer.fit(x, y, epochs=8, validation_data=(x[:40], y[:40]), rng=0, verbose=0)
    assert len(history.epoch) == 8
    best = float(np.min(history["val_loss"]))
    assert best < history["val_loss"][-1]
    assert trainer.evaluate(x[:40], y[:40])["loss"] == pytest.approx(best, rel=1e-6)


def test_non_finite_loss_stops_naming_epoch_and_batch_and_keeps_weights():
    x, y = small_problem(n=64)
    x[40] = np.float32(3e38)  # finite (NaN data is refused before training), but the scores overflow in the
    # third batch of 16 of the first epoch when not shuffled
    model = small_model()
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1))
    before = {}

    class Remember(History):
        def on_batch_end(self, batch, logs=None):
            before.update(self.trainer.model.state_dict())

    trainer.callbacks.append(Remember())
    with pytest.raises(TrainingDivergedError, match="epoch 1, batch 3"):
        trainer.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    after = model.state_dict()
    assert all(np.array_equal(after[k], before[k]) for k in after)
    assert all(np.all(np.isfinite(v)) for v in after.values())


def test_regularizer_adds_penalty_to_loss_and_gradient():
    x, y = small_problem()
    losses = {}
    for strength in (0.0, 0.5):
        model = small_model()
        reg = nn.L2Penalty(strength) if strength else None
        trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.0), regularizer=reg)
        losses[strength] = trainer.fit(x, y, epochs=1, batch_size=len(x), rng=0, verbose=0)["loss"][0]
    model = small_model()
    expected = 0.5 * 0.5 * sum(float(np.sum(p.data.astype(np.float64) ** 2))
                               for name, p in model.named_parameters() if not name.endswith("bias"))
    assert losses[0.5] - losses[0.0] == pytest.approx(expected, rel=1e-5)


def test_csv_logger_and_checkpoint_callbacks(tmp_path):
    x, y = small_problem()
    model = small_model()
    checkpoint = ModelCheckpoint(str(tmp_path / "model-{epoch:02d}.safetensors"), monitor="val_accuracy",
                                 save_best_only=True)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1),
                      callbacks=[CSVLogger(str(tmp_path / "log.csv")), checkpoint])
    history = trainer.fit(x, y, epochs=5, validation_split=0.3, rng=0, verbose=0)
    rows = (tmp_path / "log.csv").read_text().strip().splitlines()
    assert rows[0].split(",") == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert len(rows) == 6
    assert float(rows[3].split(",")[1]) == pytest.approx(history["loss"][2], rel=1e-12)
    improved = [i for i, v in enumerate(history["val_accuracy"]) if v > max(history["val_accuracy"][:i], default=-1)]
    assert [p.rsplit("-", 1)[1] for p in checkpoint.saved] == [f"{i + 1:02d}.safetensors" for i in improved]


def test_progress_bar_prints_one_line_per_epoch_and_quiet_prints_one():
    x, y = small_problem()
    for quiet, lines in ((False, 3), (True, 1)):
        buffer = stdio.StringIO()
        model = small_model()
        bar = ProgressBar(quiet=quiet, console=Console(file=buffer, width=200))
        Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1), callbacks=[bar]).fit(
            x, y, epochs=3, rng=0)
        text = buffer.getvalue().strip().splitlines()
        assert len(text) == lines
        assert "loss" in text[-1] and "accuracy" in text[-1]
        assert text[-1].startswith("trained 3 epochs" if quiet else "epoch 3/3")


def test_bad_inputs_are_rejected():
    x, y = small_problem()
    model = small_model()
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="x has 120 samples but y has 119"):
        trainer.fit(x, y[:-1], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="validation_split must be in"):
        trainer.fit(x, y, epochs=1, validation_split=1.5, verbose=0)
    with pytest.raises(KeyError, match="'val_loss' is not logged"):
        Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1),
                callbacks=[EarlyStopping()]).fit(x, y, epochs=1, verbose=0)


def test_trainer_refuses_an_unreduced_loss():
    model = nn.Sequential(nn.Linear(4, 3, rng=0))
    with pytest.raises(ValueError, match=r"Trainer: the loss must reduce to one number.*SoftmaxCrossEntropy"):
        Trainer(model, nn.SoftmaxCrossEntropy(reduction="none"), optim.SGD(model.parameters(), lr=0.1))

"""The Trainer with several outputs: nn.Parallel heads, a weighted loss per head, Keras's History keys."""

import numpy as np
import pytest

from nndl import nn, optim
from nndl.train import Trainer


def data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    digit = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0)          # 4 classes
    parity = (digit % 2).astype(np.int64)
    return x, digit, parity


def model(seed=0, named=True):
    heads = dict(digit=nn.Linear(8, 4, rng=seed + 1), parity=nn.Linear(8, 2, rng=seed + 2))
    top = nn.Parallel(**heads) if named else nn.Parallel(*heads.values())
    return nn.Sequential(nn.Linear(6, 8, rng=seed), nn.ReLU(), top)


def test_one_step_equals_the_weighted_sum_of_the_losses_by_hand():
    x, digit, parity = data(16)
    net, twin = model(), model()
    trainer = Trainer(net, {"digit": nn.SoftmaxCrossEntropy(), "parity": nn.SoftmaxCrossEntropy()},
                      optim.SGD(net.parameters(), lr=0.1), loss_weights={"digit": 1.0, "parity": 0.5})
    history = trainer.fit(x, {"digit": digit, "parity": parity}, epochs=1, batch_size=16, shuffle=False, verbose=0)
    # By hand: L = L_digit + 0.5 L_parity, one SGD step.
    outs = twin(x)
    l_digit, l_parity = nn.SoftmaxCrossEntropy(), nn.SoftmaxCrossEntropy()
    total = l_digit(outs["digit"], digit) + 0.5 * l_parity(outs["parity"], parity)
    nn.backward(twin, {"digit": l_digit.backward(), "parity": 0.5 * l_parity.backward()})
    for p in twin.parameters():
        p.data -= 0.1 * p.grad
    for (name, a), b in zip(net.named_parameters(), twin.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-5, atol=1e-7, err_msg=name)
    assert history["loss"][0] == pytest.approx(total, rel=1e-6)
    assert history["digit_loss"][0] == pytest.approx(l_digit(outs["digit"], digit), rel=1e-6)
    assert set(history.history) == {"loss", "digit_loss", "parity_loss", "digit_accuracy", "parity_accuracy", "lr"}


def test_fit_evaluate_predict_with_validation_and_tuples():
    x, digit, parity = data(200)
    net = model()
    trainer = Trainer(net, {"digit": nn.SoftmaxCrossEntropy(), "parity": nn.SoftmaxCrossEntropy()},
                      optim.Adam(net.parameters(), lr=0.05), metrics={"digit": ["accuracy"], "parity": ["accuracy"]},
                      loss_weights={"digit": 1.0, "parity": 0.5})
    history = trainer.fit(x, {"digit": digit, "parity": parity}, epochs=15, batch_size=32, validation_split=0.25,
                          rng=0, verbose=0)
    for key in ("val_loss", "val_digit_loss", "val_parity_loss", "val_digit_accuracy", "val_parity_accuracy"):
        assert len(history[key]) == 15
    assert history["loss"][-1] < history["loss"][0]
    result = trainer.evaluate(x, {"digit": digit, "parity": parity})
    assert result["loss"] == pytest.approx(result["digit_loss"] + 0.5 * result["parity_loss"], rel=1e-6)
    assert result["digit_accuracy"] > 0.9 and result["parity_accuracy"] > 0.9
    predictions = trainer.predict(x, batch_size=64)
    assert set(predictions) == {"digit", "parity"} and predictions["digit"].shape == (200, 4)
    assert result["digit_accuracy"] == pytest.approx(np.mean(predictions["digit"].argmax(axis=1) == digit))
    # Tuples in head order: heads '0', '1'.
    plain = model(named=False)
    tuple_trainer = Trainer(plain, (nn.SoftmaxCrossEntropy(), nn.SoftmaxCrossEntropy()),
                            optim.Adam(plain.parameters(), lr=0.05), loss_weights=(1.0, 0.5))
    history = tuple_trainer.fit(x, (digit, parity), epochs=2, verbose=0)
    assert {"0_loss", "1_loss", "0_accuracy", "1_accuracy"} <= set(history.history)
    assert isinstance(tuple_trainer.predict(x), tuple)


def test_mismatches_are_named():
    x, digit, parity = data(20)
    net = model()
    losses = {"digit": nn.SoftmaxCrossEntropy(), "parity": nn.SoftmaxCrossEntropy()}
    with pytest.raises(ValueError, match=r"loss_weights names unknown heads \['parrity'\]"):
        Trainer(net, losses, optim.SGD(net.parameters(), lr=0.1), loss_weights={"parrity": 1.0})
    with pytest.raises(ValueError, match="loss_weights needs one loss per head"):
        Trainer(net, nn.SoftmaxCrossEntropy(), optim.SGD(net.parameters(), lr=0.1), loss_weights={"digit": 1.0})
    with pytest.raises(ValueError, match=r"metrics name unknown heads \['digits'\]"):
        Trainer(net, losses, optim.SGD(net.parameters(), lr=0.1), metrics={"digits": ["accuracy"]})
    trainer = Trainer(net, losses, optim.SGD(net.parameters(), lr=0.1))
    with pytest.raises(ValueError, match=r"y has targets for \['digit'\] but the losses are for \['digit', 'parity'\]"):
        trainer.fit(x, {"digit": digit}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"y\['digit'\] has 20 samples but y\['parity'\] has 19"):
        trainer.fit(x, {"digit": digit, "parity": parity[:19]}, epochs=1, verbose=0)
    with pytest.raises(TypeError, match="y must be a dict"):
        trainer.fit(x, digit, epochs=1, verbose=0)
    single = nn.Sequential(nn.Linear(6, 4))
    with pytest.raises(ValueError, match="need as many model outputs"):
        Trainer(single, losses, optim.SGD(single.parameters(), lr=0.1)).fit(x, {"digit": digit, "parity": parity},
                                                                             epochs=1, verbose=0)

"""nndl.train.Ensemble: mean of probabilities and majority vote, backward through the members, the Trainer."""

import numpy as np
import pytest

from nndl import nn, optim
from nndl.check import gradcheck
from nndl.train import Ensemble, Trainer, fit_members


def member(seed, dtype=np.float64):
    return nn.Sequential(nn.Linear(4, 5, rng=seed, dtype=dtype), nn.Tanh(), nn.Linear(5, 3, rng=seed + 10, dtype=dtype))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_mean_of_probabilities_and_vote_by_hand():
    members = [member(s) for s in range(3)]
    x = np.random.default_rng(0).standard_normal((6, 4))
    probabilities = [softmax(m(x)) for m in members]
    mean = Ensemble(members)
    np.testing.assert_allclose(mean(x), np.log(np.mean(probabilities, axis=0)), rtol=1e-12)
    np.testing.assert_allclose(mean.predict_proba(x).sum(axis=1), 1.0, rtol=1e-12)
    vote = Ensemble(members, method="vote").predict_proba(x)
    expected = np.zeros((6, 3))
    for p in probabilities:
        expected[np.arange(6), p.argmax(axis=1)] += 1 / 3
    np.testing.assert_allclose(vote, expected, rtol=1e-12)
    assert np.all(np.isfinite(Ensemble(members, method="vote")(x)))   # classes without votes stay finite
    # Members that return probabilities or log-probabilities are not passed through softmax again.
    as_probs = [nn.Sequential(m, nn.Softmax()) for m in members]
    np.testing.assert_allclose(Ensemble(as_probs, member_outputs="probabilities")(x), mean(x), rtol=1e-12)
    as_logs = [nn.Sequential(m, nn.LogSoftmax()) for m in [member(s) for s in range(3)]]
    np.testing.assert_allclose(Ensemble(as_logs, member_outputs="log_probabilities")(x), mean(x), rtol=1e-12)


def test_one_member_is_that_member():
    single = member(0)
    x = np.random.default_rng(1).standard_normal((5, 4))
    np.testing.assert_allclose(np.exp(Ensemble([single])(x)), softmax(single(x)), rtol=1e-12)


def test_backward_gradcheck():
    ensemble = Ensemble([member(s) for s in range(3)])
    errors = gradcheck(ensemble, np.random.default_rng(0).standard_normal((4, 4)))
    assert len(errors) == 1 + 3 * 4 and max(errors.values()) < 1e-7
    with pytest.raises(RuntimeError, match="backward needs method='mean'"):
        vote = Ensemble([member(0), member(1)], method="vote")
        vote(np.zeros((2, 4)))
        vote.backward(np.ones((2, 3)))


def test_errors_name_the_member():
    with pytest.raises(ValueError, match="method must be one of mean, vote"):
        Ensemble([member(0)], method="median")
    with pytest.raises(ValueError, match="non-empty sequence"):
        Ensemble([])
    first = member(0)
    with pytest.raises(ValueError, match="member 1 is the same instance"):
        Ensemble([first, first])
    odd = Ensemble([member(0), nn.Linear(4, 1, rng=0, dtype=np.float64)])
    with pytest.raises(ValueError, match=r"member 1 must return class scores of shape \(N, C\) with C >= 2"):
        odd(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="different output shapes"):
        Ensemble([member(0), nn.Linear(4, 2)]).output_shape((2, 4))
    assert Ensemble([member(0), member(1)]).output_shape((7, 4)) == (7, 3)


def blobs(n, rng):
    centers = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=np.float32)
    y = rng.integers(0, 3, n)
    return (centers[y] + rng.standard_normal((n, 4)).astype(np.float32)), y


def test_bagged_members_with_the_trainer():
    rng = np.random.default_rng(0)
    x, y = blobs(300, rng)
    x_test, y_test = blobs(300, rng)
    ensemble = Ensemble([member(s, np.float32) for s in range(5)])
    before = [m[0].weight.data.copy() for m in ensemble.members]
    histories = fit_members(ensemble, lambda m: Trainer(m, nn.SoftmaxCrossEntropy(), optim.Adam(m.parameters(), 0.05)),
                            x, y, bootstrap=True, rng=1, epochs=5, batch_size=32, verbose=0)
    assert len(histories) == 5 and all(len(h["loss"]) == 5 for h in histories)
    assert all(not np.array_equal(b, m[0].weight.data) for b, m in zip(before, ensemble.members))
    trainer = Trainer(ensemble, nn.NLLLoss(), optimizer=None, metrics=["accuracy"])
    result = trainer.evaluate(x_test, y_test)
    p_bar = ensemble.eval().predict_proba(x_test)
    assert result["loss"] == pytest.approx(-np.mean(np.log(p_bar[np.arange(300), y_test])), rel=1e-5)
    assert result["accuracy"] == pytest.approx(np.mean(p_bar.argmax(axis=1) == y_test))
    assert result["accuracy"] > 0.8   # three well separated blobs (Bayes accuracy about 0.9)
    predictions = trainer.predict(x_test)
    np.testing.assert_allclose(np.exp(predictions), p_bar, rtol=1e-5)
    member_accuracies = [np.mean(m(x_test).argmax(axis=1) == y_test) for m in ensemble.members]
    assert result["accuracy"] >= min(member_accuracies)

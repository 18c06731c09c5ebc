import numpy as np
import pytest
import torch

from nndl import nn
from nndl.check import gradcheck
from nndl.nn.functional.softmax_kernels import log_softmax, softmax
from tests.layer_checks import GRAD_TOL, assert_loss_torch_parity

# (N, C) with batch size 1 and odd sizes, and one (N, C, d1, d2) per-pixel case.
SHAPES = [(1, 3), (5, 4), (7, 2), (3, 4, 2, 3)]


def make_inputs(shape, kind, rng):
    scores = rng.standard_normal(shape) * 2
    num_classes = shape[1]
    if kind == "labels":
        target = rng.integers(0, num_classes, size=(shape[0],) + shape[2:])
    else:
        target = softmax(rng.standard_normal(shape) * 2, axis=1)
    return scores, target


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["labels", "probabilities"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_gradcheck_and_torch_parity(shape, kind, weighted, label_smoothing, reduction, rng):
    scores, target = make_inputs(shape, kind, rng)
    weight = rng.uniform(0.2, 3.0, size=shape[1]) if weighted else None
    loss = nn.SoftmaxCrossEntropy(weight=weight, label_smoothing=label_smoothing, reduction=reduction)
    errors = gradcheck(loss, scores, target)
    assert errors["input"] < GRAD_TOL, errors
    torch_loss = torch.nn.CrossEntropyLoss(
        weight=None if weight is None else torch.from_numpy(weight), label_smoothing=label_smoothing,
        reduction=reduction)
    assert_loss_torch_parity(loss, torch_loss, scores, target)


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n(rng):
    scores, labels = make_inputs((6, 5), "labels", rng)
    loss = nn.SoftmaxCrossEntropy()
    value = loss(scores, labels)
    expected = softmax(scores)
    expected[np.arange(6), labels] -= 1
    np.testing.assert_allclose(loss.backward(), expected / 6, rtol=1e-12, atol=1e-15)
    assert value == pytest.approx(-np.mean(log_softmax(scores)[np.arange(6), labels]), rel=1e-12)


def test_weighted_mean_divides_by_the_target_classes_weights():
    scores = np.array([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]])
    labels = np.array([0, 1, 1])
    weight = np.array([1.0, 3.0])
    nll = -log_softmax(scores)[np.arange(3), labels]
    value = nn.SoftmaxCrossEntropy(weight=weight)(scores, labels)
    # Σ w_y ℓ / Σ w_y = (1·ℓ0 + 3·ℓ1 + 3·ℓ2) / 7, not / 3.
    assert value == pytest.approx((nll[0] + 3 * nll[1] + 3 * nll[2]) / 7, rel=1e-12)


def test_probability_targets_equal_to_one_hot_match_labels(rng):
    scores, labels = make_inputs((5, 3), "labels", rng)
    one_hot = np.eye(3)[labels]
    by_label, by_prob = nn.SoftmaxCrossEntropy(), nn.SoftmaxCrossEntropy()
    assert by_label(scores, labels) == pytest.approx(by_prob(scores, one_hot), rel=1e-12)
    np.testing.assert_allclose(by_label.backward(), by_prob.backward(), rtol=1e-12, atol=1e-15)


def test_label_smoothing_equals_the_smoothed_distribution(rng):
    scores, labels = make_inputs((4, 5), "labels", rng)
    eps = 0.2
    smoothed = (1 - eps) * np.eye(5)[labels] + eps / 5
    by_label, by_prob = nn.SoftmaxCrossEntropy(label_smoothing=eps), nn.SoftmaxCrossEntropy()
    assert by_label(scores, labels) == pytest.approx(by_prob(scores, smoothed), rel=1e-12)
    np.testing.assert_allclose(by_label.backward(), by_prob.backward(), rtol=1e-12, atol=1e-15)


def test_cross_entropy_is_stable_for_huge_logits():
    scores = np.array([[1000.0, 0.0, -1000.0], [-800.0, 800.0, 0.0]], dtype=np.float32)
    loss = nn.SoftmaxCrossEntropy()
    # Sample 0 is right with certainty (loss 0); sample 1 is wrong by 1600 (label 0 vs max 800).
    assert loss(scores, np.array([0, 0])) == pytest.approx(1600.0 / 2, rel=1e-6)
    grad = loss.backward()
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-7)


@pytest.mark.parametrize("kind", ["labels", "probabilities"])
def test_cross_entropy_keeps_float32(kind, rng):
    scores, target = make_inputs((4, 3), kind, rng)
    if kind == "probabilities":
        target = target.astype(np.float32)
    loss = nn.SoftmaxCrossEntropy(weight=np.array([1.0, 2.0, 0.5]), label_smoothing=0.1)
    assert isinstance(loss(scores.astype(np.float32), target), float)
    assert loss.backward().dtype == np.float32


@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2, 3)])
def test_nll_loss_gradcheck_and_torch_parity(shape, rng):
    for weight in (None, rng.uniform(0.2, 3.0, size=shape[1])):
        for reduction in ("mean", "sum"):
            scores, labels = make_inputs(shape, "labels", rng)
            log_probs = log_softmax(scores, axis=1)
            loss = nn.NLLLoss(weight=weight, reduction=reduction)
            assert gradcheck(loss, log_probs, labels)["input"] < GRAD_TOL
            torch_loss = torch.nn.NLLLoss(weight=None if weight is None else torch.from_numpy(weight),
                                          reduction=reduction)
            assert_loss_torch_parity(loss, torch_loss, log_probs, labels)


def test_nll_of_log_softmax_equals_cross_entropy(rng):
    scores, labels = make_inputs((1, 4), "labels", rng)
    assert nn.NLLLoss()(log_softmax(scores), labels) == pytest.approx(nn.SoftmaxCrossEntropy()(scores, labels))


@pytest.mark.parametrize("loss_cls", [nn.SoftmaxCrossEntropy, nn.NLLLoss])
def test_label_errors(loss_cls):
    loss = loss_cls()
    scores = np.zeros((3, 4))
    with pytest.raises(TypeError, match=f"{loss_cls.__name__}.*integer labels|labels must be integers"):
        loss(scores, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"expected labels of shape \(3,\).*\(3, 4\).*got \(2,\)"):
        loss(scores, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\) \(or equal ignore_index=-100\), got values "
                                         r"from 0 to 4"):
        loss(scores, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\).*, got values from -1"):
        loss(scores, np.array([-1, 0, 1]))
    with pytest.raises(TypeError, match="numpy array"):
        loss(scores, [0, 1, 2])
    with pytest.raises(ValueError, match=r"at least 2 axes, got shape \(4,\)"):
        loss(np.zeros(4), np.array([1]))
    with pytest.raises(ValueError, match="weight has 3 entries for 4 classes"):
        loss_cls(weight=[1.0, 1.0, 1.0])(scores, np.array([0, 1, 2]))


def test_probability_target_errors():
    loss = nn.SoftmaxCrossEntropy()
    scores = np.zeros((2, 3))
    with pytest.raises(ValueError, match="row 1 sums to 0.9"):
        loss(scores, np.array([[0.2, 0.3, 0.5], [0.3, 0.3, 0.3]]))
    with pytest.raises(ValueError, match="non-negative"):
        loss(scores, np.array([[1.2, -0.2, 0.0], [0.0, 0.0, 1.0]]))
    with pytest.raises(TypeError, match=r"float probabilities of shape \(2, 3\).*shape \(2, 2\)"):
        loss(scores, np.full((2, 2), 0.5))
    with pytest.raises(TypeError, match="target dtype float32 differs from input dtype float64"):
        loss(scores, np.full((2, 3), 1 / 3, dtype=np.float32))


def test_weighted_mean_over_zero_weight_is_an_error():
    with pytest.raises(ValueError, match="weights of the target classes sum to 0"):
        nn.SoftmaxCrossEntropy(weight=[0.0, 1.0])(np.zeros((2, 2)), np.array([0, 0]))


@pytest.mark.parametrize("kwargs, message", [
    ({"label_smoothing": 1.5}, r"label_smoothing must lie in \[0, 1\]"),
    ({"weight": [1.0, -1.0]}, "finite and non-negative"),
    ({"weight": [[1.0, 2.0]]}, "1-D array"),
    ({"weight": ["a", "b"]}, "1-D array of numbers"),
    ({"reduction": "elementwise"}, "unknown reduction 'elementwise'; valid: mean, sum, none"),
])
def test_constructor_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.SoftmaxCrossEntropy(**kwargs)


def test_weight_is_a_state_dict_buffer_like_torch():
    loss = nn.SoftmaxCrossEntropy(weight=np.array([1.0, 2.0]))
    assert list(loss.state_dict()) == list(torch.nn.CrossEntropyLoss(weight=torch.ones(2)).state_dict()) == ["weight"]
    assert list(nn.SoftmaxCrossEntropy().state_dict()) == []


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight, smoothing", [(None, 0.0), ([0.5, 2.0, 1.0], 0.0), (None, 0.2),
                                               ([0.5, 2.0, 1.0], 0.2)])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_ignore_index_matches_torch(reduction, weight, smoothing, ignore_index):
    rng = np.random.default_rng(5)
    scores = rng.standard_normal((6, 3, 4))
    labels = rng.integers(0, 3, (6, 4))
    labels[0, :2] = ignore_index  # some positions ignored (-100 is outside the classes, 1 is a class)
    loss = nn.SoftmaxCrossEntropy(weight=weight, label_smoothing=smoothing, reduction=reduction,
                                  ignore_index=ignore_index)
    value = loss(scores, labels)
    torch_weight = None if weight is None else torch.tensor(weight, dtype=torch.float64)
    ts = torch.tensor(scores, requires_grad=True)
    tvalue = torch.nn.CrossEntropyLoss(weight=torch_weight, label_smoothing=smoothing, reduction=reduction,
                                       ignore_index=ignore_index)(ts, torch.from_numpy(labels))
    np.testing.assert_allclose(value, tvalue.detach().numpy(), rtol=1e-12, atol=1e-14)
    dout = rng.standard_normal(tvalue.shape)
    tvalue.backward(torch.from_numpy(dout))
    grad = loss.backward(dout) if reduction == "none" else loss.backward() * dout
    np.testing.assert_allclose(grad, ts.grad.numpy(), rtol=1e-12, atol=1e-14)
    nll = nn.NLLLoss(weight=weight, reduction=reduction, ignore_index=ignore_index)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    tlp = torch.tensor(log_probs, requires_grad=True)
    tnll = torch.nn.NLLLoss(weight=torch_weight, reduction=reduction, ignore_index=ignore_index)(
        tlp, torch.from_numpy(labels))
    np.testing.assert_allclose(nll(log_probs, labels), tnll.detach().numpy(), rtol=1e-12, atol=1e-14)
    tnll.backward(torch.from_numpy(dout))
    nll_grad = nll.backward(dout) if reduction == "none" else nll.backward() * dout
    np.testing.assert_allclose(nll_grad, tlp.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_ignore_index_errors():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\) \(or equal ignore_index=-100\), got values "
                                         r"from 3 to 3"):
        nn.SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([-100, 3]))
    with pytest.raises(ValueError, match="every label is ignore_index"):
        nn.SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([-100, -100]))
    with pytest.raises(TypeError, match="NLLLoss: ignore_index must be an int"):
        nn.NLLLoss(ignore_index=1.5)
    assert "ignore_index=0" in repr(nn.SoftmaxCrossEntropy(ignore_index=0))
    assert "ignore_index" not in repr(nn.NLLLoss())

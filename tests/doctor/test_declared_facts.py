"""The facts the doctor reads are declared on the classes (a user's class joins by declaring them)."""

import math

import numpy as np
import pytest

from nndl import nn
from nndl.doctor.facts import activation_facts, expected_initial_loss
from nndl.nn.core.facts import ActivationFacts


@pytest.mark.parametrize("loss, expected", [
    (nn.SoftmaxCrossEntropy(), math.log(7)), (nn.NLLLoss(), math.log(7)),
    (nn.MulticlassHingeLoss(), 6.0), (nn.MulticlassHingeLoss(margin=0.5), 3.0),
    (nn.BCELoss(), math.log(2)), (nn.BCEWithLogitsLoss(), math.log(2)), (nn.MSELoss(), None), (nn.L1Loss(), None)])
def test_expected_initial_loss_for_seven_classes(loss, expected):
    assert expected_initial_loss(loss, 7) == expected


def test_the_expected_value_is_what_near_zero_scores_give():
    scores, labels = np.zeros((5, 7)), np.arange(5)
    for loss in (nn.SoftmaxCrossEntropy(), nn.MulticlassHingeLoss(margin=0.5)):
        assert loss(scores, labels) == pytest.approx(loss.expected_initial_loss(7), rel=1e-12)


def test_activation_facts_and_a_users_activation():
    assert activation_facts(nn.ReLU()).kind == "rectifier"
    assert (activation_facts(nn.Tanh()).low, activation_facts(nn.Sigmoid()).high) == (-0.99, 0.99)
    assert activation_facts(nn.LeakyReLU()) is None and activation_facts(nn.Linear(2, 2)) is None

    class HardTanh(nn.Module):
        activation_facts = ActivationFacts("saturating", low=-1.0, high=1.0)

    assert activation_facts(HardTanh()).kind == "saturating"
    with pytest.raises(ValueError, match="kind must be"):
        ActivationFacts("sometimes")

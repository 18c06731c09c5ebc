import numpy as np
import pytest

from nndl.check.gradcheck import numerical_gradient, rel_error
from nndl.classic import Adaline, ConvergenceWarning, Perceptron
from nndl.classic.adaline import delta_rule_update
from nndl.classic.perceptron import perceptron_epoch

AND_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def test_perceptron_rule_by_hand_on_and():
    # From W = 0, in order: (0,0)→0: z = 0, ŷ = 1, e = −1, so b = −1. (0,1)→0 and (1,0)→0: z = −1,
    # ŷ = 0, no change. (1,1)→1: z = −1, ŷ = 0, e = 1, so w = (1, 1), b = 0. Two mistakes.
    weight, bias = np.zeros((2, 1)), np.zeros(1)
    mistakes = perceptron_epoch(weight, bias, AND_X, np.array([[0.0], [0], [0], [1]]), np.arange(4), 1.0, True)
    assert mistakes == 2
    np.testing.assert_array_equal(weight[:, 0], [1.0, 1.0])
    np.testing.assert_array_equal(bias, [0.0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_converges_on_separable_data(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((200, 3))
    y = np.where(X @ np.array([1.0, -2.0, 0.5]) + 0.3 > 0, "pos", "neg")
    X = X + np.where(y == "pos", 0.05, -0.05)[:, None] * np.array([1.0, -2.0, 0.5])  # widen the margin
    model = Perceptron(max_epochs=500, rng=seed).fit(X, y)
    assert model.converged_ and model.mistakes_[-1] == 0 and model.n_iter_ < 500
    assert model.score(X, y) == 1.0


def test_perceptron_reports_that_xor_does_not_converge(xor):
    X, y = xor
    with pytest.warns(ConvergenceWarning, match="not linearly separable"):
        model = Perceptron(max_epochs=100, rng=0).fit(X, y)
    assert not model.converged_ and model.n_iter_ == 100
    assert min(model.mistakes_) >= 1  # never an epoch without a mistake
    assert model.score(X, y) <= 0.75  # no line gets all four XOR points


def test_perceptron_one_vs_rest_separates_three_blobs():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 6.0], [6.0, 0.0], [-6.0, -6.0]])
    X = np.concatenate([c + rng.standard_normal((30, 2)) for c in centres])
    y = np.repeat([0, 1, 2], 30)
    model = Perceptron(rng=0).fit(X, y)
    assert model.coef_.shape == (3, 2) and model.converged_
    assert model.score(X, y) == 1.0


def test_delta_rule_is_a_gradient_step_on_half_the_squared_error(rng):
    weight, bias = rng.standard_normal((4, 2)), rng.standard_normal(2)
    x, target = rng.standard_normal(4), np.array([1.0, -1.0])

    def half_squared_error():
        return 0.5 * float(np.sum((target - (x @ weight + bias)) ** 2))

    lr = 0.1
    dweight, dbias = delta_rule_update(weight, bias, x, target, lr)
    assert rel_error(dweight, -lr * numerical_gradient(half_squared_error, weight)) < 1e-7
    assert rel_error(dbias, -lr * numerical_gradient(half_squared_error, bias)) < 1e-7
    # The notes' L = (y − z)² has gradient −2(y − z)x: the delta rule is the step with η/2.
    assert rel_error(dweight, -(lr / 2) * numerical_gradient(lambda: 2 * half_squared_error(), weight)) < 1e-7


def test_unit_norm_delta_rule_divides_by_the_input_length():
    weight, bias = np.zeros((2, 1)), np.zeros(1)
    x = np.array([3.0, 4.0])
    plain, plain_bias = delta_rule_update(weight, bias, x, np.array([1.0]), 0.5)
    unit, unit_bias = delta_rule_update(weight, bias, x, np.array([1.0]), 0.5, normalize=True)
    norm = np.sqrt(9 + 16 + 1)  # ‖[x, 1]‖: the bias input counts
    np.testing.assert_allclose(unit, plain / norm, rtol=1e-15)
    np.testing.assert_allclose(unit_bias, plain_bias / norm, rtol=1e-15)


@pytest.mark.parametrize("normalize", [False, True])
def test_adaline_learns_and_its_squared_error_falls(normalize, iris):
    X, y = iris
    binary = y < 2
    model = Adaline(lr=0.01, max_epochs=30, normalize=normalize, rng=0).fit(X[binary], y[binary])
    assert model.score(X[binary], y[binary]) == 1.0
    assert model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]


def test_adaline_approaches_the_least_squares_solution():
    # With a small step the delta rule settles near the minimizer of the MSE on ±1 targets.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((100, 3))
    y = (X @ np.array([1.0, -1.0, 0.5]) + 0.5 * rng.standard_normal(100) > 0).astype(int)
    design = np.hstack([X, np.ones((100, 1))])
    least_squares = np.linalg.lstsq(design, np.where(y == 1, 1.0, -1.0), rcond=None)[0]
    with pytest.warns(ConvergenceWarning):
        model = Adaline(lr=0.001, max_epochs=300, tol=0.0, shuffle=False).fit(X, y)
    np.testing.assert_allclose(np.append(model.coef_[0], model.intercept_), least_squares, atol=0.01)


def test_adaline_divergence_is_reported(iris):
    X, y = iris
    with pytest.raises(FloatingPointError, match="diverged.*normalize=True"):
        Adaline(lr=5.0, max_epochs=50, rng=0).fit(X * 10, y)

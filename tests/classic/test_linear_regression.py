import numpy as np
import pytest
import sklearn.linear_model

from nndl.check.gradcheck import numerical_gradient, rel_error
from nndl.classic import ConvergenceWarning, LinearRegression
from nndl.classic.linear_regression import squared_error_loss


@pytest.mark.parametrize("solver", ["normal", "lstsq"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_coefficients_equal_sklearn_linear_regression(solver, fit_intercept, diabetes):
    X, y = diabetes
    ours = LinearRegression(solver=solver, fit_intercept=fit_intercept).fit(X, y)
    theirs = sklearn.linear_model.LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-8, abs=1e-8)
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), rel=1e-12)


@pytest.mark.parametrize("solver", ["normal", "lstsq"])
@pytest.mark.parametrize("alpha", [0.1, 10.0])
def test_l2_is_ridge_with_alpha_equal_to_n_times_l2(solver, alpha, diabetes):
    X, y = diabetes
    ours = LinearRegression(solver=solver, l2=alpha / len(y)).fit(X, y)
    theirs = sklearn.linear_model.Ridge(alpha=alpha, solver="cholesky").fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-8)


def test_notes_normal_equation_on_a_small_example():
    # θ = (XᵀX)⁻¹XᵀY with X including the bias column: an exact line y = 2x + 1.
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = LinearRegression().fit(X, 2 * X[:, 0] + 1)
    assert model.coef_[0] == pytest.approx(2.0, abs=1e-14) and model.intercept_ == pytest.approx(1.0, abs=1e-14)


def test_squared_error_gradient_is_exact(rng):
    X, Y = rng.standard_normal((9, 4)), rng.standard_normal((9, 2))
    W, b = rng.standard_normal((4, 2)), rng.standard_normal(2)
    _, dW, db = squared_error_loss(W, b, X, Y, 0.3)
    assert rel_error(dW, numerical_gradient(lambda: squared_error_loss(W, b, X, Y, 0.3)[0], W)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda: squared_error_loss(W, b, X, Y, 0.3)[0], b)) < 1e-7


@pytest.fixture(scope="module")
def well_conditioned(request):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((200, 5))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 4.0 + 0.1 * rng.standard_normal(200)
    return X, y


@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_gradient_descent_reaches_the_normal_equation_solution(l2, well_conditioned):
    X, y = well_conditioned
    exact = LinearRegression(l2=l2).fit(X, y)
    model = LinearRegression(solver="gd", l2=l2, lr=0.5, max_epochs=5000, tol=1e-15).fit(X, y)
    np.testing.assert_allclose(model.coef_, exact.coef_, atol=1e-6)
    assert model.intercept_ == pytest.approx(exact.intercept_, abs=1e-6)
    assert all(np.diff(model.loss_curve_) <= 1e-12)  # full-batch GD on a convex quadratic never goes up


def test_sgd_gets_close_and_is_reproducible(well_conditioned):
    X, y = well_conditioned
    exact = LinearRegression().fit(X, y)
    with pytest.warns(ConvergenceWarning):
        model = LinearRegression(solver="sgd", lr=0.01, batch_size=8, max_epochs=60, rng=1).fit(X, y)
    np.testing.assert_allclose(model.coef_, exact.coef_, atol=0.02)
    with pytest.warns(ConvergenceWarning):
        again = LinearRegression(solver="sgd", lr=0.01, batch_size=8, max_epochs=60, rng=1).fit(X, y)
    np.testing.assert_array_equal(again.coef_, model.coef_)


def test_several_outputs_fit_column_by_column(diabetes):
    X, y = diabetes
    Y = np.stack([y, 2 * y + 1], axis=1)
    model = LinearRegression(l2=0.01).fit(X, Y)
    single = LinearRegression(l2=0.01).fit(X, y)
    assert model.coef_.shape == (2, X.shape[1]) and model.predict(X).shape == (len(y), 2)
    np.testing.assert_allclose(model.coef_[1], 2 * single.coef_, rtol=1e-10)


def test_float32_is_kept(well_conditioned):
    X, y = well_conditioned
    model = LinearRegression().fit(X.astype(np.float32), y.astype(np.float32))
    assert model.coef_.dtype == np.float32 and model.predict(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(model.coef_, LinearRegression().fit(X, y).coef_, atol=1e-4)


def test_collinear_features_need_lstsq_or_ridge(well_conditioned):
    X, y = well_conditioned
    X = np.hstack([X, X[:, :1]])
    with pytest.raises(ValueError, match="singular.*solver='lstsq' or l2 > 0"):
        LinearRegression().fit(np.hstack([X[:, :1], X[:, :1]]), y)
    model = LinearRegression(solver="lstsq").fit(X, y)
    assert model.coef_[0] == pytest.approx(model.coef_[-1], rel=1e-10)  # minimum norm splits the weight


def test_diverging_gradient_descent_is_reported(well_conditioned):
    X, y = well_conditioned
    with pytest.raises(FloatingPointError, match="diverged.*lower lr"):
        LinearRegression(solver="gd", lr=50.0, max_epochs=1000).fit(X * 100, y)

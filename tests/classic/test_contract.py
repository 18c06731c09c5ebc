"""One common test of the estimator contract, run over every classical estimator."""

import numpy as np
import pytest
import sklearn.base
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from nndl import classic, nn

pytestmark = pytest.mark.filterwarnings("ignore::nndl.classic.ConvergenceWarning")



def two_layer_net(input_shape, n_outputs, rng, hidden=16):
    return nn.Sequential(nn.Linear(input_shape[0], hidden, rng=rng), nn.Tanh(), nn.Linear(hidden, n_outputs, rng=rng))


# (factory, task, small grid for GridSearchCV)
ESTIMATORS = [
    (lambda: classic.KNeighborsClassifier(n_neighbors=3), "classifier", {"n_neighbors": [1, 5]}),
    (lambda: classic.KNeighborsRegressor(n_neighbors=3, weights="distance"), "regressor", {"n_neighbors": [2, 8]}),
    (lambda: classic.LinearRegression(l2=0.01), "regressor", {"l2": [0.0, 0.1]}),
    (lambda: classic.LinearRegression(solver="sgd", lr=0.01, max_epochs=5, rng=3), "regressor", {"lr": [0.01, 0.02]}),
    (lambda: classic.Perceptron(max_epochs=5, rng=3), "classifier", {"lr": [0.5, 1.0]}),
    (lambda: classic.Adaline(max_epochs=5, rng=3, normalize=True), "classifier", {"lr": [0.01, 0.05]}),
    (lambda: classic.LogisticRegression(solver="sgd", max_epochs=5, rng=3), "classifier", {"l2": [0.0, 0.01]}),
    (lambda: classic.LogisticRegression(solver="newton", max_epochs=5), "classifier", {"l2": [0.01, 0.1]}),
    (lambda: classic.SoftmaxRegression(solver="sgd", max_epochs=5, rng=3), "classifier", {"lr": [0.05, 0.1]}),
    (lambda: classic.LinearSVM(solver="sgd", max_epochs=5, rng=3), "classifier", {"l2": [1e-3, 1e-2]}),
    (lambda: classic.PCA(n_components=2, whiten=True), "transformer", {"n_components": [1, 2]}),
    (lambda: classic.BaggingClassifier(estimator=classic.Perceptron(max_epochs=3), n_estimators=3, rng=3),
     "classifier", {"estimator__lr": [0.5, 1.0]}),
    (lambda: classic.VotingClassifier(estimators=[("knn", classic.KNeighborsClassifier()),
                                                  ("softmax", classic.SoftmaxRegression(max_epochs=20))],
                                      voting="soft"),
     "classifier", {"knn__n_neighbors": [3, 5]}),
    (lambda: classic.NeuralNetClassifier(module_factory=two_layer_net, epochs=3, lr=1e-2, rng=3), "classifier",
     {"module_kwargs": [{"hidden": 4}, {"hidden": 16}]}),
    (lambda: classic.NeuralNetRegressor(module_factory=two_layer_net, epochs=3, lr=1e-2, rng=3), "regressor",
     {"lr": [1e-3, 1e-2]}),
]
IDS = [repr(factory()) for factory, _, _ in ESTIMATORS]


@pytest.fixture(scope="module")
def data(iris, diabetes):
    X_regression, y_regression = diabetes
    X_regression = StandardScaler().fit_transform(X_regression)
    return {"classifier": iris, "regressor": (X_regression[:150], y_regression[:150]), "transformer": iris}


def outputs(estimator, X):
    if hasattr(estimator, "predict"):
        return estimator.predict(X)
    return estimator.transform(X)


@pytest.mark.parametrize("factory, task, grid", ESTIMATORS, ids=IDS)
def test_init_stores_only_the_parameters_untouched(factory, task, grid):
    estimator = factory()
    assert set(vars(estimator)) == set(estimator.get_params(deep=False))
    rebuilt = type(estimator)(**estimator.get_params(deep=False))
    assert all(rebuilt.get_params(deep=False)[k] is v for k, v in estimator.get_params(deep=False).items())


@pytest.mark.parametrize("factory, task, grid", ESTIMATORS, ids=IDS)
def test_fit_returns_self_and_leaves_parameters_alone(factory, task, grid, data):
    X, y = data[task]
    estimator = factory()
    before = estimator.get_params(deep=False)
    assert estimator.fit(X, y) is estimator
    after = estimator.get_params(deep=False)
    assert before.keys() == after.keys() and all(before[k] is after[k] for k in before)
    learned = [name for name in vars(estimator) if name not in before]
    assert learned and all(name.endswith("_") for name in learned)


@pytest.mark.parametrize("factory, task, grid", ESTIMATORS, ids=IDS)
def test_clone_gives_an_unfitted_equal_estimator(factory, task, grid, data):
    X, y = data[task]
    fitted = factory().fit(X, y)
    for clone in (sklearn.base.clone, classic.clone):
        copy = clone(fitted)
        assert type(copy) is type(fitted) and repr(copy) == repr(fitted)
        assert not copy.__sklearn_is_fitted__()
        np.testing.assert_array_equal(outputs(copy.fit(X, y), X), outputs(fitted, X))


@pytest.mark.parametrize("factory, task, grid", ESTIMATORS, ids=IDS)
def test_refit_with_the_same_rng_gives_the_same_result(factory, task, grid, data):
    X, y = data[task]
    estimator = factory()
    first = outputs(estimator.fit(X, y), X)
    np.testing.assert_array_equal(outputs(estimator.fit(X, y), X), first)


@pytest.mark.parametrize("factory, task, grid", ESTIMATORS, ids=IDS)
def test_use_before_fit_is_a_clear_error(factory, task, grid, data):
    X, _ = data[task]
    estimator = factory()
    method = estimator.predict if hasattr(estimator, "predict") else estimator.transform
    with pytest.raises(classic.NotFittedError, match=f"This {type(estimator).__name__} is not fitted yet"):
        method(X)
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(estimator)


@pytest.mark.parametrize("factory, task, grid", ESTIMATORS, ids=IDS)
def test_score_is_accuracy_or_r2(factory, task, grid, data):
    X, y = data[task]
    estimator = factory().fit(X, y)
    if task == "classifier":
        assert sklearn.base.is_classifier(estimator)
        assert estimator.score(X, y) == pytest.approx(accuracy_score(y, estimator.predict(X)), abs=1e-15)
    elif task == "regressor":
        assert sklearn.base.is_regressor(estimator)
        assert estimator.score(X, y) == pytest.approx(r2_score(y, estimator.predict(X)), rel=1e-12)
    else:
        np.testing.assert_allclose(estimator.fit_transform(X), estimator.transform(X), rtol=1e-12)


@pytest.mark.parametrize("factory, task, grid", ESTIMATORS, ids=IDS)
def test_grid_search_and_pipeline_run(factory, task, grid, data):
    X, y = data[task]
    splitter = StratifiedKFold(3) if task == "classifier" else KFold(3)
    if task == "transformer":
        pipeline = make_pipeline(StandardScaler(), factory(), classic.KNeighborsClassifier())
        X, y = data["classifier"]
        splitter = StratifiedKFold(3)
    else:
        pipeline = make_pipeline(StandardScaler(), factory())
    prefix = pipeline.steps[1][0] + "__"
    search = GridSearchCV(pipeline, {prefix + k: v for k, v in grid.items()}, cv=splitter).fit(X, y)
    assert set(search.best_params_) == {prefix + k for k in grid}
    assert all(search.best_params_[prefix + k] in v for k, v in grid.items())
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.predict(X).shape == (len(X),)


def test_set_params_rejects_unknown_names_listing_the_valid_ones():
    with pytest.raises(ValueError, match=r"no parameter 'k'.*'metric', 'n_neighbors', 'weights'"):
        classic.KNeighborsClassifier().set_params(k=3)


def test_nested_set_params_reach_the_member():
    bagging = classic.BaggingClassifier(estimator=classic.Perceptron())
    bagging.set_params(estimator__lr=0.25, n_estimators=4)
    assert bagging.estimator.lr == 0.25 and bagging.n_estimators == 4
    assert bagging.get_params()["estimator__lr"] == 0.25


def test_repr_shows_only_non_default_parameters():
    assert repr(classic.KNeighborsClassifier()) == "KNeighborsClassifier()"
    assert repr(classic.LinearRegression(l2=0.5, solver="lstsq")) == "LinearRegression(l2=0.5, solver='lstsq')"


def test_package_imports_without_scikit_learn():
    import subprocess
    import sys

    code = ("import sys; sys.modules['sklearn'] = None; import nndl.classic; "
            "import numpy as np; m = nndl.classic.KNeighborsClassifier(n_neighbors=1)."
            "fit(np.eye(2), [0, 1]); print(m.predict(np.eye(2)).tolist())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[0, 1]"

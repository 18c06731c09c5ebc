import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nndl import nn
from nndl.classic import BaggingClassifier, NeuralNetClassifier, NeuralNetRegressor


def two_layer(input_shape, n_outputs, rng, hidden=32):
    return nn.Sequential(nn.Linear(input_shape[0], hidden, rng=rng), nn.ReLU(), nn.Linear(hidden, n_outputs, rng=rng))


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    return train_test_split(x, y, test_size=0.3, stratify=y, random_state=0)


def classifier(**kwargs):
    params = dict(module_factory=two_layer, epochs=60, lr=1e-2, batch_size=16, rng=0)
    params.update(kwargs)
    return NeuralNetClassifier(**params)


def test_classifier_learns_iris_in_a_pipeline_with_string_labels(iris):
    x_train, x_test, y_train, y_test = iris
    names = np.array(["setosa", "versicolor", "virginica"])
    model = make_pipeline(StandardScaler(), classifier()).fit(x_train, names[y_train])
    assert model.score(x_test, names[y_test]) >= 0.9
    assert set(model.predict(x_test)) <= set(names)
    proba = model.predict_proba(x_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert list(model[-1].classes_) == list(names)


def test_same_rng_gives_identical_refits_and_clone_keeps_parameters(iris):
    x_train, x_test, y_train, _ = iris
    first = classifier(epochs=5).fit(x_train, y_train).predict_proba(x_test)
    estimator = clone(classifier(epochs=5, module_kwargs={"hidden": 8}))
    assert estimator.get_params()["module_kwargs"] == {"hidden": 8}
    np.testing.assert_array_equal(first, classifier(epochs=5).fit(x_train, y_train).predict_proba(x_test))
    assert not np.array_equal(first, classifier(epochs=5, rng=1).fit(x_train, y_train).predict_proba(x_test))


def test_grid_search_and_cross_validation_run(iris):
    x_train, _, y_train, _ = iris
    search = GridSearchCV(classifier(epochs=10), {"lr": [1e-3, 3e-2], "module_kwargs": [{"hidden": 4}, {"hidden": 32}]},
                          cv=3).fit(x_train, y_train)
    assert search.best_params_["lr"] == 3e-2
    assert len(search.cv_results_["mean_test_score"]) == 4
    scores = cross_val_score(classifier(epochs=30), x_train, y_train, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8


def test_bagging_of_networks(iris):
    x_train, x_test, y_train, y_test = iris
    bag = BaggingClassifier(estimator=classifier(epochs=40), n_estimators=3, voting="soft", rng=0)
    assert bag.fit(x_train, y_train).score(x_test, y_test) >= 0.9


def test_regressor_fits_a_linear_function():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 3))
    y = x @ np.array([1.5, -2.0, 0.5]) + 0.3
    model = NeuralNetRegressor(module_factory=two_layer, epochs=80, lr=1e-2, rng=0).fit(x[:200], y[:200])
    assert model.predict(x[200:]).shape == (100,)
    assert model.score(x[200:], y[200:]) > 0.98
    two_outputs = NeuralNetRegressor(module_factory=two_layer, epochs=5, rng=0).fit(x, np.stack([y, -y], 1))
    assert two_outputs.predict(x).shape == (300, 2)


def test_bad_use_is_reported(iris):
    x_train, _, y_train, _ = iris
    with pytest.raises(ValueError, match="not fitted"):
        classifier().predict(x_train)
    with pytest.raises(ValueError, match="unknown loss 'hinj'"):
        classifier(loss="hinj").fit(x_train, y_train)
    with pytest.raises(ValueError, match="unknown optimizer"):
        classifier(optimizer="adamm").fit(x_train, y_train)
    fitted = classifier(epochs=1).fit(x_train, y_train)
    with pytest.raises(ValueError, match=r"samples of shape \(3,\), but the network was fitted on \(4,\)"):
        fitted.predict(x_train[:, :3])

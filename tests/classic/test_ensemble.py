import numpy as np
import pytest
import sklearn.tree
from sklearn.model_selection import GridSearchCV

from nndl import classic

pytestmark = pytest.mark.filterwarnings("ignore::nndl.classic.ConvergenceWarning")


def test_bootstrap_samples_are_drawn_with_replacement_reproducibly(iris):
    X, y = iris
    model = classic.BaggingClassifier(estimator=classic.KNeighborsClassifier(n_neighbors=1), n_estimators=5,
                                      rng=7).fit(X, y)
    indices = model.bootstrap_indices_
    assert len(indices) == 5 and all(len(i) == len(y) for i in indices)
    # With replacement: about 1 − 1/e ≈ 63% distinct samples per draw, never all of them here.
    distinct = [len(np.unique(i)) / len(y) for i in indices]
    assert all(0.5 < d < 0.75 for d in distinct)
    assert not np.array_equal(indices[0], indices[1])
    again = classic.BaggingClassifier(estimator=classic.KNeighborsClassifier(n_neighbors=1), n_estimators=5,
                                      rng=7).fit(X, y)
    assert all(np.array_equal(a, b) for a, b in zip(indices, again.bootstrap_indices_))


@pytest.mark.parametrize("voting", ["hard", "soft"])
def test_bagging_vote_equals_the_vote_of_its_members(voting, iris):
    X, y = iris
    model = classic.BaggingClassifier(estimator=classic.SoftmaxRegression(max_epochs=30), n_estimators=7,
                                      voting=voting, rng=0).fit(X, y)
    if voting == "hard":
        votes = np.stack([member.predict(X) for member in model.estimators_])
        expected = np.stack([(votes == c).sum(axis=0) for c in model.classes_], axis=1) / 7
    else:
        expected = np.mean([member.predict_proba(X) for member in model.estimators_], axis=0)
    np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), model.classes_[expected.argmax(axis=1)])


def test_members_with_an_rng_get_distinct_seeds(iris):
    X, y = iris
    model = classic.BaggingClassifier(estimator=classic.Perceptron(max_epochs=2, rng=None), n_estimators=3,
                                      rng=1).fit(X, y)
    seeds = [member.rng for member in model.estimators_]
    assert len(set(seeds)) == 3 and all(isinstance(s, int) for s in seeds)
    assert model.estimator.rng is None  # the template is not touched


def test_bagging_an_unstable_learner_beats_a_single_copy(digits_split):
    # A few perceptron epochs give high-variance boundaries; averaging 15 of them helps a lot.
    X_train, X_test, y_train, y_test = digits_split
    single = classic.Perceptron(max_epochs=5, rng=0).fit(X_train, y_train).score(X_test, y_test)
    bagged = classic.BaggingClassifier(estimator=classic.Perceptron(max_epochs=5), n_estimators=15,
                                       rng=0).fit(X_train, y_train).score(X_test, y_test)
    assert bagged >= single + 0.03


def test_any_estimator_with_fit_predict_works_including_sklearn_ones(iris):
    X, y = iris
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    model = classic.BaggingClassifier(estimator=sklearn.tree.DecisionTreeClassifier(max_depth=2), n_estimators=4,
                                      voting="soft", rng=0).fit(X, labels)
    assert model.score(X, labels) > 0.9
    assert model.predict(X).dtype.kind == "U"


def test_a_member_that_missed_a_class_votes_on_the_right_columns():
    X = np.array([[0.0], [0.1], [5.0], [5.1], [10.0]])
    y = np.array([0, 0, 1, 1, 2])
    member_without_class_2 = classic.KNeighborsClassifier(n_neighbors=1).fit(X[:4], y[:4])
    voting = classic.VotingClassifier(estimators=[("a", classic.KNeighborsClassifier(n_neighbors=1))], voting="soft")
    voting.fit(X, y)
    voting.estimators_ = [member_without_class_2]
    np.testing.assert_array_equal(voting.predict_proba(np.array([[5.2]])), [[0.0, 1.0, 0.0]])


def test_voting_classifier_weights_and_nested_parameters(iris):
    X, y = iris
    members = [("knn", classic.KNeighborsClassifier(n_neighbors=15)), ("softmax", classic.SoftmaxRegression())]
    voting = classic.VotingClassifier(estimators=members, voting="soft", weights=[1.0, 3.0]).fit(X, y)
    expected = (voting.named_estimators_["knn"].predict_proba(X) +
                3 * voting.named_estimators_["softmax"].predict_proba(X)) / 4
    np.testing.assert_allclose(voting.predict_proba(X), expected, rtol=1e-12)
    assert voting.get_params()["knn__n_neighbors"] == 15
    voting.set_params(knn__n_neighbors=3)
    assert members[0][1].n_neighbors == 3
    search = GridSearchCV(classic.VotingClassifier(estimators=members), {"knn__n_neighbors": [1, 7]}, cv=3).fit(X, y)
    assert search.best_params_["knn__n_neighbors"] in (1, 7)


@pytest.mark.parametrize("kwargs, message", [
    ({"estimators": []}, "estimators is empty"),
    ({"estimators": [("a", classic.PCA()), ("a", classic.PCA())]}, "names must be unique"),
    ({"estimators": [("a", classic.Perceptron())], "weights": [1, 2]}, "2 weights for 1 estimators"),
    ({"estimators": [("a", classic.Perceptron())], "voting": "majority"}, "voting='majority' is not one of"),
])
def test_voting_classifier_bad_configuration(kwargs, message, iris):
    with pytest.raises(ValueError, match=message):
        classic.VotingClassifier(**kwargs).fit(*iris)


def test_voting_classifier_needs_named_pairs_but_set_params_never_fails(iris):
    voting = classic.VotingClassifier(estimators=[("a", classic.Perceptron())]).set_params(estimators=3)
    assert voting.get_params()["estimators"] == 3
    with pytest.raises(TypeError, match="estimators must be a list of \\(name, estimator\\) pairs, got 3"):
        voting.fit(*iris)


def test_soft_voting_needs_predict_proba(iris):
    model = classic.BaggingClassifier(estimator=classic.Perceptron(max_epochs=2), n_estimators=2, voting="soft",
                                      rng=0).fit(*iris)
    with pytest.raises(TypeError, match="voting='soft' needs predict_proba, which Perceptron lacks"):
        model.predict(iris[0])

import numpy as np
import pytest
import sklearn.neighbors
from sklearn.datasets import load_digits, load_iris

from nndl import classic
from nndl.classic import knn

SKLEARN_METRIC = {"l2": "euclidean", "l1": "manhattan"}


def shuffled(loader, seed=0):
    X, y = loader(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(y))[:900]
    return X[order], y[order]


@pytest.mark.parametrize("loader", [load_iris, load_digits], ids=["iris", "digits"])
@pytest.mark.parametrize("metric", ["l2", "l1"])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("k", [1, 4])
def test_predictions_equal_sklearn_brute_force_away_from_ties(loader, metric, weights, k):
    X, y = shuffled(loader)
    n_train = 2 * len(y) // 3
    ours = classic.KNeighborsClassifier(n_neighbors=k, metric=metric, weights=weights).fit(X[:n_train], y[:n_train])
    theirs = sklearn.neighbors.KNeighborsClassifier(
        n_neighbors=k, metric=SKLEARN_METRIC[metric], weights=weights, algorithm="brute").fit(X[:n_train], y[:n_train])
    X_test = X[n_train:]
    # A distance tie at the k-th neighbour lets the two pick different neighbours (documented);
    # decimal data make ties that rounding turns into 1-ulp differences, so ties are taken loosely.
    distances, _ = ours.kneighbors(X_test, n_neighbors=k + 1)
    untied = distances[:, k] - distances[:, k - 1] > 1e-9 * distances[:, k]
    assert untied.mean() > 0.4  # iris's one-decimal data tie often under L1
    np.testing.assert_array_equal(ours.predict(X_test)[untied], theirs.predict(X_test)[untied])
    np.testing.assert_allclose(ours.predict_proba(X_test)[untied], theirs.predict_proba(X_test)[untied], rtol=1e-12)
    their_distances, their_indices = theirs.kneighbors(X_test)
    our_distances, our_indices = ours.kneighbors(X_test)
    np.testing.assert_allclose(our_distances, their_distances, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(np.sort(our_indices[untied], axis=1), np.sort(their_indices[untied], axis=1))


def test_no_loop_l2_equals_the_direct_differences(rng):
    A, B = rng.standard_normal((7, 5)), rng.standard_normal((11, 5))
    direct = np.sqrt(((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2))
    np.testing.assert_allclose(classic.pairwise_distances(A, B, "l2"), direct, rtol=1e-12)
    np.testing.assert_allclose(classic.pairwise_distances(A, B, "l1"), np.abs(A[:, None] - B[None]).sum(2), rtol=1e-12)
    # ‖a − a‖ rounds to a tiny negative square without the clip at 0.
    assert np.all(knn.squared_l2_distances(A, A) >= 0)


def test_l1_and_l2_distances_of_two_small_images():
    image_1 = np.array([[56, 32, 10, 18], [90, 23, 128, 133], [24, 26, 178, 200], [2, 0, 255, 220]], float)
    image_2 = np.array([[10, 20, 24, 17], [8, 10, 89, 100], [12, 16, 178, 170], [4, 32, 233, 112]], float)
    a, b = image_1.reshape(1, -1), image_2.reshape(1, -1)
    assert classic.pairwise_distances(a, b, "l1")[0, 0] == 456  # Σ_p |I1^p − I2^p|, summed by hand
    assert classic.pairwise_distances(a, b, "l2")[0, 0] == pytest.approx(np.sqrt(((a - b) ** 2).sum()), rel=1e-15)


def test_memory_bounded_chunks_give_the_same_answer(monkeypatch, rng):
    X, y = rng.standard_normal((300, 6)), rng.integers(0, 3, 300)
    queries = rng.standard_normal((50, 6))
    for metric in ("l2", "l1"):
        model = classic.KNeighborsClassifier(n_neighbors=5, metric=metric).fit(X, y)
        whole = model.kneighbors(queries)
        for budget in (8 * 300 * 6 * 3, 1):  # a few queries per block; one query and one train row
            monkeypatch.setattr(knn, "WORKING_MEMORY_BYTES", budget)
            chunked = model.kneighbors(queries)
            monkeypatch.undo()
            np.testing.assert_array_equal(chunked[1], whole[1])
            np.testing.assert_allclose(chunked[0], whole[0], rtol=1e-14)


def test_distance_ties_go_to_the_earlier_training_sample():
    X = np.array([[1.0], [-1.0], [2.0], [-2.0], [1.0]])
    model = classic.KNeighborsClassifier(n_neighbors=3).fit(X, [0, 1, 0, 1, 1])
    distances, indices = model.kneighbors(np.array([[0.0]]))
    np.testing.assert_array_equal(indices, [[0, 1, 4]])
    np.testing.assert_array_equal(distances, [[1.0, 1.0, 1.0]])


def test_vote_ties_go_to_the_smallest_label():
    X = np.array([[-1.0], [1.0], [3.0]])
    model = classic.KNeighborsClassifier(n_neighbors=2).fit(X, ["b", "a", "c"])
    np.testing.assert_array_equal(model.predict(np.array([[0.0]])), ["a"])
    np.testing.assert_array_equal(model.predict_proba(np.array([[0.0]])), [[0.5, 0.5, 0.0]])


def test_distance_weighting_lets_an_exact_match_decide():
    X = np.array([[0.0], [1.0], [1.1]])
    model = classic.KNeighborsClassifier(n_neighbors=3, weights="distance").fit(X, [0, 1, 1])
    np.testing.assert_array_equal(model.predict_proba(np.array([[0.0]])), [[1.0, 0.0]])
    weights = np.array([1 / 0.5, 1 / 0.5, 1 / 0.6])
    np.testing.assert_allclose(model.predict_proba(np.array([[0.5]])), [[2 / weights.sum(), 1 - 2 / weights.sum()]],
                               rtol=1e-12)


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_regressor_equals_sklearn(weights, diabetes):
    X, y = diabetes
    ours = classic.KNeighborsRegressor(n_neighbors=6, weights=weights).fit(X[:300], y[:300])
    theirs = sklearn.neighbors.KNeighborsRegressor(n_neighbors=6, weights=weights, algorithm="brute").fit(X[:300], y[:300])
    np.testing.assert_allclose(ours.predict(X[300:]), theirs.predict(X[300:]), rtol=1e-12)
    two_outputs = np.stack([y, -y], axis=1)[:300]
    np.testing.assert_allclose(classic.KNeighborsRegressor(n_neighbors=6, weights=weights).fit(X[:300], two_outputs)
                               .predict(X[300:])[:, 1], -ours.predict(X[300:]), rtol=1e-12)


def test_float32_is_kept(rng):
    X = rng.standard_normal((40, 3)).astype(np.float32)
    model = classic.KNeighborsClassifier(n_neighbors=3).fit(X, rng.integers(0, 2, 40))
    distances, _ = model.kneighbors(X[:5])
    assert distances.dtype == np.float32
    assert np.all(distances[:, 0] == 0)
    with pytest.raises(TypeError, match="X is float64 but the estimator was fitted on float32"):
        model.predict(X[:5].astype(np.float64))


def test_k_larger_than_the_training_set_is_a_clear_error():
    with pytest.raises(ValueError, match=r"n_neighbors=5 is larger than the training set \(4 samples\)"):
        classic.KNeighborsClassifier(n_neighbors=5).fit(np.eye(4), [0, 1, 0, 1])
    model = classic.KNeighborsClassifier(n_neighbors=1).fit(np.eye(4), [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"n_neighbors=9 is larger"):
        model.kneighbors(np.eye(4), n_neighbors=9)


@pytest.mark.parametrize("bad, message", [({"metric": "cosine"}, r"metric='cosine' is not one of \['l1', 'l2'\]"),
                                          ({"weights": "rank"}, "weights='rank' is not one of"),
                                          ({"n_neighbors": 0}, "n_neighbors must be > 0")])
def test_bad_hyperparameters_are_reported_at_fit(bad, message):
    model = classic.KNeighborsClassifier(**bad)  # __init__ validates nothing (the contract)
    with pytest.raises(ValueError, match=message):
        model.fit(np.eye(3), [0, 1, 1])

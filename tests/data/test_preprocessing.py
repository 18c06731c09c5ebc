import numpy as np
import pytest
from sklearn import preprocessing as sk

from nndl.data import MinMaxScaler, StandardScaler, one_hot


@pytest.fixture
def features(rng):
    train = rng.normal(3.0, 5.0, size=(40, 5)) * np.array([1.0, 100.0, 1e-3, 1.0, 7.0])
    train[:, 3] = 0.1  # a constant feature: sklearn uses scale 1 for it
    test = rng.normal(0.0, 9.0, size=(11, 5))
    return train, test


SCALERS = [
    (lambda: MinMaxScaler(), lambda: sk.MinMaxScaler(), ("data_min_", "data_max_", "data_range_", "scale_", "min_")),
    (lambda: MinMaxScaler((-1, 3)), lambda: sk.MinMaxScaler((-1, 3)), ("scale_", "min_")),
    (lambda: StandardScaler(), lambda: sk.StandardScaler(), ("mean_", "var_", "scale_")),
    (lambda: StandardScaler(with_mean=False), lambda: sk.StandardScaler(with_mean=False), ("var_", "scale_")),
    (lambda: StandardScaler(with_std=False), lambda: sk.StandardScaler(with_std=False), ("mean_",)),
]


@pytest.mark.parametrize("make, make_sklearn, attributes", SCALERS)
def test_scalers_equal_sklearn_and_invert(features, make, make_sklearn, attributes):
    train, test = features
    ours, theirs = make().fit(train), make_sklearn().fit(train)
    for name in attributes:
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-12, atol=1e-12)
    for data in (train, test):
        np.testing.assert_allclose(ours.transform(data), theirs.transform(data), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours.inverse_transform(data), theirs.inverse_transform(data),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours.inverse_transform(ours.transform(data)), data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(make().fit_transform(train), theirs.transform(train), rtol=1e-12, atol=1e-12)


def test_scaled_training_data_has_the_requested_statistics(features):
    train, _ = features
    scaled = MinMaxScaler((-2, 5)).fit_transform(train)
    varying = [0, 1, 2, 4]
    np.testing.assert_allclose(scaled[:, varying].min(axis=0), -2, atol=1e-12)
    np.testing.assert_allclose(scaled[:, varying].max(axis=0), 5, atol=1e-12)
    standard = StandardScaler().fit_transform(train)
    np.testing.assert_allclose(standard[:, varying].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(standard[:, varying].std(axis=0), 1, rtol=1e-12)  # population std
    # constant feature: centred and left at scale 1, not divided by its rounding-level spread
    np.testing.assert_allclose(standard[:, 3], 0.0, atol=1e-15)


@pytest.mark.parametrize("scaler", [MinMaxScaler(), StandardScaler()])
def test_float32_stays_float32(scaler, features):
    train = features[0].astype(np.float32)
    out = scaler.fit_transform(train)
    assert out.dtype == np.float32 and scaler.inverse_transform(out).dtype == np.float32
    np.testing.assert_allclose(out, scaler.fit(train.astype(np.float64)).transform(train.astype(np.float64)),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("scaler", [MinMaxScaler(), StandardScaler()])
def test_scaler_errors(scaler):
    with pytest.raises(RuntimeError, match=f"{type(scaler).__name__}: call fit on the training data before transform"):
        scaler.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expected features of shape \(N, D\), got \(3,\)"):
        scaler.fit(np.zeros(3))
    with pytest.raises(TypeError, match="float32 or float64 features, got int64"):
        scaler.fit(np.zeros((3, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="NaN or infinite"):
        scaler.fit(np.array([[np.nan, 1.0]]))
    scaler.fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"fitted on 2 features, got shape \(3, 4\)"):
        scaler.transform(np.ones((3, 4)))


def test_minmax_bad_range_and_params():
    with pytest.raises(ValueError, match="min < max"):
        MinMaxScaler((1, 1)).fit(np.ones((2, 2)))
    scaler = MinMaxScaler().set_params(feature_range=(-1, 1))
    assert scaler.get_params() == {"feature_range": (-1, 1)}
    with pytest.raises(ValueError, match="unknown parameter 'copy'; valid: feature_range"):
        scaler.set_params(copy=False)


def test_one_hot_values():
    out = one_hot(np.array([2, 0, 1, 2]))
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert out.dtype == np.float32
    wide = one_hot(np.array([1]), num_classes=4, dtype=np.float64)
    assert wide.dtype == np.float64
    np.testing.assert_array_equal(wide, [[0, 1, 0, 0]])
    assert one_hot(np.array([], dtype=np.int64), num_classes=3).shape == (0, 3)


@pytest.mark.parametrize("labels, kwargs, error, message", [
    (np.array([0, 3]), {"num_classes": 3}, ValueError, r"labels must lie in \[0, 3\), got values from 0 to 3"),
    (np.array([-1, 0]), {}, ValueError, "got values from -1"),
    (np.array([0.0, 1.0]), {}, TypeError, "labels must be integers"),
    (np.array([[0, 1]]), {}, ValueError, r"shape \(N,\)"),
])
def test_one_hot_errors(labels, kwargs, error, message):
    with pytest.raises(error, match=message):
        one_hot(labels, **kwargs)

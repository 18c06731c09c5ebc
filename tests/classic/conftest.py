"""Small standardized data sets shared by the classical-model tests."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


def standardized_split(loader, test_size=0.3, seed=0):
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y if loader is not load_diabetes else None)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.fixture(scope="session")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def diabetes():
    return load_diabetes(return_X_y=True)


@pytest.fixture(scope="session")
def digits_split():
    return standardized_split(load_digits)


@pytest.fixture(scope="session")
def cancer_split():
    return standardized_split(load_breast_cancer)


@pytest.fixture(scope="session")
def xor():
    return np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64), np.array([0, 1, 1, 0])

"""Shared data for the doctor's tests: sklearn's digits scaled to [0, 1]."""

import pytest

from nndl.data.digits import load_digits


@pytest.fixture(scope="session")
def digits_flat():
    x, y = load_digits(flatten=True)
    return x[:256], y[:256]


@pytest.fixture(scope="session")
def digits_images():
    x, y = load_digits()
    return x[:256], y[:256]

"""Every test of nndl.nn runs twice: with the fast kernels and with the reference kernels."""

import pytest

from nndl import nn


@pytest.fixture(params=["fast", "reference"], autouse=True)
def kernel_set(request):
    """The kernel set the modules compute with during the test (``nn.use_kernels``)."""
    with nn.use_kernels(request.param):
        yield request.param

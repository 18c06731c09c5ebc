"""Every test of nndl.nn runs twice: with the fast kernels and with the reference kernels.

A test module that sets the kernel sets itself (e.g. compares them) declares
``pytestmark = pytest.mark.chooses_kernel_sets`` and runs once.
"""

import pytest

from nndl import nn

KERNEL_SETS = ("fast", "reference")


def pytest_configure(config):
    config.addinivalue_line("markers", "chooses_kernel_sets: the test picks its kernel sets itself (runs once)")


def pytest_generate_tests(metafunc):
    if "kernel_set" in metafunc.fixturenames:
        chooses = metafunc.definition.get_closest_marker("chooses_kernel_sets") is not None
        metafunc.parametrize("kernel_set", ["fast"] if chooses else list(KERNEL_SETS), indirect=True)


@pytest.fixture(autouse=True)
def kernel_set(request):
    """The kernel set the modules compute with during the test (``nn.use_kernels``)."""
    with nn.use_kernels(request.param):
        yield request.param

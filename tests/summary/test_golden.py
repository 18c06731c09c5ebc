"""Golden-file tests of the rendered tables.

The expected text lives in ``tests/summary/golden/<name>.txt``. After an
intended change of the rendering, regenerate the files explicitly with

    NNDL_REGEN_GOLDEN=1 python -m pytest tests/summary/test_golden.py

and review the diff; without that variable a difference fails the test.
"""

import os
from collections import OrderedDict
from pathlib import Path

import pytest

from nndl import nn
from nndl.models import conv_autoencoder, googlenet, lenet5, resnet18
from nndl.summary import SummaryError, summary

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("NNDL_REGEN_GOLDEN") == "1"


def bad_model_error() -> str:
    model = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 8, 5), pool=nn.MaxPool2d(2), flatten=nn.Flatten(),
                                      fc=nn.Linear(400, 10)))
    with pytest.raises(SummaryError) as info:
        summary(model, (3, 32, 32))
    return str(info.value)


CASES = {
    "lenet5_layers": lambda: summary(lenet5(init="zeros"), (1, 32, 32)).render(),
    "lenet5_notes": lambda: summary(lenet5(init="zeros"), (1, 32, 32)).render("notes"),
    "resnet18_depth1": lambda: summary(resnet18(init="zeros"), (3, 224, 224), batch_size=8).render(depth=1),
    "googlenet_depth0": lambda: summary(googlenet(init="zeros"), (3, 224, 224)).render(depth=0),
    "conv_autoencoder_unpool": lambda: summary(conv_autoencoder(decoder="unpool", init="zeros"), (1, 28, 28)).render(),
    "bad_shape_error": bad_model_error,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rendered_table_matches_golden_file(name):
    text = CASES[name]() + "\n"
    path = GOLDEN / f"{name}.txt"
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing {path}; create it with NNDL_REGEN_GOLDEN=1 (see this file's docstring)"
    assert text == path.read_text(encoding="utf-8")

import json

import numpy as np
import pytest

from nndl import nn
from nndl.nn.core.config import ConfigError, from_config, to_config


def test_config_round_trip_rebuilds_the_same_structure_and_names():
    model = nn.Sequential(nn.Linear(4, 8, bias=False, rng=0), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                          nn.Linear(8, 3, init="xavier_normal", rng=1))
    model.append(nn.Softmax(axis=1))
    rebuilt = from_config(json.loads(json.dumps(to_config(model))))
    assert repr(rebuilt) == repr(model)
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}
    rebuilt.load_state_dict(model.state_dict())
    model.eval(), rebuilt.eval()
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_array_equal(rebuilt(x), model(x))


def test_named_children_and_dtype_survive():
    from collections import OrderedDict

    model = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2, dtype=np.float64), act=nn.Tanh()), dtype=np.float64)
    rebuilt = from_config(json.loads(json.dumps(to_config(model))))
    assert list(rebuilt.state_dict()) == ["fc.weight", "fc.bias"]
    assert rebuilt.fc.weight.dtype == np.float64


def test_a_function_argument_cannot_be_stored():
    layer = nn.Linear(2, 2, init=lambda shape, rng=None, dtype=np.float32: np.zeros(shape, dtype))
    with pytest.raises(ConfigError, match="Linear.init: cannot store a function"):
        to_config(layer)


def test_unknown_class_is_reported():
    with pytest.raises(ConfigError, match="unknown module class 'mypackage.Thing'"):
        from_config({"class": "mypackage.Thing", "arguments": {}})

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


def test_classes_are_named_by_public_path_not_by_file():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng=0), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2, rng=1))
    config = to_config(model)
    names = [config["class"]] + [child["__module__"]["class"] for _, child in config["arguments"]["modules"]
                                 ["__tuple__"][0]["__dict__"]]
    assert names == ["nndl.nn.Sequential", "nndl.nn.Conv2d", "nndl.nn.ReLU", "nndl.nn.Flatten", "nndl.nn.Linear"]


def test_nndl_0_1_0_class_names_still_read():
    rebuilt = from_config({"class": "nndl.nn.linear.Linear", "arguments": {"in_features": 3, "out_features": 2}})
    assert isinstance(rebuilt, nn.Linear) and rebuilt.weight.shape == (2, 3)
    rebuilt = from_config({"class": "nndl.models.resnet.BasicBlock", "arguments": {"in_channels": 4, "planes": 4}})
    assert type(rebuilt).__name__ == "BasicBlock"


class Scaled(nn.Module):
    """A user's layer: y = factor·x, with nothing about configurations written in it."""

    def __init__(self, factor, dtype=np.float32):
        super().__init__(dtype)
        self.factor = factor

    def forward(self, x):
        return self.factor * x

    def backward(self, dout):
        return self.factor * dout


def test_a_users_class_round_trips_once_imported_and_is_never_imported_from_a_file():
    config = to_config(nn.Sequential(Scaled(2.5), nn.ReLU()))
    inner = config["arguments"]["modules"]["__tuple__"][0]["__dict__"][0][1]["__module__"]
    assert inner == {"class": f"{__name__}.Scaled", "arguments": {"factor": 2.5}}
    rebuilt = from_config(json.loads(json.dumps(config)))
    np.testing.assert_array_equal(rebuilt(np.array([[-1.0, 2.0]])), [[0.0, 5.0]])
    with pytest.raises(ConfigError, match="unknown module class 'os.path.Scaled'"):
        from_config({"class": "os.path.Scaled", "arguments": {}})


def test_get_config_can_be_overridden():
    class Fixed(Scaled):
        def __init__(self):
            super().__init__(3.0)

        def get_config(self):
            return {}

    assert to_config(Fixed()) == {"class": f"{__name__}.{Fixed.__qualname__}", "arguments": {}}


def test_replaced_and_added_children_are_written_and_rebuilt():
    model = nn.Residual(nn.Sequential(nn.Linear(3, 3, rng=0), nn.Tanh()))
    setattr(model.block, "1", nn.ReLU())  # as seq[1] = ... does
    model.extra = nn.Identity()
    config = json.loads(json.dumps(to_config(model)))
    rebuilt = from_config(config)
    assert repr(rebuilt) == repr(model)
    rebuilt.load_state_dict(model.state_dict())
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(rebuilt(x), model(x))


def test_a_config_with_the_wrong_types_is_refused():
    with pytest.raises(ConfigError, match="'class' must be a string"):
        from_config({"class": ["nndl.nn.Linear"], "arguments": {}})
    with pytest.raises(ConfigError, match="unknown arguments bogus"):
        from_config({"class": "nndl.nn.ReLU", "arguments": {"bogus": 1}})

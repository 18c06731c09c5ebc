"""Every zoo model's default initialization is the notes' choice for its activation, measured on its weights.

Notes: Xavier, Var(W) = 2/(fan_in + fan_out), for tanh and sigmoid; He,
Var(W) = 2/fan_in, for ReLU (docs/initialization.md has the table with the
papers' and torchvision's choices).
"""

import numpy as np
import pytest

from nndl import io, nn
from nndl.models import (alexnet, autoencoder, cifar_net, conv_autoencoder, densenet121, googlenet, lenet5, mlp,
                         resnet18, small_cnn, zfnet)


def fans(weight):
    shape = weight.shape
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    if isinstance(weight, np.ndarray) and weight.ndim >= 2:
        return shape[1] * receptive, shape[0] * receptive
    raise AssertionError(shape)


def weights(model):
    return [(name, p.data) for name, p in model.named_parameters() if name.endswith("weight") and p.data.ndim >= 2]


def assert_scheme(model, scheme, min_size=2000):
    checked = 0
    for name, w in weights(model):
        if w.size < min_size:
            continue  # too few values for a tight variance estimate
        fan_in, fan_out = fans(w)
        expected = 2.0 / fan_in if scheme == "he" else 2.0 / (fan_in + fan_out)
        # A uniform sample's variance has relative standard error ≈ √(0.8/n): 5 standard errors.
        assert np.var(w.astype(np.float64)) == pytest.approx(expected, rel=5 * np.sqrt(0.8 / w.size)), name
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("build, scheme", [
    (lambda: lenet5(rng=0), "xavier"),                          # tanh by default
    (lambda: lenet5(activation="sigmoid", rng=0), "xavier"),
    (lambda: lenet5(activation="relu", rng=0), "he"),
    (lambda: autoencoder([784, 256, 32], rng=0), "he"),         # ReLU by default
    (lambda: autoencoder([784, 256, 32], activation="tanh", rng=0), "xavier"),
    (lambda: autoencoder([784, 256, 32], linear=True, rng=0), "xavier"),
    (lambda: mlp([784, 256, 10], rng=0), "he"),
    (lambda: mlp([784, 256, 10], activation="tanh", rng=0), "xavier"),
    (lambda: conv_autoencoder(rng=0), "he"),
    (lambda: small_cnn(rng=0), "he"),
    (lambda: cifar_net(rng=0), "he"),
    (lambda: resnet18(num_classes=10, rng=0), "he"),
    (lambda: densenet121(num_classes=10, rng=0), "he"),
    (lambda: googlenet(num_classes=10, rng=0), "he"),
    (lambda: alexnet(num_classes=10, rng=0), "he"),
    (lambda: zfnet(num_classes=10, rng=0), "he"),
], ids=["lenet5-tanh", "lenet5-sigmoid", "lenet5-relu", "autoencoder-relu", "autoencoder-tanh",
        "autoencoder-linear", "mlp-relu", "mlp-tanh", "conv_autoencoder", "small_cnn", "cifar_net", "resnet18",
        "densenet121", "googlenet", "alexnet", "zfnet"])
def test_default_initialization_follows_the_activation(build, scheme):
    assert_scheme(build(), scheme)


def test_a_default_change_does_not_change_a_loaded_checkpoint(tmp_path):
    """Configs keep the arguments a model was built with; weights come from the file either way."""
    old = lenet5(init="he_uniform", rng=3)
    path = tmp_path / "lenet.safetensors"
    io.save(old, path)
    loaded = io.load(path)
    assert loaded.config["arguments"]["init"] == "he_uniform"
    x = np.random.default_rng(0).standard_normal((2, 1, 32, 32)).astype(np.float32)
    old.eval(), loaded.model.eval()
    assert np.array_equal(loaded.model(x), old(x))
    # A configuration without 'init' (the default at load time, now 'auto') loads the same weights.
    from nndl.nn.core.config import from_config
    arguments = {k: v for k, v in loaded.config["arguments"].items() if k != "init"}
    rebuilt = from_config({**loaded.config, "arguments": arguments})
    rebuilt.load_state_dict(old.state_dict())
    rebuilt.eval()
    assert np.array_equal(rebuilt(x), old(x))
    assert isinstance(rebuilt.conv1, nn.Conv2d)

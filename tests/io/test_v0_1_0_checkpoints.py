"""Checkpoints written by nndl 0.1.0 (class names were file paths then) load and compute the same outputs.

The files in ``v0_1_0/`` were written by nndl 0.1.0: each model trained a
step or two with its optimizer, then saved; ``<name>_expected.npz`` holds an
input, the model's evaluation-mode output on it and the optimizer's buffers.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from nndl import io, nn, optim

HERE = Path(__file__).parent / "v0_1_0"
CASES = sorted(p.name[: -len(".safetensors")] for p in HERE.glob("*.safetensors"))
OPTIMIZERS = {"mlp": optim.Adam, "cnn": optim.SGD, "lenet5": optim.SGD, "cifar_net": optim.RMSprop,
              "basic_block": optim.SGD, "small_cnn": optim.Adagrad}


def test_the_fixtures_are_there():
    assert len(CASES) == 11


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("kernels", ["fast", "reference"])
def test_old_checkpoint_loads_with_the_same_outputs(name, kernels):
    expected = np.load(HERE / f"{name}_expected.npz")
    checkpoint = io.load(HERE / f"{name}.safetensors")
    model = checkpoint.model.eval()
    with nn.use_kernels(kernels):
        out = model(expected["x"])
    outs = out if isinstance(out, tuple) else (out,)
    keys = ["y"] if "y" in expected else [f"y{i}" for i in range(len(outs))]
    for value, key in zip(outs, keys):
        # float32 sums in another order: equal to rounding relative to the output's scale
        scale = max(1.0, float(np.abs(expected[key]).max()))
        np.testing.assert_allclose(value, expected[key], rtol=1e-5, atol=1e-6 * scale)
    assert checkpoint.epoch == 2


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_old_checkpoint_restores_the_optimizer_state(name):
    expected = np.load(HERE / f"{name}_expected.npz")
    model = io.load(HERE / f"{name}.safetensors").model
    optimizer = OPTIMIZERS[name](model.parameters(), lr=0.01)
    io.load(HERE / f"{name}.safetensors", model=model, optimizer=optimizer)
    buffers = {key: expected[key] for key in expected.files if key.startswith("opt_")}
    assert buffers
    state = optimizer.state_dict()["state"]
    for key, value in buffers.items():
        _, index, buffer = key.split("_", 2)
        np.testing.assert_array_equal(state[int(index)][buffer], value)


def test_old_class_names_read_as_public_names():
    config = json.loads(io.read_metadata(HERE / "mlp.safetensors")["model_config"])
    assert config["class"] == "nndl.nn.sequential.Sequential"
    rebuilt = nn.from_config(config)
    assert nn.to_config(rebuilt)["class"] == "nndl.nn.Sequential"
    assert nn.to_config(rebuilt[0])["class"] == "nndl.nn.Linear"

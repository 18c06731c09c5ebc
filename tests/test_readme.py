"""The README's commands and usage example stay true."""

import pathlib
import re

import numpy as np

README = (pathlib.Path(__file__).parents[1] / "README.md").read_text()


def test_readme_has_exactly_two_setup_commands():
    commands = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)
    assert commands == ['pip install ".[data]" && nndl train', 'pip install ".[test]" && python -m pytest -q']


def test_usage_example_runs_and_learns():
    (code,) = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    model, x, y, loss_fn = namespace["model"], namespace["x"], namespace["y"], namespace["loss_fn"]
    assert namespace["loss"] > 1.0  # ten classes, random weights: about ln 10
    assert all(p.grad is not None for p in model.parameters())
    assert loss_fn(model(x), y) < namespace["loss"]  # the step went downhill
    assert isinstance(namespace["loss"], float) and np.isfinite(namespace["loss"])

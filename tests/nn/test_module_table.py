"""Every check of the design, over every entry of tests/nn/module_table.py, in both kernel sets.

Each test builds the entry's module with its parameters moved off their
initial values and positive random buffers (running statistics, class
weights), so that no check passes because a weight is 0 or 1. A forward and
backward pass (:func:`run`) goes through the public entries ``module(x)`` and
``nn.backward(module, δ)`` with a fixed random δ, and yields the outputs, the
input gradient and every parameter gradient by name.

Tolerances: gradcheck and the fast-vs-reference comparison are relative to a
tensor's largest entry (:func:`nndl.check.rel_error`); torch parity is
entrywise (``rtol=1e-6``). Results of one kernel set that must not depend on a
layout, a thread split or a rebuild agree to 1e-12 of their scale.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from nndl import nn
from nndl.check import gradcheck, numerical_gradient, rel_error
from nndl.nn._fast.settings import settings
from tests.layer_checks import load_into_torch
from tests.nn.module_table import EXCLUDED, TABLE, torch

KERNEL_SETS = ("fast", "reference")
DTYPES = (np.float32, np.float64)
GRAD_TOL = 1e-7
TORCH_RTOL, TORCH_ATOL = 1e-6, 1e-10
SAME = 1e-12
# float32: 32 roundings of the tensor's scale (the table's worst case is 3: summation orders differ)
FAST_TOL = {np.float64: 1e-10, np.float32: 32 * float(np.finfo(np.float32).eps)}


def entries(keep=lambda entry: True):
    chosen = [entry for entry in TABLE if keep(entry)]
    return pytest.mark.parametrize("entry", chosen, ids=[entry.id for entry in chosen])


# tests/nn/conftest.py runs every test once per kernel set (fixture ``kernel_set``); a test about the
# table itself, or one that switches between the sets on its own, runs once.
ONCE = pytest.mark.chooses_kernel_sets


# ---------------------------------------------------------------------- helpers
def build(entry, dtype=np.float64, seed=0):
    """The entry's module in ``dtype``: parameters perturbed, float buffers drawn in [0.5, 1.5]."""
    module = entry.make()
    rng = np.random.default_rng(seed)
    for param in module.parameters():
        param.data = param.data + 0.1 * rng.standard_normal(param.data.shape).astype(param.data.dtype)
    state = module.state_dict()
    for name, value in state.items():
        if value.dtype.kind == "f":
            state[name] = rng.uniform(0.5, 1.5, value.shape).astype(value.dtype)
    module.load_state_dict(state)
    return module.to(dtype)


def draw(entry, dtype=np.float64, seed=0):
    return tuple(x.astype(dtype) if x.dtype.kind == "f" else x for x in entry.draw(np.random.default_rng(seed)))


def as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def upstream(out, rng):
    """δ for one output: 1 for a loss's value, normal for a float array, None for integer indices."""
    if np.ndim(out) == 0:
        return 1.0
    if np.asarray(out).dtype.kind != "f":
        return None
    return rng.standard_normal(np.shape(out)).astype(np.asarray(out).dtype)


def run(module, inputs, seed=1):
    """Forward and backward through the public entries: ``{'out0': ..., 'dx': ..., 'grad.<name>': ...}``."""
    module.zero_grad()
    out = module(*inputs)
    rng = np.random.default_rng(seed)
    douts = tuple(upstream(o, rng) for o in as_tuple(out))
    dx = nn.backward(module, douts if isinstance(out, tuple) else douts[0])
    results = {f"out{i}": np.asarray(o) for i, o in enumerate(as_tuple(out))}
    results["dx"] = dx
    results.update({f"grad.{name}": None if p.grad is None else p.grad.copy() for name, p in module.named_parameters()})
    return results


def torch_run(twin, inputs, seed=1):
    """:func:`run` for the torch twin (float64 tensors, the same δ)."""
    tensors = [torch.tensor(x, requires_grad=True) if x.dtype.kind == "f" else torch.from_numpy(x) for x in inputs]
    outs = as_tuple(twin(*tensors))
    rng = np.random.default_rng(seed)
    douts = [upstream(o.detach().numpy(), rng) for o in outs]
    pairs = [(o, torch.as_tensor(d, dtype=torch.float64)) for o, d in zip(outs, douts) if d is not None]
    torch.autograd.backward([o for o, _ in pairs], [d for _, d in pairs])
    results = {f"out{i}": o.detach().numpy() for i, o in enumerate(outs)}
    results["dx"] = tensors[0].grad.numpy()
    if isinstance(twin, torch.nn.Module):
        results.update({f"grad.{name}": p.grad.numpy() for name, p in twin.named_parameters()})
    return results


def assert_same(a, b, tol, what):
    """Same keys, shapes and integer values; float arrays within ``tol`` of their scale (see rel_error)."""
    assert a.keys() == b.keys(), f"{what}: {sorted(a)} vs {sorted(b)}"
    for key in a:
        x, y = a[key], b[key]
        assert (x is None) == (y is None), f"{what}: {key} is None on one side only"
        if x is None:
            continue
        assert x.shape == y.shape, f"{what}: {key} has shapes {x.shape} and {y.shape}"
        if x.dtype.kind != "f":
            np.testing.assert_array_equal(x, y, err_msg=f"{what}: {key}")
            continue
        error = rel_error(x, y)
        assert error <= tol, f"{what}: {key} differs by {error:.2e} of its scale (allowed {tol:.0e})"


def assert_torch_close(ours, theirs):
    assert ours.keys() == theirs.keys(), f"torch parity: {sorted(ours)} vs {sorted(theirs)}"
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=TORCH_RTOL, atol=TORCH_ATOL, err_msg=key)


def twin_of(entry, module):
    """The entry's torch twin holding ``module``'s state, in the same mode."""
    twin = entry.twin()
    if isinstance(twin, torch.nn.Module):
        load_into_torch(module, twin)
        twin.train(module.training)
    return twin


def channels_last(x):
    """The same values, stored NHWC behind the NCHW shape (torch.channels_last)."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


# ---------------------------------------------------------------------- the table itself
@ONCE
def test_every_exported_module_has_an_entry():
    exported = {name: getattr(nn, name) for name in nn.__all__}
    modules = {name: cls for name, cls in exported.items() if isinstance(cls, type) and issubclass(cls, nn.Module)}
    covered = {type(entry.make()) for entry in TABLE}
    missing = sorted(name for name, cls in modules.items() if cls not in covered and name not in EXCLUDED)
    assert not missing, f"Module classes of nndl.nn.__all__ with no entry in tests/nn/module_table.py: {missing}"
    assert set(EXCLUDED) <= set(modules), f"EXCLUDED names no exported Module: {sorted(set(EXCLUDED) - set(modules))}"
    assert len({entry.id for entry in TABLE}) == len(TABLE), "two entries share an id"


@ONCE
@entries()
def test_flags_describe_the_module(entry):
    module = build(entry)
    inputs = draw(entry)
    assert entry.params == any(True for _ in module.parameters()), "params flag"
    # A random module draws a new mask on every training forward pass; any other gives the same output twice.
    first, second = np.asarray(as_tuple(module(*inputs))[0]), np.asarray(as_tuple(module(*inputs))[0])
    assert entry.random == (not np.array_equal(first, second)), "random flag"


@ONCE
@entries(lambda entry: not list(entry.make().children()) and not isinstance(entry.make(), nn.Loss))
def test_layer_declares_its_facts(entry):
    """What tools read without running data (nndl.nn.core.facts) agrees with the table and the module."""
    module = build(entry)
    assert module.train_eval_differs == entry.mode_dependent, f"{entry.id}.train_eval_differs"
    inputs = draw(entry)
    out = as_tuple(module(*inputs))[0]
    macs = module.macs(inputs[0].shape, out.shape)
    assert isinstance(macs, int) and macs >= 0, f"{entry.id}.macs gave {macs!r}"


# ---------------------------------------------------------------------- per entry, in both kernel sets
@entries()
def test_gradcheck(entry, kernel_set):
    module = build(entry)
    inputs = draw(entry)
    if isinstance(module, nn.Loss) and module.reduction == "none":
        # gradcheck differentiates a scalar: L = Σ losses ⊙ δ, by central differences on the scores.
        scores, target = inputs
        dout = np.random.default_rng(1).standard_normal(np.shape(module(scores, target)))
        analytic = module.backward(dout)
        numeric = numerical_gradient(lambda: float(np.sum(module(scores, target) * dout)), scores)
        errors = {"input": rel_error(analytic, numeric)}
    else:
        errors = gradcheck(module, *inputs, rng=1)
    bad = {name: error for name, error in errors.items() if not error < GRAD_TOL}
    assert errors and not bad, f"gradcheck of {entry.id}: {bad}"


@entries(lambda entry: entry.twin is not None)
def test_torch_parity(entry, kernel_set):
    module = build(entry)
    if entry.random:
        module.eval()  # torch draws other masks; train mode is checked against the reference set instead
    inputs = draw(entry)
    twin = twin_of(entry, module)
    assert_torch_close(run(module, inputs), torch_run(twin, inputs))
    if isinstance(twin, torch.nn.Module):  # running statistics after the step, as torch updates them
        state = twin.state_dict()
        for name, value in module.state_dict().items():
            np.testing.assert_allclose(value, state[name].numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL, err_msg=name)


@entries()
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_dtype_is_kept(entry, kernel_set, dtype):
    module = build(entry, dtype)
    inputs = draw(entry, dtype)
    out = module(*inputs)
    if isinstance(out, np.ndarray) and not isinstance(module, nn.Loss):
        assert module.output_shape(inputs[0].shape) == out.shape, "output_shape"
    for key, value in run(module, inputs).items():
        if value is not None and value.dtype.kind == "f" and value.ndim > 0:  # a loss's value is a Python float
            assert value.dtype == dtype, f"{key} is {value.dtype}"


@entries()
def test_train_and_eval(entry, kernel_set):
    module = build(entry)
    inputs = draw(entry)
    trained = run(copy.deepcopy(module), inputs)
    evaluator = copy.deepcopy(module).eval()
    state = {name: value.copy() for name, value in evaluator.state_dict().items()}
    evaluated = run(evaluator, inputs)
    if not entry.mode_dependent:
        assert_same(trained, evaluated, SAME, "train vs eval")
        return
    assert not np.allclose(trained["out0"], evaluated["out0"]), "train and eval give the same output"
    assert_same(evaluated, run(evaluator, inputs), 0.0, "two passes in eval")
    for name, value in evaluator.state_dict().items():
        np.testing.assert_array_equal(value, state[name], err_msg=f"eval changed {name}")
    if entry.random:
        np.testing.assert_array_equal(evaluated["out0"], inputs[0], err_msg="dropout is the identity in eval")
    if entry.twin is not None:  # running statistics in eval, as torch
        assert_torch_close(evaluated, torch_run(twin_of(entry, evaluator), inputs))


@entries()
def test_config_round_trip(entry, kernel_set):
    module = build(entry)
    if entry.random:
        module.eval()  # a configuration stores no generator: the rebuilt module draws other masks
    inputs = draw(entry)
    config = json.loads(json.dumps(nn.to_config(module)))
    rebuilt = nn.from_config(config)
    assert type(rebuilt) is type(module)
    assert nn.to_config(rebuilt) == config
    rebuilt.to(np.float64).load_state_dict(module.state_dict())
    rebuilt.train(module.training)
    assert_same(run(module, inputs), run(rebuilt, inputs), SAME, "rebuilt from its configuration")


@entries()
def test_state_dict_round_trip(entry, kernel_set):
    module = build(entry)
    inputs = draw(entry)
    state = module.state_dict()
    twin = None if entry.twin is None else entry.twin()
    if isinstance(twin, torch.nn.Module):
        ours = [(name, tuple(value.shape)) for name, value in state.items()]
        assert ours == [(name, tuple(value.shape)) for name, value in twin.state_dict().items()], "torch's keys"
    fresh = entry.make().to(np.float64)  # a fresh generator: the same masks as ``module``'s
    fresh.load_state_dict(state)
    for name, value in fresh.state_dict().items():
        assert value.dtype == state[name].dtype, name
        np.testing.assert_array_equal(value, state[name], err_msg=name)
    assert_same(run(module, inputs), run(fresh, inputs), 0.0, "loaded into a fresh module")


@ONCE
@entries()
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_reference_equals_fast(entry, dtype):
    module = build(entry, dtype)
    inputs = draw(entry, dtype)
    results = {}
    for name in KERNEL_SETS:
        with nn.use_kernels(name):
            results[name] = run(copy.deepcopy(module), inputs)  # copies: the same generator state
    assert_same(results["fast"], results["reference"], FAST_TOL[dtype], "fast vs reference")
    if entry.random:
        np.testing.assert_array_equal(results["fast"]["out0"] == 0, results["reference"]["out0"] == 0,
                                      err_msg="the two sets drew different masks")


@entries(lambda entry: entry.channels_last)
def test_channels_last_input(entry, kernel_set):
    module = build(entry)
    inputs = draw(entry)
    stored_nhwc = tuple(channels_last(x) if x.ndim == 4 and x.dtype.kind == "f" else x for x in inputs)
    assert not stored_nhwc[0].flags.c_contiguous
    plain = run(copy.deepcopy(module), inputs)
    nhwc = run(copy.deepcopy(module), stored_nhwc)
    assert_same(plain, nhwc, SAME, "channels-last input")
    for key in ("out0", "dx"):  # public results are C-contiguous whatever the input's layout
        assert plain[key].flags.c_contiguous and nhwc[key].flags.c_contiguous, key


KNOBS = {
    "thread-split": dict(parallel_min_elements=0, linear_parallel_min_macs=0, threads=2),
    "small-chunks": dict(column_chunk_bytes=1, batch_norm_slab_bytes=1),
    "row-layout": dict(row_layout_min_channels=1, channels_last_min_filters=1),
}
"""Settings that force the fast kernels' other paths on small inputs (results must not change)."""


@entries()
@pytest.mark.parametrize("knobs", KNOBS.values(), ids=KNOBS.keys())
def test_fast_settings_change_no_result(entry, kernel_set, knobs):
    module = build(entry)
    inputs = draw(entry)
    plain = run(copy.deepcopy(module), inputs)
    with settings.override(**knobs):
        forced = run(copy.deepcopy(module), inputs)
    assert_same(plain, forced, SAME, f"with {knobs}")

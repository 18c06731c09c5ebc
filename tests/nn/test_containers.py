import re
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from nndl import nn
from nndl.check import gradcheck
from tests.layer_checks import GRAD_TOL, assert_torch_parity, check_layer, load_into_torch


class Tanh(nn.Module):
    """A minimal activation for these tests (keeps them independent of the activation modules)."""

    def forward(self, x):
        self._cache = np.tanh(x)
        return self._cache

    def backward(self, dout):
        return dout * (1.0 - self._saved() ** 2)

    def output_shape(self, input_shape):
        return tuple(input_shape)


class TorchResidual(torch.nn.Module):
    def __init__(self, block, shortcut=None):
        super().__init__()
        self.block = block
        self.shortcut = shortcut

    def forward(self, x):
        return self.block(x) + (x if self.shortcut is None else self.shortcut(x))


class TorchConcat(torch.nn.Module):
    def __init__(self, *branches, axis=1):
        super().__init__()
        for i, branch in enumerate(branches):
            self.add_module(str(i), branch)
        self.axis = axis

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.children()], dim=self.axis)


def linear(i, o, seed, bias=True):
    layer = nn.Linear(i, o, bias=bias, rng=seed, dtype=np.float64)
    if bias:
        layer.bias.data[...] = np.random.default_rng(seed).standard_normal(o)
    return layer


def check_container(module, torch_module, shape, train=True):
    module.train(train)
    errors = check_layer(module, shape)
    x = np.random.default_rng(1).standard_normal(shape)
    assert_torch_parity(module, torch_module, x, train=train)
    return errors


def test_residual_identity_shortcut_gradients_and_torch_parity():
    block = nn.Sequential(linear(4, 4, 0), Tanh(), linear(4, 4, 1))
    torch_block = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh(), torch.nn.Linear(4, 4))
    errors = check_container(nn.Residual(block), TorchResidual(torch_block), (3, 4))
    assert set(errors) == {"input", "block.0.weight", "block.0.bias", "block.2.weight", "block.2.bias"}


@pytest.mark.parametrize("train", [True, False])
def test_residual_projection_shortcut_with_batchnorm(train):
    # No bias before batch norm (it would be cancelled by the mean subtraction: its gradient is exactly 0).
    block = nn.Sequential(linear(4, 6, 0, bias=False), nn.BatchNorm1d(6, dtype=np.float64), Tanh(), linear(6, 6, 1))
    shortcut = nn.Sequential(linear(4, 6, 2, bias=False), nn.BatchNorm1d(6, dtype=np.float64))
    torch_block = torch.nn.Sequential(torch.nn.Linear(4, 6, bias=False), torch.nn.BatchNorm1d(6), torch.nn.Tanh(),
                                      torch.nn.Linear(6, 6))
    torch_shortcut = torch.nn.Sequential(torch.nn.Linear(4, 6, bias=False), torch.nn.BatchNorm1d(6))
    module = nn.Residual(block, shortcut)
    assert module.output_shape((5, 4)) == (5, 6)
    check_container(module, TorchResidual(torch_block, torch_shortcut), (5, 4), train=train)


def test_residual_gradient_highway():
    # A block with zero weights passes δ through the identity path unchanged: ∂L/∂x = 0 + δ.
    block = nn.Sequential(linear(3, 3, 0), Tanh(), linear(3, 3, 1))
    block[2].weight.data[...] = 0.0
    module = nn.Residual(block)
    x = np.random.default_rng(0).standard_normal((2, 3))
    module(x)
    dout = np.random.default_rng(1).standard_normal((2, 3))
    np.testing.assert_array_equal(module.backward(dout), dout)


def test_residual_state_dict_keys_repr_and_shape_error():
    module = nn.Residual(nn.Sequential(linear(4, 3, 0)), shortcut=linear(4, 3, 1))
    torch_module = TorchResidual(torch.nn.Sequential(torch.nn.Linear(4, 3)), torch.nn.Linear(4, 3))
    assert list(module.state_dict()) == list(torch_module.state_dict()) == [
        "block.0.weight", "block.0.bias", "shortcut.weight", "shortcut.bias"]
    assert repr(module).splitlines()[:3] == ["Residual(", "  (block): Sequential(",
                                             "    (0): Linear(in_features=4, out_features=3, bias=True)"]
    bad = nn.Residual(nn.Linear(4, 3))
    expected = (r"Residual: block Linear\(in_features=4, out_features=3, bias=True\) output shape \(2, 3\) "
                r"differs from identity output shape \(2, 4\)")
    with pytest.raises(ValueError, match=expected):
        bad(np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=expected):
        bad.output_shape((2, 4))


@pytest.mark.parametrize("axis, shape", [(1, (3, 4)), (-1, (2, 3, 4)), (2, (2, 3, 4))])
def test_concat_gradients_and_torch_parity(axis, shape):
    module = nn.Concat(linear(4, 3, 0), nn.Identity(), nn.Sequential(linear(4, 2, 1), Tanh()), axis=axis)
    torch_module = TorchConcat(torch.nn.Linear(4, 3), torch.nn.Identity(),
                               torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Tanh()), axis=axis)
    errors = check_container(module, torch_module, shape)
    assert set(errors) == {"input", "0.weight", "0.bias", "2.0.weight", "2.0.bias"}
    assert module.output_shape(shape) == shape[:-1] + (9,)


def test_concat_dense_layer_along_channels():
    # DenseNet: keep the input, append F's new features; F here is BN -> tanh -> linear along axis 1.
    features = nn.Sequential(nn.BatchNorm1d(3, dtype=np.float64), Tanh(), linear(3, 2, 0))
    module = nn.Concat(nn.Identity(), features)
    torch_module = TorchConcat(torch.nn.Identity(), torch.nn.Sequential(
        torch.nn.BatchNorm1d(3), torch.nn.Tanh(), torch.nn.Linear(3, 2)))
    check_container(module, torch_module, (4, 3))
    assert module.output_shape((4, 3)) == (4, 5)


def test_concat_named_branches_and_shape_error():
    module = nn.Concat(OrderedDict(branch1=linear(4, 3, 0), branch2=linear(4, 2, 1)))
    assert list(module.state_dict()) == ["branch1.weight", "branch1.bias", "branch2.weight", "branch2.bias"]
    assert repr(module).startswith("Concat(\n  axis=1\n  (branch1): Linear(")
    bad = nn.Concat(nn.Linear(4, 3), nn.Linear(4, 2), axis=0)
    expected = (r"Concat: branch outputs must agree on every axis except 0; got "
                r"'0' Linear\(in_features=4, out_features=3, bias=True\) -> \(2, 3\), "
                r"'1' Linear\(in_features=4, out_features=2, bias=True\) -> \(2, 2\)")
    with pytest.raises(ValueError, match=expected):
        bad(np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=expected):
        bad.output_shape((2, 4))


def test_concat_refuses_mixed_dtypes():
    class ToFloat64(nn.Module):
        def forward(self, x):
            return x.astype(np.float64)

    module = nn.Concat(nn.Identity(), ToFloat64())
    expected = r"Concat: branch outputs have different dtypes \('0' -> float32, '1' -> float64\)"
    with pytest.raises(TypeError, match=expected):
        module(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="Residual: block output dtype float64 differs from identity output dtype float32"):
        nn.Residual(ToFloat64())(np.zeros((2, 3), dtype=np.float32))


def test_shared_parameter_accumulates_gradients_from_both_branches():
    first, second = linear(4, 3, 0), linear(4, 3, 1)
    second.weight = first.weight  # one weight, two uses
    module = nn.Concat(first, second)
    torch_first, torch_second = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    torch_second.weight = torch_first.weight
    torch_module = TorchConcat(torch_first, torch_second)
    errors = check_container(module, torch_module, (2, 4))
    assert set(errors) == {"input", "0.weight", "0.bias", "1.bias"}
    # The shared weight's gradient is the sum over its two uses: δ₁ᵀx + δ₂ᵀx.
    x = np.random.default_rng(2).standard_normal((2, 4))
    out = module(x)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    module.zero_grad()
    module.backward(dout)
    np.testing.assert_allclose(first.weight.grad, dout[:, :3].T @ x + dout[:, 3:].T @ x)


def test_parallel_heads_gradients_and_torch_parity():
    heads = nn.Parallel(linear(4, 3, 0), nn.Sequential(linear(4, 2, 1), Tanh()))
    errors = gradcheck(heads, np.random.default_rng(0).standard_normal((3, 4)))
    assert max(errors.values()) < GRAD_TOL and set(errors) == {"input", "0.weight", "0.bias", "1.0.weight", "1.0.bias"}
    assert heads.output_shape((3, 4)) == ((3, 3), (3, 2))

    torch_heads = torch.nn.ModuleDict({"0": torch.nn.Linear(4, 3),
                                       "1": torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Tanh())})
    load_into_torch(heads, torch_heads)
    x = np.random.default_rng(1).standard_normal((3, 4))
    tx = torch.tensor(x, requires_grad=True)
    outs = heads(x)
    torch_outs = [torch_heads["0"](tx), torch_heads["1"](tx)]
    assert isinstance(outs, tuple) and len(outs) == 2
    for out, torch_out in zip(outs, torch_outs):
        np.testing.assert_allclose(out, torch_out.detach().numpy(), rtol=1e-6)
    # Multi-task loss L = 0.7·L₁ + 0.3·L₂: each head gets its own weighted gradient.
    douts = tuple(np.random.default_rng(2 + i).standard_normal(o.shape) for i, o in enumerate(outs))
    dx = heads.backward((0.7 * douts[0], 0.3 * douts[1]))
    (0.7 * (torch_outs[0] * torch.from_numpy(douts[0])).sum()
     + 0.3 * (torch_outs[1] * torch.from_numpy(douts[1])).sum()).backward()
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-6)
    torch_params = dict(torch_heads.named_parameters())
    for name, param in heads.named_parameters():
        np.testing.assert_allclose(param.grad, torch_params[name].grad.numpy(), rtol=1e-6)


def test_parallel_head_without_loss_and_wrong_gradient_count():
    heads = nn.Parallel(linear(4, 3, 0), linear(4, 2, 1))
    x = np.random.default_rng(0).standard_normal((2, 4))
    heads(x)
    dout = np.ones((2, 3))
    np.testing.assert_allclose(heads.backward((dout, None)), dout @ heads[0].weight.data)
    assert heads[1].weight.grad is None
    np.testing.assert_array_equal(heads.backward((None, None)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"Parallel: backward expects a tuple of 2 gradients .* got tuple of length 1"):
        heads.backward((dout,))
    with pytest.raises(ValueError, match="got ndarray"):
        heads.backward(dout)


def test_same_module_twice_is_refused():
    layer = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="branches '0' and '1' are the same module instance"):
        nn.Concat(layer, layer)
    with pytest.raises(ValueError, match="same module instance"):
        nn.Residual(layer, layer)
    with pytest.raises(TypeError, match="branch '1' must be a Module"):
        nn.Parallel(layer, "head")


def test_modes_reach_children():
    module = nn.Residual(nn.Sequential(nn.Dropout(0.5, rng=0)))
    module.eval()
    x = np.ones((2, 3), dtype=np.float32)
    np.testing.assert_array_equal(module(x), 2 * x)
    module.train()
    assert module.block[0].training


DOC = Path(__file__).resolve().parents[2] / "docs" / "containers.md"
DOC_BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("index", range(len(DOC_BLOCKS)))
def test_docs_examples_run_and_state_the_right_shapes(index):
    code = DOC_BLOCKS[index]
    missing = sorted({name for name in re.findall(r"nn\.(\w+)", code) if not hasattr(nn, name)})
    if missing:
        pytest.skip(f"layers not available yet: {', '.join(missing)}")
    namespace = {"nn": nn, "np": np}
    exec(compile(code, f"docs/containers.md block {index}", "exec"), namespace)
    # Every "# (shape)" comment after an output_shape call must be what the call returns.
    for call, expected in re.findall(r"^(\w+\.output_shape\(.*\))\s+# (\(.*\))$", code, flags=re.M):
        assert eval(call, namespace) == eval(expected), call
    if "basic_block" in namespace:
        block = namespace["basic_block"](8, 16, stride=2)
        assert block.output_shape((2, 8, 9, 9)) == (2, 16, 5, 5)
        assert "0.shortcut.0.weight" in block.state_dict()
    if "loss" in namespace:
        assert np.isfinite(namespace["loss"])
        assert all(p.grad is not None for p in namespace["model"].parameters())


@pytest.mark.skipif(not all(hasattr(nn, name) for name in ("Conv2d", "ReLU")), reason="Conv2d/ReLU not available yet")
@pytest.mark.parametrize("train", [True, False])
def test_resnet_basic_block_with_projection_matches_torch(train):
    def conv(cin, cout, k, stride=1):
        layer = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False, rng=cin + cout + k,
                          dtype=np.float64)
        return layer

    def bn(channels, seed):
        layer = nn.BatchNorm2d(channels, dtype=np.float64)
        rng = np.random.default_rng(seed)
        layer.weight.data[...] = rng.uniform(0.5, 1.5, channels)
        layer.bias.data[...] = rng.standard_normal(channels)
        layer.running_var[...] = rng.uniform(0.5, 1.5, channels)
        return layer

    block = nn.Sequential(conv(2, 3, 3, stride=2), bn(3, 0), nn.ReLU(), conv(3, 3, 3), bn(3, 1))
    shortcut = nn.Sequential(conv(2, 3, 1, stride=2), bn(3, 2))
    module = nn.Residual(block, shortcut)
    t = torch.nn
    torch_module = TorchResidual(
        t.Sequential(t.Conv2d(2, 3, 3, stride=2, padding=1, bias=False), t.BatchNorm2d(3), t.ReLU(),
                     t.Conv2d(3, 3, 3, padding=1, bias=False), t.BatchNorm2d(3)),
        t.Sequential(t.Conv2d(2, 3, 1, stride=2, bias=False), t.BatchNorm2d(3)))
    errors = check_container(module, torch_module, (2, 2, 5, 5), train=train)
    assert len(errors) == 1 + 3 + 2 * 3  # input, three conv weights, three (γ, β) pairs


# ---------------------------------------------------------------------- Sequential as a list, against torch.nn.Sequential
def twin_sequentials(n=4):
    """An nndl and a torch Sequential of Linear layers with the same shapes (their keys and types are compared)."""
    sizes = [3, 4, 5, 6, 7][: n + 1]
    ours = nn.Sequential(*[nn.Linear(a, b, rng=i) for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))])
    theirs = torch.nn.Sequential(*[torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
    return ours, theirs


def layout(seq):
    """(name, in_features, out_features) of every child, and the state-dict keys."""
    return [(name, m.in_features, m.out_features) for name, m in seq.named_children()], list(seq.state_dict())


SEQUENCE_OPERATIONS = {
    "set -1": lambda seq, L: seq.__setitem__(-1, L(6, 2)),
    "set 1": lambda seq, L: seq.__setitem__(1, L(4, 5)),
    "del 1": lambda seq, L: seq.__delitem__(1),
    "del -1": lambda seq, L: seq.__delitem__(-1),
    "del 1:3": lambda seq, L: seq.__delitem__(slice(1, 3)),
    "append": lambda seq, L: seq.append(L(7, 2)),
    "insert 0": lambda seq, L: seq.insert(0, L(9, 3)),
    "insert -1": lambda seq, L: seq.insert(-1, L(6, 6)),
    "insert len": lambda seq, L: seq.insert(4, L(7, 1)),
    "insert -len": lambda seq, L: seq.insert(-4, L(2, 3)),
    "extend": lambda seq, L: seq.extend([L(7, 1), L(1, 2)]),
    "pop": lambda seq, L: seq.pop(1),
}


@pytest.mark.parametrize("operation", sorted(SEQUENCE_OPERATIONS))
def test_sequential_list_operations_match_torch(operation):
    ours, theirs = twin_sequentials()
    SEQUENCE_OPERATIONS[operation](ours, lambda a, b: nn.Linear(a, b, rng=0))
    SEQUENCE_OPERATIONS[operation](theirs, torch.nn.Linear)
    assert layout(ours) == layout(theirs)
    assert len(ours) == len(theirs)
    assert [m.out_features for m in ours] == [m.out_features for m in theirs]


@pytest.mark.parametrize("index", [0, 2, -1, -4, slice(1, 3), slice(None, None, -1), slice(-2, None)])
def test_sequential_indexing_matches_torch(index):
    ours, theirs = twin_sequentials()
    got, want = ours[index], theirs[index]
    if isinstance(index, slice):
        assert isinstance(got, nn.Sequential) and layout(got) == layout(want)
        assert all(a is ours._modules[name] for name, a in got.named_children())  # the same modules, shared
    else:
        assert (got.in_features, got.out_features) == (want.in_features, want.out_features)


@pytest.mark.parametrize("operation", [lambda s, m: s[4], lambda s, m: s[-5], lambda s, m: s.__delitem__(4),
                                       lambda s, m: s.__setitem__(-5, m), lambda s, m: s.insert(6, m)])
def test_sequential_index_out_of_range_is_an_index_error_as_in_torch(operation):
    ours, theirs = twin_sequentials()
    with pytest.raises(IndexError):
        operation(theirs, torch.nn.ReLU())
    with pytest.raises(IndexError, match="out of range"):
        operation(ours, nn.ReLU())


def test_sequential_item_assignment_runs_the_new_module_and_keeps_the_keys():
    seq = nn.Sequential(OrderedDict(fc1=nn.Linear(3, 4, rng=0), act=Tanh(), fc2=nn.Linear(4, 2, rng=0)))
    seq[2] = nn.Linear(4, 5, rng=1)
    assert list(seq.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    out = seq(x)
    assert out.shape == (2, 5) and seq.output_shape((2, 3)) == (2, 5)
    np.testing.assert_allclose(out, seq.fc2(seq.act(seq.fc1(x))), rtol=1e-6)
    nn.backward(seq, np.ones_like(out))
    assert seq.fc2.weight.grad.shape == (5, 4)
    with pytest.raises(ValueError, match="already in this Sequential"):
        seq[1] = seq[0]
    with pytest.raises(TypeError, match="must be a Module"):
        seq[0] = 3
    with pytest.raises(TypeError, match="integers or slices"):
        seq["fc1"]
    rebuilt = nn.from_config(nn.to_config(seq))
    assert [type(m).__name__ for m in rebuilt] == ["Linear", "Tanh", "Linear"] and rebuilt[2].out_features == 5


def test_sequential_iteration_and_len():
    modules = [nn.Linear(2, 2, rng=0), Tanh(), nn.Linear(2, 3, rng=0)]
    seq = nn.Sequential(*modules)
    assert len(seq) == 3 and list(seq) == modules and list(reversed(list(seq))) == modules[::-1]
    assert len(nn.Sequential()) == 0

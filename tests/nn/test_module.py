from collections import OrderedDict

import numpy as np
import pytest
import torch

from nndl import nn
from nndl.check import gradcheck
from tests.layer_checks import assert_torch_parity, check_layer


def nndl_mlp(dtype=np.float32):
    return nn.Sequential(nn.Linear(4, 8, rng=0, init="pytorch", dtype=dtype), nn.ReLU(),
                         nn.Linear(8, 6, rng=1, init="pytorch", dtype=dtype), nn.PReLU(6, dtype=dtype), nn.Tanh(),
                         nn.Linear(6, 3, bias=False, rng=2, dtype=dtype))


def torch_mlp():
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 6), torch.nn.PReLU(6),
                               torch.nn.Tanh(), torch.nn.Linear(6, 3, bias=False))


# ---------------------------------------------------------------------- state dicts


def test_state_dict_keys_order_and_shapes_equal_torch():
    state, torch_state = nndl_mlp().state_dict(), torch_mlp().state_dict()
    assert list(state) == list(torch_state) == ["0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "5.weight"]
    assert [v.shape for v in state.values()] == [tuple(v.shape) for v in torch_state.values()]
    assert all(v.dtype == np.float32 for v in state.values())


def test_sequential_gradients_and_torch_parity_through_the_state_dict():
    # Inputs away from ReLU's kink are not needed here: with 8 hidden units and these seeds no
    # pre-activation lies within 1e-3 of 0, which the first assertion checks.
    x = np.random.default_rng(3).standard_normal((5, 4))
    model = nndl_mlp(np.float64)
    assert np.min(np.abs(model[0](x))) > 1e-3
    errors = check_layer(model, (5, 4), torch_mlp(), inputs=x, rng=4)
    assert set(errors) == {"input", "0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "5.weight"}


def test_load_state_dict_reports_every_problem_at_once():
    model = nndl_mlp()
    state = model.state_dict()
    del state["0.bias"]
    del state["3.weight"]
    state["2.weight"] = np.zeros((6, 9), dtype=np.float32)
    state["extra.weight"] = np.zeros(2, dtype=np.float32)
    before = model.state_dict()
    with pytest.raises(nn.StateDictError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "missing keys: 0.bias, 3.weight" in message
    assert "unexpected keys: extra.weight" in message
    assert "2.weight: expected shape (6, 8), got (6, 9)" in message
    # Nothing was loaded, not even the valid keys.
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_load_state_dict_non_strict_ignores_missing_and_unexpected_but_not_shapes():
    model = nndl_mlp()
    model.load_state_dict({"0.bias": np.ones(8), "other": np.ones(1)}, strict=False)
    np.testing.assert_array_equal(model[0].bias.data, np.ones(8, dtype=np.float32))
    with pytest.raises(nn.StateDictError, match=r"0.bias: expected shape \(8,\), got \(7,\)"):
        model.load_state_dict({"0.bias": np.ones(7)}, strict=False)


def test_load_copies_values_and_state_dict_returns_copies():
    source, target = nndl_mlp(), nn.Sequential(*[m for m in nndl_mlp()])
    for param in target.parameters():
        param.data[...] = 0.0
    state = source.state_dict()
    target_weight = target[0].weight
    target.load_state_dict(state)
    assert target[0].weight is target_weight  # loaded into the existing parameter
    np.testing.assert_array_equal(target[0].weight.data, source[0].weight.data)
    state["0.weight"][...] = 7.0  # mutating the dict afterwards must not reach either model
    assert not np.any(target[0].weight.data == 7.0)
    assert not np.any(source[0].weight.data == 7.0)
    assert not np.shares_memory(target[0].weight.data, state["0.weight"])


def test_load_converts_to_the_model_dtype():
    model = nndl_mlp()
    model.load_state_dict({k: v.astype(np.float64) for k, v in nndl_mlp().state_dict().items()})
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_torch_state_dict_loads_into_nndl_and_gives_the_same_outputs():
    torch_model = torch_mlp().double()
    model = nndl_mlp(np.float64)
    model.load_state_dict({k: v.detach().numpy() for k, v in torch_model.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_allclose(model(x), torch_model(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)


# ---------------------------------------------------------------------- dtype, freezing, sharing, modes


def test_to_converts_params_and_grads_in_place_keeping_identities():
    model = nndl_mlp()
    x = np.ones((2, 4), dtype=np.float32)
    model.backward(np.ones_like(model(x)))
    params_before = list(model.parameters())
    assert all(p.grad.dtype == np.float32 for p in params_before)
    assert model.to(np.float64) is model
    params_after = list(model.parameters())
    assert all(a is b for a, b in zip(params_before, params_after))
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params_after)
    assert all(m.dtype == np.float64 for m in model.modules())
    assert model(x.astype(np.float64)).dtype == np.float64
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int32"):
        model.to(np.int32)


def test_frozen_parameters_get_no_gradient():
    model = nndl_mlp(np.float64)
    model[0].requires_grad_(False)
    x = np.random.default_rng(0).standard_normal((3, 4))
    model.backward(np.ones_like(model(x)))
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[2].weight.grad is not None
    assert model.num_parameters(trainable_only=True) == model.num_parameters() - (4 * 8 + 8)
    assert "0.weight" not in gradcheck(model, x)


class TiedAutoencoder(nn.Module):
    """Decoder weight tied to the encoder's: ``x̂ = tanh(x W₁ᵀ + b₁) W₁ + b₂``."""

    def __init__(self, dtype=np.float64):
        super().__init__(dtype)
        self.encoder = nn.Linear(5, 3, rng=0, init="pytorch", dtype=dtype)
        self.act = nn.Tanh()
        self.decoder_bias = nn.Parameter(np.linspace(-1, 1, 5).astype(dtype))
        self._cache = None

    def forward(self, x):
        hidden = self.act(self.encoder(x))
        out, self._cache = nn.linear_forward(hidden, self.encoder.weight.data.T, self.decoder_bias.data)
        return out

    def backward(self, dout):
        dhidden, dweight_t, dbias = nn.linear_backward(dout, self._saved())
        self.encoder.weight.accumulate_grad(dweight_t.T.copy())  # the decoder's share of ∂L/∂W₁
        self.decoder_bias.accumulate_grad(dbias)
        return self.encoder.backward(self.act.backward(dhidden))


def test_shared_parameter_counted_once():
    first, second = nn.Linear(4, 4, rng=0), nn.Linear(4, 4, rng=1)
    second.weight = first.weight  # weight tying: one Parameter used by two layers
    model = nn.Sequential(first, nn.ReLU(), second)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.bias"]
    assert len(list(model.parameters())) == 3
    assert model.num_parameters() == 4 * 4 + 4 + 4
    # As in torch, the state dict lists the tied tensor under each name that uses it.
    torch_first, torch_second = torch.nn.Linear(4, 4), torch.nn.Linear(4, 4)
    torch_second.weight = torch_first.weight
    torch_model = torch.nn.Sequential(torch_first, torch.nn.ReLU(), torch_second)
    assert list(model.state_dict()) == list(torch_model.state_dict())
    assert model.num_parameters() == sum(p.numel() for p in torch_model.parameters())
    assert TiedAutoencoder().num_parameters() == 5 * 3 + 3 + 5


def test_tied_weights_pass_gradcheck():
    # The gradients of a parameter used twice add up; gradcheck perturbs the one shared array.
    first = nn.Linear(3, 3, rng=0, dtype=np.float64)
    second = nn.Linear(3, 3, rng=1, dtype=np.float64)
    second.weight = first.weight
    x = np.random.default_rng(1).standard_normal((2, 3))
    errors = gradcheck(nn.Sequential(first, nn.Tanh(), second), x)
    assert set(errors) == {"input", "0.weight", "0.bias", "2.bias"} and max(errors.values()) < 1e-7
    errors = gradcheck(TiedAutoencoder(), np.random.default_rng(2).standard_normal((4, 5)))
    assert set(errors) == {"input", "encoder.weight", "encoder.bias", "decoder_bias"}
    assert max(errors.values()) < 1e-7


def test_train_and_eval_recurse():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Sequential(nn.Tanh())))
    assert model.eval() is model
    assert [m.training for m in model.modules()] == [False] * 6
    model.train()
    assert all(m.training for m in model.modules())
    model[1].eval()
    assert [m.training for m in model.modules()] == [True, True, False, False, False, False]


def test_zero_grad_clears_every_gradient():
    model = nndl_mlp()
    model.backward(np.ones_like(model(np.ones((1, 4), dtype=np.float32))))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ---------------------------------------------------------------------- representation and containers


def test_repr_equals_torch_for_a_sequential():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.LeakyReLU(0.2), nn.Linear(8, 2, bias=False)),
                          nn.Flatten(), nn.Identity())
    torch_model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                                      torch.nn.Sequential(torch.nn.LeakyReLU(0.2), torch.nn.Linear(8, 2, bias=False)),
                                      torch.nn.Flatten(), torch.nn.Identity())
    assert repr(model) == repr(torch_model)


def test_sequential_indexing_slicing_len_and_append():
    layers = [nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    assert len(model) == 4
    assert model[0] is layers[0] and model[-1] is layers[3]
    head = model[1:3]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    assert head[0] is layers[1] and head[1] is layers[2]  # a slice shares the modules, as torch
    assert list(head.state_dict()) == ["2.weight", "2.bias"]  # and keeps their names
    assert list(model) == layers
    extra = nn.Tanh()
    assert model.append(extra) is model
    assert len(model) == 5 and model[4] is extra and list(dict(model.named_children())) == ["0", "1", "2", "3", "4"]
    with pytest.raises(IndexError):
        model[5]
    named = nn.Sequential(OrderedDict(fc=nn.Linear(3, 2), act=nn.ReLU()))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_array_equal(model(x), model[4](model[3](model[2](model[1](model[0](x))))))
    assert model.output_shape((7, 3)) == (7, 2)


@pytest.mark.parametrize("start_dim, end_dim", [(1, -1), (0, -1), (1, 2), (2, 3), (-3, -2), (0, 0), (3, 3)])
def test_flatten_parity_with_torch(start_dim, end_dim):
    check_layer(nn.Flatten(start_dim, end_dim), (2, 3, 4, 5), torch.nn.Flatten(start_dim, end_dim))
    assert repr(nn.Flatten(start_dim, end_dim)) == repr(torch.nn.Flatten(start_dim, end_dim))


def test_flatten_rejects_impossible_axes():
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=2, end_dim=1\): cannot flatten axes 2..1"):
        nn.Flatten(2, 1)(np.zeros((2, 3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"cannot flatten axes 1..-1 of shape \(5,\)"):
        nn.Flatten()(np.zeros(5, dtype=np.float32))


@pytest.mark.parametrize("shape", [(1, 3), (2, 3, 4)])
def test_identity_parity_with_torch(shape):
    errors = check_layer(nn.Identity(), shape, torch.nn.Identity())
    assert errors == {"input": pytest.approx(0.0, abs=1e-9)}


# ---------------------------------------------------------------------- user-defined modules


class ScaledSquare(nn.Module):
    """y = a ⊙ (x Wᵀ + b)²: a user module with its own Parameter and a child layer."""

    def __init__(self, in_features, out_features, rng=None, dtype=np.float32):
        super().__init__(dtype)
        self.linear = nn.Linear(in_features, out_features, rng=rng, dtype=dtype)
        self.scale = nn.Parameter(np.linspace(0.5, 1.5, out_features).astype(dtype))
        self._cache = None

    def forward(self, x):
        z = self.linear(x)
        self._cache = z
        return self.scale.data * z**2

    def backward(self, dout):
        z = self._saved()
        self.scale.accumulate_grad(np.sum(dout * z**2, axis=0))
        return self.linear.backward(2 * self.scale.data * z * dout)

    def output_shape(self, input_shape):
        return self.linear.output_shape(input_shape)


def test_user_defined_module_registers_like_torch_and_passes_gradcheck():
    class TorchScaledSquare(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(4, 3)
            self.scale = torch.nn.Parameter(torch.ones(3))

    module = ScaledSquare(4, 3, rng=0)
    # A module's own parameters come before its children's, in torch as here.
    assert [name for name, _ in module.named_parameters()] == ["scale", "linear.weight", "linear.bias"]
    assert list(module.state_dict()) == list(TorchScaledSquare().state_dict())
    assert repr(module) == "ScaledSquare(\n  (linear): Linear(in_features=4, out_features=3, bias=True)\n)"
    errors = check_layer(module, (5, 4))
    assert set(errors) == {"input", "linear.weight", "linear.bias", "scale"}


def test_assigning_before_super_init_is_an_error():
    class Broken(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(np.zeros(2, dtype=np.float32))

    with pytest.raises(AttributeError, match=r"Broken: call super\(\)\.__init__\(\) before assigning"):
        Broken()


def test_torch_parity_helper_detects_a_mismatch():
    # The parity check itself can fail: a layer with a different slope than torch's is caught.
    with pytest.raises(AssertionError, match="forward"):
        assert_torch_parity(nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.1), -np.ones((2, 2)))

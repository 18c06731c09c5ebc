"""nn.Parallel with named heads: a dict out, a dict (or a tuple in the same order) back."""

import numpy as np
import pytest
import torch

from nndl import nn
from nndl.check import gradcheck
from nndl.nn.core.config import from_config, to_config
from tests.layer_checks import GRAD_TOL, load_into_torch


def heads():
    return nn.Parallel(digit=nn.Linear(4, 3, rng=0), parity=nn.Sequential(nn.Linear(4, 2, rng=1), nn.Tanh()))


def test_named_heads_return_a_dict_and_match_torch():
    module = heads()
    x = np.random.default_rng(1).standard_normal((3, 4))
    module.to(np.float64)
    outs = module(x)
    assert isinstance(outs, dict) and list(outs) == ["digit", "parity"]
    assert module.output_shape((3, 4)) == {"digit": (3, 3), "parity": (3, 2)}
    assert [n for n, _ in module.named_parameters()] == ["digit.weight", "digit.bias", "parity.0.weight",
                                                        "parity.0.bias"]
    torch_heads = torch.nn.ModuleDict({"digit": torch.nn.Linear(4, 3),
                                       "parity": torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Tanh())})
    load_into_torch(module, torch_heads)
    tx = torch.tensor(x, requires_grad=True)
    torch_outs = {name: head(tx) for name, head in torch_heads.items()}
    for name in outs:
        np.testing.assert_allclose(outs[name], torch_outs[name].detach().numpy(), rtol=1e-6)
    # L = 1.0·L_digit + 0.5·L_parity: each head gets its weighted δ, the trunk their sum.
    douts = {name: np.random.default_rng(5 + i).standard_normal(o.shape) for i, (name, o) in enumerate(outs.items())}
    dx = module.backward({"digit": douts["digit"], "parity": 0.5 * douts["parity"]})
    ((torch_outs["digit"] * torch.from_numpy(douts["digit"])).sum()
     + 0.5 * (torch_outs["parity"] * torch.from_numpy(douts["parity"])).sum()).backward()
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-6)
    torch_params = dict(torch_heads.named_parameters())
    for name, param in module.named_parameters():
        np.testing.assert_allclose(param.grad, torch_params[name].grad.numpy(), rtol=1e-6)


class Outputs(nn.Module):
    """The dict of a named Parallel as a tuple in head order (gradcheck's form of several outputs)."""

    def __init__(self, inner):
        super().__init__(inner.dtype)
        self.inner = inner

    def forward(self, x):
        return tuple(self.inner(x).values())

    def backward(self, douts):
        return nn.backward(self.inner, dict(zip(self.inner._modules, douts)))


def test_named_heads_gradcheck():
    errors = gradcheck(Outputs(heads()), np.random.default_rng(0).standard_normal((3, 4)))
    assert max(errors.values()) < GRAD_TOL and len(errors) == 5


def test_backward_forms_and_errors():
    module = heads()
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    outs = module(x)
    d_digit = np.ones_like(outs["digit"])
    by_dict = module.backward({"digit": d_digit})                 # a head left out has no loss
    np.testing.assert_allclose(by_dict, d_digit @ module["digit"].weight.data)
    np.testing.assert_array_equal(module.backward((d_digit, None)), by_dict)   # a tuple in head order
    np.testing.assert_array_equal(module.backward({}), np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"unknown heads \['parrity'\]; the heads are \['digit', 'parity'\]"):
        module.backward({"parrity": d_digit})
    with pytest.raises(ValueError, match=r"expects a dict keyed by \['digit', 'parity'\] or a tuple of 2"):
        module.backward((d_digit,))
    with pytest.raises(ValueError, match="positionally or by name, not both"):
        nn.Parallel(nn.Linear(2, 2), other=nn.Linear(2, 2))
    # A positional Parallel keeps its tuple form and refuses a dict.
    plain = nn.Parallel(nn.Linear(4, 3, rng=0), nn.Linear(4, 2, rng=1))
    assert isinstance(plain(x), tuple)
    with pytest.raises(ValueError, match="expects a tuple of 2 gradients"):
        plain.backward({"0": d_digit})


def test_dict_argument_also_names_the_heads_and_configs_rebuild_them():
    module = nn.Parallel({"a": nn.Linear(4, 3, rng=0), "b": nn.Linear(4, 2, rng=1)})
    x = np.zeros((2, 4), dtype=np.float32)
    assert list(module(x)) == ["a", "b"]
    model = nn.Sequential(nn.Linear(4, 4, rng=2), heads())
    rebuilt = from_config(to_config(model))
    rebuilt.load_state_dict(model.state_dict())
    out, again = model(x), rebuilt(x)
    assert list(again) == ["digit", "parity"]
    for name in out:
        np.testing.assert_array_equal(out[name], again[name])


def test_summary_shows_one_shape_per_named_head():
    from nndl.summary import summary

    model = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Parallel(digit=nn.Linear(6, 10), parity=nn.Linear(6, 2)))
    rows = {row.name: row for row in summary(model, (8,)).rows}
    assert rows["2"].output_shape == ((1, 10), (1, 2)) and rows["2"].activation_size == 12
    assert rows["2.parity"].output_shape == (1, 2)

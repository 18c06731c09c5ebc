"""The generic checks every layer and loss test uses.

``check_layer`` runs, for one module and one input shape: the predicted
output shape, dtype preservation in float32, the float64 gradient check, and
(when a torch module is given) parity of outputs and gradients with PyTorch
after copying the weights through ``state_dict``.
"""

from __future__ import annotations

import copy

import numpy as np

from nndl.check import gradcheck

GRAD_TOL = 1e-7
TORCH_RTOL = 1e-6


def check_layer(module, input_shape, torch_module=None, rng=0, grad_tol=GRAD_TOL, inputs=None,
                gradcheck_kwargs=None):
    """Assert shape, dtype, gradient and (optionally) torch parity of ``module`` on one input.

    Returns the gradcheck errors so a test can add its own assertions.
    """
    generator = np.random.default_rng(rng)
    x = generator.standard_normal(input_shape) if inputs is None else inputs
    m32 = copy.deepcopy(module).to(np.float32)
    out = m32(x.astype(np.float32))
    assert out.dtype == np.float32, f"{module.describe()} changed float32 to {out.dtype}"
    assert out.shape == m32.output_shape(tuple(input_shape)), (out.shape, m32.output_shape(tuple(input_shape)))
    dx = m32.backward(np.ones_like(out))
    assert dx.shape == tuple(input_shape) and dx.dtype == np.float32
    for name, param in m32.named_parameters():
        assert param.grad is not None and param.grad.dtype == np.float32, name

    errors = gradcheck(module, x, rng=generator, **(gradcheck_kwargs or {}))
    assert errors, "gradcheck checked nothing"
    bad = {k: v for k, v in errors.items() if not v < grad_tol}
    assert not bad, f"gradcheck of {module.describe()} on {input_shape}: {bad}"
    if torch_module is not None:
        assert_torch_parity(module, torch_module, x, rng=generator)
    return errors


def _torch():
    # No torch.set_default_dtype here: global state would leak into every later test.
    # Modules are converted with .double() and tensors built from float64 arrays instead.
    import torch

    return torch


def load_into_torch(module, torch_module):
    """Copy nndl weights into ``torch_module`` (strict: names and shapes must agree)."""
    torch = _torch()
    torch_module.double()
    state = {k: torch.from_numpy(np.array(v, dtype=np.float64) if v.dtype.kind == "f" else np.array(v))
             for k, v in module.state_dict().items()}
    torch_module.load_state_dict(state, strict=True)
    return torch_module


def assert_torch_parity(module, torch_module, x, rng=0, rtol=TORCH_RTOL, atol=1e-10, train=True):
    """Same forward output, input gradient and parameter gradients as torch in float64."""
    torch = _torch()
    generator = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    model = copy.deepcopy(module).to(np.float64)
    model.train(train)
    load_into_torch(model, torch_module)
    torch_module.train(train)
    x64 = np.asarray(x, dtype=np.float64)
    out = model(x64)
    tx = torch.tensor(x64, requires_grad=True)
    tout = torch_module(tx)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=rtol, atol=atol, err_msg="forward")
    dout = generator.standard_normal(out.shape)
    model.zero_grad()
    dx = model.backward(dout)
    tout.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=rtol, atol=atol, err_msg="input gradient")
    torch_params = dict(torch_module.named_parameters())
    for name, param in model.named_parameters():
        np.testing.assert_allclose(param.grad, torch_params[name].grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of {name}")


def assert_loss_torch_parity(loss, torch_loss, scores, target, torch_target=None, rtol=TORCH_RTOL, atol=1e-12):
    """Same loss value and ∂L/∂scores as a torch loss, in float64."""
    torch = _torch()
    s64 = np.asarray(scores, dtype=np.float64)
    value = loss(s64, target)
    ts = torch.tensor(s64, requires_grad=True)
    tt = torch.from_numpy(np.asarray(target)) if torch_target is None else torch_target
    tvalue = torch_loss(ts, tt)
    tvalue.backward()
    np.testing.assert_allclose(value, tvalue.item(), rtol=rtol, atol=atol, err_msg="loss value")
    np.testing.assert_allclose(loss.backward(), ts.grad.numpy(), rtol=rtol, atol=atol, err_msg="loss gradient")

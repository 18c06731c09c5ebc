"""Forward and backward hooks: PyTorch's names, signatures, order and values; handles that remove them."""

import numpy as np
import pytest
import torch

from nndl import nn


def twin_models():
    model = nn.Sequential(nn.Linear(4, 5, rng=0, dtype=np.float64), nn.Tanh(), nn.Linear(5, 3, rng=1, dtype=np.float64))
    twin = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).double()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    return model, twin


def as_array(value):
    return None if value is None else np.array(value.detach().numpy() if isinstance(value, torch.Tensor) else value, dtype=float)


def record_everything(model, log):
    handles = []
    for name, module in model.named_modules():
        handles.append(module.register_forward_pre_hook(
            lambda m, inputs, name=name: log.append(("pre", name, as_array(inputs[0])))))
        handles.append(module.register_forward_hook(
            lambda m, inputs, output, name=name: log.append(("forward", name, as_array(output)))))
        handles.append(module.register_full_backward_hook(
            lambda m, grad_input, grad_output, name=name: log.append(
                ("backward", name, as_array(grad_input[0]), as_array(grad_output[0])))))
    return handles


def test_hooks_fire_in_torchs_order_with_torchs_values():
    model, twin = twin_models()
    x = np.random.default_rng(0).standard_normal((2, 4))
    dout = np.random.default_rng(1).standard_normal((2, 3))
    ours, theirs = [], []
    record_everything(model, ours)
    record_everything(twin, theirs)
    out = model(x)
    nn.backward(model, dout)
    tx = torch.tensor(x, requires_grad=True)
    twin(tx).backward(torch.from_numpy(dout))
    assert [entry[:2] for entry in ours] == [entry[:2] for entry in theirs]
    assert len(ours) == 12  # 4 modules × (pre, forward, backward)
    for mine, reference in zip(ours, theirs):
        for a, b in zip(mine[2:], reference[2:]):
            np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=str(mine[:2]))
    np.testing.assert_allclose(out, ours[7][2])


def test_hooks_may_replace_inputs_outputs_and_gradients():
    layer = nn.Linear(3, 2, rng=0, dtype=np.float64)
    x = np.ones((1, 3))
    plain = layer(x)
    layer.register_forward_pre_hook(lambda m, inputs: (inputs[0] * 2,))
    layer.register_forward_hook(lambda m, inputs, output: output + 1)
    np.testing.assert_allclose(layer(x), layer.forward(2 * x) + 1)
    assert not np.allclose(layer(x), plain)
    layer.register_full_backward_pre_hook(lambda m, grad_output: (grad_output[0] * 3,))
    layer.register_full_backward_hook(lambda m, grad_input, grad_output: (grad_input[0] - 5,))
    layer.zero_grad()
    dx = nn.backward(layer, np.ones((1, 2)))
    np.testing.assert_allclose(dx, 3 * np.ones((1, 2)) @ layer.weight.data - 5)
    np.testing.assert_allclose(layer.weight.grad, 3 * np.ones((2, 1)) @ (2 * x))


def test_removed_hooks_stop_firing_and_handles_work_as_context_managers():
    layer = nn.ReLU()
    calls = []
    handle = layer.register_forward_hook(lambda m, i, o: calls.append(1))
    layer(np.ones((1, 2)))
    handle.remove()
    handle.remove()  # a second remove is harmless, as in torch
    layer(np.ones((1, 2)))
    with layer.register_forward_hook(lambda m, i, o: calls.append(2)):
        layer(np.ones((1, 2)))
    layer(np.ones((1, 2)))
    assert calls == [1, 2]


def test_parameter_only_backward_gives_the_first_layer_none_as_in_torch():
    model, _ = twin_models()
    seen = []
    model[0].register_full_backward_hook(lambda m, grad_input, grad_output: seen.append(grad_input))
    model(np.ones((2, 4)))
    assert nn.backward_parameters(model, np.ones((2, 3))) is None
    assert seen == [(None,)]
    assert model[0].weight.grad is not None


def test_a_hook_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        nn.ReLU().register_forward_hook("not a function")


def test_outermost_outputs_are_c_contiguous_unless_channels_last_is_asked_for():
    conv = nn.Conv2d(16, 32, 3, padding=1, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 16, 6, 6)).astype(np.float32)
    out = conv(x)
    assert out.flags.c_contiguous
    dx = nn.backward(conv, np.ones_like(out))
    assert dx.flags.c_contiguous
    inside = []
    model = nn.Sequential(conv, nn.ReLU())
    model[1].register_forward_pre_hook(lambda m, inputs: inside.append(inputs[0]))
    np.testing.assert_array_equal(model(x), np.maximum(out, 0))
    model.to(memory_format="channels_last")
    kept = model(x)
    np.testing.assert_array_equal(kept, np.maximum(out, 0))
    assert kept.strides == inside[-1].strides  # the layout the kernels computed in, kept as asked
    with pytest.raises(ValueError, match="memory_format"):
        model.to(memory_format="nhwc")


def test_named_heads_come_out_c_contiguous_too():
    model = nn.Parallel(wide=nn.Conv2d(16, 32, 3, padding=1, rng=0), narrow=nn.Conv2d(16, 4, 1, rng=1))
    out = model(np.random.default_rng(0).standard_normal((2, 16, 5, 5)).astype(np.float32))
    assert set(out) == {"wide", "narrow"} and all(v.flags.c_contiguous for v in out.values())


def test_a_model_that_ran_pickles_and_copies_with_its_kernel_set():
    import copy
    import pickle

    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng=0), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2, rng=1)).eval()
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32)
    out = model(x)
    for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        # the cached kernel set travels by name: backward works on the copy at once
        np.testing.assert_array_equal(nn.backward(twin, np.ones_like(out)), nn.backward(model, np.ones_like(out)))
        np.testing.assert_array_equal(twin(x), out)

"""Optimizer mechanics: skipped parameters, dtypes, state dicts, validation."""

import numpy as np
import pytest

from nndl import nn, optim
from tests.optim.test_optimizers_torch import CONFIGS, config_id
from tests.optim.tiny_net import TinyNet, make_batches, make_groups


def train(net, optimizer, batches):
    for x, y in batches:
        net.compute_grads(x, y)
        optimizer.step()


# ---------------------------------------------------------------------- skipped parameters
@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_frozen_and_gradless_parameters_are_untouched_and_get_no_state(name):
    net = TinyNet()
    frozen, gradless = net.params[0], net.params[1]
    optimizer = optim.OPTIMIZERS[name](net.params, lr=0.1)
    frozen.requires_grad = False
    before = net.values()
    net.compute_grads(*make_batches(1)[0])
    frozen.grad = np.ones_like(frozen.data)  # even with a gradient, a frozen parameter is skipped
    gradless.grad = None
    optimizer.step()
    after = net.values()
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])
    assert not np.array_equal(after[2], before[2]) and not np.array_equal(after[3], before[3])
    assert frozen not in optimizer.state and gradless not in optimizer.state


def test_zero_grad_clears_every_gradient():
    net = TinyNet()
    optimizer = optim.SGD(net.params, lr=0.1)
    net.compute_grads(*make_batches(1)[0])
    assert all(p.grad is not None for p in net.params)
    optimizer.zero_grad()
    assert all(p.grad is None for p in net.params)


def test_step_returns_closure_loss():
    net = TinyNet()
    optimizer = optim.Adam(net.params, lr=0.01)
    x, y = make_batches(1)[0]
    loss = optimizer.step(lambda: net.compute_grads(x, y))
    assert loss == pytest.approx(TinyNet().compute_grads(x, y), rel=1e-15)


# ---------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_float32_parameters_keep_float32_state(config):
    name, kwargs, groups = config
    net = TinyNet(dtype=np.float32)
    optimizer = getattr(optim, name)(make_groups(net.params, groups), **kwargs)
    train(net, optimizer, make_batches(3, dtype=np.float32))
    for param in net.params:
        assert param.data.dtype == np.float32
        for value in optimizer.state[param].values():
            assert not isinstance(value, np.ndarray) or value.dtype == np.float32


def test_state_follows_module_to_dtype():
    net = TinyNet(dtype=np.float32)
    optimizer = optim.Adam(net.params, lr=0.01)
    train(net, optimizer, make_batches(2, dtype=np.float32))
    net.model.to(np.float64)
    train(net, optimizer, make_batches(2))
    assert all(v.dtype == np.float64 for s in optimizer.state.values() for v in s.values()
               if isinstance(v, np.ndarray))


def test_gradient_of_other_dtype_or_shape_is_an_error():
    param = nn.Parameter(np.zeros(3, dtype=np.float32))
    param.grad = np.ones(3)
    with pytest.raises(TypeError, match=r"SGD: .* group 0 has dtype float32 but its gradient has dtype float64"):
        optim.SGD([param], lr=0.1).step()
    param.grad = np.ones((3, 1), dtype=np.float32)
    with pytest.raises(ValueError, match=r"SGD: .* group 0 has shape \(3,\) but its gradient has shape \(3, 1\)"):
        optim.SGD([param], lr=0.1).step()


# ---------------------------------------------------------------------- state dicts
def storable(value) -> bool:
    """Only containers, numbers, strings and arrays: what a checkpoint writes without pickle."""
    if isinstance(value, dict):
        return all(isinstance(k, (int, str)) and storable(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(storable(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str, np.ndarray))


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_state_dict_round_trip_continues_bit_for_bit(config):
    name, kwargs, groups = config
    batches = make_batches(20)
    net = TinyNet()
    optimizer = getattr(optim, name)(make_groups(net.params, groups), **kwargs)
    train(net, optimizer, batches[:10])
    saved_values, saved_state = net.values(), optimizer.state_dict()
    assert storable(saved_state)
    assert [len(g["params"]) for g in saved_state["param_groups"]] == [len(g["params"]) for g in optimizer.param_groups]
    train(net, optimizer, batches[10:])

    resumed = TinyNet(seed=5)
    resumed.set_values(saved_values)
    fresh = getattr(optim, name)(make_groups(resumed.params, groups), **kwargs)
    fresh.load_state_dict(saved_state)
    train(resumed, fresh, batches[10:])
    for mine, reference in zip(resumed.values(), net.values()):
        np.testing.assert_array_equal(mine, reference)


def test_state_dict_layout_matches_torch():
    net = TinyNet()
    optimizer = optim.Adam([{"params": net.params[:2]}, {"params": net.params[2:], "lr": 0.1}], amsgrad=True)
    train(net, optimizer, make_batches(2))
    state = optimizer.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2, 3]]
    assert state["param_groups"][1]["lr"] == 0.1 and state["param_groups"][0]["lr"] == 1e-3
    assert sorted(state["state"]) == [0, 1, 2, 3]
    assert sorted(state["state"][2]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert state["state"][2]["step"] == 2 and state["state"][2]["exp_avg"].shape == net.params[2].shape


def test_state_dict_arrays_are_copies():
    net = TinyNet()
    optimizer = optim.SGD(net.params, lr=0.1, momentum=0.9)
    train(net, optimizer, make_batches(2))
    saved = optimizer.state_dict()
    buffer = saved["state"][0]["momentum_buffer"].copy()
    train(net, optimizer, make_batches(2, seed=3))
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"], buffer)


def test_load_converts_to_the_parameter_dtype():
    net64, net32 = TinyNet(), TinyNet(dtype=np.float32)
    source = optim.RMSprop(net64.params, momentum=0.5)
    train(net64, source, make_batches(2))
    target = optim.RMSprop(net32.params, momentum=0.5)
    target.load_state_dict(source.state_dict())
    assert target.state[net32.params[0]]["square_avg"].dtype == np.float32


def saved_adam_state():
    net = TinyNet()
    optimizer = optim.Adam(net.params, lr=0.01)
    train(net, optimizer, make_batches(2))
    return optimizer.state_dict()


def extra_group(state):
    state["param_groups"].append(dict(state["param_groups"][0], params=[]))


def drop_param(state):
    state["param_groups"][0]["params"].pop()


def bad_shape(state):
    state["state"][1]["exp_avg"] = np.zeros((2, 2))


def missing_entry(state):
    del state["state"][0]["exp_avg_sq"]


def unknown_entry(state):
    state["state"][0]["momentum_buffer"] = np.zeros(1)


def missing_hyperparameter(state):
    del state["param_groups"][0]["betas"]


def bad_hyperparameter(state):
    state["param_groups"][0]["lr"] = -1.0


def orphan_state(state):
    state["state"][9] = {}


@pytest.mark.parametrize("corrupt, message", [
    (extra_group, r"the optimizer has 1 param group\(s\), the saved state has 2"),
    (drop_param, r"param group 0 has 4 parameter\(s\), the saved one has 3"),
    (bad_shape, r"parameter 1, 'exp_avg': expected a numeric array of shape \(7,\), got shape \(2, 2\)"),
    (missing_entry, r"parameter 0: expected state entries \['exp_avg', 'exp_avg_sq', 'step'\]"),
    (unknown_entry, r"parameter 0: expected state entries .*momentum_buffer"),
    (missing_hyperparameter, r"param group 0: missing hyperparameters \['betas'\]"),
    (bad_hyperparameter, r"param group 0: Adam: invalid lr=-1.0"),
    (orphan_state, r"state for parameter 9, which no saved param group lists"),
])
def test_load_state_dict_rejects_mismatches_and_changes_nothing(corrupt, message):
    state = saved_adam_state()
    corrupt(state)
    net = TinyNet()
    optimizer = optim.Adam(net.params, lr=0.5)
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: " + message):
        optimizer.load_state_dict(state)
    assert optimizer.state == {} and optimizer.param_groups[0]["lr"] == 0.5


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize("cls, kwargs, message", [
    (optim.SGD, dict(lr=-0.1), r"SGD: invalid lr=-0.1; expected 0.0 <= lr"),
    (optim.SGD, dict(lr=0.1, momentum=-0.5), r"SGD: invalid momentum=-0.5"),
    (optim.SGD, dict(lr=0.1, weight_decay=-1e-4), r"SGD: invalid weight_decay=-0.0001"),
    (optim.SGD, dict(lr=0.1, nesterov=True), r"SGD: nesterov=True needs momentum > 0 .*momentum=0.0"),
    (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), r"SGD: .*dampening=0.1"),
    (optim.SGD, dict(lr=float("nan")), r"SGD: invalid lr=nan"),
    (optim.SGD, dict(lr="0.1"), r"SGD: lr must be a real number, got '0.1'"),
    (optim.Adagrad, dict(lr_decay=-0.1), r"Adagrad: invalid lr_decay=-0.1"),
    (optim.Adagrad, dict(initial_accumulator_value=-1.0), r"Adagrad: invalid initial_accumulator_value=-1.0"),
    (optim.Adagrad, dict(eps=-1e-10), r"Adagrad: invalid eps=-1e-10"),
    (optim.RMSprop, dict(alpha=1.5), r"RMSprop: invalid alpha=1.5; expected 0.0 <= alpha <= 1.0"),
    (optim.RMSprop, dict(momentum=-0.9), r"RMSprop: invalid momentum=-0.9"),
    (optim.Adam, dict(betas=(1.0, 0.999)), r"Adam: invalid betas\[0\]=1.0; expected 0.0 <= betas\[0\] < 1.0"),
    (optim.Adam, dict(betas=(0.9, -0.1)), r"Adam: invalid betas\[1\]=-0.1"),
    (optim.Adam, dict(betas=0.9), r"Adam: betas must be a pair"),
    (optim.Adam, dict(eps=-1.0), r"Adam: invalid eps=-1.0"),
    (optim.AdamW, dict(weight_decay=-0.01), r"AdamW: invalid weight_decay=-0.01"),
])
def test_bad_hyperparameters_name_the_optimizer_and_the_value(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(TinyNet().params, **kwargs)


def test_bad_hyperparameter_in_a_param_group_is_caught():
    net = TinyNet()
    with pytest.raises(ValueError, match=r"Adam: invalid lr=-0.5"):
        optim.Adam([{"params": net.params[:2], "lr": -0.5}, {"params": net.params[2:]}])
    with pytest.raises(ValueError, match=r"SGD: unknown hyperparameter\(s\) betas; valid: dampening, lr"):
        optim.SGD([{"params": net.params, "betas": (0.9, 0.99)}])


def test_bad_params_argument():
    net = TinyNet()
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="SGD: params must be an iterable .* got a single Parameter"):
        optim.SGD(net.params[0], lr=0.1)
    with pytest.raises(TypeError, match="SGD: can only optimize nndl Parameters, got ndarray"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="SGD: some parameters appear in more than one param group"):
        optim.SGD([{"params": net.params[:2]}, {"params": net.params[1:]}], lr=0.1)


def test_module_parameters_generator_is_accepted():
    net = TinyNet()
    optimizer = optim.SGD(net.model.parameters(), lr=0.1)
    assert len(optimizer.param_groups[0]["params"]) == 4


def test_registry_lists_valid_names():
    assert optim.get_optimizer("adamw") is optim.AdamW
    assert optim.get_lr_scheduler("plateau") is optim.ReduceLROnPlateau
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'; valid: adagrad, adam, adamw, rmsprop, sgd"):
        optim.get_optimizer("adamax")


# ---------------------------------------------------------------------- pure update functions
def run_update(update, with_work, **kwargs):
    rng = np.random.default_rng(3)
    param, grad = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    buffers = [np.abs(rng.standard_normal((4, 3))) for _ in range(3)]
    work = np.full_like(param, np.nan) if with_work else None  # stale contents must not matter
    if update is optim.sgd_update:
        buffers[0] = update(param, grad, buffers[0], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1,
                            work=work)
    elif update is optim.adagrad_update:
        update(param, grad, buffers[0], 3, lr=0.1, lr_decay=0.1, weight_decay=0.1, work=work)
    elif update is optim.rmsprop_update:
        update(param, grad, buffers[0] + 1.0, lr=0.1, momentum=0.9, momentum_buffer=buffers[1],
               grad_avg=buffers[2] * 0.1, work=work)
    else:
        update(param, grad, buffers[0], buffers[1], 3, lr=0.1, weight_decay=0.1, max_exp_avg_sq=buffers[2],
               work=work)
    return [param] + buffers


@pytest.mark.parametrize("update", [optim.sgd_update, optim.adagrad_update, optim.rmsprop_update,
                                    optim.adam_update])
def test_update_functions_give_the_same_bits_with_or_without_scratch(update):
    for mine, reference in zip(run_update(update, True), run_update(update, False)):
        assert np.all(np.isfinite(mine))
        np.testing.assert_array_equal(mine, reference)


def test_one_scratch_buffer_per_dtype_serves_every_parameter():
    net = TinyNet()
    optimizer = optim.Adam(net.params)
    train(net, optimizer, make_batches(2))
    assert [(dtype, buf.size) for dtype, buf in optimizer._workspace.items()] == [(np.dtype(np.float64), 7 * 5)]

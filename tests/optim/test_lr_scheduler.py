"""Learning-rate schedules: the rate of every epoch equals PyTorch's."""

import math
import warnings

import numpy as np
import pytest
import torch

from nndl import nn, optim

EPOCHS = 30
RTOL = 1e-12
BASE_LRS = (0.1, 0.03)  # two param groups with different rates


def nndl_optimizer():
    params = [nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(3))]
    return optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, BASE_LRS)], momentum=0.9)


def torch_optimizer():
    params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    return torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, BASE_LRS)], momentum=0.9)


def lr_history(optimizer, schedule, epochs=EPOCHS, metrics=None):
    """The rates used in each epoch: read, (train), step the schedule."""
    history = []
    for epoch in range(epochs):
        history.append([group["lr"] for group in optimizer.param_groups])
        assert schedule.get_last_lr() == history[-1]
        optimizer.step()
        if metrics is None:
            schedule.step()
        else:
            schedule.step(metrics[epoch])
    return np.array(history)


# (id, nndl schedule factory, torch schedule factory)
SCHEDULES = [
    ("step", lambda o: optim.StepLR(o, step_size=7, gamma=0.5),
     lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5)),
    ("step-default-gamma", lambda o: optim.StepLR(o, step_size=4),
     lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4)),
    ("multistep", lambda o: optim.MultiStepLR(o, milestones=[20, 3, 8, 8], gamma=0.3),
     lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[20, 3, 8, 8], gamma=0.3)),
    ("exponential", lambda o: optim.ExponentialLR(o, gamma=0.9),
     lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
    ("cosine", lambda o: optim.CosineAnnealingLR(o, T_max=10),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10)),
    ("cosine-eta-min", lambda o: optim.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01)),
    ("inverse-time", lambda o: optim.InverseTimeDecay(o, decay_rate=0.5),
     lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + 0.5 * t))),
    ("warmup-only", lambda o: optim.LinearWarmup(o, warmup_epochs=4),
     lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=1 / 3, total_iters=4)),
    ("warmup-cosine", lambda o: optim.LinearWarmup(o, 5, after=optim.CosineAnnealingLR(o, T_max=10),
                                                   start_factor=0.1),
     lambda o: torch.optim.lr_scheduler.SequentialLR(
         o, [torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5),
             torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10)], milestones=[5])),
    ("warmup-step", lambda o: optim.LinearWarmup(o, 3, after=optim.StepLR(o, step_size=5, gamma=0.5)),
     lambda o: torch.optim.lr_scheduler.SequentialLR(
         o, [torch.optim.lr_scheduler.LinearLR(o, total_iters=3),
             torch.optim.lr_scheduler.StepLR(o, step_size=5, gamma=0.5)], milestones=[3])),
    ("warmup-exponential", lambda o: optim.LinearWarmup(o, 6, after=optim.ExponentialLR(o, gamma=0.8),
                                                        start_factor=0.25),
     lambda o: torch.optim.lr_scheduler.SequentialLR(
         o, [torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=6),
             torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8)], milestones=[6])),
]


@pytest.mark.parametrize("make_ours, make_theirs", [s[1:] for s in SCHEDULES], ids=[s[0] for s in SCHEDULES])
def test_schedule_matches_torch(make_ours, make_theirs):
    optimizer = nndl_optimizer()
    ours = lr_history(optimizer, make_ours(optimizer))
    torch_opt = torch_optimizer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's deprecation notices
        theirs = lr_history(torch_opt, make_theirs(torch_opt))
    assert len(np.unique(theirs[:, 0])) > 3  # the schedule really changes the rate
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=0)


def test_cosine_follows_the_closed_form():
    optimizer = nndl_optimizer()
    history = lr_history(optimizer, optim.CosineAnnealingLR(optimizer, T_max=10, eta_min=0.001))[:, 0]
    t = np.arange(EPOCHS)
    closed = 0.001 + (0.1 - 0.001) * (1 + np.cos(np.pi * t / 10)) / 2
    np.testing.assert_allclose(history, closed, rtol=1e-12)


def test_warmup_is_linear_then_hands_over():
    optimizer = nndl_optimizer()
    history = lr_history(optimizer, optim.LinearWarmup(optimizer, 4, after=optim.ExponentialLR(optimizer, 0.5),
                                                       start_factor=0.2), epochs=7)[:, 0]
    np.testing.assert_allclose(history, [0.02, 0.04, 0.06, 0.08, 0.1, 0.05, 0.025], rtol=1e-14)


def test_inverse_time_decay_values():
    optimizer = nndl_optimizer()
    history = lr_history(optimizer, optim.InverseTimeDecay(optimizer, decay_rate=1.0), epochs=4)[:, 0]
    np.testing.assert_allclose(history, [0.1, 0.05, 0.1 / 3, 0.025], rtol=1e-15)


@pytest.mark.parametrize("make_ours", [s[1] for s in SCHEDULES], ids=[s[0] for s in SCHEDULES])
def test_state_dict_round_trip_continues_identically(make_ours):
    optimizer = nndl_optimizer()
    schedule = make_ours(optimizer)
    lr_history(optimizer, schedule, epochs=12)
    saved_optimizer, saved_schedule = optimizer.state_dict(), schedule.state_dict()
    expected = lr_history(optimizer, schedule, epochs=12)

    fresh_optimizer = nndl_optimizer()
    fresh_schedule = make_ours(fresh_optimizer)  # build the schedule first, then restore (as in PyTorch)
    fresh_optimizer.load_state_dict(saved_optimizer)
    fresh_schedule.load_state_dict(saved_schedule)
    np.testing.assert_array_equal(lr_history(fresh_optimizer, fresh_schedule, epochs=12), expected)


@pytest.mark.parametrize("make, message", [
    (lambda o: optim.StepLR(o, step_size=0), r"StepLR: invalid step_size=0; expected step_size >= 1"),
    (lambda o: optim.StepLR(o, step_size=2.5), r"StepLR: step_size must be an integer, got 2.5"),
    (lambda o: optim.MultiStepLR(o, milestones=[3, -1]), r"MultiStepLR: invalid milestones=-1"),
    (lambda o: optim.ExponentialLR(o, gamma=-0.5), r"ExponentialLR: invalid gamma=-0.5"),
    (lambda o: optim.CosineAnnealingLR(o, T_max=0), r"CosineAnnealingLR: invalid T_max=0"),
    (lambda o: optim.InverseTimeDecay(o, decay_rate=-1.0), r"InverseTimeDecay: invalid decay_rate=-1.0"),
    (lambda o: optim.LinearWarmup(o, 0), r"LinearWarmup: invalid warmup_epochs=0"),
    (lambda o: optim.LinearWarmup(o, 3, start_factor=0.0), r"LinearWarmup: invalid start_factor=0"),
    (lambda o: optim.LinearWarmup(o, 3, start_factor=1.5), r"LinearWarmup: invalid start_factor=1.5"),
    (lambda o: optim.LinearWarmup(o, 3, after=optim.StepLR(nndl_optimizer(), 2)),
     r"LinearWarmup: after=StepLR is built on a different optimizer"),
])
def test_bad_schedule_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make(nndl_optimizer())


def test_schedule_needs_an_nndl_optimizer_and_warmup_rejects_plateau():
    with pytest.raises(TypeError, match="StepLR: expected an nndl Optimizer, got SGD"):
        optim.StepLR(torch_optimizer(), 3)
    optimizer = nndl_optimizer()
    with pytest.raises(TypeError, match="LinearWarmup: after must be an nndl LRScheduler .* got ReduceLROnPlateau"):
        optim.LinearWarmup(optimizer, 3, after=optim.ReduceLROnPlateau(optimizer))


def test_load_state_dict_of_another_schedule_is_an_error():
    saved = optim.ExponentialLR(nndl_optimizer(), gamma=0.5).state_dict()
    with pytest.raises(ValueError, match=r"StepLR.load_state_dict: missing keys \['gamma', 'step_size'\] "
                                         r"|StepLR.load_state_dict: missing keys \['step_size'\]"):
        optim.StepLR(nndl_optimizer(), 3).load_state_dict(saved)


def test_schedules_set_initial_lr_like_torch():
    optimizer = nndl_optimizer()
    optim.CosineAnnealingLR(optimizer, T_max=3)
    assert [g["initial_lr"] for g in optimizer.param_groups] == list(BASE_LRS)
    assert math.isclose(optimizer.param_groups[0]["lr"], 0.1)

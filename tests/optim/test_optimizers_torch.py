"""Every optimizer and option: 50 steps on a small network, step for step equal to torch.optim."""

import pytest
import torch

from nndl import optim
from tests.optim.tiny_net import TinyNet, make_batches, make_groups, relative_difference, torch_grads

STEPS = 50
RTOL = 1e-10

# (name, keyword arguments, param groups as [(parameter indices, overrides)] or None).
# Learning rates are small enough that the trajectories stay tame (gradient *ascent* on an MSE grows
# the weights, and a fast-growing trajectory would amplify rounding differences past RTOL).
CONFIGS = [
    ("SGD", dict(lr=0.1), None),
    ("SGD", dict(lr=0.1, momentum=0.9), None),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3), None),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), None),
    ("SGD", dict(lr=0.1, weight_decay=0.05), None),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.05), None),
    ("SGD", dict(lr=0.02, maximize=True), None),
    ("SGD", dict(lr=0.005, momentum=0.9, dampening=0.5, weight_decay=0.01, maximize=True), None),
    ("SGD", dict(lr=0.005, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True), None),
    ("SGD", dict(lr=0.1, momentum=0.9), [([0, 1], dict(lr=0.02, momentum=0.5)), ([2, 3], {})]),
    ("Adagrad", dict(lr=0.1), None),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05), None),
    ("Adagrad", dict(lr=0.1, weight_decay=0.05), None),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.3, eps=1e-6), None),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01, weight_decay=0.01, maximize=True), None),
    ("RMSprop", dict(lr=0.01), None),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6), None),
    ("RMSprop", dict(lr=0.01, centered=True), None),
    ("RMSprop", dict(lr=0.01, momentum=0.9), None),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.05), None),
    ("RMSprop", dict(lr=0.005, momentum=0.5, centered=True, weight_decay=0.01, maximize=True), None),
    ("Adam", dict(lr=0.01), None),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6), None),
    ("Adam", dict(lr=0.01, weight_decay=0.05), None),
    ("Adam", dict(lr=0.01, amsgrad=True), None),
    ("Adam", dict(lr=0.005, amsgrad=True, weight_decay=0.01, maximize=True), None),
    ("Adam", dict(lr=0.01), [([0, 1], dict(lr=0.001, weight_decay=0.1)), ([2, 3], dict(betas=(0.5, 0.9)))]),
    ("AdamW", dict(lr=0.01), None),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True), None),
    ("AdamW", dict(lr=0.005, weight_decay=0.1, maximize=True), None),
]


def config_id(config):
    name, kwargs, groups = config
    text = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{name}({text})" + ("+groups" if groups else "")


def run_nndl(name, kwargs, groups, batches):
    net = TinyNet()
    start = net.values()
    optimizer = getattr(optim, name)(make_groups(net.params, groups), **kwargs)
    for x, y in batches:
        net.compute_grads(x, y)
        optimizer.step()
    return start, net.values()


def run_torch(name, kwargs, groups, batches):
    twin = TinyNet().to_torch()
    optimizer = getattr(torch.optim, name)(make_groups(list(twin.parameters()), groups), **kwargs)
    for x, y in batches:
        torch_grads(twin, x, y)
        optimizer.step()
    return [p.detach().numpy() for p in twin.parameters()]


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_trajectory_matches_torch(config):
    batches = make_batches(STEPS)
    start, ours = run_nndl(*config, batches)
    theirs = run_torch(*config, batches)
    for initial, mine, reference in zip(start, ours, theirs):
        # The parameters really moved, so agreement is not agreement at the start.
        assert relative_difference(initial, reference) > 1e-3
        assert relative_difference(mine, reference) < RTOL


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_defaults_match_torch(name):
    ours = optim.OPTIMIZERS[name]
    theirs = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
              "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    group = ours(TinyNet().params).param_groups[0]
    torch_group = theirs([torch.zeros(2, requires_grad=True)]).param_groups[0]
    for key, value in group.items():
        if key != "params":
            assert torch_group[key] == value, key

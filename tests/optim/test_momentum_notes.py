"""The notes' momentum forms give the same trajectories as SGD's (PyTorch's) form."""

import numpy as np
import pytest

from nndl import optim
from tests.optim.tiny_net import TinyNet, make_batches, relative_difference

STEPS = 40
ALPHA, EPSILON = 0.9, 0.05
# Same trajectory, different rounding (v = −γb is not stored bit for bit).
RTOL = 1e-12


def sgd_trajectory(nesterov, batches):
    net = TinyNet()
    optimizer = optim.SGD(net.params, lr=EPSILON, momentum=ALPHA, nesterov=nesterov)
    for x, y in batches:
        net.compute_grads(x, y)
        optimizer.step()
    return net.values()


def test_notes_momentum_equals_sgd_momentum():
    """000 §8.7 / 001: v ← αv − εg; θ ← θ + v."""
    batches = make_batches(STEPS)
    net = TinyNet()
    start = net.values()
    velocities = [np.zeros_like(p.data) for p in net.params]
    for x, y in batches:
        net.compute_grads(x, y)
        for param, v in zip(net.params, velocities):
            v[...] = ALPHA * v - EPSILON * param.grad
            param.data += v
    expected = sgd_trajectory(False, batches)
    for initial, mine, reference in zip(start, net.values(), expected):
        assert relative_difference(initial, reference) > 1e-2
        assert relative_difference(mine, reference) < RTOL


def test_notes_nesterov_lookahead_form_equals_sgd_nesterov():
    """000 §8.7.1: θ̃ ← θ̃ + v_new + α(v_new − v_old) with v_new = αv_old − εg(θ̃)."""
    batches = make_batches(STEPS)
    net = TinyNet()
    velocities = [np.zeros_like(p.data) for p in net.params]
    for x, y in batches:
        net.compute_grads(x, y)
        for param, v in zip(net.params, velocities):
            previous = v.copy()
            v[...] = ALPHA * v - EPSILON * param.grad
            param.data += v + ALPHA * (v - previous)
    expected = sgd_trajectory(True, batches)
    for mine, reference in zip(net.values(), expected):
        assert relative_difference(mine, reference) < RTOL


def test_notes_nesterov_gradient_at_lookahead_point_equals_sgd_nesterov():
    """v ← αv − εg(θ + αv); θ ← θ + v: SGD's Nesterov parameters are the look-ahead point θ + αv."""
    batches = make_batches(STEPS)
    net = TinyNet()
    velocities = [np.zeros_like(p.data) for p in net.params]
    for x, y in batches:
        theta = net.values()
        net.set_values([t + ALPHA * v for t, v in zip(theta, velocities)])
        net.compute_grads(x, y)
        grads = [p.grad for p in net.params]
        for v, g in zip(velocities, grads):
            v[...] = ALPHA * v - EPSILON * g
        net.set_values([t + v for t, v in zip(theta, velocities)])
    lookahead = [t + ALPHA * v for t, v in zip(net.values(), velocities)]
    expected = sgd_trajectory(True, batches)
    for mine, reference in zip(lookahead, expected):
        assert relative_difference(mine, reference) < RTOL
    # Plain momentum follows another path: the test can tell the two apart.
    plain = sgd_trajectory(False, batches)
    assert max(relative_difference(a, b) for a, b in zip(plain, expected)) > 1e-3


@pytest.mark.parametrize("lr", [0.1, 0.01])
def test_velocity_is_minus_lr_times_buffer(lr):
    """After k steps on constant gradients, b = Σ μ^i g and the notes' v = −γb."""
    param = np.zeros(3)
    grad = np.array([1.0, -2.0, 0.5])
    buffer = None
    v, theta = np.zeros(3), np.zeros(3)
    for _ in range(5):
        buffer = optim.sgd_update(param, grad, buffer, lr=lr, momentum=ALPHA)
        v = ALPHA * v - lr * grad
        theta = theta + v
    np.testing.assert_allclose(-lr * buffer, v, rtol=1e-14)
    np.testing.assert_allclose(param, theta, rtol=1e-14)
    np.testing.assert_allclose(buffer, grad * sum(ALPHA ** i for i in range(5)), rtol=1e-14)

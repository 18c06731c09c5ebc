"""Small networks for the doctor's tests: a He-init ReLU MLP and deep Xavier nets."""

import numpy as np

from nndl import nn


def he_mlp(rng=0, widths=(64, 128, 64, 10), dtype=np.float32):
    rng = np.random.default_rng(rng)
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(fan_in, fan_out, init="kaiming_normal", rng=rng, dtype=dtype))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def deep_net(activation, depth=10, width=64, rng=0):
    """``depth`` Linear layers with ``activation`` between them, Xavier-initialized (the healthy start)."""
    rng = np.random.default_rng(rng)
    layers = []
    for i in range(depth):
        fan_in = 64 if i == 0 else width
        fan_out = 10 if i == depth - 1 else width
        layers.append(nn.Linear(fan_in, fan_out, init="xavier_normal", rng=rng))
        if i < depth - 1:
            layers.append(activation())
    return nn.Sequential(*layers)

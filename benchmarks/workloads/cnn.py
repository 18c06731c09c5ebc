"""Convolutional workloads: LeNet-5 on MNIST-shaped data and a small CIFAR-10-shaped net, float32.

Both train with SGD(lr=0.01, momentum=0.9) and softmax cross-entropy on
synthetic data. ``check()`` compares the loss after one step from the same
weights with dropout switched off on both sides (its masks are random).
"""

from __future__ import annotations

from workloads.classifier import ClassifierWorkload

from nndl import nn


# ---------------------------------------------------------------------- the two networks, side by side
def build_nndl_lenet(seed: int):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2, rng=seed), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, rng=seed + 1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120, rng=seed + 2), nn.ReLU(), nn.Linear(120, 84, rng=seed + 3), nn.ReLU(),
        nn.Linear(84, 10, rng=seed + 4))


def build_torch_lenet():
    import torch.nn as tnn

    return tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
        tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))


def build_nndl_cifar(seed: int):
    def block(c_in, c_out, offset):
        return [nn.Conv2d(c_in, c_out, 3, padding=1, rng=seed + offset), nn.BatchNorm2d(c_out), nn.ReLU()]

    return nn.Sequential(
        *block(3, 32, 0), *block(32, 32, 1), nn.MaxPool2d(2),
        *block(32, 64, 2), *block(64, 64, 3), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(4096, 256, rng=seed + 4), nn.ReLU(), nn.Dropout(0.5, rng=seed + 5), nn.Linear(256, 10, rng=seed + 6))


def build_torch_cifar():
    import torch.nn as tnn

    def block(c_in, c_out):
        return [tnn.Conv2d(c_in, c_out, 3, padding=1), tnn.BatchNorm2d(c_out), tnn.ReLU()]

    return tnn.Sequential(
        *block(3, 32), *block(32, 32), tnn.MaxPool2d(2),
        *block(32, 64), *block(64, 64), tnn.MaxPool2d(2), tnn.Flatten(),
        tnn.Linear(4096, 256), tnn.ReLU(), tnn.Dropout(0.5), tnn.Linear(256, 10))


class LeNetWorkload(ClassifierWorkload):
    """LeNet-5 (ReLU, max-pool) on 1x28x28, batch 128, SGD momentum, float32, 10,240 synthetic samples."""

    input_shape = (1, 28, 28)
    build_nndl = staticmethod(build_nndl_lenet)
    build_torch = staticmethod(build_torch_lenet)

    def __init__(self, seed: int = 0, sides=("nndl", "torch")):
        super().__init__(seed, sides, n_samples=10_240, batch_size=128, infer_batch=256)


class CifarWorkload(ClassifierWorkload):
    """CIFAR net 2x[conv32+BN+ReLU], pool, 2x[conv64+BN+ReLU], pool, 4096-256-10 with dropout, batch 64, 1,280 samples."""

    input_shape = (3, 32, 32)
    build_nndl = staticmethod(build_nndl_cifar)
    build_torch = staticmethod(build_torch_cifar)

    def __init__(self, seed: int = 0, sides=("nndl", "torch")):
        super().__init__(seed, sides, n_samples=1_280, batch_size=64, infer_batch=64)

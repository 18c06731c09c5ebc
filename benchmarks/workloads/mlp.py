"""MLP 784-512-256-10 on synthetic MNIST-shaped data, SGD with momentum, float32."""

from __future__ import annotations

from workloads.classifier import ClassifierWorkload

from nndl import nn


def build_nndl_mlp(seed: int):
    return nn.Sequential(nn.Linear(784, 512, rng=seed), nn.ReLU(), nn.Linear(512, 256, rng=seed + 1), nn.ReLU(),
                         nn.Linear(256, 10, rng=seed + 2))


def build_torch_mlp():
    import torch

    return torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                               torch.nn.ReLU(), torch.nn.Linear(256, 10))


class MLPWorkload(ClassifierWorkload):
    """MLP 784-512-256-10, batch 128, SGD(lr=0.01, momentum=0.9), float32, 10,240 synthetic samples."""

    input_shape = (784,)
    build_nndl = staticmethod(build_nndl_mlp)
    build_torch = staticmethod(build_torch_mlp)

    def __init__(self, seed: int = 0, sides=("nndl", "torch")):
        super().__init__(seed, sides, n_samples=10_240, batch_size=128, infer_batch=256)

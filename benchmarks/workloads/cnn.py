"""Convolutional workloads: LeNet-5 on MNIST-shaped data and a small CIFAR-10-shaped net, float32.

Both train with SGD(lr=0.01, momentum=0.9) and softmax cross-entropy on
synthetic data. ``check()`` compares the loss after one step from the same
weights with dropout switched off on both sides (its masks are random).
"""

from __future__ import annotations

import numpy as np

from harness import Task

from nndl import nn, optim
from nndl.nn.module import backward_parameters


def torch_copy(nndl_model, torch_model):
    """Load the nndl model's weights and buffers into the torch model (same state-dict names)."""
    import torch

    torch_model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in nndl_model.state_dict().items()})
    return torch_model


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


# ---------------------------------------------------------------------- generic classifier workload
class ClassifierWorkload:
    """Train and infer one network on synthetic images in both libraries (subclasses fix the network)."""

    input_shape: tuple[int, ...] = ()
    build_nndl = staticmethod(lambda seed: None)
    build_torch = staticmethod(lambda: None)

    def __init__(self, seed: int = 0, sides=("nndl", "torch"), n_samples: int = 10_240, batch_size: int = 128,
                 infer_batch: int = 256):
        rng = np.random.default_rng(seed)
        self.seed = seed
        self.batch_size = batch_size
        self.infer_batch = infer_batch
        self.x = rng.random((n_samples,) + self.input_shape, dtype=np.float32)
        self.y = rng.integers(0, 10, n_samples)
        self.sides = sides
        if "nndl" in sides:
            self.model, self.loss_fn, self.opt = self._nndl_setup()
        if "torch" in sides:
            import torch

            self.tmodel, self.tloss_fn, self.topt = self._torch_setup()
            self.tx = torch.from_numpy(self.x)
            self.ty = torch.from_numpy(self.y)

    def _nndl_setup(self):
        model = self.build_nndl(self.seed)
        return model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def _torch_setup(self):
        import torch

        model = torch_copy(self.build_nndl(self.seed), self.build_torch())
        return model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    @staticmethod
    def nndl_step(model, loss_fn, opt, xb, yb) -> float:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        backward_parameters(model, loss_fn.backward())  # as torch, no gradient for the data
        opt.step()
        return loss

    @staticmethod
    def torch_step(model, loss_fn, opt, xb, yb) -> float:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()

    @staticmethod
    def _dropout_off(model, dropout_types):
        model.train()
        for module in model.modules():
            if isinstance(module, dropout_types):
                module.eval()

    def check(self):
        """Loss on the first batch after one step on it, from the same weights, dropout off on both sides."""
        import torch

        b = self.batch_size
        model, loss_fn, opt = self._nndl_setup()
        self._dropout_off(model, nn.Dropout)
        self.nndl_step(model, loss_fn, opt, self.x[:b], self.y[:b])
        tmodel, tloss_fn, topt = self._torch_setup()
        self._dropout_off(tmodel, torch.nn.Dropout)
        tx, ty = torch.from_numpy(self.x[:b]), torch.from_numpy(self.y[:b])
        self.torch_step(tmodel, tloss_fn, topt, tx, ty)
        model.eval()
        tmodel.eval()
        with torch.no_grad():
            torch_loss = tloss_fn(tmodel(tx), ty).item()
        return loss_fn(model(self.x[:b]), self.y[:b]), torch_loss

    def nndl_train_epoch(self):
        self.model.train()
        for start in range(0, len(self.x), self.batch_size):
            end = start + self.batch_size
            self.nndl_step(self.model, self.loss_fn, self.opt, self.x[start:end], self.y[start:end])

    def torch_train_epoch(self):
        self.tmodel.train()
        for start in range(0, len(self.x), self.batch_size):
            end = start + self.batch_size
            self.torch_step(self.tmodel, self.tloss_fn, self.topt, self.tx[start:end], self.ty[start:end])

    def nndl_infer(self):
        self.model.eval()
        for start in range(0, len(self.x), self.infer_batch):
            self.model(self.x[start:start + self.infer_batch])

    def torch_infer(self):
        import torch

        self.tmodel.eval()
        with torch.no_grad():
            for start in range(0, len(self.x), self.infer_batch):
                self.tmodel(self.tx[start:start + self.infer_batch])

    def tasks(self):
        n = len(self.x)
        nndl_side, torch_side = "nndl" in self.sides, "torch" in self.sides
        return [
            Task(f"train (batch {self.batch_size})", self.nndl_train_epoch if nndl_side else None,
                 self.torch_train_epoch if torch_side else None, n),
            Task(f"infer (batch {self.infer_batch})", self.nndl_infer if nndl_side else None,
                 self.torch_infer if torch_side else None, n),
        ]


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

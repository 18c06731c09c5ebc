"""MLP 784-512-256-10 on synthetic MNIST-shaped data, SGD with momentum, float32."""

from __future__ import annotations

import numpy as np

from harness import Task

from nndl import nn, optim
from nndl.nn.module import backward_parameters


def build_nndl_mlp(seed: int):
    return nn.Sequential(nn.Linear(784, 512, rng=seed), nn.ReLU(), nn.Linear(512, 256, rng=seed + 1), nn.ReLU(),
                         nn.Linear(256, 10, rng=seed + 2))


def torch_copy(nndl_model, torch_model):
    """Load the nndl model's weights into the torch model (same state-dict names)."""
    import torch

    torch_model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in nndl_model.state_dict().items()})
    return torch_model


def build_torch_mlp():
    import torch

    return torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                               torch.nn.ReLU(), torch.nn.Linear(256, 10))


class MLPWorkload:
    """MLP 784-512-256-10, batch 128, SGD(lr=0.01, momentum=0.9), float32, 10,240 synthetic samples."""

    def __init__(self, seed: int = 0, sides=("nndl", "torch"), n_samples: int = 10_240, batch_size: int = 128,
                 infer_batch: int = 256):
        rng = np.random.default_rng(seed)
        self.seed = seed
        self.batch_size = batch_size
        self.infer_batch = infer_batch
        self.x = rng.random((n_samples, 784), dtype=np.float32)
        self.y = rng.integers(0, 10, n_samples)
        self.sides = sides
        if "nndl" in sides:
            self.model, self.loss_fn, self.opt = self._nndl_setup()
        if "torch" in sides:
            self.tmodel, self.tloss_fn, self.topt = self._torch_setup()
            import torch

            self.tx = torch.from_numpy(self.x)
            self.ty = torch.from_numpy(self.y)

    def _nndl_setup(self):
        model = build_nndl_mlp(self.seed)
        return model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def _torch_setup(self):
        import torch

        model = build_torch_mlp()
        torch_copy(build_nndl_mlp(self.seed), model)
        return model, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    # ------------------------------------------------------------------ one training step each
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

    def check(self):
        """Loss on the first batch after one step on it, from the same initial weights."""
        import torch

        b = self.batch_size
        model, loss_fn, opt = self._nndl_setup()
        self.nndl_step(model, loss_fn, opt, self.x[:b], self.y[:b])
        tmodel, tloss_fn, topt = self._torch_setup()
        tx, ty = torch.from_numpy(self.x[:b]), torch.from_numpy(self.y[:b])
        self.torch_step(tmodel, tloss_fn, topt, tx, ty)
        with torch.no_grad():
            torch_loss = tloss_fn(tmodel(tx), ty).item()
        return loss_fn(model(self.x[:b]), self.y[:b]), torch_loss

    # ------------------------------------------------------------------ timed tasks
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
            Task("train (batch 128)", self.nndl_train_epoch if nndl_side else None,
                 self.torch_train_epoch if torch_side else None, n),
            Task(f"infer (batch {self.infer_batch})", self.nndl_infer if nndl_side else None,
                 self.torch_infer if torch_side else None, n),
        ]

"""The workload every benchmark network shares: one epoch of training and of inference in both libraries.

Subclasses fix the network (``build_nndl``/``build_torch``), the input shape and the batch sizes. Both
sides start from the same weights (copied through the state dict), train with SGD(lr=0.01,
momentum=0.9) and softmax cross-entropy on synthetic data, in float32.
"""

from __future__ import annotations

import numpy as np

from harness import Task

from nndl import nn, optim
from nndl.nn.core.hooks import backward_parameters


def torch_copy(nndl_model, torch_model):
    """Load the nndl model's weights and buffers into the torch model (same state-dict names)."""
    import torch

    torch_model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in nndl_model.state_dict().items()})
    return torch_model


class ClassifierWorkload:
    """Train and infer one network on synthetic data in both libraries (subclasses fix the network)."""

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



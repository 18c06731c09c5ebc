"""One entry per exported module: how to build it, what to feed it, its torch twin and its flags.

tests/nn/test_module_table.py runs every check of the design (gradcheck,
torch parity, dtypes, train/eval, config and state-dict round trips,
reference-vs-fast, channels-last input, thread split and the fast kernels'
other paths, the layer's declared facts) over :data:`TABLE`, in both kernel
sets, and fails when a Module class of ``nndl.nn.__all__`` has no entry.
Adding a layer means adding a line here.

An entry's ``inputs`` is a shape (standard-normal float64 input) or a
function ``rng -> tuple of arrays`` (labels, indices, inputs kept off a
kink). ``twin`` builds the torch module with the same arguments (state-dict
keys, outputs and gradients must agree); None says torch has no such module.
Losses get one entry per reduction (:func:`losses`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from nndl import nn

torch = pytest.importorskip("torch")
tnn = torch.nn

REDUCTIONS = ("mean", "sum", "none")

EXCLUDED = {
    "Module": "the abstract base: every other entry exercises it",
    "Loss": "the abstract base of losses: forward is left to subclasses",
}
"""Module classes of ``nndl.nn.__all__`` that have no entry, and why."""


@dataclass(frozen=True)
class Entry:
    """One configuration of one module class.

    Attributes
    ----------
    id : str
        The test id (class name, plus what differs from the default).
    make : callable
        Builds the module (float32, explicit ``rng`` for reproducible weights and masks).
    inputs : tuple of int or callable
        An input shape, or ``rng -> tuple of arrays`` for what a shape cannot say.
    twin : callable or None
        Builds the torch module with the same arguments (for a loss that differs from torch's
        by a constant factor, a callable ``(scores, target) -> loss``).
    mode_dependent : bool
        Train and eval compute differently (dropout, batch statistics).
    params : bool
        Has trainable parameters.
    random : bool
        Draws from a random generator in forward (dropout masks).
    """

    id: str
    make: Callable
    inputs: tuple | Callable
    twin: Callable | None
    mode_dependent: bool = False
    params: bool = False
    random: bool = False

    def draw(self, rng: np.random.Generator) -> tuple:
        """The float64 example inputs (integer labels and indices stay integers)."""
        if callable(self.inputs):
            return tuple(self.inputs(rng))
        return (rng.standard_normal(self.inputs),)

    @property
    def channels_last(self) -> bool:
        """A 4-D (N, C, H, W) first input: also checked stored channels-last (NHWC behind the NCHW shape)."""
        return self.draw(np.random.default_rng(0))[0].ndim == 4


# ---------------------------------------------------------------------- input factories
def off_kink(*shape):
    """Normal values moved away from 0 by 0.1: no finite-difference step crosses the kink of ReLU & co."""
    def draw(rng):
        x = rng.standard_normal(shape)
        return (x + np.copysign(0.1, x),)
    return draw


def unpool_inputs(rng):
    """Pooled values and the flat index of one position inside each 2×2 window of a (2, 3, 6, 8) map."""
    x = rng.standard_normal((2, 3, 3, 4))
    rows = 2 * np.arange(3)[:, None] + rng.integers(0, 2, (2, 3, 3, 4))
    cols = 2 * np.arange(4)[None, :] + rng.integers(0, 2, (2, 3, 3, 4))
    return x, rows * 8 + cols


def regression(rng):
    return rng.standard_normal((3, 4)), rng.standard_normal((3, 4))


def probabilities(rng):
    """BCE: probabilities in [0.1, 0.9] (the log stays away from 0) and soft targets in [0, 1]."""
    return rng.uniform(0.1, 0.9, (3, 4)), rng.random((3, 4))


def logits_and_soft_targets(rng):
    return rng.standard_normal((3, 4)), rng.random((3, 4))


def labels(*shape):
    """Class scores of ``shape`` (class axis 1) and an integer label per sample (and position)."""
    def draw(rng):
        return rng.standard_normal(shape), rng.integers(0, shape[1], (shape[0],) + shape[2:])
    return draw


def soft_labels(rng):
    """Scores and probability targets (each row sums to 1)."""
    z = rng.standard_normal((4, 5))
    return rng.standard_normal((4, 5)), np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


def log_probabilities(rng):
    """NLLLoss reads log-probabilities (log-softmax outputs) and labels."""
    z = rng.standard_normal((4, 5))
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True)), rng.integers(0, 5, 4)


# ---------------------------------------------------------------------- torch twins of nndl's containers
class TorchResidual(tnn.Module):
    """y = block(x) + shortcut(x): torch has no residual container; same children names as nn.Residual."""

    def __init__(self, block, shortcut=None):
        super().__init__()
        self.block, self.shortcut = block, shortcut

    def forward(self, x):
        return self.block(x) + (x if self.shortcut is None else self.shortcut(x))


class TorchConcat(tnn.Module):
    """Branches on one input, concatenated along ``axis`` (children '0', '1', ... as nn.Concat)."""

    def __init__(self, *branches, axis=1):
        super().__init__()
        self.axis = axis
        for i, branch in enumerate(branches):
            self.add_module(str(i), branch)

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.children()], dim=self.axis)


class TorchParallel(tnn.Module):
    """Heads on one input, a tuple out (children '0', '1', ... as nn.Parallel)."""

    def __init__(self, *heads):
        super().__init__()
        for i, head in enumerate(heads):
            self.add_module(str(i), head)

    def forward(self, x):
        return tuple(head(x) for head in self.children())


def times(factor, torch_loss):
    """A torch loss scaled by a constant (a twin for a loss that differs from torch's by a convention)."""
    return lambda scores, target: factor * torch_loss(scores, target)


def t64(values):
    return torch.tensor(values, dtype=torch.float64)


E = Entry
W5 = [0.5, 1.0, 2.0, 1.5, 0.8]  # class weights of the weighted cross-entropy entries

LAYERS = [
    # ---- linear and convolution
    E("Linear", lambda: nn.Linear(5, 4, rng=0), (3, 5), lambda: tnn.Linear(5, 4), params=True),
    E("Linear[batch1,no-bias]", lambda: nn.Linear(5, 4, bias=False, rng=0), (1, 5),
      lambda: tnn.Linear(5, 4, bias=False), params=True),
    E("Maxout", lambda: nn.Maxout(5, 4, pieces=3, rng=0), (3, 5),
      None, params=True),  # torch has no maxout module
    E("Conv2d", lambda: nn.Conv2d(3, 4, 3, padding=1, rng=0), (2, 3, 6, 5),
      lambda: tnn.Conv2d(3, 4, 3, padding=1), params=True),
    E("Conv2d[stride,dilation,groups]", lambda: nn.Conv2d(4, 6, 3, stride=2, dilation=2, groups=2, rng=0),
      (2, 4, 9, 8), lambda: tnn.Conv2d(4, 6, 3, stride=2, dilation=2, groups=2), params=True),
    E("Conv2d[reflect]", lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect", rng=0), (2, 2, 5, 4),
      lambda: tnn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), params=True),
    E("Conv2d[circular,rect]", lambda: nn.Conv2d(2, 3, (3, 2), padding=(1, 2), padding_mode="circular", rng=0),
      (1, 2, 5, 4), lambda: tnn.Conv2d(2, 3, (3, 2), padding=(1, 2), padding_mode="circular"), params=True),
    # 16 channels and filters: the fast kernels' row layout and channels-last output
    E("Conv2d[16ch]", lambda: nn.Conv2d(16, 16, 3, padding=1, rng=0), (2, 16, 5, 4),
      lambda: tnn.Conv2d(16, 16, 3, padding=1), params=True),
    E("Conv2d[1x1,16ch,no-bias]", lambda: nn.Conv2d(16, 16, 1, bias=False, rng=0), (2, 16, 3, 4),
      lambda: tnn.Conv2d(16, 16, 1, bias=False), params=True),
    E("ConvTranspose2d", lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1, rng=0),
      (2, 3, 4, 5), lambda: tnn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), params=True),
    E("ConvTranspose2d[groups,dilation]", lambda: nn.ConvTranspose2d(4, 6, 3, groups=2, dilation=2, rng=0),
      (2, 4, 3, 3), lambda: tnn.ConvTranspose2d(4, 6, 3, groups=2, dilation=2), params=True),
    # ---- pooling and resampling (random inputs: no ties within a finite-difference step)
    E("MaxPool2d", lambda: nn.MaxPool2d(2), (2, 3, 6, 6), lambda: tnn.MaxPool2d(2)),
    E("MaxPool2d[pad,ceil]", lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 7, 6),
      lambda: tnn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)),
    E("MaxPool2d[dilation,overlap]", lambda: nn.MaxPool2d(2, stride=1, dilation=2), (1, 2, 6, 5),
      lambda: tnn.MaxPool2d(2, stride=1, dilation=2)),
    E("MaxPool2d[indices]", lambda: nn.MaxPool2d(2, return_indices=True), (2, 3, 4, 6),
      lambda: tnn.MaxPool2d(2, return_indices=True)),  # (out, indices) out; indices must equal torch's
    E("AvgPool2d", lambda: nn.AvgPool2d(2), (2, 3, 6, 4), lambda: tnn.AvgPool2d(2)),
    E("AvgPool2d[pad,exclude,ceil]", lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False,
                                                           ceil_mode=True),
      (2, 3, 7, 6), lambda: tnn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True)),
    E("AdaptiveAvgPool2d", lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 5, 7), lambda: tnn.AdaptiveAvgPool2d((2, 3))),
    E("GlobalAvgPool2d", lambda: nn.GlobalAvgPool2d(), (2, 3, 4, 5),
      lambda: tnn.Sequential(tnn.AdaptiveAvgPool2d(1), tnn.Flatten())),  # drops H, W: torch's pool + flatten
    E("MaxUnpool2d", lambda: nn.MaxUnpool2d(2), unpool_inputs, lambda: tnn.MaxUnpool2d(2)),
    E("Upsample", lambda: nn.Upsample(scale_factor=2), (2, 3, 3, 4), lambda: tnn.Upsample(scale_factor=2)),
    E("Upsample[2x3]", lambda: nn.Upsample(scale_factor=(2, 3)), (1, 2, 3, 2),
      lambda: tnn.Upsample(scale_factor=(2.0, 3.0))),
    # ---- normalization (batch norm: batch statistics in train, running ones in eval)
    E("BatchNorm1d", lambda: nn.BatchNorm1d(4), (5, 4), lambda: tnn.BatchNorm1d(4), mode_dependent=True, params=True),
    E("BatchNorm1d[3d]", lambda: nn.BatchNorm1d(4), (3, 4, 6), lambda: tnn.BatchNorm1d(4),
      mode_dependent=True, params=True),
    E("BatchNorm2d", lambda: nn.BatchNorm2d(3), (4, 3, 3, 5), lambda: tnn.BatchNorm2d(3),
      mode_dependent=True, params=True),
    E("BatchNorm2d[16ch,cumulative]", lambda: nn.BatchNorm2d(16, momentum=None), (2, 16, 3, 3),
      lambda: tnn.BatchNorm2d(16, momentum=None), mode_dependent=True, params=True),
    E("BatchNorm2d[no-affine]", lambda: nn.BatchNorm2d(3, affine=False), (2, 3, 4, 4),
      lambda: tnn.BatchNorm2d(3, affine=False), mode_dependent=True),
    # without running statistics eval also normalizes with the batch's: same as train
    E("BatchNorm2d[no-running-stats]", lambda: nn.BatchNorm2d(3, track_running_stats=False), (2, 3, 4, 4),
      lambda: tnn.BatchNorm2d(3, track_running_stats=False), params=True),
    E("LayerNorm", lambda: nn.LayerNorm(5), (3, 5), lambda: tnn.LayerNorm(5), params=True),
    E("LayerNorm[2d,no-bias]", lambda: nn.LayerNorm((3, 4), bias=False), (2, 3, 3, 4),
      lambda: tnn.LayerNorm((3, 4), bias=False), params=True),
    E("LayerNorm[no-affine]", lambda: nn.LayerNorm(6, elementwise_affine=False), (2, 3, 6),
      lambda: tnn.LayerNorm(6, elementwise_affine=False)),
    E("LocalResponseNorm", lambda: nn.LocalResponseNorm(3, alpha=0.1, beta=0.75, k=2.0), (2, 5, 3, 4),
      lambda: tnn.LocalResponseNorm(3, alpha=0.1, beta=0.75, k=2.0)),  # large alpha: the window term matters
    # ---- dropout (random masks in train, identity in eval; torch's masks differ, so parity is in eval)
    E("Dropout", lambda: nn.Dropout(0.3, rng=0), (4, 6), lambda: tnn.Dropout(0.3), mode_dependent=True, random=True),
    E("Dropout[4d]", lambda: nn.Dropout(0.5, rng=1), (2, 3, 4, 4), lambda: tnn.Dropout(0.5),
      mode_dependent=True, random=True),
    E("Dropout2d", lambda: nn.Dropout2d(0.5, rng=0), (3, 4, 3, 3), lambda: tnn.Dropout2d(0.5),
      mode_dependent=True, random=True),
    E("GaussianNoise", lambda: nn.GaussianNoise(0.3, rng=0), (4, 6), None, mode_dependent=True, random=True),
    # ---- shape
    E("Flatten", lambda: nn.Flatten(), (2, 3, 4, 2), lambda: tnn.Flatten()),
    E("Flatten[1..2]", lambda: nn.Flatten(1, 2), (2, 3, 4, 2), lambda: tnn.Flatten(1, 2)),
    E("Identity", lambda: nn.Identity(), (2, 3), lambda: tnn.Identity()),
    # ---- activations (kinked ones fed inputs off the kink)
    E("ReLU", lambda: nn.ReLU(), off_kink(3, 4), lambda: tnn.ReLU()),
    E("ReLU[4d]", lambda: nn.ReLU(), off_kink(2, 3, 4, 5), lambda: tnn.ReLU()),
    E("LeakyReLU", lambda: nn.LeakyReLU(0.1), off_kink(2, 3, 4, 3), lambda: tnn.LeakyReLU(0.1)),
    E("ELU", lambda: nn.ELU(0.7), off_kink(3, 5), lambda: tnn.ELU(0.7)),
    E("Sigmoid", lambda: nn.Sigmoid(), (2, 3, 3, 4), lambda: tnn.Sigmoid()),
    E("Tanh", lambda: nn.Tanh(), (3, 5), lambda: tnn.Tanh()),
    E("Softplus", lambda: nn.Softplus(beta=2.0), (3, 5), lambda: tnn.Softplus(beta=2.0)),
    E("Step", lambda: nn.Step(), off_kink(3, 5), None),  # torch has no unit-step module (its derivative is 0)
    E("PReLU", lambda: nn.PReLU(), off_kink(3, 5), lambda: tnn.PReLU(), params=True),
    E("PReLU[channels]", lambda: nn.PReLU(3, init=0.1), off_kink(2, 3, 4, 4),
      lambda: tnn.PReLU(3, init=0.1), params=True),
    E("Softmax", lambda: nn.Softmax(), (3, 5), lambda: tnn.Softmax(dim=-1)),
    E("Softmax[axis1,4d]", lambda: nn.Softmax(axis=1), (2, 4, 3, 3), lambda: tnn.Softmax(dim=1)),
    E("LogSoftmax", lambda: nn.LogSoftmax(), (3, 5), lambda: tnn.LogSoftmax(dim=-1)),
    # ---- containers
    E("Sequential", lambda: nn.Sequential(nn.Linear(5, 6, rng=0), nn.Tanh(), nn.Linear(6, 3, rng=1)), (4, 5),
      lambda: tnn.Sequential(tnn.Linear(5, 6), tnn.Tanh(), tnn.Linear(6, 3)), params=True),
    # a bias before batch norm has a zero gradient (the mean is subtracted): none, as in ResNets
    E("Sequential[cnn]",
      lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False, rng=0), nn.BatchNorm2d(4), nn.Tanh(),
                            nn.AvgPool2d(2), nn.Flatten(), nn.Linear(24, 3, rng=1)),
      (2, 3, 4, 6),
      lambda: tnn.Sequential(tnn.Conv2d(3, 4, 3, padding=1, bias=False), tnn.BatchNorm2d(4), tnn.Tanh(),
                             tnn.AvgPool2d(2), tnn.Flatten(), tnn.Linear(24, 3)),
      mode_dependent=True, params=True),
    E("Residual", lambda: nn.Residual(nn.Sequential(nn.Linear(4, 4, rng=0), nn.Tanh())), (3, 4),
      lambda: TorchResidual(tnn.Sequential(tnn.Linear(4, 4), tnn.Tanh())), params=True),
    E("Residual[shortcut]", lambda: nn.Residual(nn.Linear(4, 3, rng=0), nn.Linear(4, 3, bias=False, rng=1)), (3, 4),
      lambda: TorchResidual(tnn.Linear(4, 3), tnn.Linear(4, 3, bias=False)), params=True),
    E("Concat", lambda: nn.Concat(nn.Conv2d(3, 2, 1, rng=0), nn.Identity(), nn.Conv2d(3, 2, 3, padding=1, rng=1)),
      (2, 3, 4, 4), lambda: TorchConcat(tnn.Conv2d(3, 2, 1), tnn.Identity(), tnn.Conv2d(3, 2, 3, padding=1)),
      params=True),
    E("Parallel", lambda: nn.Parallel(nn.Linear(4, 2, rng=0), nn.Sigmoid()), (3, 4),
      lambda: TorchParallel(tnn.Linear(4, 2), tnn.Sigmoid()), params=True),
]


def losses(name, make, inputs, twin):
    """One entry per reduction; ``make`` and ``twin`` take the reduction."""
    return [E(f"{name}[{r}]", lambda r=r: make(r), inputs, twin and (lambda r=r: twin(r))) for r in REDUCTIONS]


LOSSES = [
    *losses("MSELoss", lambda r: nn.MSELoss(reduction=r), regression, lambda r: tnn.MSELoss(reduction=r)),
    *losses("MSELoss-half", lambda r: nn.MSELoss(reduction=r, half=True), regression,
            lambda r: times(0.5, tnn.MSELoss(reduction=r))),  # the notes' ½(h − y)²: half of torch's
    *losses("L1Loss", lambda r: nn.L1Loss(reduction=r), regression, lambda r: tnn.L1Loss(reduction=r)),
    *losses("BCELoss", lambda r: nn.BCELoss(reduction=r), probabilities, lambda r: tnn.BCELoss(reduction=r)),
    *losses("BCEWithLogitsLoss", lambda r: nn.BCEWithLogitsLoss(reduction=r, pos_weight=[0.5, 1.0, 2.0, 3.0]),
            logits_and_soft_targets,
            lambda r: tnn.BCEWithLogitsLoss(reduction=r, pos_weight=t64([0.5, 1.0, 2.0, 3.0]))),
    *losses("SoftmaxCrossEntropy", lambda r: nn.SoftmaxCrossEntropy(reduction=r), labels(4, 5),
            lambda r: tnn.CrossEntropyLoss(reduction=r)),
    # class weights, smoothing and an ignored class together (every label drawn in [0, 5), some are 2)
    *losses("SoftmaxCrossEntropy-options",
            lambda r: nn.SoftmaxCrossEntropy(weight=W5, label_smoothing=0.1, reduction=r, ignore_index=2),
            labels(6, 5), lambda r: tnn.CrossEntropyLoss(weight=t64(W5), label_smoothing=0.1, reduction=r,
                                                         ignore_index=2)),
    *losses("SoftmaxCrossEntropy-soft", lambda r: nn.SoftmaxCrossEntropy(reduction=r), soft_labels,
            lambda r: tnn.CrossEntropyLoss(reduction=r)),
    *losses("SoftmaxCrossEntropy-spatial", lambda r: nn.SoftmaxCrossEntropy(reduction=r), labels(2, 3, 4, 5),
            lambda r: tnn.CrossEntropyLoss(reduction=r)),  # (N, C, H, W) scores, (N, H, W) labels
    *losses("NLLLoss", lambda r: nn.NLLLoss(reduction=r), log_probabilities, lambda r: tnn.NLLLoss(reduction=r)),
    *losses("NLLLoss-weighted", lambda r: nn.NLLLoss(weight=W5, reduction=r), log_probabilities,
            lambda r: tnn.NLLLoss(weight=t64(W5), reduction=r)),
    # the notes' (Weston–Watkins) hinge sums over the wrong classes; torch's divides that sum by C = 5
    *losses("MulticlassHingeLoss", lambda r: nn.MulticlassHingeLoss(margin=0.5, reduction=r), labels(4, 5),
            lambda r: times(5, tnn.MultiMarginLoss(margin=0.5, reduction=r))),
]
TABLE = LAYERS + LOSSES

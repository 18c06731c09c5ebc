"""Zoo blocks against hand-written torch equivalents of torchvision's code (float64, weights via state_dict).

torchvision is not a dependency; each torch module below follows the layer
names and forward of torchvision's block, so that a strict
``load_state_dict`` also checks that the keys agree one-to-one.
"""

import numpy as np
import pytest

from nndl import nn
from nndl.models import BasicBlock, Bottleneck, DenseLayer, Inception
from tests.layer_checks import assert_torch_parity

torch = pytest.importorskip("torch")
tnn = torch.nn


class TorchBasicBlock(tnn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU()
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = tnn.Sequential(tnn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                             tnn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class TorchBottleneck(tnn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.conv3 = tnn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU()
        self.downsample = tnn.Sequential(tnn.Conv2d(inplanes, planes * 4, 1, stride, bias=False),
                                         tnn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + self.downsample(x))


class TorchBasicConv2d(tnn.Module):
    def __init__(self, cin, cout, kernel, padding=0):
        super().__init__()
        self.conv = tnn.Conv2d(cin, cout, kernel, padding=padding, bias=False)
        self.bn = tnn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class TorchInception(tnn.Module):
    def __init__(self, cin, c1, c3r, c3, c5r, c5, pool_proj):
        super().__init__()
        self.branch1 = TorchBasicConv2d(cin, c1, 1)
        self.branch2 = tnn.Sequential(TorchBasicConv2d(cin, c3r, 1), TorchBasicConv2d(c3r, c3, 3, padding=1))
        self.branch3 = tnn.Sequential(TorchBasicConv2d(cin, c5r, 1), TorchBasicConv2d(c5r, c5, 3, padding=1))
        self.branch4 = tnn.Sequential(tnn.MaxPool2d(3, 1, 1, ceil_mode=True), TorchBasicConv2d(cin, pool_proj, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class TorchDenseLayer(tnn.Module):
    """torchvision's _DenseLayer returns the new maps; the block concatenates them to its input."""

    def __init__(self, cin, growth, bn_size):
        super().__init__()
        self.norm1 = tnn.BatchNorm2d(cin)
        self.relu1 = tnn.ReLU()
        self.conv1 = tnn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = tnn.BatchNorm2d(bn_size * growth)
        self.relu2 = tnn.ReLU()
        self.conv2 = tnn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        new = self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))
        return torch.cat([x, new], 1)


def random_batch_norms(module, rng):
    """Non-trivial γ, β (and running statistics) so batch norm is not the identity on both sides."""
    for name, sub in module.named_modules():
        if type(sub).__name__ == "BatchNorm2d":
            sub.weight.data[...] = rng.uniform(0.5, 1.5, sub.weight.shape)
            sub.bias.data[...] = rng.normal(0, 0.1, sub.bias.shape)
            sub.running_mean[...] = rng.normal(0, 0.1, sub.running_mean.shape)
            sub.running_var[...] = rng.uniform(0.5, 1.5, sub.running_var.shape)
    return module


CASES = {
    "basic_identity": (lambda: BasicBlock(4, 4, 1, rng=0), lambda: TorchBasicBlock(4, 4, 1), (2, 4, 6, 6)),
    "basic_downsample": (lambda: BasicBlock(3, 5, 2, rng=0), lambda: TorchBasicBlock(3, 5, 2), (2, 3, 7, 7)),
    "bottleneck": (lambda: Bottleneck(6, 2, 2, rng=0), lambda: TorchBottleneck(6, 2, 2), (2, 6, 6, 6)),
    "inception": (lambda: Inception(5, 2, 3, 4, 2, 3, 2, rng=0), lambda: TorchInception(5, 2, 3, 4, 2, 3, 2),
                  (2, 5, 5, 5)),
    "dense_layer": (lambda: DenseLayer(4, growth_rate=3, bn_size=2, rng=0), lambda: TorchDenseLayer(4, 3, 2),
                    (2, 4, 5, 5)),
}


@pytest.mark.parametrize("kernels", ["fast", "reference"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_block_matches_torch(name, train, kernels):
    build, build_torch, shape = CASES[name]
    rng = np.random.default_rng(3)
    block = random_batch_norms(build().to(np.float64), rng)
    x = rng.standard_normal(shape)
    with nn.use_kernels(kernels):
        assert_torch_parity(block, build_torch(), x, rng=rng, train=train)

"""Small builders shared by the zoo: layers with the zoo's init, generator and dtype."""

from __future__ import annotations

from nndl import nn


class LayerFactory:
    """Builds conv, linear and batch-norm layers that share one ``init``, generator and dtype."""

    def __init__(self, init, rng, dtype):
        self.init, self.rng, self.dtype = init, rng, dtype

    def conv(self, in_channels, out_channels, kernel_size, stride=1, padding=0, groups=1, bias=True):
        return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, groups=groups,
                         bias=bias, init=self.init, rng=self.rng, dtype=self.dtype)

    def linear(self, in_features, out_features):
        return nn.Linear(in_features, out_features, init=self.init, rng=self.rng, dtype=self.dtype)

    def batch_norm(self, num_features, eps=1e-5):
        return nn.BatchNorm2d(num_features, eps=eps, dtype=self.dtype)

    def relu(self):
        return nn.ReLU(dtype=self.dtype)

    def lrn(self):
        """AlexNet's local response normalization: the paper's k = 2, n = 5, α = 10⁻⁴, β = 0.75.

        PyTorch's (and nndl's) layer divides α by n, hence ``alpha = 5·10⁻⁴``.
        """
        return nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0, dtype=self.dtype)

    def dropout(self, drop_prob):
        return nn.Dropout(drop_prob, rng=self.rng, dtype=self.dtype)

    def classifier(self, in_features, hidden, num_classes, drop_prob=0.5, dropout_first=True):
        """``[Dropout] Linear ReLU [Dropout] Linear ReLU ... Linear`` with torchvision's indices.

        AlexNet puts each dropout before its linear layer (``dropout_first``),
        VGG after each ReLU.
        """
        layers, fan_in = [], in_features
        for size in hidden:
            if dropout_first:
                layers += [self.dropout(drop_prob), self.linear(fan_in, size), self.relu()]
            else:
                layers += [self.linear(fan_in, size), self.relu(), self.dropout(drop_prob)]
            fan_in = size
        layers.append(self.linear(fan_in, num_classes))
        return nn.Sequential(*layers, dtype=self.dtype)

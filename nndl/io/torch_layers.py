"""One nndl layer to the torch layer computing the same thing, and back (no weights copied here).

Every leaf of an nndl model (a module without children) has a row in
:data:`TO_TORCH`, keyed by class: a function that builds the torch layer
from the nndl layer's attributes. :data:`FROM_TORCH` is the reverse, keyed
by the torch class name. Weights are copied for the whole tree at once by a
strict ``load_state_dict``, since both sides use the same keys.

Four nndl layers have no torch class; they become small torch modules
defined here (:func:`torch_extras`): ``Step`` (``x > 0``), ``Maxout``
(one ``Linear`` of ``pieces·M`` outputs, piece-major, then the maximum over
the pieces), ``GlobalAvgPool2d`` (the mean over ``H × W``) and
``GaussianNoise`` (noise in training only).

torch's ``Softplus`` has ``threshold=20`` (it returns ``z`` where ``βz > 20``)
and nndl's needs none; the two differ there by less than ``2.1e-9/β``.
"""

from __future__ import annotations

import functools

from nndl import nn


def import_torch():
    """``torch``, or an ImportError that says which extra installs it."""
    try:
        import torch
    except ImportError as exc:
        raise ImportError("nndl.io torch interop needs PyTorch: pip install 'nndl[interop]'") from exc
    return torch


@functools.cache
def torch_extras() -> dict:
    """torch modules for the nndl layers torch does not have (Step, Maxout, GlobalAvgPool2d, GaussianNoise)."""
    torch = import_torch()

    class Step(torch.nn.Module):
        """Heaviside step ``H(z) = 1`` for ``z > 0``, else 0 (nndl.nn.Step)."""

        def forward(self, x):
            return (x > 0).to(x.dtype)

    class Maxout(torch.nn.Module):
        """``y_j = max_k (W x + b)[k·M + j]`` (nndl.nn.Maxout): the rows of ``weight`` are piece-major."""

        def __init__(self, in_features, out_features, pieces, bias=True):
            super().__init__()
            self.out_features, self.pieces = out_features, pieces
            self.weight = torch.nn.Parameter(torch.empty(pieces * out_features, in_features))
            self.bias = torch.nn.Parameter(torch.empty(pieces * out_features)) if bias else None

        def forward(self, x):
            z = torch.nn.functional.linear(x, self.weight, self.bias)
            return z.unflatten(-1, (self.pieces, self.out_features)).amax(dim=-2)

    class GlobalAvgPool2d(torch.nn.Module):
        """Mean over ``H × W``: ``(N, C, H, W) -> (N, C)`` (nndl.nn.GlobalAvgPool2d)."""

        def forward(self, x):
            return x.mean(dim=(2, 3))

    class GaussianNoise(torch.nn.Module):
        """``x + σε``, ``ε ~ N(0, I)``, in training; the identity in evaluation (nndl.nn.GaussianNoise)."""

        def __init__(self, std=0.1):
            super().__init__()
            self.std = std

        def forward(self, x):
            return x + self.std * torch.randn_like(x) if self.training and self.std > 0 else x

    return {"Step": Step, "Maxout": Maxout, "GlobalAvgPool2d": GlobalAvgPool2d, "GaussianNoise": GaussianNoise}


def _conv(t, m):
    padding = m.padding if isinstance(m.padding, str) else tuple(m.padding)
    return t.nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, padding, m.dilation, m.groups,
                       bias=m.bias is not None, padding_mode=m.padding_mode)


def _conv_transpose(t, m):
    return t.nn.ConvTranspose2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.output_padding,
                                m.groups, bias=m.bias is not None, dilation=m.dilation)


def _batch_norm(cls_name):
    def build(t, m):
        return getattr(t.nn, cls_name)(m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats)
    return build


def _layer_norm(t, m):
    return t.nn.LayerNorm(m.normalized_shape, m.eps, m.elementwise_affine,
                          bias=m.elementwise_affine and m.bias is not None)


TO_TORCH = {
    nn.Linear: lambda t, m: t.nn.Linear(m.in_features, m.out_features, bias=m.bias is not None),
    nn.Conv2d: _conv,
    nn.ConvTranspose2d: _conv_transpose,
    nn.MaxPool2d: lambda t, m: t.nn.MaxPool2d(m.kernel_size, m.stride, m.padding, m.dilation, m.return_indices,
                                              m.ceil_mode),
    nn.AvgPool2d: lambda t, m: t.nn.AvgPool2d(m.kernel_size, m.stride, m.padding, m.ceil_mode,
                                              m.count_include_pad),
    nn.AdaptiveAvgPool2d: lambda t, m: t.nn.AdaptiveAvgPool2d(m.output_size),
    nn.GlobalAvgPool2d: lambda t, m: torch_extras()["GlobalAvgPool2d"](),
    nn.BatchNorm1d: _batch_norm("BatchNorm1d"),
    nn.BatchNorm2d: _batch_norm("BatchNorm2d"),
    nn.LayerNorm: _layer_norm,
    nn.LocalResponseNorm: lambda t, m: t.nn.LocalResponseNorm(m.size, m.alpha, m.beta, m.k),
    nn.Dropout: lambda t, m: t.nn.Dropout(m.drop_prob),
    nn.Dropout2d: lambda t, m: t.nn.Dropout2d(m.drop_prob),
    nn.Flatten: lambda t, m: t.nn.Flatten(m.start_dim, m.end_dim),
    nn.Identity: lambda t, m: t.nn.Identity(),
    nn.MaxUnpool2d: lambda t, m: t.nn.MaxUnpool2d(m.kernel_size, m.stride, m.padding),
    nn.Upsample: lambda t, m: t.nn.Upsample(scale_factor=tuple(float(s) for s in m.scale_factor), mode=m.mode),
    nn.ReLU: lambda t, m: t.nn.ReLU(),
    nn.LeakyReLU: lambda t, m: t.nn.LeakyReLU(m.negative_slope),
    nn.ELU: lambda t, m: t.nn.ELU(m.alpha),
    nn.Sigmoid: lambda t, m: t.nn.Sigmoid(),
    nn.Tanh: lambda t, m: t.nn.Tanh(),
    nn.Softplus: lambda t, m: t.nn.Softplus(m.beta),
    nn.Step: lambda t, m: torch_extras()["Step"](),
    nn.GaussianNoise: lambda t, m: torch_extras()["GaussianNoise"](m.std),
    nn.PReLU: lambda t, m: t.nn.PReLU(m.num_parameters, m.init),
    nn.Softmax: lambda t, m: t.nn.Softmax(m.axis),
    nn.LogSoftmax: lambda t, m: t.nn.LogSoftmax(m.axis),
    nn.Maxout: lambda t, m: torch_extras()["Maxout"](m.in_features, m.out_features, m.pieces, m.bias is not None),
}
"""nndl leaf class -> ``(torch, layer) -> torch layer``."""


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else value


def _from_conv(m):
    padding = m.padding if isinstance(m.padding, str) else _pair(m.padding)
    return nn.Conv2d(m.in_channels, m.out_channels, _pair(m.kernel_size), stride=_pair(m.stride), padding=padding,
                     dilation=_pair(m.dilation), groups=m.groups, bias=m.bias is not None,
                     padding_mode=m.padding_mode)


def _from_upsample(m):
    factors = m.scale_factor if isinstance(m.scale_factor, tuple) else (m.scale_factor, m.scale_factor)
    if m.size is not None or m.mode != "nearest" or any(f is None or f != int(f) for f in factors):
        raise TypeError(f"from_torch: Upsample(size={m.size}, scale_factor={m.scale_factor}, mode='{m.mode}'): "
                        "nndl's Upsample takes integer scale factors in mode 'nearest' only")
    return nn.Upsample(scale_factor=tuple(int(f) for f in factors))


FROM_TORCH = {
    "Linear": lambda m: nn.Linear(m.in_features, m.out_features, bias=m.bias is not None),
    "Conv2d": _from_conv,
    "ConvTranspose2d": lambda m: nn.ConvTranspose2d(
        m.in_channels, m.out_channels, _pair(m.kernel_size), stride=_pair(m.stride), padding=_pair(m.padding),
        output_padding=_pair(m.output_padding), groups=m.groups, bias=m.bias is not None, dilation=_pair(m.dilation)),
    "MaxPool2d": lambda m: nn.MaxPool2d(_pair(m.kernel_size), _pair(m.stride), _pair(m.padding), _pair(m.dilation),
                                        m.return_indices, m.ceil_mode),
    "AvgPool2d": lambda m: nn.AvgPool2d(_pair(m.kernel_size), _pair(m.stride), _pair(m.padding),
                                        count_include_pad=m.count_include_pad, ceil_mode=m.ceil_mode),
    "AdaptiveAvgPool2d": lambda m: nn.AdaptiveAvgPool2d(_pair(m.output_size)),
    "BatchNorm1d": lambda m: nn.BatchNorm1d(m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats),
    "BatchNorm2d": lambda m: nn.BatchNorm2d(m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats),
    "LayerNorm": lambda m: nn.LayerNorm(m.normalized_shape, m.eps, m.elementwise_affine,
                                        bias=getattr(m, "bias", None) is not None),
    "LocalResponseNorm": lambda m: nn.LocalResponseNorm(m.size, m.alpha, m.beta, m.k),
    "Dropout": lambda m: nn.Dropout(m.p),
    "Dropout2d": lambda m: nn.Dropout2d(m.p),
    "Flatten": lambda m: nn.Flatten(m.start_dim, m.end_dim),
    "Identity": lambda m: nn.Identity(),
    "MaxUnpool2d": lambda m: nn.MaxUnpool2d(_pair(m.kernel_size), _pair(m.stride), _pair(m.padding)),
    "Upsample": _from_upsample,
    "ReLU": lambda m: nn.ReLU(),
    "LeakyReLU": lambda m: nn.LeakyReLU(m.negative_slope),
    "ELU": lambda m: nn.ELU(m.alpha),
    "Sigmoid": lambda m: nn.Sigmoid(),
    "Tanh": lambda m: nn.Tanh(),
    "Softplus": lambda m: nn.Softplus(m.beta),
    "PReLU": lambda m: nn.PReLU(m.num_parameters),
    "Softmax": lambda m: nn.Softmax(m.dim if m.dim is not None else -1),
    "LogSoftmax": lambda m: nn.LogSoftmax(m.dim if m.dim is not None else -1),
    "Step": lambda m: nn.Step(),
    "Maxout": lambda m: nn.Maxout(m.weight.shape[1], m.out_features, m.pieces, bias=m.bias is not None),
    "GlobalAvgPool2d": lambda m: nn.GlobalAvgPool2d(),
    "GaussianNoise": lambda m: nn.GaussianNoise(m.std),
}
"""torch leaf class name (torch.nn's, or this module's extras) -> ``layer -> nndl layer``."""


def torch_leaf(module):
    """The torch layer computing what the nndl leaf ``module`` computes (default weights)."""
    torch = import_torch()
    build = TO_TORCH.get(type(module))
    if build is None:
        raise TypeError(f"to_torch: {type(module).__name__} has no torch equivalent; "
                        f"supported layers: {', '.join(sorted(c.__name__ for c in TO_TORCH))}")
    return build(torch, module)


def nndl_leaf(module, path: str):
    """The nndl layer computing what the torch leaf ``module`` computes (default weights)."""
    name = type(module).__name__
    origin = type(module).__module__
    known = origin.startswith("torch.nn") or origin == __name__
    if not known or name not in FROM_TORCH:
        raise TypeError(f"from_torch: unsupported torch module '{path or '<root>'}' ({origin}.{name}); "
                        f"supported: {', '.join(sorted(FROM_TORCH))}, Sequential, and what to_torch writes")
    if name in ("Softmax", "LogSoftmax") and module.dim is None:
        raise TypeError(f"from_torch: '{path}' {name} has dim=None (an implicit axis); give it an explicit dim")
    return FROM_TORCH[name](module)

"""Autoencoders: dense (``autoencoder``) and convolutional (``conv_autoencoder``) with two decoders."""

from __future__ import annotations

import numpy as np

from nndl import nn
from nndl.models.blocks import Chain, chain_backward
from nndl.models.mlp import ACTIVATIONS
from nndl.nn.core.module import Module
from nndl.random import as_generator

OUTPUT_ACTIVATIONS = {None: None, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
"""Activations allowed on the reconstruction (``sigmoid`` for data in [0, 1])."""


def _output_activation(name, dtype):
    if name not in OUTPUT_ACTIVATIONS:
        raise ValueError(f"unknown output_activation {name!r}; valid: {', '.join(map(str, OUTPUT_ACTIVATIONS))}")
    return None if name is None else OUTPUT_ACTIVATIONS[name](dtype=dtype)


class Autoencoder(Chain):
    """A dense autoencoder ``x → z = encoder(x) → x' = decoder(z)``, trained to reproduce its input.

    ``sizes = [n, h_1, …, m]`` gives the encoder ``n → h_1 → … → m`` and the
    mirrored decoder ``m → … → h_1 → n``. Every Linear is followed by the
    activation except the code layer (``z`` is linear) and the output (which
    gets ``output_activation``, if any). With ``linear=True`` there are no
    activations at all: the notes' linear autoencoder, ``z = W₁x + b₁``,
    ``x' = W₂z + b₂``, whose optimum under the squared error spans the same
    subspace as PCA's first ``m`` components.

    Parameters
    ----------
    sizes : sequence of int
        At least two sizes; ``sizes[-1]`` is the code size.
    activation : str
        A name from :data:`nndl.models.ACTIVATIONS`.
    linear : bool
    output_activation : None, 'sigmoid', 'tanh' or 'relu'
    init : str
        Weight initialization of the Linear layers. ``'auto'`` (default)
        follows the activation as the notes advise: He (``he_uniform``) for
        ReLU-family activations, Xavier (``xavier_uniform``) for
        tanh/sigmoid/softplus and for a linear autoencoder (no activation:
        He's factor 2 would double the variance at every layer).
    rng : Generator, int or None
    dtype : float32 or float64

    Children ``encoder`` and ``decoder`` (``Sequential``); :meth:`encode` and
    :meth:`decode` run one half.
    """

    def __init__(self, sizes, activation: str = "relu", linear: bool = False, output_activation=None,
                 init: str = "auto", rng=None, dtype=np.float32):
        super().__init__(dtype)
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"autoencoder: sizes must list at least an input and a code size, all >= 1, got {sizes}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"autoencoder: unknown activation '{activation}'; valid: {', '.join(ACTIVATIONS)}")
        if init == "auto":
            init = "he_uniform" if activation in ("relu", "leaky_relu", "elu") and not linear else "xavier_uniform"
        rng = as_generator(rng)
        self.sizes = sizes
        self.encoder = self._stack(sizes, activation, linear, init, rng, dtype)
        self.decoder = self._stack(sizes[::-1], activation, linear, init, rng, dtype)
        final = _output_activation(output_activation, dtype)
        if final is not None:
            self.decoder.append(final)

    def layers(self) -> list[Module]:
        return [self.encoder, self.decoder]

    @staticmethod
    def _stack(sizes, activation, linear, init, rng, dtype) -> nn.Sequential:
        layers = []
        for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(fan_in, fan_out, init=init, rng=rng, dtype=dtype))
            if not linear and index < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation](dtype=dtype))
        return nn.Sequential(*layers, dtype=dtype)

    def encode(self, x):
        """The code ``z`` of ``x`` (a forward pass of the encoder only)."""
        return self.encoder(x)

    def decode(self, z):
        """The reconstruction from a code ``z``."""
        return self.decoder(z)


DECODERS = ("transpose", "unpool")


class ConvAutoencoder(Chain):
    """A convolutional autoencoder: ``[conv 3×3 – ReLU – max pool 2]×L`` then a mirrored decoder.

    ``decoder='transpose'``: each stage is a 2×2 transposed convolution with
    stride 2 (learned upsampling, the notes' "fractionally strided
    convolution") followed by ReLU. ``decoder='unpool'``: each stage is a max
    unpooling that puts every value back where the matching encoder pool took
    its maximum (the notes' unpooling; the encoder pools then return their
    indices), followed by a 3×3 convolution and ReLU. The last stage has no
    ReLU but ``output_activation``.

    Parameters
    ----------
    in_channels : int
    channels : sequence of int
        Feature maps of the encoder stages; the code is ``(channels[-1], H/2^L, W/2^L)``.
    decoder : {'transpose', 'unpool'}
    output_activation : None, 'sigmoid', 'tanh' or 'relu'
    init : str
        Weight initialization of the convolutions; He (``he_uniform``) by
        default, the notes' choice for the ReLUs between them.
    rng : Generator, int or None
    dtype : float32 or float64

    Shapes
    ------
    ``(N, C, H, W) → (N, C, H, W)`` for ``H`` and ``W`` divisible by ``2^L``.
    """

    def __init__(self, in_channels: int = 1, channels=(16, 32), decoder: str = "transpose", output_activation=None,
                 init: str = "he_uniform", rng=None, dtype=np.float32):
        super().__init__(dtype)
        if decoder not in DECODERS:
            raise ValueError(f"conv_autoencoder: unknown decoder '{decoder}'; valid: {', '.join(DECODERS)}")
        channels = [int(c) for c in channels]
        if not channels or min(channels) < 1:
            raise ValueError(f"conv_autoencoder: channels must be positive ints, got {channels}")
        rng = as_generator(rng)
        self.decoder_kind = decoder
        unpool = decoder == "unpool"
        widths = [int(in_channels)] + channels
        encoder = []
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            encoder += [nn.Conv2d(fan_in, fan_out, 3, padding=1, init=init, rng=rng, dtype=dtype), nn.ReLU(dtype=dtype),
                        nn.MaxPool2d(2, return_indices=unpool, dtype=dtype)]
        decoder_layers = []
        reversed_widths = widths[::-1]
        for index, (fan_in, fan_out) in enumerate(zip(reversed_widths[:-1], reversed_widths[1:])):
            if unpool:
                decoder_layers += [nn.MaxUnpool2d(2, dtype=dtype),
                                   nn.Conv2d(fan_in, fan_out, 3, padding=1, init=init, rng=rng, dtype=dtype)]
            else:
                decoder_layers.append(nn.ConvTranspose2d(fan_in, fan_out, 2, stride=2, init=init, rng=rng,
                                                         dtype=dtype))
            if index < len(channels) - 1:
                decoder_layers.append(nn.ReLU(dtype=dtype))
        final = _output_activation(output_activation, dtype)
        if final is not None:
            decoder_layers.append(final)
        self.encoder = nn.Sequential(*encoder, dtype=dtype)
        self.decoder = nn.Sequential(*decoder_layers, dtype=dtype)

    def layers(self) -> list[Module]:
        """``encoder`` then ``decoder``."""
        return [self.encoder, self.decoder]

    def encode(self, x):
        """The code of ``x``; with the unpooling decoder also the list of pooling indices."""
        if self.decoder_kind != "unpool":
            return self.encoder(x)
        indices = []
        for layer in self.encoder:  # layer by layer: a pool returning indices gives (out, indices)
            out = layer(x)
            if isinstance(out, tuple):
                out, index = out
                indices.append((index, x.shape))
            x = out
        return x, indices

    def decode(self, z, indices=None):
        """The reconstruction from a code (and, for the unpooling decoder, the encoder's indices)."""
        if self.decoder_kind != "unpool":
            return self.decoder(z)
        pending = list(indices or [])
        for layer in self.decoder:  # each unpooling takes the indices of its mirror pool, the last pool first
            if isinstance(layer, nn.MaxUnpool2d):
                if not pending:
                    raise ValueError(f"{self.describe()}: the unpooling decoder needs the encoder's pooling indices")
                index, size = pending.pop()
                z = layer(z, index, output_size=size)
            else:
                z = layer(z)
        return z

    def forward(self, x):
        if self.decoder_kind != "unpool":
            return super().forward(x)  # encoder, then decoder
        return self.decode(*self.encode(x))

    def backward(self, dout, need_input_grad: bool = True):
        if self.decoder_kind != "unpool":
            return super().backward(dout, need_input_grad)
        # The unpooling network ran layer by layer (the pools' indices pass from encoder to decoder): so does δ.
        return chain_backward(list(self.encoder) + list(self.decoder), dout, need_input_grad)

    def extra_repr(self) -> str:
        return f"decoder='{self.decoder_kind}'"


def autoencoder(sizes, activation: str = "relu", linear: bool = False, output_activation=None,
                init: str = "auto", rng=None, dtype=np.float32) -> Autoencoder:
    """A dense autoencoder; see :class:`Autoencoder`."""
    return Autoencoder(sizes, activation=activation, linear=linear, output_activation=output_activation, init=init,
                       rng=rng, dtype=dtype)


def conv_autoencoder(in_channels: int = 1, channels=(16, 32), decoder: str = "transpose", output_activation=None,
                     init: str = "he_uniform", rng=None, dtype=np.float32) -> ConvAutoencoder:
    """A convolutional autoencoder; see :class:`ConvAutoencoder`."""
    return ConvAutoencoder(in_channels, channels, decoder=decoder, output_activation=output_activation, init=init,
                           rng=rng, dtype=dtype)

"""Reference kernels: one pure ``<op>_forward`` / ``<op>_backward`` pair per operation, written to be read.

``<op>_forward(x, parameters..., options...) -> (out, cache)`` and
``<op>_backward(dout, cache) -> gradients`` (∂L/∂x first, then one per
parameter in the forward's order). Each is the notes' formula in NumPy, with
the shapes in its docstring and the gradient formula next to the line that
computes it: no threads, no scratch buffers, no layout tricks. They are the
oracle the fast kernels (:mod:`nndl.nn._fast`) are tested against, and what
every module computes with inside ``nndl.nn.use_kernels("reference")``.
"""

from nndl.nn.functional import (activations, conv, cross_entropy, dropout, linear, losses, noise, normalization,
                                pooling, softmax_kernels)
from nndl.nn.functional.activations import *  # noqa: F401,F403  (each submodule lists its pairs in __all__)
from nndl.nn.functional.conv import *  # noqa: F401,F403
from nndl.nn.functional.cross_entropy import *  # noqa: F401,F403
from nndl.nn.functional.dropout import *  # noqa: F401,F403
from nndl.nn.functional.linear import *  # noqa: F401,F403
from nndl.nn.functional.losses import *  # noqa: F401,F403
from nndl.nn.functional.noise import *  # noqa: F401,F403
from nndl.nn.functional.normalization import *  # noqa: F401,F403
from nndl.nn.functional.pooling import *  # noqa: F401,F403
from nndl.nn.functional.softmax_kernels import *  # noqa: F401,F403

__all__ = [*activations.__all__, *conv.__all__, *cross_entropy.__all__, *dropout.__all__, *linear.__all__,
           *losses.__all__, *noise.__all__, *normalization.__all__, *pooling.__all__, *softmax_kernels.__all__]

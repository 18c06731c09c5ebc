"""Fast kernels: the same ``<op>_forward`` / ``<op>_backward`` pairs as :mod:`nndl.nn.functional`, built for speed.

Everything that exists only for speed lives in this package: im2col/im2row
column matrices, cache-sized chunks and scratch buffers, channels-last
layouts, and batches split over nndl's threads (:mod:`.parallel`). Every pair
here has the signature and the results of its reference twin (tested on
random grids of shapes); an operation with nothing to speed up is the
reference pair itself, imported below.
"""

import sys

from nndl.nn.functional import *  # noqa: F401,F403  (the reference pair wherever nothing here is faster)
from nndl.nn.functional import __all__ as _reference_names

# Fast pairs, overriding the reference ones of the same name:
from nndl.nn._fast.activations import relu_backward, relu_forward  # noqa: E402,F401
from nndl.nn._fast.linear import linear_backward, linear_forward, maxout_backward, maxout_forward  # noqa: E402,F401

__all__ = list(_reference_names)


def __deepcopy__(memo):
    """A kernel set is stateless: a deep copy of a module's cache ``(kernels, cache)`` shares it (copy.deepcopy)."""
    return sys.modules[__name__]

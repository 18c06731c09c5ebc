"""Fast kernels: the same ``<op>_forward`` / ``<op>_backward`` pairs as :mod:`nndl.nn.functional`, built for speed.

Everything that exists only for speed lives in this package: im2col/im2row
column matrices, cache-sized chunks and scratch buffers, channels-last
layouts, and batches split over nndl's threads (:mod:`.parallel`). Every pair
here has the signature and the results of its reference twin (tested on
random grids of shapes); an operation with nothing to speed up is the
reference pair itself, imported below.
"""

from nndl.nn.functional import *  # noqa: F401,F403  (the reference pair wherever nothing here is faster)
from nndl.nn.functional import __all__ as _reference_names

# Fast pairs, overriding the reference ones of the same name:
from nndl.nn._fast.activations import relu_backward, relu_forward  # noqa: E402,F401
from nndl.nn._fast.linear import linear_backward, linear_forward, maxout_backward, maxout_forward  # noqa: E402,F401
from nndl.nn._fast.conv import conv2d_backward, conv2d_forward  # noqa: E402,F401
from nndl.nn._fast.conv_transpose import conv_transpose2d_backward, conv_transpose2d_forward  # noqa: E402,F401
from nndl.nn._fast.pooling import (adaptive_avg_pool2d_backward, adaptive_avg_pool2d_forward,  # noqa: E402,F401
                                   avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward,
                                   max_pool2d_indices)
from nndl.nn._fast.batch_norm import batch_norm_backward, batch_norm_forward  # noqa: E402,F401
from nndl.nn._fast.layer_norm import layer_norm_backward, layer_norm_forward  # noqa: E402,F401

__all__ = list(_reference_names)

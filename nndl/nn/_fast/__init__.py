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

__all__ = list(_reference_names)

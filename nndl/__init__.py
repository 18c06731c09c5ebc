"""nndl: neural networks and deep learning from scratch on NumPy.

Every gradient is derived by hand, written next to its formula, checked
numerically (``nndl.check``) and checked against PyTorch.
"""

from nndl import check, classic, data, io, models, nn, optim, train
from nndl.random import manual_seed
from nndl.summary import summary  # nndl.summary(model, input_shape); the package stays importable by name

__version__ = "0.1.0"

__all__ = ["check", "classic", "data", "io", "manual_seed", "models", "nn", "optim", "summary", "train", "__version__"]

"""The model zoo."""

from nndl.models.mlp import ACTIVATIONS, MLP, mlp
from nndl.models.small_cnn import SmallCNN, small_cnn

__all__ = ["ACTIVATIONS", "MLP", "SmallCNN", "mlp", "small_cnn"]

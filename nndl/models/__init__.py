"""The model zoo."""

from nndl.models.mlp import ACTIVATIONS, MLP, mlp

__all__ = ["ACTIVATIONS", "MLP", "mlp"]

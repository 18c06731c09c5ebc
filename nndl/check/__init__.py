"""Numerical gradient checking: ``numerical_gradient``, ``rel_error``, ``gradcheck``."""

from nndl.check.gradcheck import assert_gradcheck, gradcheck, numerical_gradient, rel_error

__all__ = ["assert_gradcheck", "gradcheck", "numerical_gradient", "rel_error"]

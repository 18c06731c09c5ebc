"""Numerical differentiation checks: ``numerical_gradient``, ``numerical_jacobian``, ``rel_error``, ``gradcheck``."""

from nndl.check.gradcheck import assert_gradcheck, gradcheck, numerical_gradient, rel_error
from nndl.check.jacobian import numerical_jacobian

__all__ = ["assert_gradcheck", "gradcheck", "numerical_gradient", "numerical_jacobian", "rel_error"]

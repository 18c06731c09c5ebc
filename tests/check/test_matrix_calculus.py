"""The notes' matrix-calculus identities (000 §10.1–10.2, 002) checked against nndl.check.numerical_jacobian.

Gradients of scalars with respect to a matrix ``A`` are compared as the
``(1, A.size)`` Jacobian row reshaped to ``A``'s shape (the denominator
layout the notes use for ∂L/∂W).
"""

import numpy as np
import pytest

from nndl.check import numerical_jacobian, rel_error

TOL = 1e-8
rng = np.random.default_rng(0)
W = rng.standard_normal((3, 4))
x0 = rng.standard_normal(4)
A = rng.standard_normal((4, 4))
B = rng.standard_normal((4, 4))
SPD = A @ A.T + 4 * np.eye(4)  # positive determinant: ln det is defined


def test_jacobian_of_wx_is_w():
    assert rel_error(numerical_jacobian(lambda x: W @ x, x0), W) < TOL


def test_gradient_of_quadratic_form_is_a_plus_a_transpose_times_x():
    jacobian = numerical_jacobian(lambda x: x @ A @ x, x0)
    assert jacobian.shape == (1, 4)
    assert rel_error(jacobian[0], (A + A.T) @ x0) < TOL


def test_gradient_of_trace_of_ab_is_b_transpose():
    grad = numerical_jacobian(lambda a: np.trace(a @ B), A).reshape(A.shape)
    assert rel_error(grad, B.T) < TOL


def test_gradient_of_trace_is_identity():
    assert rel_error(numerical_jacobian(np.trace, A).reshape(A.shape), np.eye(4)) < TOL


def test_gradient_of_log_det_is_inverse_transpose():
    grad = numerical_jacobian(lambda x: np.log(np.linalg.det(x)), SPD + 0.3 * B).reshape(A.shape)
    assert rel_error(grad, np.linalg.inv(SPD + 0.3 * B).T) < 1e-7


def test_backprop_through_y_equals_wx():
    # L = Σ δ ⊙ (W x): ∂L/∂x = Wᵀδ and ∂L/∂W = δ xᵀ (000 §10.1)
    delta = rng.standard_normal(3)
    grad_x = numerical_jacobian(lambda x: delta @ (W @ x), x0)[0]
    grad_w = numerical_jacobian(lambda w: delta @ (w @ x0), W).reshape(W.shape)
    assert rel_error(grad_x, W.T @ delta) < TOL
    assert rel_error(grad_w, np.outer(delta, x0)) < TOL


def test_matrix_product_gradients():
    # Y = W X: ∂L/∂X = Wᵀ ∂L/∂Y, ∂L/∂W = ∂L/∂Y Xᵀ
    X = rng.standard_normal((4, 2))
    dY = rng.standard_normal((3, 2))
    assert rel_error(numerical_jacobian(lambda x: np.sum(dY * (W @ x)), X).reshape(X.shape), W.T @ dY) < TOL
    assert rel_error(numerical_jacobian(lambda w: np.sum(dY * (w @ X)), W).reshape(W.shape), dY @ X.T) < TOL


def test_jacobian_layout_is_outputs_by_inputs():
    # f(x) = (x0 x1, sin x2): J = [[x1, x0, 0], [0, 0, cos x2]]
    x = np.array([0.5, -2.0, 0.3])
    expected = np.array([[-2.0, 0.5, 0.0], [0.0, 0.0, np.cos(0.3)]])
    jacobian = numerical_jacobian(lambda v: np.array([v[0] * v[1], np.sin(v[2])]), x)
    assert jacobian.shape == (2, 3)
    assert rel_error(jacobian, expected) < TOL


def test_input_is_not_modified_and_size_change_is_an_error():
    x = np.array([1.0, 2.0])
    numerical_jacobian(lambda v: v ** 2, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    with pytest.raises(ValueError, match="output size"):
        numerical_jacobian(lambda v: np.zeros(int(v[0] > 1.0) + 1), np.array([1.0]))

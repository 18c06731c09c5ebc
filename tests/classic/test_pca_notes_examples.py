"""The notes' eigen/SVD worked examples (002 §0.3–0.5) as tests of PCA's SVD path.

002 §0.5's printed Vᵀ has a slip in its last row (−1/√6, 1/√6, 1/√6); its
V column (−1, 2, 1)/√6 is the eigenvector of AᵀA for λ = 0, and is what is
checked. Components are compared up to sign (PCA fixes each row's largest
entry positive).
"""

import numpy as np

from nndl.classic import PCA
from nndl.classic.pca import principal_directions

A = np.array([[1.0, -1.0, 3.0], [3.0, 1.0, 1.0]])
V = np.array([[1, 0, 1], [-1, -1, 1], [-1, 2, 1]]) / np.sqrt([[2], [3], [6]])  # rows v1, v2, v3
U = np.array([[1, 1], [1, -1]]) / np.sqrt(2)  # columns u1, u2


def assert_same_rows_up_to_sign(got, expected):
    signs = np.sign(np.sum(got * expected, axis=1))
    np.testing.assert_allclose(got * signs[:, None], expected, atol=1e-12)


def test_svd_example_wide_path():
    # AᵀA has eigenvalues 16, 6, 0, so σ = 4, √6; right singular vectors v1, v2
    np.testing.assert_allclose(A.T @ A, [[10, 2, 6], [2, 2, -2], [6, -2, 10]])
    singular_values, components = principal_directions(A)
    np.testing.assert_allclose(singular_values, [4.0, np.sqrt(6.0)], rtol=1e-14)
    assert_same_rows_up_to_sign(components, V[:2])
    np.testing.assert_allclose(A.T @ A @ V[2], 0.0, atol=1e-12)  # v3 spans the null space
    # u_i = A v_i / σ_i, and A = U Σ Vᵀ
    np.testing.assert_allclose(A @ V[:2].T / [4.0, np.sqrt(6.0)], U, atol=1e-12)
    np.testing.assert_allclose(U @ np.diag([4.0, np.sqrt(6.0)]) @ V[:2], A, atol=1e-12)


def test_svd_example_tall_path():
    # Aᵀ padded with zero rows is tall enough for the QR-first path; its right singular vectors are U's columns
    tall = np.vstack([A.T, np.zeros((40, 2))])
    singular_values, components = principal_directions(tall)
    np.testing.assert_allclose(singular_values, [4.0, np.sqrt(6.0)], rtol=1e-14)
    assert_same_rows_up_to_sign(components, U.T)


def test_eigen_example_through_pca_fit():
    # data whose sample covariance is exactly [[6, 2], [2, 3]]: eigenvalues 7 and 2, eigenvectors (2, 1), (−½, 1)
    covariance = np.array([[6.0, 2.0], [2.0, 3.0]])
    z = np.random.default_rng(0).standard_normal((50, 2))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)  # sample covariance I
    x = z @ np.linalg.cholesky(covariance).T + [5.0, -3.0]
    np.testing.assert_allclose(np.cov(x, rowvar=False), covariance, atol=1e-12)
    pca = PCA().fit(x)
    np.testing.assert_allclose(pca.explained_variance_, [7.0, 2.0], rtol=1e-12)
    np.testing.assert_allclose(pca.explained_variance_ratio_, [7 / 9, 2 / 9], rtol=1e-12)
    P = np.array([[2.0, -0.5], [1.0, 1.0]])  # the notes' eigenvectors as columns
    assert_same_rows_up_to_sign(pca.components_, (P / np.linalg.norm(P, axis=0)).T)
    np.testing.assert_allclose(np.linalg.inv(P) @ covariance @ P, np.diag([7.0, 2.0]), atol=1e-12)

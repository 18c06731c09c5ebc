import numpy as np
import pytest
import sklearn.decomposition
from sklearn.datasets import load_digits, load_iris, load_wine

from nndl.classic import PCA
from nndl.classic.pca import principal_directions


def align_signs(ours, theirs):
    """Flip each of our components to agree in sign with scikit-learn's (equality is up to sign)."""
    signs = np.sign(np.sum(ours * theirs, axis=1))
    return ours * signs[:, None], signs


@pytest.mark.parametrize("loader", [load_iris, load_wine, load_digits], ids=["iris", "wine", "digits"])
@pytest.mark.parametrize("n_components", [2, None])
@pytest.mark.parametrize("whiten", [False, True])
def test_equals_sklearn_full_svd(loader, n_components, whiten):
    X, _ = loader(return_X_y=True)
    ours = PCA(n_components=n_components, whiten=whiten).fit(X)
    theirs = sklearn.decomposition.PCA(n_components=n_components, whiten=whiten, svd_solver="full").fit(X)
    scale = theirs.explained_variance_[0]
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-10, atol=1e-10 * scale)
    np.testing.assert_allclose(ours.explained_variance_ratio_, theirs.explained_variance_ratio_, rtol=1e-10,
                               atol=1e-14)
    np.testing.assert_allclose(ours.singular_values_, theirs.singular_values_, rtol=1e-10, atol=1e-10 * scale)
    # Directions of (near-)zero or repeated variance are not unique: compare the well-separated ones.
    variance = theirs.explained_variance_
    gaps = np.abs(np.diff(np.concatenate([[np.inf], variance, [0.0]])))
    distinct = (np.minimum(gaps[:-1], gaps[1:]) > 1e-6 * scale) & (variance > 1e-8 * scale)
    components, signs = align_signs(ours.components_, theirs.components_)
    np.testing.assert_allclose(components[distinct], theirs.components_[distinct], atol=1e-8)
    np.testing.assert_allclose((ours.transform(X) * signs)[:, distinct], theirs.transform(X)[:, distinct],
                               atol=1e-7 * np.sqrt(scale))
    np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=1e-14)
    assert ours.noise_variance_ == pytest.approx(theirs.noise_variance_, rel=1e-8, abs=1e-10 * scale)


def test_components_are_orthonormal_and_signs_deterministic(rng):
    X = rng.standard_normal((60, 8)) @ rng.standard_normal((8, 8))
    model = PCA().fit(X)
    np.testing.assert_allclose(model.components_ @ model.components_.T, np.eye(8), atol=1e-12)
    largest = np.abs(model.components_).argmax(axis=1)
    assert np.all(model.components_[np.arange(8), largest] > 0)
    np.testing.assert_array_equal(PCA().fit(X).components_, model.components_)


@pytest.mark.parametrize("shape", [(200, 6), (6, 200), (7, 7)], ids=["tall", "wide", "square"])
def test_qr_shortcut_and_plain_svd_agree(shape, rng):
    X = rng.standard_normal(shape)
    X -= X.mean(axis=0)
    singular_values, components = principal_directions(X.copy())
    _, reference_values, reference = np.linalg.svd(X, full_matrices=False)
    np.testing.assert_allclose(singular_values, reference_values, rtol=1e-12)
    aligned, _ = align_signs(components, reference)
    np.testing.assert_allclose(aligned[:5], reference[:5], atol=1e-10)


def test_whitening_decorrelates_to_identity_covariance(rng):
    X = rng.standard_normal((500, 4)) @ np.array([[3.0, 1, 0, 0], [0, 1, 0.5, 0], [0, 0, 0.2, 0], [1, 0, 0, 2]])
    Z = PCA(whiten=True).fit_transform(X)
    np.testing.assert_allclose(np.cov(Z, rowvar=False), np.eye(4), atol=1e-12)
    plain = PCA().fit_transform(X)
    covariance = np.cov(plain, rowvar=False)
    np.testing.assert_allclose(covariance - np.diag(np.diag(covariance)), 0.0, atol=1e-10)  # de-correlated


@pytest.mark.parametrize("whiten", [False, True])
def test_inverse_transform_reconstructs_with_all_components_and_projects_otherwise(whiten, iris):
    X, _ = iris
    full = PCA(whiten=whiten).fit(X)
    np.testing.assert_allclose(full.inverse_transform(full.transform(X)), X, atol=1e-12)
    two = PCA(n_components=2, whiten=whiten).fit(X)
    reconstruction = two.inverse_transform(two.transform(X))
    residual = X - reconstruction
    # The residual is orthogonal to the kept subspace, and its energy is the discarded variance.
    np.testing.assert_allclose(residual @ two.components_.T, 0.0, atol=1e-12)
    discarded = full.explained_variance_[2:].sum() * (len(X) - 1)
    assert np.sum(residual ** 2) == pytest.approx(discarded, rel=1e-10)


def test_fractional_n_components_keeps_enough_variance(iris):
    X, _ = iris
    ours = PCA(n_components=0.95).fit(X)
    theirs = sklearn.decomposition.PCA(n_components=0.95, svd_solver="full").fit(X)
    assert ours.n_components_ == theirs.n_components_
    assert ours.explained_variance_ratio_.sum() >= 0.95


def test_float32_is_kept(iris):
    X = iris[0].astype(np.float32)
    model = PCA(n_components=2).fit(X)
    assert model.components_.dtype == np.float32 and model.transform(X).dtype == np.float32
    np.testing.assert_allclose(model.explained_variance_, PCA(n_components=2).fit(iris[0]).explained_variance_,
                               rtol=1e-5)


@pytest.mark.parametrize("n_components", [0, 5, 1.5, "all"])
def test_bad_n_components(n_components, iris):
    with pytest.raises(ValueError, match="n_components"):
        PCA(n_components=n_components).fit(iris[0])


def test_inverse_transform_checks_the_width(iris):
    model = PCA(n_components=2).fit(iris[0])
    with pytest.raises(ValueError, match="Z has 3 columns, expected n_components_ = 2"):
        model.inverse_transform(np.zeros((1, 3)))

"""Neural networks as scikit-learn estimators: ``NeuralNetClassifier`` and ``NeuralNetRegressor``.

They wrap an nndl model and the ``Trainer`` so that a network can be
cross-validated, grid-searched, bagged or put in a ``Pipeline`` like any
other estimator. The network is built by a factory at each ``fit``::

    def factory(input_shape, n_outputs, rng, hidden=64):
        return nn.Sequential(nn.Linear(input_shape[0], hidden, rng=rng), nn.ReLU(),
                             nn.Linear(hidden, n_outputs, rng=rng))

    clf = NeuralNetClassifier(module_factory=factory, module_kwargs={"hidden": 32}, epochs=30, rng=0)
    GridSearchCV(clf, {"lr": [1e-3, 3e-3], "module_kwargs": [{"hidden": 32}, {"hidden": 128}]})
"""

from __future__ import annotations

import copy

import numpy as np

from nndl import nn, optim
from nndl.classic.base import (ClassifierMixin, Estimator, RegressorMixin, check_array,
                               check_classification_targets, check_regression_targets)
from nndl.nn.functional.softmax_kernels import softmax
from nndl.train import Trainer

CLASSIFICATION_LOSSES = {"cross_entropy": nn.SoftmaxCrossEntropy, "hinge": nn.MulticlassHingeLoss}
REGRESSION_LOSSES = {"mse": nn.MSELoss, "l1": nn.L1Loss}


class _NeuralNet(Estimator):
    """What the classifier and the regressor share: building, training and running the network."""

    _losses: dict = {}
    _default_loss: str = ""

    def __init__(self, *, module_factory, module_kwargs=None, loss=None, optimizer: str = "adam",
                 lr: float = 1e-3, optimizer_kwargs=None, epochs: int = 20, batch_size: int = 32,
                 validation_split: float = 0.0, dtype=np.float32, rng=None, verbose: int = 0):
        self.module_factory = module_factory
        self.module_kwargs = module_kwargs
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.optimizer_kwargs = optimizer_kwargs
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.dtype = dtype
        self.rng = rng
        self.verbose = verbose

    def _check_X(self, X) -> np.ndarray:
        # check_array converts first (np.asarray), then reads the shape: an array-like with only
        # __array__ has no ndim of its own. A network computes in its own dtype: X is converted
        # explicitly, as scikit-learn estimators convert their input (documented; a float64
        # Pipeline feeds float32 models this way).
        return check_array(type(self).__name__, X, allow_nd=True).astype(self.dtype, copy=False)

    def _make_loss(self):
        owner = type(self).__name__
        if isinstance(self.loss, nn.Loss):
            return copy.deepcopy(self.loss)
        name = self._default_loss if self.loss is None else self.loss
        if name not in self._losses:
            raise ValueError(f"{owner}: unknown loss {name!r}; valid: {', '.join(self._losses)} "
                             "or an nndl Loss instance")
        return self._losses[name]()

    def _fit_network(self, X, targets, n_outputs: int):
        owner = type(self).__name__
        rng = self._make_rng()
        if not callable(self.module_factory):
            raise TypeError(f"{owner}: module_factory must be callable(input_shape, n_outputs, rng, **module_kwargs)")
        model = self.module_factory(X.shape[1:], n_outputs, rng=rng, **(self.module_kwargs or {}))
        if not isinstance(model, nn.Module):
            raise TypeError(f"{owner}: module_factory returned {type(model).__name__}, not an nndl Module")
        model.to(self.dtype)
        optimizer_class = optim.get_optimizer(self.optimizer) if isinstance(self.optimizer, str) else self.optimizer
        opt = optimizer_class(model.parameters(), lr=self.lr, **(self.optimizer_kwargs or {}))
        self.trainer_ = Trainer(model, self._make_loss(), opt, metrics=())
        self.history_ = self.trainer_.fit(X, targets, epochs=self.epochs, batch_size=self.batch_size,
                                          validation_split=self.validation_split, rng=rng, verbose=self.verbose)
        self.model_ = model
        self.n_features_in_ = int(np.prod(X.shape[1:]))
        self.input_shape_ = X.shape[1:]
        self._release_caches()

    def _outputs(self, X) -> np.ndarray:
        self._check_fitted()
        owner = type(self).__name__
        X = self._check_X(X)
        if X.shape[1:] != self.input_shape_:
            # scikit-learn's wording for flat features, then the shapes (images have several axes)
            features = (f"X has {X.shape[1]} features, but {owner} is expecting {self.n_features_in_} features "
                        "as input: ") if X.ndim == 2 and len(self.input_shape_) == 1 else ""
            raise ValueError(f"{owner}: {features}X has samples of shape {X.shape[1:]}, "
                             f"but the network was fitted on {self.input_shape_}")
        outputs = self.trainer_.predict(X)
        self._release_caches()
        return outputs

    def _release_caches(self) -> None:
        """Drop what the last forward pass kept for a backward pass that will not come.

        It holds the last batch's activations (memory) and the kernel set it
        ran with (a module object, which cannot be pickled), so a fitted
        estimator would otherwise neither pickle nor ``copy.deepcopy`` cleanly.
        """
        for module in (*self.model_.modules(), self.trainer_.loss_fn):
            if getattr(module, "_cache", None) is not None:
                module._cache = None


class NeuralNetClassifier(ClassifierMixin, _NeuralNet):
    """A network trained by mini-batch gradient descent, as a scikit-learn classifier.

    Parameters
    ----------
    module_factory : callable
        ``module_factory(input_shape, n_classes, rng=rng, **module_kwargs)``
        returning an nndl Module that maps ``(N, *input_shape)`` to class scores ``(N, n_classes)``.
    module_kwargs : dict, optional
        Extra arguments of the factory (grid-searchable as a whole dict).
    loss : {'cross_entropy', 'hinge'}, Loss or None
        ``None`` means ``'cross_entropy'``.
    optimizer : str or Optimizer class
        A name from ``nndl.optim.OPTIMIZERS`` (default Adam).
    lr : float
    optimizer_kwargs : dict, optional
        Other optimizer arguments (``momentum``, ``weight_decay``...).
    epochs, batch_size, validation_split
        As in ``Trainer.fit``.
    dtype : float32 or float64
        The network's dtype; ``X`` is converted to it.
    rng : Generator, int or None
        Initial weights and shuffling; an int makes refits identical.
    verbose : int

    Attributes
    ----------
    classes_, model_, history_, trainer_, n_features_in_, input_shape_
    """

    _losses = CLASSIFICATION_LOSSES
    _default_loss = "cross_entropy"

    def fit(self, X, y):
        X = self._check_X(X)
        self.classes_, y_index = check_classification_targets(type(self).__name__, y, len(X))
        self._fit_network(X, y_index.astype(np.int64), len(self.classes_))
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Softmax of the network's scores, columns in the order of ``classes_``."""
        return softmax(self._outputs(X).astype(np.float64), axis=1)

    def predict(self, X) -> np.ndarray:
        scores = self._outputs(X)
        return self.classes_[np.argmax(scores, axis=1)]


class NeuralNetRegressor(RegressorMixin, _NeuralNet):
    """A network trained by mini-batch gradient descent, as a scikit-learn regressor.

    Same parameters as :class:`NeuralNetClassifier`, with ``loss`` in
    ``{'mse', 'l1'}`` (or a Loss; ``None`` means ``'mse'``) and a factory
    returning ``(N, n_outputs)``.
    One-dimensional ``y`` gives one-dimensional predictions.
    """

    _losses = REGRESSION_LOSSES
    _default_loss = "mse"

    def fit(self, X, y):
        X = self._check_X(X)
        y = check_regression_targets(type(self).__name__, y, len(X), self.dtype)
        self.single_output_ = y.ndim == 1
        targets = y.reshape(len(y), -1)
        self._fit_network(X, targets, targets.shape[1])
        return self

    def predict(self, X) -> np.ndarray:
        """The network's outputs, shape (M,) or (M, n_outputs), as float64 (exact for a float32 network).

        float64 like ``predict_proba`` and scikit-learn's regressors, so that
        metrics and downstream estimators see the precision they expect.
        """
        outputs = self._outputs(X).astype(np.float64)
        return outputs[:, 0] if self.single_output_ else outputs

"""Ensembles of classifiers: bagging and voting.

Bagging (bootstrap aggregating, in the notes): train each of ``M`` copies
of a model on a *bootstrap sample* — ``n`` samples drawn with replacement
from the ``n`` training samples — and combine their predictions. Models
whose errors are less correlated average out more of their variance.

The combination is a vote:

- ``'hard'``: each member predicts a label, the most frequent label wins
  (ties go to the first class in ``classes_``);
- ``'soft'``: the members' ``predict_proba`` are averaged and the class of
  highest mean probability wins.

Any object with ``fit(X, y)``, ``predict(X)`` (and ``predict_proba`` for
soft voting) and ``get_params`` works as a member, including scikit-learn
estimators and nndl's neural-network estimators. A member that saw only some
of the classes in its bootstrap sample (``classes_`` is read when present)
has its votes and probabilities mapped onto the ensemble's classes.
"""

from __future__ import annotations

import numpy as np

from nndl.classic.base import (
    ClassifierMixin,
    Estimator,
    check_array,
    check_choice,
    check_classification_targets,
    check_positive,
    clone,
)

VOTING = ("hard", "soft")


def _member_votes(members, weights, X, classes: np.ndarray, voting: str) -> np.ndarray:
    """Weighted vote shares, shape (M, K), columns in ``classes`` order."""
    total = np.zeros((X.shape[0], len(classes)))
    for member, weight in zip(members, weights):
        if voting == "soft":
            if not hasattr(member, "predict_proba"):
                raise TypeError(f"voting='soft' needs predict_proba, which {type(member).__name__} lacks")
            probabilities = np.asarray(member.predict_proba(X), dtype=np.float64)
            member_classes = np.asarray(getattr(member, "classes_", classes))
            columns = np.searchsorted(classes, member_classes)
            total[:, columns] += weight * probabilities
        else:
            labels = np.asarray(member.predict(X))
            columns = np.searchsorted(classes, labels)
            columns = np.minimum(columns, len(classes) - 1)
            if np.any(classes[columns] != labels):
                raise ValueError(f"{type(member).__name__} predicted labels outside the training classes")
            total[np.arange(X.shape[0]), columns] += weight
    return total / total.sum(axis=1, keepdims=True)


def _derive_member_rng(member, rng: np.random.Generator) -> None:
    """Give a member with an ``rng`` hyperparameter its own seed, drawn from the ensemble's stream."""
    if "rng" in member.get_params(deep=False):
        member.set_params(rng=int(rng.integers(2**63 - 1)))


class BaggingClassifier(ClassifierMixin, Estimator):
    """Bootstrap aggregating of any classifier.

    Parameters
    ----------
    estimator : estimator
        Unfitted template, cloned for every member.
    n_estimators : int
        Number of members ``M``.
    max_samples : float in (0, 1] or int
        Size of each bootstrap sample: a fraction of ``n`` or a count.
    voting : {'hard', 'soft'}
        Majority vote of the labels or mean of ``predict_proba``.
    rng : Generator, int or None
        Draws the bootstrap samples and, for members that take an ``rng``,
        their seeds (so members differ and an int gives reproducible refits).

    Attributes
    ----------
    estimators_ : list
        The fitted members.
    bootstrap_indices_ : list of ndarray
        The training indices each member was fitted on.
    classes_ : ndarray
    """

    def __init__(self, *, estimator, n_estimators: int = 10, max_samples=1.0, voting: str = "hard", rng=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.voting = voting
        self.rng = rng

    def fit(self, X, y):
        owner = type(self).__name__
        check_positive(owner, "n_estimators", self.n_estimators, integer=True)
        check_choice(owner, "voting", self.voting, VOTING)
        X = check_array(owner, X)
        self.classes_, _ = check_classification_targets(owner, y, X.shape[0])
        y = np.asarray(y)
        n_draw = self._bootstrap_size(owner, X.shape[0])
        rng = self._make_rng()
        self.estimators_, self.bootstrap_indices_ = [], []
        for _ in range(self.n_estimators):
            indices = rng.integers(0, X.shape[0], size=n_draw)  # with replacement
            member = clone(self.estimator)
            _derive_member_rng(member, rng)
            member.fit(X[indices], y[indices])
            self.estimators_.append(member)
            self.bootstrap_indices_.append(indices)
        self.n_features_in_ = X.shape[1]
        return self

    def _bootstrap_size(self, owner: str, n_samples: int) -> int:
        value = self.max_samples
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            if not 1 <= value <= n_samples:
                raise ValueError(f"{owner}: max_samples={value} must be between 1 and n_samples={n_samples}")
            return int(value)
        if isinstance(value, (float, np.floating)) and 0 < value <= 1:
            return max(1, int(round(value * n_samples)))
        raise ValueError(f"{owner}: max_samples must be a fraction in (0, 1] or a count, got {value!r}")

    def predict_proba(self, X) -> np.ndarray:
        """Vote shares per class (hard voting) or mean member probabilities (soft), shape (M, K)."""
        self._check_fitted()
        X = check_array(type(self).__name__, X)
        return _member_votes(self.estimators_, [1.0] * len(self.estimators_), X, self.classes_, self.voting)

    def predict(self, X) -> np.ndarray:
        probabilities = self.predict_proba(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(probabilities, axis=1)]


class VotingClassifier(ClassifierMixin, Estimator):
    """Vote of several different classifiers, each fitted on all the data.

    Parameters
    ----------
    estimators : list of (str, estimator)
        Named, unfitted members (cloned before fitting). Their
        hyperparameters are reachable as ``<name>__<param>`` in
        ``get_params``/``set_params`` (and so in ``GridSearchCV``).
    voting : {'hard', 'soft'}
    weights : list of float or None
        Weight of each member's vote (equal by default).

    Attributes
    ----------
    estimators_ : list
        The fitted members, in order.
    named_estimators_ : dict
    classes_ : ndarray
    """

    def __init__(self, *, estimators, voting: str = "hard", weights=None):
        self.estimators = estimators
        self.voting = voting
        self.weights = weights

    def _named_members(self) -> list:
        """``estimators`` as (name, estimator) pairs; [] while it is not such a list (set_params never fails)."""
        try:
            return [(name, member) for name, member in self.estimators if isinstance(name, str)]
        except (TypeError, ValueError):
            return []

    def get_params(self, deep: bool = True) -> dict:
        params = super().get_params(deep=False)
        if deep:
            for name, member in self._named_members():
                params[name] = member
                if hasattr(member, "get_params"):
                    for sub_name, value in member.get_params(deep=True).items():
                        params[f"{name}__{sub_name}"] = value
        return params

    def set_params(self, **params):
        if "estimators" in params:
            self.estimators = params.pop("estimators")
        names = [name for name, _ in self._named_members()]
        own = {key: value for key, value in params.items() if key.partition("__")[0] not in names}
        super().set_params(**own)
        members = dict(self._named_members())
        replaced = False
        for key, value in params.items():
            name, _, sub_name = key.partition("__")
            if name not in names:
                continue
            if sub_name:
                members[name].set_params(**{sub_name: value})
            else:
                members[name] = value
                replaced = True
        if replaced:
            self.estimators = [(name, members[name]) for name in names]
        return self

    def fit(self, X, y):
        owner = type(self).__name__
        check_choice(owner, "voting", self.voting, VOTING)
        members = self._named_members()
        if not isinstance(self.estimators, (list, tuple)) or len(members) != len(self.estimators):
            raise TypeError(f"{owner}: estimators must be a list of (name, estimator) pairs, got {self.estimators!r}")
        if not members:
            raise ValueError(f"{owner}: estimators is empty; give a list of (name, estimator) pairs")
        names = [name for name, _ in members]
        if len(set(names)) != len(names) or any("__" in name for name in names):
            raise ValueError(f"{owner}: estimator names must be unique and contain no '__', got {names}")
        if self.weights is not None and len(self.weights) != len(self.estimators):
            raise ValueError(f"{owner}: {len(self.weights)} weights for {len(self.estimators)} estimators")
        X = check_array(owner, X)
        self.classes_, _ = check_classification_targets(owner, y, X.shape[0])
        y = np.asarray(y)
        self.estimators_ = [clone(member).fit(X, y) for _, member in self.estimators]
        self.named_estimators_ = dict(zip(names, self.estimators_))
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Weighted vote shares (hard) or weighted mean probabilities (soft), shape (M, K)."""
        self._check_fitted()
        X = check_array(type(self).__name__, X)
        weights = [1.0] * len(self.estimators_) if self.weights is None else list(self.weights)
        return _member_votes(self.estimators_, weights, X, self.classes_, self.voting)

    def predict(self, X) -> np.ndarray:
        probabilities = self.predict_proba(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(probabilities, axis=1)]

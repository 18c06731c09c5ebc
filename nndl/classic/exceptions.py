"""The exceptions and warnings of the classical estimators, interchangeable with scikit-learn's.

nndl.classic does not need scikit-learn, and importing it costs seconds, so
these classes are defined here. Code that catches scikit-learn's own
``sklearn.exceptions.NotFittedError`` (``check_estimator`` does, and so does
user code written for scikit-learn) must catch ours too. So when
scikit-learn is already loaded, what is raised (or warned) is a class
deriving from both: :func:`not_fitted_error` and
:func:`data_conversion_warning` return it. Whoever names scikit-learn's class
in an ``except`` clause or a warning filter has loaded scikit-learn, so the
check ``"sklearn.exceptions" in sys.modules`` at raise time is enough.
"""

from __future__ import annotations

import sys


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit``.

    Subclasses both ValueError and AttributeError, as scikit-learn's error of
    the same name does, so ``hasattr(estimator, "classes_")``-style probes
    keep working. What is raised is also an instance of
    ``sklearn.exceptions.NotFittedError`` when scikit-learn is loaded.
    """


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped at its epoch limit without converging."""


class DataConversionWarning(UserWarning):
    """The input was converted to what the estimator expects (a column-vector ``y`` ravelled to 1-D).

    What is warned is also a ``sklearn.exceptions.DataConversionWarning`` when
    scikit-learn is loaded, so filters on either class apply.
    """


_COMBINED: dict[str, type] = {}


def _with_sklearn(ours: type) -> type:
    """``ours``, or (scikit-learn loaded) a subclass of ``ours`` and scikit-learn's class of the same name."""
    module = sys.modules.get("sklearn.exceptions")
    theirs = getattr(module, ours.__name__, None) if module is not None else None
    if theirs is None:
        return ours
    if ours.__name__ not in _COMBINED:
        # Same name and module as ours, so messages and reprs read the same either way.
        _COMBINED[ours.__name__] = type(ours.__name__, (ours, theirs), {"__module__": ours.__module__,
                                                                        "__doc__": ours.__doc__})
    return _COMBINED[ours.__name__]


def not_fitted_error() -> type:
    """The class to raise for use before ``fit`` (see the module docstring)."""
    return _with_sklearn(NotFittedError)


def data_conversion_warning() -> type:
    """The category to warn with when input is converted (see the module docstring)."""
    return _with_sklearn(DataConversionWarning)

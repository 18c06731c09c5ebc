"""Trainable tensors: a value, its accumulated gradient and a frozen flag."""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_dtype(dtype, owner: str = "dtype") -> np.dtype:
    """Return ``dtype`` as a NumPy float dtype, or raise.

    Parameters
    ----------
    dtype : dtype-like
        ``np.float32`` or ``np.float64`` (or their names).
    owner : str
        Who asked, for the error message.
    """
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{owner}: {dtype!r} is not a dtype; use float32 or float64") from exc
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"{owner}: dtype must be float32 or float64, got {resolved}")
    return resolved


class Parameter:
    """A trainable array with an accumulated gradient.

    Parameters
    ----------
    data : ndarray
        The value; a float32 or float64 array, kept as is (not copied).
    requires_grad : bool
        ``False`` freezes the parameter: modules skip its gradient and
        optimizers skip its update (transfer learning).

    Attributes
    ----------
    data : ndarray
        The current value. Optimizers update it in place.
    grad : ndarray or None
        d(loss)/d(data) summed over every ``backward`` since the last
        ``zero_grad``; ``None`` when nothing has been accumulated.
    """

    __slots__ = ("data", "grad", "requires_grad")

    def __init__(self, data: np.ndarray, requires_grad: bool = True):
        if not isinstance(data, np.ndarray):
            raise TypeError(f"Parameter: expected a numpy array, got {type(data).__name__}")
        as_float_dtype(data.dtype, "Parameter")
        self.data = data
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def accumulate_grad(self, grad: np.ndarray) -> None:
        """Add ``grad`` to ``self.grad`` (``+=``, as backprop sums over paths).

        The first call after ``zero_grad`` takes ``grad`` itself without a
        copy: kernels hand over freshly computed arrays they do not keep.
        """
        if not self.requires_grad:
            return
        if grad.shape != self.data.shape:
            raise ValueError(
                f"Parameter: gradient of shape {grad.shape} does not match parameter shape {self.data.shape}"
            )
        if self.grad is None:
            self.grad = grad if grad.dtype == self.data.dtype else grad.astype(self.data.dtype)
        else:
            self.grad += grad

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``grad = None``, as PyTorch's default)."""
        self.grad = None

    def __repr__(self) -> str:
        frozen = "" if self.requires_grad else ", requires_grad=False"
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}{frozen})"

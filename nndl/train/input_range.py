"""Input statistics of a model's training data, and the warning for inputs far outside them.

An un-scaled input (8×8 digits in 0–16, images in 0–255) does not fail: it
trains a network whose ReLUs die or whose sigmoids saturate, or it makes a
network trained on scaled data predict nonsense. Two checks catch it:

* **Far outside the training range.** ``Trainer.fit`` records the training
  inputs' global minimum, maximum, mean and standard deviation
  (:class:`InputStatistics`) on the model (``model.input_statistics``), and
  ``nndl.io.save`` keeps them in the checkpoint. An input is *far* outside
  them when one of its values lies more than one training span beyond the
  training range: below ``min − (max − min)`` or above ``max + (max − min)``.
  Data scaled the same way never are; 0–16 digits given to a model trained
  on 0–1 digits are (16 > 1 + 1).
* **Un-scaled data for a new model.** A freshly initialised network (Xavier,
  He) expects inputs of order one. ``fit`` on a model with no statistics
  warns when the inputs' root mean square ``√(mean x²)`` exceeds
  :data:`FRESH_RMS_LIMIT` (5): standardized data have 1, images in [0, 1]
  about 0.5, 0–16 digits about 7.8, 0–255 images about 140.

Each check warns at most once per ``fit``, ``evaluate`` or ``predict`` call,
with an :class:`InputRangeWarning`. Only floating-point inputs are checked
(integer inputs are indices, e.g. classes or tokens).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np

FRESH_RMS_LIMIT = 5.0
"""Root mean square above which the inputs of a model that has never been trained count as un-scaled."""

_CHUNK_ELEMENTS = 1 << 20  # statistics are accumulated over row blocks: no float64 copy of the whole data set


class InputRangeWarning(UserWarning):
    """The inputs are far outside the range the model was trained on (or un-scaled for a new model)."""


@dataclass(frozen=True)
class InputStatistics:
    """Global statistics of the training inputs (over every element of every sample).

    Attributes
    ----------
    min, max, mean, std : float
        Computed in float64; ``std`` is the population standard deviation.
    samples : int
        Number of training samples.
    """

    min: float
    max: float
    mean: float
    std: float
    samples: int

    @classmethod
    def of(cls, x: np.ndarray) -> InputStatistics:
        """Statistics of ``x`` (shape ``(N, ...)``), accumulated block by block in float64."""
        flat = x.reshape(len(x), -1)
        rows = max(1, _CHUNK_ELEMENTS // max(1, flat.shape[1]))
        total = total_sq = 0.0
        low, high = math.inf, -math.inf
        for start in range(0, len(flat), rows):
            block = flat[start:start + rows]
            total += float(np.sum(block, dtype=np.float64))
            total_sq += float(np.sum(np.square(block, dtype=np.float64)))
            low, high = min(low, float(block.min())), max(high, float(block.max()))
        count = flat.size
        mean = total / count
        variance = max(total_sq / count - mean * mean, 0.0)  # E[x²] − E[x]², clipped against rounding
        return cls(low, high, mean, math.sqrt(variance), len(x))

    @property
    def rms(self) -> float:
        """Root mean square ``√(std² + mean²)``."""
        return math.sqrt(self.std ** 2 + self.mean ** 2)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> InputStatistics:
        """Build from :meth:`to_dict`'s output; ``ValueError`` names what is malformed."""
        if not isinstance(values, dict) or set(values) != {"min", "max", "mean", "std", "samples"}:
            raise ValueError(f"input statistics need exactly the keys min, max, mean, std, samples, got "
                             f"{sorted(values) if isinstance(values, dict) else type(values).__name__}")
        for key in ("min", "max", "mean", "std"):
            value = values[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"input statistics: '{key}' must be a finite number, got {value!r}")
        samples = values["samples"]
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise ValueError(f"input statistics: 'samples' must be a positive integer, got {samples!r}")
        if not values["min"] <= values["mean"] <= values["max"] or values["std"] < 0:
            raise ValueError(f"input statistics are inconsistent (need min <= mean <= max and std >= 0): {values}")
        return cls(float(values["min"]), float(values["max"]), float(values["mean"]), float(values["std"]),
                   samples)

    def far_outside(self, low: float, high: float) -> bool:
        """Whether ``[low, high]`` reaches more than one training span beyond ``[min, max]``."""
        span = self.max - self.min
        return low < self.min - span or high > self.max + span


def _describe(stats: InputStatistics) -> str:
    return f"min {stats.min:.4g}, max {stats.max:.4g}, mean {stats.mean:.4g}, std {stats.std:.4g}"


def check_inputs(x: np.ndarray, trained: InputStatistics | None, where: str) -> InputStatistics | None:
    """Warn (once) when ``x`` is far outside ``trained``, or un-scaled when ``trained`` is None.

    Returns the statistics of ``x`` (None for non-floating or empty inputs, which are not checked).
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating) or x.size == 0:
        return None
    stats = InputStatistics.of(x)
    if trained is not None:
        if trained.far_outside(stats.min, stats.max):
            warnings.warn(
                f"{where}: inputs are far outside the range the model was trained on (inputs: {_describe(stats)}; "
                f"training data: {_describe(trained)}); scale them as the training data were "
                "(e.g. divide 0–255 images or 0–16 digits by their maximum)", InputRangeWarning, stacklevel=4)
    elif stats.rms > FRESH_RMS_LIMIT:
        warnings.warn(
            f"{where}: the inputs look un-scaled (root mean square {stats.rms:.4g} > {FRESH_RMS_LIMIT:g}; "
            f"{_describe(stats)}); a freshly initialised network expects inputs of order one: standardize them "
            "or divide by their maximum (0–255 images by 255, 0–16 digits by 16)", InputRangeWarning, stacklevel=4)
    return stats

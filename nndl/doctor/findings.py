"""``Finding`` and ``Diagnosis``: what the doctor found, as data first and as a table second."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

CODES = ("nonfinite", "initial_loss", "vanishing_gradients", "exploding_gradients", "dead_relu", "saturated",
         "update_ratio", "cannot_overfit")
"""Every finding code, in the order the checks run."""


@dataclass(frozen=True)
class Finding:
    """One problem found by a check.

    Attributes
    ----------
    code : str
        Stable name of the check (one of :data:`CODES`).
    layer : str
        Dotted name of the module (or parameter's module) where it applies; ``''`` for the whole model.
    value : float
        What was measured.
    threshold : float
        The limit it crossed.
    message : str
        One line: what was measured and why it is a problem.
    remedy : str
        What the notes advise.
    """

    code: str
    layer: str
    value: float
    threshold: float
    message: str
    remedy: str

    def to_dict(self) -> dict:
        return {k: _json_number(v) for k, v in asdict(self).items()}


def _json_number(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN/inf
    return value


def _format_number(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


@dataclass
class Diagnosis:
    """The result of :func:`nndl.doctor.diagnose`.

    Attributes
    ----------
    findings : list of Finding
        Empty for a healthy network.
    checks : dict[str, str]
        Each check's outcome: ``'ok'``, ``'found'`` or why it was skipped.
    layers : list of dict
        Per-layer statistics measured on the batch (activation mean/std,
        dead and saturated fractions, gradient norm), in forward order.
    loss : float
        The loss at the current weights.
    """

    findings: list[Finding] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)
    layers: list[dict] = field(default_factory=list)
    loss: float = math.nan

    @property
    def ok(self) -> bool:
        """True when no check found anything."""
        return not self.findings

    def codes(self) -> list[str]:
        """The codes of the findings, in order."""
        return [f.code for f in self.findings]

    def find(self, code: str, layer: str | None = None) -> list[Finding]:
        """The findings with ``code`` (and ``layer``, if given)."""
        return [f for f in self.findings if f.code == code and (layer is None or f.layer == layer)]

    def to_dict(self) -> dict:
        """Plain JSON-ready data: ``ok``, ``loss``, ``findings``, ``checks`` and ``layers``."""
        return {
            "ok": self.ok,
            "loss": _json_number(float(self.loss)),
            "findings": [f.to_dict() for f in self.findings],
            "checks": dict(self.checks),
            "layers": [{k: _json_number(v) for k, v in row.items()} for row in self.layers],
        }

    def table(self) -> str:
        """The findings as a text table (or one line saying the network looks healthy)."""
        ran = ", ".join(f"{name}: {outcome}" for name, outcome in self.checks.items())
        if self.ok:
            return f"Diagnosis: no findings (loss {self.loss:.4g}).\nChecks: {ran}"
        header = ("code", "layer", "value", "threshold", "message", "remedy")
        rows = [(f.code, f.layer or "(model)", _format_number(f.value), _format_number(f.threshold), f.message,
                 f.remedy) for f in self.findings]
        widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
        line = "  ".join("{:<%d}" % w for w in widths)
        out = [f"Diagnosis: {len(rows)} finding(s) (loss {self.loss:.4g})", line.format(*header),
               line.format(*("-" * w for w in widths))]
        out += [line.format(*row).rstrip() for row in rows]
        out.append(f"Checks: {ran}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()

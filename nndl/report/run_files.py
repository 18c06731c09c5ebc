"""The files of a run directory beside the checkpoint, and reading them back.

``nndl train`` writes (each only when it applies):

==================  ==========================================================
``config.json``     the resolved configuration
``history.csv``     one row per epoch (written while training)
``history.json``    ``{"epoch": [...], "history": {key: [values]}}``
``summary.json``    the model summary's rows and totals (``Summary.to_dict``)
``summary.txt``     the same as the printed table
``confusion.json``  ``{"labels": [...], "matrix": [[...]]}`` on the test set
``diagnosis.json``  ``Diagnosis.to_dict()`` of the model before training
``monitor.json``    ``Monitor.to_dict()``
``plots/*.png``     the figures that apply (curves, confusion matrix, ...)
==================  ==========================================================

Every file is JSON, CSV, text or PNG: data, never code.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field

import numpy as np

PLOTS_DIR = "plots"
FILES = {
    "config": "config.json", "history": "history.json", "summary": "summary.json", "summary_text": "summary.txt",
    "confusion": "confusion.json", "diagnosis": "diagnosis.json", "monitor": "monitor.json",
}
MAX_JSON_BYTES = 64 * 2**20
"""A run's JSON files are small; anything larger is refused rather than read into memory."""


def _clean(value):
    """JSON-ready: NaN/inf as None, NumPy scalars and arrays as Python values."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: str, data) -> None:
    with open(path, "w") as f:
        json.dump(_clean(data), f, indent=1)


def confusion_counts(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """``M[i, j]`` = samples of class i predicted as j."""
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    size = num_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    matrix = np.zeros((size, size), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def save_run(run_dir: str, *, config=None, history=None, summary=None, confusion=None, diagnosis=None,
             monitor=None, plots: bool = True) -> list[str]:
    """Write the given pieces of a run into ``run_dir``; return the paths written.

    Parameters
    ----------
    config : dict, optional
    history : History or {"epoch": [...], "history": {...}}, optional
    summary : Summary, optional
    confusion : (y_true, y_pred), optional
    diagnosis : Diagnosis, optional
    monitor : Monitor, optional
    plots : bool
        Also render the figures that apply into ``plots/`` (needs matplotlib;
        skipped without it).
    """
    os.makedirs(run_dir, exist_ok=True)
    written = []

    def put(key, data):
        path = os.path.join(run_dir, FILES[key])
        write_json(path, data)
        written.append(path)

    if config is not None:
        put("config", config)
    if history is not None:
        if isinstance(history, dict) and "history" in history:  # already {"epoch": [...], "history": {...}}
            put("history", {"epoch": list(history.get("epoch", [])), "history": history["history"]})
        else:
            put("history", {"epoch": list(getattr(history, "epoch", [])),
                            "history": getattr(history, "history", history)})
    if summary is not None:
        put("summary", summary.to_dict())
        path = os.path.join(run_dir, FILES["summary_text"])
        with open(path, "w") as f:
            f.write(str(summary) + "\n")
        written.append(path)
    matrix = None
    if confusion is not None:
        matrix = confusion_counts(*confusion)
        put("confusion", {"labels": [str(i) for i in range(len(matrix))], "matrix": matrix})
    if diagnosis is not None:
        put("diagnosis", diagnosis.to_dict())
    if monitor is not None:
        put("monitor", monitor.to_dict())
    if plots:
        written += save_plots(run_dir, load_run(run_dir))
    return written


@dataclass
class Run:
    """What a run directory holds (None for a missing piece)."""

    path: str
    config: dict | None = None
    history: dict | None = None
    summary: dict | None = None
    summary_text: str | None = None
    confusion: dict | None = None
    diagnosis: dict | None = None
    monitor: dict | None = None
    plots: dict[str, str] = field(default_factory=dict)


def _read_json(path: str):
    size = os.path.getsize(path)
    if size > MAX_JSON_BYTES:
        raise ValueError(f"{path}: {size} bytes, more than the {MAX_JSON_BYTES} a run file may have")
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from None


def _history_from_csv(path: str) -> dict:
    import csv

    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {"epoch": [], "history": {}}
    keys = [k for k in rows[0] if k != "epoch"]

    def number(text):
        try:
            return float(text)
        except (TypeError, ValueError):
            return None

    return {"epoch": [int(number(r.get("epoch")) or i) for i, r in enumerate(rows)],
            "history": {k: [number(r.get(k)) for r in rows] for k in keys}}


def load_run(run_dir: str) -> Run:
    """Read every known file of ``run_dir`` (raising ValueError for a malformed one)."""
    if not os.path.isdir(run_dir):
        raise ValueError(f"{run_dir}: not a run directory")
    run = Run(run_dir)
    for key, name in FILES.items():
        path = os.path.join(run_dir, name)
        if not os.path.isfile(path):
            continue
        if key == "summary_text":
            with open(path) as f:
                run.summary_text = f.read(MAX_JSON_BYTES)
        else:
            setattr(run, key, _read_json(path))
    if run.history is None and os.path.isfile(os.path.join(run_dir, "history.csv")):
        run.history = _history_from_csv(os.path.join(run_dir, "history.csv"))
    for kind, expected in (("history", dict), ("config", dict), ("summary", dict), ("confusion", dict),
                           ("diagnosis", dict), ("monitor", dict)):
        value = getattr(run, kind)
        if value is not None and not isinstance(value, expected):
            raise ValueError(f"{os.path.join(run_dir, FILES[kind])}: expected a JSON object")
    plots_dir = os.path.join(run_dir, PLOTS_DIR)
    if os.path.isdir(plots_dir):
        run.plots = {os.path.splitext(n)[0]: os.path.join(plots_dir, n)
                     for n in sorted(os.listdir(plots_dir)) if n.lower().endswith(".png")}
    return run


def render_plots(run: Run) -> dict:
    """The figures the run's data supports: ``name -> Figure`` (learning curves, confusion matrix, monitor)."""
    from nndl import plot

    figures = {}
    history = (run.history or {}).get("history") or {}
    if any(isinstance(v, list) and v for v in history.values()):
        figures["learning_curves"] = plot.learning_curves({k: v for k, v in history.items() if isinstance(v, list)})
    if run.confusion and run.confusion.get("matrix"):
        matrix = np.asarray(run.confusion["matrix"], dtype=np.int64)
        rows, cols = np.indices(matrix.shape)
        y_true, y_pred = np.repeat(rows.ravel(), matrix.ravel()), np.repeat(cols.ravel(), matrix.ravel())
        if y_true.size:
            figures["confusion_matrix"] = plot.confusion_matrix(y_true, y_pred, labels=run.confusion.get("labels"))
    if run.monitor and run.monitor.get("epochs"):
        figures["monitor_statistics"] = plot.monitor_statistics(run.monitor)
    return figures


def save_plots(run_dir: str, run: Run) -> list[str]:
    """Render :func:`render_plots` into ``run_dir/plots/NAME.png``; nothing without matplotlib."""
    try:
        figures = render_plots(run)
    except ImportError:
        return []
    os.makedirs(os.path.join(run_dir, PLOTS_DIR), exist_ok=True)
    paths = []
    for name, figure in figures.items():
        path = os.path.join(run_dir, PLOTS_DIR, f"{name}.png")
        figure.savefig(path, dpi=90)
        paths.append(path)
    return paths

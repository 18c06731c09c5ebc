"""``nndl report``: one self-contained HTML page of a run, readable offline in any browser.

Everything is in the file: the style sheet inline, every figure a PNG
``data:`` URI. No script, font, style or image is fetched from anywhere, so
the page opens the same on a laptop without network, in a mail attachment or
in a CI artifact.
"""

from __future__ import annotations

import base64
import datetime
import html
import math
import os

from nndl.report.run_files import Run, load_run, render_plots

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.88em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; border: 1px solid #eee; margin: 0.5em 0; }
.ok { color: #1a7f37; font-weight: 600; } .bad { color: #b42318; font-weight: 600; }
.muted { color: #777; } pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
"""


def _text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return "—" if not math.isfinite(value) else f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "×".join(str(v) for v in value) if all(isinstance(v, int) for v in value) else str(value)
    return str(value)


def table(headers, rows, table_id: str) -> str:
    """An HTML table; numbers right-aligned; every cell escaped."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{html.escape(_text(v))}</td>' if isinstance(v, (int, float)) and not isinstance(v, bool)
            else f"<td>{html.escape(_text(v))}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def image(png: bytes, alt: str) -> str:
    """An ``<img>`` whose source is the PNG itself."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _flatten(config, prefix="") -> list[tuple[str, object]]:
    rows = []
    for key, value in config.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        rows += _flatten(value, name) if isinstance(value, dict) else [(name, value)]
    return rows


def _config_section(run: Run) -> str:
    if not run.config:
        return '<p class="muted">No configuration saved.</p>'
    return table(("key", "value"), [(k, v if isinstance(v, (int, float, str)) else str(v))
                                    for k, v in _flatten(run.config)], "config")


def _summary_section(run: Run) -> str:
    if run.summary and isinstance(run.summary.get("rows"), list):
        rows = [(r.get("name"), r.get("type"), r.get("output_shape"), r.get("params"), r.get("macs"))
                for r in run.summary["rows"] if isinstance(r, dict) and r.get("is_leaf", True)]
        totals = (f'<p>{_text(run.summary.get("total_params"))} parameters '
                  f'({_text(run.summary.get("trainable_params"))} trainable), '
                  f'{_text(run.summary.get("total_macs"))} multiply-accumulates per sample.</p>')
        return totals + table(("layer", "type", "output shape", "parameters", "MACs"), rows, "summary")
    if run.summary_text:
        return f'<pre id="summary">{html.escape(run.summary_text)}</pre>'
    return '<p class="muted">No model summary saved.</p>'


def _final_metrics(run: Run) -> str:
    history = (run.history or {}).get("history") or {}
    rows = [(key, values[-1]) for key, values in history.items()
            if isinstance(values, list) and values and "/" not in key]
    if not rows:
        return '<p class="muted">No training history saved.</p>'
    epochs = max(len(v) for v in history.values() if isinstance(v, list))
    return f"<p>{epochs} epoch(s); values of the last one:</p>" + table(("quantity", "value"), rows, "metrics")


def _diagnosis_section(run: Run) -> str:
    d = run.diagnosis
    if not d:
        return '<p class="muted">No diagnosis saved.</p>'
    findings = d.get("findings") or []
    verdict = ('<p class="ok">Healthy: no check found anything.</p>' if not findings else
               f'<p class="bad">{len(findings)} finding(s).</p>')
    parts = [verdict]
    if findings:
        parts.append(table(("code", "layer", "value", "threshold", "message", "remedy"),
                           [(f.get("code"), f.get("layer") or "(model)", f.get("value"), f.get("threshold"),
                             f.get("message"), f.get("remedy")) for f in findings], "diagnosis"))
    checks = d.get("checks") or {}
    parts.append(table(("check", "outcome"), list(checks.items()), "checks"))
    return "".join(parts)


def _monitor_section(run: Run) -> str:
    epochs = (run.monitor or {}).get("epochs") or []
    if not epochs:
        return '<p class="muted">No Monitor statistics saved (train with a Monitor to record them).</p>'
    last = epochs[-1]
    types = run.monitor.get("layer_types") or {}
    rows = [(name, types.get(name, ""), s.get("mean"), s.get("std"), s.get("dead"), s.get("saturated"),
             s.get("grad_norm")) for name, s in last["layers"].items()]
    weights = [(name, ratio) for name, ratio in last["weights"].items()]
    return (f"<p>Epoch {last['epoch'] + 1}, averaged over the measured batches:</p>"
            + table(("layer", "type", "mean", "std", "dead", "saturated", "‖δ‖"), rows, "monitor")
            + table(("weight", "‖Δθ‖/‖θ‖"), weights, "update-ratios"))


def render_report(run_dir: str) -> str:
    """The report of ``run_dir`` as one HTML string (figures rendered from the run's data, or its PNGs)."""
    run = load_run(run_dir)
    pngs: dict[str, bytes] = {}
    for name, path in run.plots.items():
        with open(path, "rb") as f:
            pngs[name] = f.read()
    try:
        from nndl.plot import to_png

        for name, figure in render_plots(run).items():
            pngs.setdefault(name, to_png(figure, dpi=90))
    except ImportError:
        pass  # without matplotlib the report embeds the PNGs the run saved
    title = os.path.basename(os.path.abspath(run_dir))

    def figure(name, alt):
        return image(pngs.pop(name), alt) if name in pngs else ""

    sections = [
        ("Configuration", _config_section(run)),
        ("Model", _summary_section(run)),
        ("Training", _final_metrics(run) + figure("learning_curves", "learning curves")),
        ("Test set", figure("confusion_matrix", "confusion matrix") or '<p class="muted">No confusion matrix.</p>'),
        ("Diagnosis", _diagnosis_section(run)),
        ("Inside the network", _monitor_section(run) + figure("monitor_statistics", "monitor statistics")),
    ]
    if pngs:
        sections.append(("More figures", "".join(image(png, name) for name, png in sorted(pngs.items()))))
    body = "".join(f"<section><h2>{html.escape(h)}</h2>{content}</section>" for h, content in sections)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>nndl run {html.escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>Run {html.escape(title)}</h1><p class=\"muted\">Report written {stamp} from {html.escape(run_dir)}"
            f"</p>{body}</body></html>\n")


def write_report(run_dir: str, output: str | None = None) -> str:
    """Write the report of ``run_dir`` to ``output`` (default ``RUN_DIR/report.html``); return the path."""
    page = render_report(run_dir)
    output = output or os.path.join(run_dir, "report.html")
    with open(output, "w", encoding="utf-8") as f:
        f.write(page)
    return output

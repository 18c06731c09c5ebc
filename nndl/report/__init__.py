"""A run directory's files (config, history, summary, diagnosis, monitor, plots) and its HTML report."""

from nndl.report.html import render_report, write_report
from nndl.report.run_files import FILES, Run, load_run, save_plots, save_run

__all__ = ["FILES", "Run", "load_run", "render_report", "save_plots", "save_run", "write_report"]

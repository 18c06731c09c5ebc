"""Figures without pyplot: headless, thread-safe, no global state.

Every plot builds a ``matplotlib.figure.Figure`` with an Agg canvas, so it
renders on a server without a display and never touches the pyplot state
machine; in a notebook a returned Figure displays itself. Functions that
draw one panel take ``ax=`` and draw into that Axes instead (returning its
Figure).
"""

from __future__ import annotations


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:  # imported here so that `import nndl` never needs matplotlib
        raise ImportError('nndl.plot needs matplotlib: pip install "nndl[plot]"') from error
    return Figure, FigureCanvasAgg


def new_figure(nrows: int = 1, ncols: int = 1, figsize=None, squeeze: bool = False):
    """A Figure with an Agg canvas and a grid of Axes (a 2-D array unless ``squeeze``)."""
    Figure, FigureCanvasAgg = _matplotlib()
    if figsize is None:
        figsize = (4.2 * ncols, 3.4 * nrows)
    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, squeeze=squeeze)
    return figure, axes


def one_panel(ax=None, figsize=(5, 4)):
    """``(figure, ax)``: the given Axes and its Figure, or a new Figure with one Axes."""
    if ax is not None:
        return ax.figure, ax
    figure, axes = new_figure(1, 1, figsize=figsize)
    return figure, axes[0, 0]


def to_png(figure, dpi: int = 100) -> bytes:
    """The Figure rendered as PNG bytes."""
    from io import BytesIO

    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()

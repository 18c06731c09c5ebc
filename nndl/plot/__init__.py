"""Figures of everything the notes draw, on matplotlib without pyplot (headless-safe; the ``plot`` extra).

Each function returns a ``matplotlib.figure.Figure``; those that draw one
panel take ``ax=`` to draw into an existing Axes.
"""

from nndl.plot._figure import new_figure, to_png
from nndl.plot.classification import confusion_matrix, decision_boundary, knn_cv_curve
from nndl.plot.curves import learning_curves, lr_finder, monitor_statistics
from nndl.plot.init_experiment import init_experiment
from nndl.plot.landscape import loss_landscape
from nndl.plot.network import feature_maps, filters, histograms
from nndl.plot.trajectories import SURFACES, Surface, optimizer_trajectories

__all__ = ["SURFACES", "Surface", "confusion_matrix", "decision_boundary", "feature_maps", "filters",
           "histograms", "init_experiment", "knn_cv_curve", "learning_curves", "loss_landscape", "lr_finder",
           "monitor_statistics", "new_figure", "optimizer_trajectories", "to_png"]

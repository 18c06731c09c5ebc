"""Training: the Trainer, callbacks and metrics."""

from nndl.train import metrics
from nndl.train.callback import Callback, History
from nndl.train.ensemble import Ensemble, fit_members
from nndl.train.callbacks import CSVLogger, EarlyStopping, LRSchedulerCallback, ModelCheckpoint
from nndl.train.progress import ProgressBar
from nndl.train.trainer import Trainer, TrainingDivergedError

__all__ = [
    "CSVLogger", "Callback", "EarlyStopping", "Ensemble", "History", "LRSchedulerCallback", "ModelCheckpoint",
    "ProgressBar", "Trainer", "TrainingDivergedError", "fit_members", "metrics",
]

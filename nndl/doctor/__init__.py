"""The training doctor: the notes' checks of a network, the learning-rate finder and a statistics monitor.

``diagnose(model, loss_fn, x, y, optimizer)`` runs the checks of "how
training goes wrong and how to tell" on one batch and returns a
``Diagnosis``; ``lr_find`` runs Smith's learning-rate range test; ``Monitor``
records per-layer statistics while a ``Trainer`` trains. The first two leave
the model, the optimizer and every random generator exactly as they were.
"""

from nndl.doctor.checks import Thresholds
from nndl.doctor.diagnose import diagnose
from nndl.nn.core.facts import ActivationFacts
from nndl.doctor.findings import CODES, Diagnosis, Finding
from nndl.doctor.lr_finder import LRFinderResult, lr_find
from nndl.doctor.monitor import Monitor
from nndl.doctor.snapshot import Snapshot

__all__ = ["ActivationFacts", "CODES", "Diagnosis", "Finding", "LRFinderResult", "Monitor", "Snapshot", "Thresholds",
           "diagnose", "lr_find"]

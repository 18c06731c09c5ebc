"""A rich progress display for ``Trainer.fit``: one line per epoch, a batch bar on terminals."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from nndl.train.callback import Callback


def format_logs(logs: dict) -> str:
    """``loss 0.1234 · accuracy 0.9650 · val_loss ...`` (the learning rate in scientific notation)."""
    parts = []
    for key, value in logs.items():
        parts.append(f"{key} {value:.3g}" if key == "lr" else f"{key} {value:.4f}")
    return " · ".join(parts)


class ProgressBar(Callback):
    """Show training progress.

    Parameters
    ----------
    quiet : bool
        Print nothing per epoch, only one closing line with the final values.
    batch_bar : bool or None
        Show a live per-batch bar; ``None`` (default) shows it only on an
        interactive terminal or in Jupyter, never in logs or CI output.
    console : rich.console.Console, optional
        Where to print (a ``Console(file=...)`` captures the output).
    """

    def __init__(self, quiet: bool = False, batch_bar: bool | None = None, console: Console | None = None):
        self.quiet = quiet
        self.batch_bar = batch_bar
        self.console = console or Console()

    def on_train_begin(self, logs=None):
        self._epochs = self.trainer.epochs
        live = self.console.is_terminal or self.console.is_jupyter
        self._show_bar = (live if self.batch_bar is None else self.batch_bar) and not self.quiet
        self._progress = None
        self._last = None
        self._epochs_run = 0
        self._train_start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        if self._show_bar:
            self._progress = Progress(TextColumn(f"epoch {epoch + 1}/{self._epochs}"), BarColumn(),
                                      MofNCompleteColumn(), TextColumn("{task.fields[loss]}"),
                                      TimeElapsedColumn(), console=self.console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task("train", total=self.trainer.batches_per_epoch, loss="")

    def on_batch_end(self, batch, logs=None):
        if self._progress is not None:
            loss = (logs or {}).get("loss")  # nothing is shown before the first batch has a loss
            self._progress.update(self._task, advance=1, loss="" if loss is None else f"loss {loss:.4f}")

    def on_epoch_end(self, epoch, logs=None):
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        self._last = (epoch, logs or {})
        self._epochs_run += 1
        if not self.quiet:
            seconds = time.perf_counter() - self._start
            self.console.print(f"epoch {epoch + 1}/{self._epochs} · {format_logs(logs or {})} · {seconds:.1f}s",
                               highlight=False, soft_wrap=True, markup=False)

    def on_train_end(self, logs=None):
        if self._progress is not None:
            self._progress.stop()
        if self.quiet and self._last is not None:
            epoch, last = self._last
            seconds = time.perf_counter() - self._train_start
            count = f"{self._epochs_run} epoch{'' if self._epochs_run == 1 else 's'}"
            if self._epochs_run != epoch + 1:  # a resumed run: say where it ended
                count += f" (epochs {epoch + 2 - self._epochs_run}–{epoch + 1} of {self._epochs})"
            self.console.print(f"trained {count} in {seconds:.1f}s · {format_logs(last)}",
                               highlight=False, soft_wrap=True, markup=False)

"""``nndl diagnose`` (the training doctor on a config's model or a checkpoint), ``nndl report`` and the run files.

``nndl train`` calls :func:`save_run_outputs` after training to put the
history, the model summary, the test confusion matrix, the Monitor's
statistics, a diagnosis of the model as built and their figures beside the
checkpoint; ``nndl report RUN_DIR`` turns them into one HTML page.
"""

from __future__ import annotations

import json
import os

import numpy as np
from rich.console import Console

from nndl.report.run_files import FILES


def add_parsers(commands) -> None:
    """Register the ``diagnose`` and ``report`` subcommands on ``commands`` (an argparse subparsers object)."""
    diagnose = commands.add_parser("diagnose", help="check a model for the notes' training problems "
                                                    "(exit status 0 when healthy, 1 with findings)")
    diagnose.add_argument("source", help="a TOML training config (the model as built) or a checkpoint")
    diagnose.add_argument("--samples", type=int, default=256, help="training samples in the checked batch "
                                                                   "(default 256)")
    diagnose.add_argument("--data-path", dest="data_path",
                          help="the data set's location, for a checkpoint not trained on the bundled digits")
    diagnose.add_argument("--json", action="store_true", help="print the diagnosis as JSON")

    report = commands.add_parser("report", help="one self-contained HTML page of a training run")
    report.add_argument("run_dir", help="a run directory written by 'nndl train'")
    report.add_argument("-o", "--output", help="the HTML file to write (default: RUN_DIR/report.html)")


def _say(console: Console, text: str) -> None:
    console.print(text, highlight=False, soft_wrap=True, markup=False)


def _from_config(path: str):
    from nndl.cli.commands import _load_data, build_run
    from nndl.cli.config import load_config

    config = load_config(path, {})
    data = _load_data(config)
    (x_train, y_train, _, _), model, loss_fn, optimizer, _ = build_run(config, data)
    return model, loss_fn, optimizer, x_train, y_train, config["training"]["seed"]


def _from_checkpoint(path: str, data_path: str | None):
    """The checkpoint's model and optimizer (with its saved state) and its training data, read as evaluate does."""
    from nndl import io, nn
    from nndl.cli.commands import _load_data, _named
    from nndl.cli.config import ConfigKeyError, load_config
    from nndl.cli.registry import OPTIMIZERS

    saved = io.load(path).extra.get("config")
    if not isinstance(saved, dict):
        raise ValueError(f"{path}: no training configuration saved; it was not written by 'nndl train'")
    data = saved.get("data") if isinstance(saved.get("data"), dict) else {}
    try:
        config = load_config(None, {**saved, "data": {**data, "path": data_path}})
    except ConfigKeyError as exc:
        raise ValueError(f"{path}: its saved training configuration is invalid: {exc}") from exc
    if config["data"]["name"] != "digits" and data_path is None:
        raise ValueError(f"{path} was trained on '{config['data']['name']}' data: give its location with "
                         "--data-path (data locations are never read from a checkpoint)")
    x_train, y_train, _, _ = _load_data(config)
    model = io.load(path).model
    optimizer = OPTIMIZERS[config["optimizer"]["name"]](model.parameters(), **_named(config["optimizer"])[1])
    loaded = io.load(path, model=model, optimizer=optimizer)
    return loaded.model, nn.SoftmaxCrossEntropy(), optimizer, x_train, y_train, config["training"]["seed"]


def run_diagnose(args, console: Console) -> int:
    """Print the diagnosis of ``args.source``; 0 when healthy, 1 with findings."""
    from nndl.doctor import diagnose

    if args.samples < 1:
        raise ValueError(f"--samples: expected a positive integer, got {args.samples}")
    if args.source.endswith(".toml"):
        model, loss_fn, optimizer, x, y, seed = _from_config(args.source)
    else:
        model, loss_fn, optimizer, x, y, seed = _from_checkpoint(args.source, args.data_path)
    pick = np.random.default_rng(seed).permutation(len(x))[:args.samples]
    diagnosis = diagnose(model, loss_fn, x[pick], y[pick], optimizer, rng=seed)
    _say(console, json.dumps(diagnosis.to_dict(), indent=1) if args.json else str(diagnosis))
    return 0 if diagnosis.ok else 1


def run_report(args, console: Console) -> int:
    from nndl.report import write_report

    path = write_report(args.run_dir, args.output)
    _say(console, f"report: {path}")
    return 0


def _merged_history(run_dir: str, history) -> dict:
    """This fit's History, after the epochs an earlier (resumed) fit of the same run wrote to history.json."""
    path = os.path.join(run_dir, FILES["history"])
    epochs, values = list(history.epoch), {k: list(v) for k, v in history.history.items()}
    if os.path.isfile(path) and epochs:
        try:
            with open(path) as f:
                earlier = json.load(f)
            keep = [i for i, e in enumerate(earlier.get("epoch", [])) if e < epochs[0]]
            old = earlier.get("history", {})
            values = {k: [old.get(k, [None] * len(keep))[i] if i < len(old.get(k, [])) else None for i in keep] + v
                      for k, v in values.items()}
            epochs = [earlier["epoch"][i] for i in keep] + epochs
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # an unreadable earlier file is replaced by this fit's history
    return {"epoch": epochs, "history": values}


def start_inspection(model, loss_fn, optimizer, x, y, seed: int, run_dir: str, samples: int = 256):
    """What ``nndl train`` records besides the checkpoint: a Monitor callback and a diagnosis of the model as it is.

    The diagnosis runs the checks of one forward/backward pass and one
    optimizer step (not the overfitting run, whose cost grows with the model;
    ``nndl diagnose`` runs it) and restores everything it touched.
    """
    from nndl.doctor import Monitor, diagnose

    pick = np.random.default_rng(seed).permutation(len(x))[:samples]
    diagnosis = diagnose(model, loss_fn, x[pick], y[pick], optimizer, rng=seed, overfit_steps=0)
    return Monitor(run_dir=run_dir), diagnosis


def save_run_outputs(run_dir: str, trainer, x_sample: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                     monitor=None, diagnosis=None) -> list[str]:
    """Write the history, summary, confusion matrix, Monitor statistics, diagnosis and plots of a run."""
    from nndl.report import save_run
    from nndl.summary import summary

    try:
        model_summary = summary(trainer.model, tuple(x_sample.shape[1:]))
    except Exception:  # a model the summary cannot trace still gets the rest of its run files
        model_summary = None
    predicted = np.argmax(trainer.predict(x_test), axis=1) if len(x_test) else None
    history = getattr(trainer, "history", None)
    return save_run(run_dir, history=None if history is None else _merged_history(run_dir, history),
                    summary=model_summary, confusion=None if predicted is None else (y_test, predicted),
                    diagnosis=diagnosis, monitor=monitor)

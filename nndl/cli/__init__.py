"""The ``nndl`` command line: train, evaluate and predict."""

from __future__ import annotations

import argparse
import os
import sys

from rich.console import Console
from rich.markup import escape

from nndl.cli.config import ConfigKeyError


def _overrides(args) -> dict:
    training = {key: getattr(args, key) for key in ("epochs", "batch_size", "seed", "out")
                if getattr(args, key) is not None}
    overrides = {"training": training} if training else {}
    if args.lr is not None:
        overrides["optimizer"] = {"lr": args.lr}
    if args.data_path is not None:
        overrides["data"] = {"path": args.data_path}
    return overrides


def build_parser() -> argparse.ArgumentParser:
    from nndl import __version__

    parser = argparse.ArgumentParser(prog="nndl", description="Neural networks from scratch on NumPy.")
    parser.add_argument("--version", action="version", version=f"nndl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model (default: a small CNN on the bundled digits)")
    train.add_argument("config", nargs="?", help="a TOML configuration (see examples/)")
    train.add_argument("--epochs", type=int, help="number of epochs")
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--batch-size", dest="batch_size", type=int, help="mini-batch size")
    train.add_argument("--seed", type=int, help="seed of the split, the initial weights and the shuffling")
    train.add_argument("--out", help="directory for runs (default: runs)")
    train.add_argument("--quiet", action="store_true", help="print only the final line of training")
    train.add_argument("--data-path", dest="data_path",
                       help="directory or file of the [data] set (overrides the config's path)")
    train.add_argument("--save-every", dest="save_every", type=int, default=1, metavar="N",
                       help="write the run's checkpoint every N epochs (default 1); Ctrl-C or a diverged loss "
                            "still saves the last complete epoch")
    train.add_argument("--resume", metavar="RUN_DIR|CHECKPOINT",
                       help="continue a run exactly where its checkpoint stopped (same split, shuffling and "
                            "optimizer state; --epochs sets the new total). The data are read from --data-path "
                            "(or the bundled digits), never from a location saved in the checkpoint")

    evaluate = commands.add_parser(
        "evaluate", help="evaluate a checkpoint on its test set (loss, accuracy, confusion matrix, per-class "
                         "precision/recall/F1)",
        description="Evaluate a checkpoint on the test split of its data set. A checkpoint is data: it never "
                    "names a file nndl reads. Data sets read from files need --data-path; only the bundled "
                    "digits need nothing. A checkpoint saved from Python (nndl.io.save) needs --data.")
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--data", help="evaluate on another data set (a [data] name); required for a checkpoint "
                                         "saved from Python")
    evaluate.add_argument("--data-path", dest="data_path",
                          help="directory or file of the data set (required unless it is the bundled digits)")

    predict = commands.add_parser("predict", help="predict classes for the samples in an .npy file")
    predict.add_argument("checkpoint")
    predict.add_argument("input", help="an .npy array of samples shaped like the training inputs")
    predict.add_argument("--output", help="write the predictions to this .npy file instead of printing them")
    predict.add_argument("--probabilities", action="store_true", help="output class probabilities")

    from nndl.cli.summary_commands import add_parsers as add_summary_parsers
    add_summary_parsers(commands)  # nndl summary, nndl explain
    from nndl.cli.inspect_commands import add_parsers as add_inspect_parsers
    add_inspect_parsers(commands)  # nndl diagnose, nndl report
    from nndl.cli.export_command import add_parser as add_export_parser
    add_export_parser(commands)  # nndl export
    return parser


def main(argv=None) -> int:
    """Run the command; the exit status is 0, 1 (diverged or failed), 2 (bad input) or 130 (interrupted)."""
    args = build_parser().parse_args(argv)
    console = Console()

    def error(message: str) -> None:
        console.print(f"[bold red]error:[/bold red] {escape(message)}", highlight=False, soft_wrap=True)

    try:
        return _run(args, console)
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except MemoryError:
        error("out of memory (try a smaller --batch-size or model)")
        return 1
    except RecursionError:
        error("input nested too deeply")
        return 2
    except Exception as exc:  # a bug rather than bad input: still one line, the traceback on request
        if os.environ.get("NNDL_TRACEBACK"):
            raise
        error(f"unexpected {type(exc).__name__}: {exc} (set NNDL_TRACEBACK=1 to see where)")
        return 1


def _run(args, console: Console) -> int:
    from nndl.cli import commands
    from nndl.cli.runs import RunStopped

    try:
        if args.command == "train":
            commands.train(args.config, _overrides(args), console, quiet=args.quiet, save_every=args.save_every,
                           resume=args.resume)
        elif args.command == "evaluate":
            commands.evaluate(args.checkpoint, console, data_name=args.data, data_path=args.data_path)
        elif args.command == "summary":
            from nndl.cli.summary_commands import run_summary
            run_summary(args, console)
        elif args.command == "explain":
            from nndl.cli.summary_commands import run_explain
            return run_explain(args, console)
        elif args.command == "export":
            from nndl.cli.export_command import run_export
            return run_export(args, console)
        elif args.command in ("diagnose", "report"):
            from nndl.cli.inspect_commands import run_diagnose, run_report
            return (run_diagnose if args.command == "diagnose" else run_report)(args, console)
        else:
            commands.predict(args.checkpoint, args.input, console, output=args.output,
                             probabilities=args.probabilities)
    except RunStopped as stop:
        console.print(escape(str(stop)), highlight=False, soft_wrap=True)
        return stop.code
    except (ConfigKeyError, ValueError, TypeError, OSError, ImportError) as exc:
        console.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Overhead of ``Trainer.fit`` over the raw training loop it runs (target: under 5%).

Usage::

    python benchmarks/trainer_overhead.py --repeats 15

Both sides train the MLP workload of ``compare.py`` (784-512-256-10, batch
128, SGD with momentum, float32) for one epoch of 10,240 samples, alternating
in one process; the Trainer side also shuffles, collects the outputs for its
accuracy metric and keeps its history. Prints the median of the per-pair
time ratios Trainer / raw loop.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Task, blas_info, load_average, set_threads, time_pairs  # noqa: E402
from workloads.mlp import MLPWorkload  # noqa: E402

from nndl.train import Trainer  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    workload = MLPWorkload(seed=0, sides=("nndl",))
    trainer_model, loss_fn, opt = workload._nndl_setup()
    trainer = Trainer(trainer_model, loss_fn, opt, metrics=("accuracy",))

    def trainer_epoch():
        trainer.fit(workload.x, workload.y, epochs=1, batch_size=workload.batch_size, rng=0, verbose=0)

    print(f"threads={args.threads}  BLAS: {blas_info()}  load average before: {load_average():.2f}")
    result = time_pairs(Task("trainer vs raw loop", trainer_epoch, workload.nndl_train_epoch, len(workload.x)),
                        args.repeats)
    ratios = result.ratios
    print(f"Trainer.fit epoch {statistics.median(result.nndl_seconds):.3f} s, raw loop "
          f"{statistics.median(result.torch_seconds):.3f} s, overhead {100 * (statistics.median(ratios) - 1):+.1f}% "
          f"(median of {len(ratios)} pairs; min {100 * (min(ratios) - 1):+.1f}%, max {100 * (max(ratios) - 1):+.1f}%)")
    print(f"load average after: {load_average():.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

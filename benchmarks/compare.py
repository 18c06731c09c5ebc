"""Time nndl against PyTorch CPU on the same workloads, in the same process.

Usage::

    python benchmarks/compare.py                     # every workload
    python benchmarks/compare.py mlp --repeats 15    # one workload
    python benchmarks/compare.py --list

For each workload it first checks that both libraries compute the same thing
(same loss after one training step from the same weights), then times
training and inference alternately (see ``harness.py``), prints seconds per
10,000 samples, the median nndl/torch ratio of the pairs and, with
``--memory``, the peak memory growth of each side in its own subprocess.
Needs torch and threadpoolctl (``pip install ".[test]"``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import blas_info, load_average, peak_rss_bytes, reset_peak, set_threads, summarize, time_pairs  # noqa: E402
from workloads import WORKLOADS  # noqa: E402


def measure_memory(workload: str, side: str, task_index: int, threads: int) -> int:
    """Peak memory (bytes) of one side of one task, measured in a fresh subprocess."""
    code = (
        "import sys; sys.path.insert(0, %r);"
        "from compare import memory_child; print(memory_child(%r, %r, %d, %d))"
        % (os.path.dirname(os.path.abspath(__file__)), workload, side, task_index, threads)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def memory_child(workload: str, side: str, task_index: int, threads: int) -> int:
    """Build the workload and run one task twice; return its peak RSS above the post-import level."""
    set_threads(threads)
    if side == "torch":
        import torch  # noqa: F401  (imported before the baseline, like nndl)
    baseline = reset_peak()
    task = WORKLOADS[workload](seed=0, sides=(side,)).tasks()[task_index]
    fn = task.nndl if side == "nndl" else task.torch
    fn()
    fn()
    return peak_rss_bytes() - baseline


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workloads", nargs="*", help=f"subset of: {', '.join(WORKLOADS)}")
    parser.add_argument("--repeats", type=int, default=11, help="timed nndl/torch pairs per task")
    parser.add_argument("--threads", type=int, default=2, help="threads for both libraries")
    parser.add_argument("--memory", action="store_true", help="also measure peak memory in subprocesses")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.list:
        for name, factory in WORKLOADS.items():
            print(f"{name}: {factory.__doc__.strip().splitlines()[0]}")
        return 0
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; valid: {', '.join(WORKLOADS)}")
    set_threads(args.threads)
    print(f"threads={args.threads}  BLAS: {blas_info()}  load average before: {load_average():.2f}")
    rows = []
    for name in args.workloads or list(WORKLOADS):
        workload = WORKLOADS[name](seed=0)
        nndl_loss, torch_loss = workload.check()
        print(f"[{name}] loss after one step from the same weights: nndl {nndl_loss:.6f}  torch {torch_loss:.6f}")
        for index, task in enumerate(workload.tasks()):
            row = summarize(time_pairs(task, args.repeats), task.samples)
            row["workload"] = name
            mem = ""
            if args.memory:
                row["nndl_peak_mb"] = measure_memory(name, "nndl", index, args.threads) / 2**20
                row["torch_peak_mb"] = measure_memory(name, "torch", index, args.threads) / 2**20
                mem = f"  peak MB nndl {row['nndl_peak_mb']:.1f} torch {row['torch_peak_mb']:.1f}"
            rows.append(row)
            print(f"[{name}] {task.name:<24} nndl {row['nndl_s_per_10k']:.3f} s/10k  torch {row['torch_s_per_10k']:.3f} s/10k"
                  f"  ratio {row['ratio_median']:.2f} (min {row['ratio_min']:.2f}, max {row['ratio_max']:.2f}, "
                  f"{row['pairs']} pairs){mem}")
    print(f"load average after: {load_average():.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

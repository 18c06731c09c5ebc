"""Memory above the live arrays, and time, of the fast convolution kernels' forward and backward passes.

Usage::

    python benchmarks/conv_memory.py memory [--baseline REV] [--dtype float32]
    python benchmarks/conv_memory.py timing --baseline REV [--pairs 9]

``memory`` runs each case in a fresh subprocess under ``tracemalloc`` (NumPy
reports its array allocations to it) and prints, for the forward and the
backward pass, the peak of traced memory minus the bytes of the arrays the
caller holds at that point: inputs, weights, bias, the cache, the output
(forward) or δ and the returned gradients (backward). What is left is the
kernels' own working memory (copies, scratch buffers kept between calls).

``--baseline REV`` also measures the kernels as they were at git revision
``REV``: their six files (``nndl/nn/_fast/{windows,conv_rows,correlate,col2im,
conv,conv_transpose}.py``) are copied from git into a temporary package that
shares the rest of nndl (settings, thread pool, geometry), so both versions
run in one process. ``timing`` alternates the two versions' backward passes
on the CIFAR benchmark's and LeNet-5's convolutions (float32, inside a compute
scope as the modules call them) and prints medians of the per-pair ratios;
``--clock cpu`` times the process's CPU time instead of wall time (on a busy
machine the wall time mostly measures the other jobs).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL_FILES = ("windows", "conv_rows", "correlate", "col2im", "conv", "conv_transpose")
BASELINE_PACKAGE = "nndl_conv_baseline"

# name: (op, input shape, out channels, kernel, options)
MEMORY_CASES = {
    "stem 96x3x224x224 -> 64, 7x7 s2 p3": ("conv2d", (96, 3, 224, 224), 64, 7, dict(stride=2, padding=3)),
    "96x3x224x224 -> 64, 3x3 p1": ("conv2d", (96, 3, 224, 224), 64, 3, dict(padding=1)),
    "64x64x56x56 -> 64, 3x3 p1": ("conv2d", (64, 64, 56, 56), 64, 3, dict(padding=1)),
    "32x16x32x32 -> 32, 5x5 p2": ("conv2d", (32, 16, 32, 32), 32, 5, dict(padding=2)),
    "64x16x128x128 -> 16, 3x3 p1 reflect": ("conv2d", (64, 16, 128, 128), 16, 3,
                                            dict(padding=1, padding_mode="reflect")),
    "transpose 64x64x32x32 -> 32, 4x4 s2 p1": ("conv_transpose2d", (64, 64, 32, 32), 32, 4,
                                               dict(stride=2, padding=1)),
}

# name: (input shape, out channels, kernel, padding); CIFAR net (batch 64) and LeNet-5 (batch 128)
TIMING_CASES = {
    "CIFAR 3->32 3x3 p1": ((64, 3, 32, 32), 32, 3, 1),
    "CIFAR 32->32 3x3 p1": ((64, 32, 32, 32), 32, 3, 1),
    "CIFAR 32->64 3x3 p1": ((64, 32, 16, 16), 64, 3, 1),
    "CIFAR 64->64 3x3 p1": ((64, 64, 16, 16), 64, 3, 1),
    "LeNet 1->6 5x5": ((128, 1, 28, 28), 6, 5, 2),
    "LeNet 6->16 5x5": ((128, 6, 14, 14), 16, 5, 0),
}


def load_kernels(baseline: str | None):
    """The (conv, conv_transpose) modules of the working tree, or of git revision ``baseline``."""
    if baseline is None:
        from nndl.nn._fast import conv, conv_transpose
        return conv, conv_transpose
    root = tempfile.mkdtemp(prefix="conv-baseline-")
    package = os.path.join(root, BASELINE_PACKAGE)
    os.makedirs(package)
    open(os.path.join(package, "__init__.py"), "w").close()
    for name in KERNEL_FILES:
        source = subprocess.run(["git", "-C", REPO, "show", f"{baseline}:nndl/nn/_fast/{name}.py"],
                                check=True, capture_output=True, text=True).stdout
        for other in KERNEL_FILES:
            source = source.replace(f"nndl.nn._fast.{other} import", f"{BASELINE_PACKAGE}.{other} import")
        with open(os.path.join(package, f"{name}.py"), "w") as file:
            file.write(source)
    sys.path.insert(0, root)
    return (importlib.import_module(f"{BASELINE_PACKAGE}.conv"),
            importlib.import_module(f"{BASELINE_PACKAGE}.conv_transpose"))


def arrays_in(value):
    """Every ndarray inside ``value`` (nested tuples/lists)."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from arrays_in(item)


def held_bytes(*values) -> int:
    """Bytes of the distinct memory blocks behind the arrays in ``values`` (views counted once)."""
    blocks = {}
    for array in arrays_in(values):
        while isinstance(array.base, np.ndarray):
            array = array.base
        blocks[id(array)] = array.nbytes
    return sum(blocks.values())


def make_case(op, shape, out_channels, kernel, dtype, rng):
    c = shape[1]
    weight_shape = (out_channels, c, kernel, kernel) if op == "conv2d" else (c, out_channels, kernel, kernel)
    x = rng.standard_normal(shape, dtype=np.float32).astype(dtype, copy=False)
    weight = (rng.standard_normal(weight_shape, dtype=np.float32) * 0.1).astype(dtype, copy=False)
    bias = np.zeros(out_channels, dtype=dtype)
    return x, weight, bias


def measure_one(name: str, baseline: str | None, dtype: str) -> dict:
    """Forward and backward working memory (MiB) of one case, in this (fresh) process."""
    op, shape, out_channels, kernel, options = MEMORY_CASES[name]
    conv, conv_transpose = load_kernels(baseline)
    module = conv if op == "conv2d" else conv_transpose
    forward, backward = getattr(module, f"{op}_forward"), getattr(module, f"{op}_backward")
    tracemalloc.start()
    x, weight, bias = make_case(op, shape, out_channels, kernel, np.dtype(dtype), np.random.default_rng(0))
    tracemalloc.reset_peak()
    start = tracemalloc.get_traced_memory()[0] - held_bytes(x, weight, bias)  # Python's own objects
    out, cache = forward(x, weight, bias, **options)
    forward_extra = tracemalloc.get_traced_memory()[1] - start - held_bytes(x, weight, bias, out, cache)
    dout = np.ones_like(out)
    del out
    tracemalloc.reset_peak()
    grads = backward(dout, cache)
    backward_extra = tracemalloc.get_traced_memory()[1] - start - held_bytes(x, weight, bias, cache, dout, grads)
    mib = 2.0 ** 20
    return dict(forward=forward_extra / mib, backward=backward_extra / mib,
                live=held_bytes(x, weight, bias, cache, dout, grads) / mib)


def memory_table(args) -> None:
    versions = ([("before", args.baseline)] if args.baseline else []) + [("after", None)]
    print(f"dtype {args.dtype}; MiB above the live arrays (peak of tracemalloc minus the arrays held); "
          f"load average {os.getloadavg()[0]:.2f}")
    header = "| case | live arrays MiB |" + "".join(f" forward {v} | backward {v} |" for v, _ in versions)
    print(header)
    print("|---" * (2 + 2 * len(versions)) + "|")
    for name in MEMORY_CASES:
        cells, live = [], None
        for _, revision in versions:
            command = [sys.executable, os.path.abspath(__file__), "one", name, "--dtype", args.dtype]
            if revision:
                command += ["--baseline", revision]
            result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
            live = result["live"]
            cells += [f"{result['forward']:.1f}", f"{result['backward']:.1f}"]
        print(f"| {name} | {live:.0f} | " + " | ".join(cells) + " |", flush=True)


def timing_table(args) -> None:
    from nndl.nn._fast.parallel import compute_scope
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)
    new, _ = load_kernels(None)
    old, _ = load_kernels(args.baseline)
    rng = np.random.default_rng(0)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"backward ms ({args.clock} time, float32, {args.threads} threads), median of {args.pairs} "
          f"alternating pairs; load average {os.getloadavg()[0]:.2f} before")
    print("| layer | before ms | after ms | after/before (median of pair ratios) |")
    print("|---|---|---|---|")
    for name, (shape, out_channels, kernel, padding) in TIMING_CASES.items():
        x, weight, bias = make_case("conv2d", shape, out_channels, kernel, np.float32, rng)
        runs = {}
        for label, module in (("before", old), ("after", new)):
            with compute_scope():
                out, cache = module.conv2d_forward(x, weight, bias, padding=padding)
            dout = rng.standard_normal(out.shape, dtype=np.float32)
            if not out.flags.c_contiguous:  # the next layer's δ comes in the layout the output had
                dout = np.ascontiguousarray(dout.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)

            def run(module=module, dout=dout, cache=cache, repeats=args.inner):
                with compute_scope():
                    for _ in range(repeats):
                        module.conv2d_backward(dout, cache)
            runs[label] = run
        times = {"before": [], "after": []}
        for label in ("before", "after"):
            runs[label]()  # warm-up: scratch buffers allocated
        for i in range(args.pairs):
            order = ("before", "after") if i % 2 == 0 else ("after", "before")
            for label in order:
                start = clock()
                runs[label]()
                times[label].append((clock() - start) / args.inner * 1e3)
        ratios = [a / b for a, b in zip(times["after"], times["before"])]
        print(f"| {name} | {statistics.median(times['before']):.2f} | {statistics.median(times['after']):.2f} | "
              f"{statistics.median(ratios):.3f} |", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} after")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("memory", "timing", "one"))
    parser.add_argument("case", nargs="?", help="(mode 'one') a name of MEMORY_CASES")
    parser.add_argument("--baseline", help="git revision of the kernels to compare with")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--inner", type=int, default=5, help="backward passes per timed run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: the process's CPU time (all threads), steadier than wall time on a busy machine")
    args = parser.parse_args(argv)
    if args.mode == "one":
        print(json.dumps(measure_one(args.case, args.baseline, args.dtype)))
    elif args.mode == "memory":
        memory_table(args)
    else:
        if not args.baseline:
            parser.error("timing needs --baseline REV")
        timing_table(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Timing and memory harness shared by every workload in ``compare.py``.

Timing follows ../shared/PERFORMANCE.md: both libraries run in one process,
alternating A/B/A/B, with the same thread count; the reported ratio is the
median of the per-pair ratios, which cancels most of the slow drift of a
shared machine. Peak memory is measured separately, one library and one task per fresh
subprocess: the high-water mark of the process's resident set (VmHWM, reset
after the imports) minus the resident set at that moment, while the data,
model and optimizer are built and the task runs twice. The kernel keeps that
mark, so no sampling can miss a short peak, and it counts NumPy and PyTorch
allocations alike; the synthetic data (shared by torch through
``from_numpy``) is in both figures.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable


def set_threads(threads: int) -> None:
    """Same thread count for NumPy's BLAS (threadpoolctl) and torch."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass


def blas_info() -> str:
    from threadpoolctl import threadpool_info

    infos = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} x{i.get('num_threads')}"
             for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(infos) or "unknown"


@dataclass
class Task:
    """One timed job: ``run()`` is timed; ``samples`` is how many examples one run processes."""

    name: str
    nndl: Callable[[], object]
    torch: Callable[[], object]
    samples: int


@dataclass
class Result:
    name: str
    nndl_seconds: list[float] = field(default_factory=list)
    torch_seconds: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [a / b for a, b in zip(self.nndl_seconds, self.torch_seconds)]


def time_pairs(task: Task, repeats: int, warmup: int = 1) -> Result:
    """Alternate nndl and torch ``repeats`` times (after ``warmup`` untimed runs each)."""
    for _ in range(warmup):
        task.nndl()
        task.torch()
    result = Result(task.name)
    for i in range(repeats):
        # Alternate which side goes first so neither always follows the other's cache state.
        order = (("nndl", task.nndl), ("torch", task.torch)) if i % 2 == 0 else (("torch", task.torch), ("nndl", task.nndl))
        for side, fn in order:
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            (result.nndl_seconds if side == "nndl" else result.torch_seconds).append(elapsed)
    return result


def per_10k(seconds: float, samples: int) -> float:
    return seconds * 10_000 / samples


def summarize(result: Result, samples: int) -> dict:
    return {
        "task": result.name,
        "nndl_s_per_10k": per_10k(statistics.median(result.nndl_seconds), samples),
        "torch_s_per_10k": per_10k(statistics.median(result.torch_seconds), samples),
        "ratio_median": statistics.median(result.ratios),
        "ratio_min": min(result.ratios),
        "ratio_max": max(result.ratios),
        "pairs": len(result.ratios),
    }


def peak_rss_bytes() -> int:
    """The high-water mark of this process's RSS since the last :func:`reset_peak`."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmHWM in /proc/self/status")


def rss_bytes() -> int:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def reset_peak() -> int:
    """Reset the kernel's high-water mark of this process's RSS (VmHWM); return the current RSS."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return rss_bytes()


def load_average() -> float:
    return os.getloadavg()[0]

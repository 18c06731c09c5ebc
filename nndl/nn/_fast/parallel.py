"""How layers use the CPU's cores: single-threaded BLAS calls, batches split over nndl's own threads.

:mod:`nndl.nn.core.hooks` enters :func:`compute_scope` at the outermost
``module(x)`` and ``nn.backward(module, δ)``; that call chooses the policy
for the whole computation below it.
A network holding a convolution (a layer with ``splits_batch = True``)
computes with a single-threaded BLAS, and its large layers split their batch
over a pool of worker threads instead (:func:`split_batch`): as many threads
as the BLAS had when the outermost call began, so ``threadpoolctl``'s limits
(or ``OPENBLAS_NUM_THREADS``) set nndl's parallelism too. The BLAS's thread
count is restored when that call returns. A network of products only (an
MLP) leaves the BLAS as it is, threading each product itself.

Why not let the BLAS thread each product: after every multi-threaded call
OpenBLAS's idle workers spin-wait for tens of milliseconds, competing with
the single-threaded copies and element-wise passes between the products.
On this kind of (2-core, virtual) machine that made the CIFAR benchmark's
training step land in two regimes for minutes at a time, one about twice
as slow as the other (measured in alternating processes; the figures are in
benchmarks/RESULTS.md). nndl's workers wait on a queue, not in a spin loop.

``threadpoolctl`` (a dependency) reads and sets the BLAS's thread count;
where it cannot inspect the BLAS, nothing is switched and everything runs in
the calling thread. The BLAS's thread count is
process-wide: two networks computing at once from two Python threads may see
each other's setting (slower for a while, never wrong).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from nndl.nn._fast.settings import settings

_STATE = threading.local()
_BLAS = None
_BLAS_LOCK = threading.Lock()
_POOL: ThreadPoolExecutor | None = None


def _blas_controllers():
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController().select(user_api="blas").lib_controllers
        except Exception:  # threadpoolctl missing or unable to inspect the BLAS: stay sequential
            _BLAS = []
    return _BLAS


def blas_threads() -> int:
    """The BLAS's current thread count (1 without threadpoolctl)."""
    controllers = _blas_controllers()
    return max(1, min(c.num_threads for c in controllers)) if controllers else 1


def worker_count() -> int:
    """Threads a layer may use: ``settings.threads`` if set, else fixed by the outermost :func:`compute_scope`, else the BLAS's count."""
    return settings.threads or getattr(_STATE, "budget", 0) or blas_threads()


def in_compute_scope() -> bool:
    return getattr(_STATE, "depth", 0) > 0


def splitting() -> bool:
    """True inside a compute scope that splits batches over nndl's threads (single-threaded BLAS), or when forced."""
    return settings.threads > 1 or (in_compute_scope() and getattr(_STATE, "budget", 0) > 1)


def _set_blas_threads(counts) -> None:
    for controller, count in zip(_blas_controllers(), counts):
        controller.set_num_threads(count)


@contextmanager
def compute_scope(split: bool = True):
    """The policy for one outermost computation; nested scopes keep it.

    ``split=True``: single-threaded BLAS inside, batches split over as many
    nndl threads as the BLAS had (restored on exit). ``split=False``: the
    BLAS threads each product and nothing is split (a network of products
    only, e.g. an MLP: one large product is threaded better by the BLAS).
    Mixing the two is what must not happen (see the module docstring).
    """
    if in_compute_scope():
        _STATE.depth += 1
        try:
            yield
        finally:
            _STATE.depth -= 1
        return
    saved = [c.num_threads for c in _blas_controllers()] if split else []
    _STATE.budget = max(1, min(saved)) if saved else 1
    _STATE.depth = 1
    if any(count != 1 for count in saved):
        _set_blas_threads([1] * len(saved))
    try:
        yield
    finally:
        _STATE.depth = 0
        _STATE.budget = 0
        if any(count != 1 for count in saved):
            _set_blas_threads(saved)


@contextmanager
def _single_threaded_blas():
    """For splits outside any compute scope (kernels called directly): BLAS at 1 thread meanwhile."""
    if in_compute_scope():
        yield
        return
    with _BLAS_LOCK:
        saved = [c.num_threads for c in _blas_controllers()]
        _set_blas_threads([1] * len(saved))
        try:
            yield
        finally:
            _set_blas_threads(saved)


def split_batch(work, batch: int, elements: int) -> list:
    """Call ``work(part)`` on contiguous slices of ``range(batch)``, in parallel when worth it.

    ``elements`` estimates the work (e.g. entries of the layer's column
    matrices); below ``settings.parallel_min_elements``, with one item, or with
    one worker, ``work(slice(0, batch))`` runs alone. The calling thread
    takes the first part. Returns the results in order.
    """
    global _POOL
    threads = min(worker_count(), batch)
    if threads <= 1 or elements < settings.parallel_min_elements:
        return [work(slice(0, batch))]
    bounds = [batch * t // threads for t in range(threads + 1)]
    parts = [slice(bounds[t], bounds[t + 1]) for t in range(threads)]
    if _POOL is None or _POOL._max_workers < threads - 1:
        _POOL = ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="nndl")
    with _single_threaded_blas():
        futures = [_POOL.submit(work, part) for part in parts[1:]]
        try:
            first = work(parts[0])
        finally:
            # Every worker finishes before BLAS gets its threads back (and raises its error, if any).
            rest = [future.result() for future in futures]
        return [first] + rest


def split_first_axis(work, array) -> list:
    """:func:`split_batch` over the first axis of ``array``, its size taken as the work (element-wise passes).

    A 0-d array is one part, ``work(Ellipsis)``.
    """
    if array.ndim == 0:
        return [work(Ellipsis)]
    return split_batch(work, array.shape[0], array.size)

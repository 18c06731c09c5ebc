"""The fast kernels' tuning knobs, in one object.

Each knob is a size threshold measured on this project's benchmark machine
(benchmarks/RESULTS.md says how). Results never depend on them, only speed,
so tests move them to force a code path (a thread split, a small chunk, the
row layout) on small inputs::

    from nndl.nn._fast.settings import settings

    with settings.override(parallel_min_elements=0, column_chunk_bytes=1):
        ...
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, fields


@dataclass
class FastSettings:
    """Thresholds of the fast kernels (none changes a result, only the path taken to it).

    Attributes
    ----------
    parallel_min_elements : int
        Work size (a layer's column-matrix entries, multiply-adds or elements)
        from which a batch is split over nndl's threads.
    column_chunk_bytes : int
        Size of one batch chunk's column (im2col/im2row) matrix: small enough
        to stay in the CPU cache between its copy and its product.
    row_layout_min_channels : int
        Input channels (one group) from which a convolution multiplies
        channels-last rows (one long product per chunk) instead of per-image
        columns.
    channels_last_min_filters : int
        Filters from which a convolution stores its output channels-last
        (behind the NCHW shape) for the next layer to read rows from.
    batch_norm_slab_bytes : int
        Size of the slabs batch norm's training passes work through, so each
        slab is reduced while it is in cache.
    linear_parallel_min_macs : int
        Multiply-adds of one Linear product from which it is split by weight
        columns over nndl's threads (below it a thread hand-off costs more
        than it saves, e.g. in LeNet-5's layers).
    """

    parallel_min_elements: int = 1 << 20
    column_chunk_bytes: int = 4 * 2**20
    row_layout_min_channels: int = 16
    channels_last_min_filters: int = 16
    batch_norm_slab_bytes: int = 1 << 19
    threads: int = 0
    linear_parallel_min_macs: int = 8 << 20

    @contextmanager
    def override(self, **values):
        """Set some knobs inside a ``with`` block and restore them after (unknown names are an error)."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"FastSettings: unknown knob(s) {', '.join(unknown)}; valid: {', '.join(sorted(names))}")
        saved = {name: getattr(self, name) for name in values}
        for name, value in values.items():
            setattr(self, name, int(value))
        try:
            yield self
        finally:
            for name, value in saved.items():
                setattr(self, name, value)


settings = FastSettings()
"""The one instance every fast kernel reads."""

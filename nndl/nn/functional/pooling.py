"""Reference kernels: pooling (filled in by the glass-box core work)."""

__all__: list[str] = []

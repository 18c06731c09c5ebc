"""Memory sizes in the summary never read as "0.00 MB": bytes, kB or MB as the value needs."""

from nndl.models import mlp
from nndl.summary import summary
from nndl.summary.table import _megabytes


def test_sizes_pick_their_unit():
    assert [_megabytes(v) for v in (0, 256, 999, 1000, 4096, 999_999, 1_000_000, 4_823_449)] == [
        "0 B", "256 B", "999 B", "1.00 kB", "4.10 kB", "1.00 MB", "1.00 MB", "4.82 MB"]


def test_digits_input_size_in_bytes():
    text = summary(mlp([64, 32, 10], rng=0, init="zeros"), (64,)).render("layers")
    assert "Input size (batch 1): 256 B" in text  # 64 float32 values
    assert f"Parameters and buffers: {4 * (64 * 32 + 32 + 32 * 10 + 10) / 1e3:.2f} kB" in text

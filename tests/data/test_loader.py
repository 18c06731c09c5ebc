import numpy as np
import pytest

from nndl.data import DataLoader


def epoch_indices(loader):
    """Concatenated sample ids of one epoch (x holds its own index in column 0)."""
    return np.concatenate([xb[:, 0] for xb, _ in loader]).astype(np.int64)


def make_data(n):
    x = np.column_stack([np.arange(n), np.arange(n) * 10.0]).astype(np.float32)
    return x, np.arange(n) * 2


@pytest.mark.parametrize("n, batch_size, drop_last, batches, last", [
    (10, 3, False, 4, 1), (10, 3, True, 3, 3), (9, 3, False, 3, 3), (9, 3, True, 3, 3), (2, 5, False, 1, 2),
    (2, 5, True, 0, None),
])
def test_batch_count_and_sizes(n, batch_size, drop_last, batches, last):
    x, y = make_data(n)
    loader = DataLoader(x, y, batch_size=batch_size, drop_last=drop_last, rng=0)
    sizes = [len(xb) for xb, _ in loader]
    assert len(loader) == batches == len(sizes)
    if batches:
        assert sizes[:-1] == [batch_size] * (batches - 1) and sizes[-1] == last


def test_every_index_exactly_once_per_epoch_and_targets_follow():
    x, y = make_data(103)
    loader = DataLoader(x, y, batch_size=10, rng=0)
    orders = []
    for _ in range(3):
        seen = []
        for xb, yb in loader:
            np.testing.assert_array_equal(yb, 2 * xb[:, 0].astype(np.int64))
            np.testing.assert_array_equal(xb[:, 1], 10 * xb[:, 0])
            seen.append(xb[:, 0].astype(np.int64))
        order = np.concatenate(seen)
        np.testing.assert_array_equal(np.sort(order), np.arange(103))
        orders.append(order)
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    assert not np.array_equal(orders[0], np.arange(103))


def test_same_seed_same_sequence_of_epochs():
    x, y = make_data(50)
    a, b = DataLoader(x, y, batch_size=7, rng=3), DataLoader(x, y, batch_size=7, rng=3)
    for _ in range(2):
        np.testing.assert_array_equal(epoch_indices(a), epoch_indices(b))
    assert not np.array_equal(epoch_indices(DataLoader(x, y, rng=3)), epoch_indices(DataLoader(x, y, rng=4)))


def test_drop_last_drops_different_samples_each_epoch_but_never_repeats():
    x, y = make_data(10)
    loader = DataLoader(x, y, batch_size=4, drop_last=True, rng=1)
    for _ in range(3):
        order = epoch_indices(loader)
        assert len(order) == 8 and len(np.unique(order)) == 8


def test_no_shuffle_keeps_order_and_batches_are_copies():
    x, y = make_data(7)
    loader = DataLoader(x, y, batch_size=3, shuffle=False)
    np.testing.assert_array_equal(epoch_indices(loader), np.arange(7))
    for xb, _ in loader:
        xb[:] = -1
    np.testing.assert_array_equal(x, make_data(7)[0])


def test_transform_applied_to_inputs_with_loader_rng():
    x, y = make_data(20)
    calls = []

    def transform(xb, rng):
        assert isinstance(rng, np.random.Generator)
        calls.append(len(xb))
        return xb + 1000

    loader = DataLoader(x, y, batch_size=8, rng=0, transform=transform)
    for xb, yb in loader:
        np.testing.assert_array_equal(yb, 2 * (xb[:, 0] - 1000).astype(np.int64))
    assert calls == [8, 8, 4]


def test_without_targets_yields_none():
    x, _ = make_data(5)
    batches = list(DataLoader(x, batch_size=2, rng=0))
    assert [yb for _, yb in batches] == [None] * 3


@pytest.mark.parametrize("kwargs, error, message", [
    ({"y": np.zeros(4)}, ValueError, r"x has 5 samples \(shape \(5, 2\)\) but y has shape \(4,\)"),
    ({"batch_size": 0}, ValueError, "batch_size must be a positive integer, got 0"),
    ({"batch_size": 2.5}, ValueError, "batch_size must be a positive integer"),
    ({"y": [1, 2, 3, 4, 5]}, TypeError, "y must be a numpy array"),
    ({"transform": 3}, TypeError, "transform must be callable"),
])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(make_data(5)[0], **kwargs)

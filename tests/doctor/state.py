"""Capture everything a model, its optimizer and their generators hold, to compare bit for bit."""

import numpy as np


def capture(model, optimizer=None, generators=()):
    params = [(name, p.data.copy(), None if p.grad is None else p.grad.copy(), p.data.dtype)
              for name, p in model.named_parameters()]
    buffers = [(name, b.copy()) for name, b in model.named_buffers()]
    gens = [g.bit_generator.state for m in model.modules() for g in vars(m).values()
            if isinstance(g, np.random.Generator)] + [g.bit_generator.state for g in generators]
    modes = [(name, m.training, m.dtype) for name, m in model.named_modules()]
    opt = None if optimizer is None else optimizer.state_dict()
    return params, buffers, gens, modes, opt


def assert_same(before, after):
    (p0, b0, g0, m0, o0), (p1, b1, g1, m1, o1) = before, after
    assert len(p0) == len(p1)
    for (n0, d0, gr0, t0), (n1, d1, gr1, t1) in zip(p0, p1):
        assert n0 == n1 and t0 == t1
        assert np.array_equal(d0, d1, equal_nan=True), n0
        assert (gr0 is None) == (gr1 is None), n0
        if gr0 is not None:
            assert np.array_equal(gr0, gr1), n0
    assert [n for n, _ in b0] == [n for n, _ in b1]
    for (n, v0), (_, v1) in zip(b0, b1):
        assert v0.dtype == v1.dtype and np.array_equal(v0, v1), n
    assert g0 == g1
    assert m0 == m1
    if o0 is not None:
        assert o0["param_groups"] == o1["param_groups"]
        assert o0["state"].keys() == o1["state"].keys()
        for index, entries in o0["state"].items():
            assert entries.keys() == o1["state"][index].keys()
            for key, value in entries.items():
                other = o1["state"][index][key]
                if isinstance(value, np.ndarray):
                    assert np.array_equal(value, other), (index, key)
                else:
                    assert value == other, (index, key)

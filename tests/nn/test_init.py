import math

import numpy as np
import pytest
import torch

from nndl import nn
from nndl.nn import init

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]

# Large samples so that sample variances pin down the formula. With n draws, the sample
# variance of U(-b, b) has relative standard deviation sqrt(Var(X²))/E[X²]/sqrt(n)
# = sqrt(4/5)/sqrt(n) and that of a normal sqrt(2/n): for n = 240,000 about 0.18% and 0.29%.
# The tolerances below are more than 5 of those standard deviations, and still far tighter
# than the gap between competing formulas (e.g. fan_in vs fan_out here differ by 1.5x).
SHAPE = (400, 600)


def _torch_generator(seed=0):
    """torch's samples are drawn from a seeded generator too, so every run checks the same numbers."""
    return torch.Generator().manual_seed(seed)
UNIFORM_VAR_RTOL = 0.01
NORMAL_VAR_RTOL = 0.015


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_equals_torch(nonlinearity):
    assert init.calculate_gain(nonlinearity) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity), rel=1e-15)


@pytest.mark.parametrize("slope", [0, 0.01, 0.2, 1, 3.0])
def test_calculate_gain_leaky_relu_with_param_equals_torch(slope):
    assert init.calculate_gain("leaky_relu", slope) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", slope), rel=1e-15)


def test_calculate_gain_rejects_unknown_names_listing_valid_ones():
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'; valid: .*leaky_relu.*tanh"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative slope 'a' is not a number"):
        init.calculate_gain("leaky_relu", "a")


@pytest.mark.parametrize("shape", [(3, 5), (10, 1), (16, 8, 3, 3), (4, 2, 5), (6, 3, 2, 2, 2), (1, 1, 7, 7)])
def test_fan_in_and_fan_out_equal_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.fan_in_and_fan_out(shape) == expected


def test_fan_needs_two_axes():
    with pytest.raises(ValueError, match="at least 2 axes, got shape \\(5,\\)"):
        init.fan_in_and_fan_out((5,))


def _check_uniform(ours, theirs, bound):
    for sample in (ours, theirs):
        assert np.max(np.abs(sample)) <= bound
        assert np.max(np.abs(sample)) > 0.999 * bound  # the bound is reached, not a smaller one
        assert sample.var() == pytest.approx(bound**2 / 3, rel=UNIFORM_VAR_RTOL)
        assert sample.mean() == pytest.approx(0.0, abs=5 * bound / math.sqrt(3 * sample.size))


def _check_normal(ours, theirs, std):
    for sample in (ours, theirs):
        assert sample.var() == pytest.approx(std**2, rel=NORMAL_VAR_RTOL)
        assert sample.mean() == pytest.approx(0.0, abs=5 * std / math.sqrt(sample.size))


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_uniform_bound_and_variance_equal_torch(gain):
    fan_in, fan_out = SHAPE[1], SHAPE[0]
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))  # Var = gain² · 2 / (fan_in + fan_out)
    ours = init.xavier_uniform(SHAPE, gain=gain, rng=0)
    theirs = torch.nn.init.xavier_uniform_(torch.empty(SHAPE, dtype=torch.float64), gain=gain,
                                           generator=_torch_generator()).numpy()
    assert ours.dtype == np.float32 and ours.shape == SHAPE
    _check_uniform(ours, theirs, bound)


def test_xavier_normal_std_equals_torch():
    std = math.sqrt(2.0 / sum(SHAPE))
    ours = init.xavier_normal(SHAPE, rng=0)
    theirs = torch.nn.init.xavier_normal_(torch.empty(SHAPE, dtype=torch.float64),
                                          generator=_torch_generator()).numpy()
    _check_normal(ours, theirs, std)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity, a", [("relu", 0.0), ("leaky_relu", 0.0), ("leaky_relu", 0.2), ("tanh", 0.0)])
def test_kaiming_uniform_and_normal_equal_torch(mode, nonlinearity, a):
    fan = SHAPE[1] if mode == "fan_in" else SHAPE[0]
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    ours = init.kaiming_uniform(SHAPE, a=a, mode=mode, nonlinearity=nonlinearity, rng=1)
    theirs = torch.nn.init.kaiming_uniform_(torch.empty(SHAPE, dtype=torch.float64), a=a, mode=mode,
                                            nonlinearity=nonlinearity, generator=_torch_generator()).numpy()
    _check_uniform(ours, theirs, math.sqrt(3.0) * std)
    ours = init.kaiming_normal(SHAPE, a=a, mode=mode, nonlinearity=nonlinearity, rng=1)
    theirs = torch.nn.init.kaiming_normal_(torch.empty(SHAPE, dtype=torch.float64), a=a, mode=mode,
                                           nonlinearity=nonlinearity, generator=_torch_generator()).numpy()
    _check_normal(ours, theirs, std)


def test_he_uniform_default_on_a_conv_weight():
    shape = (64, 32, 3, 3)  # fan_in = 32·9 = 288
    bound = math.sqrt(6.0 / 288)
    ours = init.he_uniform(shape, rng=0)
    theirs = torch.nn.init.kaiming_uniform_(torch.empty(shape, dtype=torch.float64), nonlinearity="relu",
                                              generator=_torch_generator()).numpy()
    _check_uniform(ours, theirs, bound)


def test_kaiming_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan_avg'"):
        init.kaiming_uniform((3, 4), mode="fan_avg")


@pytest.mark.parametrize("name", list(init.WEIGHT_INITS))
def test_same_seed_same_arrays_and_dtype(name):
    fn = init.WEIGHT_INITS[name]
    a, b = fn((20, 30), rng=123, dtype=np.float64), fn((20, 30), rng=123, dtype=np.float64)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float64 and fn((20, 30), rng=0).dtype == np.float32
    if name != "zeros":
        assert not np.array_equal(a, fn((20, 30), rng=124, dtype=np.float64))
    # A Generator is used as is: two draws from one generator differ.
    generator = np.random.default_rng(5)
    if name != "zeros":
        assert not np.array_equal(fn((4, 4), rng=generator), fn((4, 4), rng=generator))


def test_same_seed_same_layer_weights():
    for layer_cls, args in [(nn.Linear, (6, 4)), (nn.Maxout, (6, 4, 3))]:
        a, b = layer_cls(*args, init="pytorch", rng=9), layer_cls(*args, init="pytorch", rng=9)
        for key, value in a.state_dict().items():
            np.testing.assert_array_equal(value, b.state_dict()[key])


def test_unknown_init_name_lists_valid_names():
    valid = ", ".join(init.WEIGHT_INITS)
    with pytest.raises(ValueError, match=f"unknown init 'glorot'; valid: {valid}"):
        init.resolve_weight_init("glorot")
    with pytest.raises(ValueError, match="unknown init 'glorot'; valid: he_uniform, .*pytorch"):
        nn.Linear(3, 2, init="glorot")


def test_linear_pytorch_init_bounds_weight_and_bias_by_one_over_sqrt_fan_in():
    in_features, out_features = 600, 400
    bound = 1.0 / math.sqrt(in_features)
    layer = nn.Linear(in_features, out_features, init="pytorch", rng=0)
    with torch.random.fork_rng():  # torch.nn.Linear draws from the global generator: seed a private copy
        torch.manual_seed(0)
        theirs = torch.nn.Linear(in_features, out_features)
    _check_uniform(layer.weight.data, theirs.weight.detach().numpy(), bound)
    for bias in (layer.bias.data, theirs.bias.detach().numpy()):
        assert np.max(np.abs(bias)) <= bound
        assert np.max(np.abs(bias)) > 0.98 * bound  # 400 draws: the largest is within ~1/400 of the bound
    # Variance b²/3 = 1/(3·fan_in): torch's kaiming_uniform(a=√5) in disguise.
    assert layer.weight.data.var() == pytest.approx(1.0 / (3 * in_features), rel=UNIFORM_VAR_RTOL)


def test_non_pytorch_inits_start_biases_at_zero():
    for name in ("he_uniform", "xavier_uniform", "kaiming_normal"):
        assert np.all(nn.Linear(5, 4, init=name, rng=0).bias.data == 0)


def test_layers_accept_a_callable_init():
    calls = []

    def orthogonal_rows(shape, rng=None, dtype=np.float32):
        calls.append((shape, rng, dtype))
        q, _ = np.linalg.qr(rng.standard_normal((shape[1], shape[0])))
        return q.T.astype(dtype)

    layer = nn.Linear(6, 3, init=orthogonal_rows, rng=0, dtype=np.float64)
    (shape, rng, dtype), = calls
    assert shape == (3, 6) and isinstance(rng, np.random.Generator) and np.dtype(dtype) == np.float64
    np.testing.assert_allclose(layer.weight.data @ layer.weight.data.T, np.eye(3), atol=1e-12)
    assert np.all(layer.bias.data == 0) and layer.weight.dtype == np.float64


@pytest.mark.parametrize("build", [lambda: nn.Linear(16000, 16000), lambda: nn.BatchNorm1d(10**10),
                                   lambda: nn.LayerNorm(10**10), lambda: nn.PReLU(10**10),
                                   lambda: nn.Sequential(*[nn.Linear(100, 100) for _ in range(20)])])
def test_allocation_limit_refuses_a_model_before_allocating_it(build):
    # 10**10 float32 elements would be 40 GB: the refusal has to come before the allocation.
    with init.allocation_limit(100_000):
        with pytest.raises(init.AllocationLimitError, match="exceeds the .* elements left"):
            build()


def test_allocation_limit_counts_every_array_and_lets_a_fitting_model_through():
    needed = (4 * 3 + 3) + (3 + 3) + (3 + 3)  # Linear weight and bias, BN's γ and β, its running mean and var
    with init.allocation_limit(needed):
        model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    assert model.num_parameters() + sum(b.size for b in model.buffers()) == needed + 1  # + num_batches_tracked
    with init.allocation_limit(needed - 1), pytest.raises(init.AllocationLimitError):
        nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))

import numpy as np
import pytest

from nndl import nn
from nndl.check import assert_gradcheck, gradcheck, numerical_gradient, rel_error


# ---------------------------------------------------------------------- numerical_gradient and rel_error


def test_numerical_gradient_of_a_cubic_is_three_x_squared():
    # For f = Σ x³ the central difference is exactly 3x² + h² (the h³ terms cancel), so with
    # h = 1e-6 the truncation error is 1e-12; rounding adds about ε·|f|/h ≈ 1e-10.
    x = np.random.default_rng(0).standard_normal((3, 4))
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=0, atol=1e-8)
    assert not np.array_equal(grad, 3 * x**2)  # it is an approximation, and x was restored exactly:
    np.testing.assert_array_equal(x, np.random.default_rng(0).standard_normal((3, 4)))


def test_numerical_gradient_only_at_requested_indices():
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    grad = numerical_gradient(lambda: float(np.sum(x**2)), x, indices=np.array([1, 5]))
    np.testing.assert_allclose(grad, [[0, 2, 0], [0, 0, 10]], atol=1e-8)


def test_numerical_gradient_needs_a_contiguous_array():
    x = np.zeros((4, 3)).T  # a transpose cannot be flattened without a copy
    with pytest.raises(ValueError, match="contiguous"):
        numerical_gradient(lambda: 0.0, x)


@pytest.mark.parametrize("a, b, expected", [
    ([1.0, 2.0], [1.0, 2.0], 0.0),
    ([1.0, 2.0], [1.0, 2.5], 0.5 / 2.5),          # largest difference over the largest magnitude
    ([100.0, 1e-3], [100.0, 2e-3], 1e-3 / 100.0),  # a small entry's error is judged on the tensor's scale
    ([-4.0], [4.0], 2.0),                          # opposite signs: error 8 on scale 4
    ([0.0, 0.0], [1e-9, 0.0], 1e-9 / 1e-8),        # both below the floor 1e-8: scaled by the floor
    ([], [], 0.0),
])
def test_rel_error_hand_examples(a, b, expected):
    assert rel_error(np.array(a), np.array(b)) == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert rel_error(np.array(b), np.array(a)) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_rel_error_rejects_different_shapes():
    with pytest.raises(ValueError, match=r"shapes differ, \(2,\) vs \(3,\)"):
        rel_error(np.zeros(2), np.zeros(3))


# ---------------------------------------------------------------------- gradcheck catches wrong backward passes


class ScaledLinear(nn.Linear):
    """A Linear whose backward is wrong by a factor, on the input or on the weight gradient."""

    def __init__(self, *args, input_factor=1.0, weight_factor=1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.input_factor, self.weight_factor = input_factor, weight_factor

    def backward(self, dout):
        dx = super().backward(dout)
        self.weight.grad = self.weight.grad * self.weight_factor
        return dx * self.input_factor


@pytest.mark.parametrize("input_factor, weight_factor, wrong", [(1.1, 1.0, "input"), (1.0, 0.5, "weight")])
def test_gradcheck_detects_a_wrong_backward(input_factor, weight_factor, wrong):
    layer = ScaledLinear(4, 3, input_factor=input_factor, weight_factor=weight_factor, rng=0)
    errors = gradcheck(layer, np.random.default_rng(1).standard_normal((5, 4)))
    assert errors[wrong] > 1e-2  # a 10% (resp. 50%) error shows up at its own size
    assert all(v < 1e-7 for k, v in errors.items() if k != wrong)
    with pytest.raises(AssertionError, match=f"gradcheck of ScaledLinear.*failed.*{wrong}: "):
        assert_gradcheck(layer, np.random.default_rng(1).standard_normal((5, 4)))


def test_gradcheck_passes_a_correct_layer_and_leaves_it_untouched():
    layer = nn.Linear(4, 3, rng=0)
    weight = layer.weight.data.copy()
    errors = assert_gradcheck(layer, np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32))
    assert set(errors) == {"input", "weight", "bias"} and max(errors.values()) < 1e-7
    assert layer.weight.dtype == np.float32 and layer.weight.grad is None
    np.testing.assert_array_equal(layer.weight.data, weight)


def test_gradcheck_of_a_loss_and_without_input_check():
    scores, target = np.random.default_rng(0).standard_normal((2, 4, 3))
    errors = gradcheck(nn.MSELoss(), scores, target)
    assert list(errors) == ["input"] and errors["input"] < 1e-7
    assert set(gradcheck(nn.Linear(3, 2), scores, check_inputs=False)) == {"weight", "bias"}


class CountingTanh(nn.Tanh):
    """Tanh that counts its forward passes."""

    calls = 0

    def forward(self, x):
        CountingTanh.calls += 1
        return super().forward(x)


@pytest.mark.parametrize("max_coords, expected_coords", [(25, 25), (None, 40 * 30), (5000, 40 * 30)])
def test_gradcheck_samples_max_coords_coordinates_of_a_large_tensor(max_coords, expected_coords):
    # (x's seed differs from gradcheck's rng=0: with δ = x every term of L = Σ tanh(x)·δ is positive,
    # |L| ~ 700, and the rounding error ε|L|/h of the central difference would approach 1e-7.)
    x = np.random.default_rng(10).standard_normal((40, 30))
    CountingTanh.calls = 0
    errors = gradcheck(CountingTanh(), x, max_coords=max_coords)
    # One forward for the analytic gradient, then two per checked coordinate.
    assert CountingTanh.calls == 1 + 2 * expected_coords
    assert errors["input"] < 1e-7


def test_sampled_coordinates_still_catch_a_wrong_gradient_everywhere():
    layer = ScaledLinear(30, 20, input_factor=1.01, rng=0)
    errors = gradcheck(layer, np.random.default_rng(1).standard_normal((50, 30)), max_coords=10)
    assert errors["input"] > 1e-3 and errors["weight"] < 1e-7


# ---------------------------------------------------------------------- randomness held fixed


class NoisyScale(nn.Module):
    """``y = x ⊙ m`` with a fresh random mask ``m`` from the module's own Generator on each forward."""

    def __init__(self, seed=0, hide_generator=False):
        super().__init__()
        generator = np.random.default_rng(seed)
        # Kept in a list, the generator is invisible to gradcheck, which then cannot hold it fixed.
        self.generators = [generator] if hide_generator else None
        self.rng = None if hide_generator else generator
        self._cache = None

    def forward(self, x):
        generator = self.rng if self.rng is not None else self.generators[0]
        self._cache = generator.uniform(0.5, 1.5, size=x.shape)
        return x * self._cache

    def backward(self, dout):
        return dout * self._saved()


def test_gradcheck_holds_a_modules_generator_fixed():
    x = np.random.default_rng(1).standard_normal((3, 4))
    assert gradcheck(NoisyScale(), x)["input"] < 1e-7
    # The same module with its generator out of gradcheck's sight fails: each perturbed forward
    # draws a different mask, so the check above is not vacuous.
    assert gradcheck(NoisyScale(hide_generator=True), x)["input"] > 1e-2


def test_gradcheck_is_reproducible_through_its_rng():
    layer = nn.Sigmoid()
    x = np.random.default_rng(1).standard_normal((60, 30))
    first = gradcheck(layer, x, rng=7, max_coords=30)
    assert gradcheck(layer, x, rng=7, max_coords=30) == first
    assert gradcheck(layer, x, rng=8, max_coords=30) != first

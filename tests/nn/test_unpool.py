import numpy as np
import pytest
import torch

from nndl import nn
from nndl.check import gradcheck
from tests.layer_checks import GRAD_TOL, TORCH_RTOL, check_layer


def test_notes_maxpool_then_unpool_restores_maxima_in_place():
    # 003 §3.4.2: unpooling puts each pooled value back where it came from, zeros elsewhere.
    x = np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)
    pooled, indices = nn.MaxPool2d(2, return_indices=True)(x)
    np.testing.assert_array_equal(pooled[0, 0], [[6, 8], [14, 16]])
    restored = nn.MaxUnpool2d(2)(pooled, indices)
    expected = np.zeros((4, 4), dtype=np.float32)
    expected[1, 1], expected[1, 3], expected[3, 1], expected[3, 3] = 6, 8, 14, 16
    np.testing.assert_array_equal(restored[0, 0], expected)
    assert restored.dtype == np.float32


# (kernel, stride, padding, input shape, output_size)
UNPOOL_GRID = [
    (2, None, 0, (2, 3, 6, 8), None),
    (3, 3, 0, (1, 2, 7, 9), (7, 9)),        # sizes not multiples of the stride
    (2, 2, 1, (2, 2, 5, 6), (2, 2, 5, 6)),  # full (N, C, H, W) output_size
    ((2, 3), (2, 3), 0, (1, 1, 4, 9), None),
    (1, 1, 0, (1, 1, 3, 2), None),
]


@pytest.mark.parametrize("kernel, stride, padding, shape, output_size", UNPOOL_GRID)
def test_max_unpool2d_gradients_and_torch_parity(kernel, stride, padding, shape, output_size):
    x = np.random.default_rng(0).standard_normal(shape)
    pooled, indices = nn.MaxPool2d(kernel, stride, padding, return_indices=True)(x)
    t_pooled, t_indices = torch.nn.MaxPool2d(kernel, stride, padding, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(indices, t_indices.numpy())

    layer = nn.MaxUnpool2d(kernel, stride, padding)
    out = layer(pooled, indices, output_size)
    assert out.shape == (layer.output_shape(pooled.shape) if output_size is None else shape)
    t_in = t_pooled.detach().clone().requires_grad_(True)
    t_out = torch.nn.MaxUnpool2d(kernel, stride, padding)(t_in, t_indices, output_size)
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=TORCH_RTOL)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    t_out.backward(torch.tensor(dout))
    np.testing.assert_allclose(layer.backward(dout), t_in.grad.numpy(), rtol=TORCH_RTOL)

    # Indices are integers: gradcheck differentiates the values only.
    unpool = nn.MaxUnpool2d(kernel, stride, padding)
    errors = gradcheck(_WithSize(unpool, output_size), pooled, indices)
    assert set(errors) == {"input"} and errors["input"] < GRAD_TOL


class _WithSize(nn.Module):
    """Binds ``output_size`` so gradcheck can call ``forward(x, indices)``."""

    def __init__(self, unpool, output_size):
        super().__init__()
        self.unpool, self.output_size = unpool, output_size

    def forward(self, x, indices):
        return self.unpool(x, indices, self.output_size)

    def backward(self, dout):
        return self.unpool.backward(dout)


def test_max_unpool_rejects_bad_indices_and_sizes():
    layer = nn.MaxUnpool2d(2)
    x = np.ones((1, 1, 2, 2), dtype=np.float32)
    with pytest.raises(ValueError, match=r"MaxUnpool2d.*indices must be integers of the input's shape \(1, 1, 2, 2\)"):
        layer(x, np.zeros((1, 1, 2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 16\)"):
        layer(x, np.full((1, 1, 2, 2), 16))
    with pytest.raises(ValueError, match="within one stride"):
        layer(x, np.zeros((1, 1, 2, 2), dtype=np.int64), output_size=(6, 4))
    with pytest.raises(TypeError, match="needs the pooling indices"):
        layer(x)
    with pytest.raises(ValueError, match=r"4-D input.*\(1, 2, 2\)"):
        layer(x[0], np.zeros((1, 2, 2), dtype=np.int64))


@pytest.mark.parametrize("scale, shape", [(2, (2, 3, 3, 4)), (3, (1, 1, 2, 2)), ((1, 2), (1, 2, 3, 3)),
                                          (2.0, (1, 1, 1, 1))])
def test_upsample_nearest_gradients_and_torch_parity(scale, shape):
    torch_scale = tuple(float(s) for s in scale) if isinstance(scale, tuple) else scale
    check_layer(nn.Upsample(scale_factor=scale), shape, torch.nn.Upsample(scale_factor=torch_scale, mode="nearest"))


def test_upsample_values_repr_and_errors():
    layer = nn.Upsample(scale_factor=2)
    x = np.array([[[[1., 2.], [3., 4.]]]], dtype=np.float32)
    np.testing.assert_array_equal(layer(x)[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])
    assert repr(layer) == repr(torch.nn.Upsample(scale_factor=2))
    assert layer.output_shape((5, 3, 7, 2)) == (5, 3, 14, 4)
    with pytest.raises(ValueError, match="unsupported mode 'bilinear'; supported: nearest"):
        nn.Upsample(scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="scale_factor is required"):
        nn.Upsample()
    with pytest.raises(TypeError, match="scale_factor must be an int or a pair of ints"):
        nn.Upsample(scale_factor=1.5)
    with pytest.raises(ValueError, match=r"Upsample.*4-D input.*\(2, 2\)"):
        layer(np.zeros((2, 2), dtype=np.float32))

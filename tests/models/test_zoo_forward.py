"""Every zoo model runs forward and backward on a small batch, with the shape the summary predicts."""

import numpy as np
import pytest

from nndl import nn
from nndl.models import (MODEL_ZOO, Autoencoder, autoencoder, conv_autoencoder, googlenet, resnet18,
                         vgg16)
from nndl.nn.core.config import from_config, to_config
from nndl.summary import summary

# Small inputs keep the test fast; each still passes through every layer.
SMALL_INPUTS = {
    "lenet5": (1, 32, 32), "alexnet": (3, 63, 63), "alexnet_original": (3, 99, 99), "zfnet": (3, 64, 64),
    "vgg11": (3, 32, 32), "googlenet": (3, 32, 32), "resnet18": (3, 32, 32), "resnet34": (3, 32, 32),
    "resnet50": (3, 32, 32), "densenet121": (3, 32, 32), "conv_autoencoder": (1, 28, 28),
}


@pytest.mark.parametrize("name", sorted(SMALL_INPUTS))
def test_forward_backward_shape_matches_summary(name):
    # The large fully connected layers of AlexNet/ZFNet/VGG would make random initialization slow: zeros there.
    init = "zeros" if name in ("alexnet", "alexnet_original", "zfnet", "vgg11") else "he_uniform"
    kwargs = {} if name == "conv_autoencoder" else {"num_classes": 7}
    model = MODEL_ZOO[name](init=init, rng=0, **kwargs)
    shape = SMALL_INPUTS[name]
    x = np.random.default_rng(1).standard_normal((2,) + shape).astype(np.float32)
    out = model(x)
    assert out.shape == summary(model, shape, batch_size=2).output_shape
    assert out.dtype == np.float32 and np.all(np.isfinite(out))
    dx = model.backward(np.ones_like(out))
    assert dx.shape == x.shape and dx.dtype == np.float32
    assert all(p.grad is not None for p in model.parameters())


def test_state_dict_keys_follow_torchvision():
    keys = list(resnet18(init="zeros").state_dict())
    assert keys[:6] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                        "bn1.num_batches_tracked"]
    assert "layer2.0.downsample.0.weight" in keys and "layer1.0.downsample.0.weight" not in keys
    assert keys[-2:] == ["fc.weight", "fc.bias"]
    keys = list(googlenet(init="zeros").state_dict())
    assert "inception4a.branch2.1.conv.weight" in keys and "inception3a.branch4.1.bn.running_var" in keys
    assert not any(k.startswith("aux") for k in keys)
    assert any(k.startswith("aux1.fc1") for k in googlenet(init="zeros", aux_logits=True).state_dict())
    keys = list(vgg16(init="zeros").state_dict())
    assert keys[:2] == ["features.0.weight", "features.0.bias"] and keys[-2:] == ["classifier.6.weight",
                                                                                 "classifier.6.bias"]
    keys = list(MODEL_ZOO["densenet121"](init="zeros").state_dict())
    assert "features.denseblock3.denselayer24.conv2.weight" in keys and "features.transition1.conv.weight" in keys
    assert keys[-2:] == ["classifier.weight", "classifier.bias"]


def test_models_rebuild_from_their_configuration():
    model = resnet18(num_classes=5, rng=0)
    rebuilt = from_config(to_config(model))
    assert type(rebuilt).__name__ == "ResNet" and list(rebuilt.state_dict()) == list(model.state_dict())
    rebuilt.load_state_dict(model.state_dict())
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    np.testing.assert_array_equal(rebuilt.eval()(x), model.eval()(x))


def test_dense_autoencoder_layers_and_linear_option():
    model = autoencoder([20, 8, 3], rng=0)
    assert [type(m).__name__ for m in model.encoder] == ["Linear", "ReLU", "Linear"]
    assert [type(m).__name__ for m in model.decoder] == ["Linear", "ReLU", "Linear"]
    linear = autoencoder([20, 3], linear=True, output_activation="sigmoid", rng=0)
    assert [type(m).__name__ for m in linear.decoder] == ["Linear", "Sigmoid"]
    x = np.random.default_rng(0).standard_normal((4, 20))
    model.to(np.float64)
    np.testing.assert_allclose(model(x), model.decode(model.encode(x)))
    assert summary(model, (20,)).total_params == (20 * 8 + 8) + (8 * 3 + 3) + (3 * 8 + 8) + (8 * 20 + 20)
    assert isinstance(model, Autoencoder)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        autoencoder([4, 2], activation="swish")


@pytest.mark.parametrize("decoder", ["transpose", "unpool"])
def test_conv_autoencoder_gradient(decoder):
    from nndl.check import gradcheck

    model = conv_autoencoder(channels=(2, 3), decoder=decoder, rng=0).to(np.float64)
    x = np.random.default_rng(0).standard_normal((1, 1, 8, 8))
    errors = gradcheck(model, x, rng=0)
    assert errors and max(errors.values()) < 1e-7
    with pytest.raises(ValueError, match="unknown decoder 'deconv'; valid: transpose, unpool"):
        conv_autoencoder(decoder="deconv")


def test_googlenet_inception_branch_kernel_option():
    from nndl.models import Inception

    paper = Inception(192, 64, 96, 128, 16, 32, 32, branch3_kernel=5, rng=0)
    tv = Inception(192, 64, 96, 128, 16, 32, 32, rng=0)
    assert paper.num_parameters() - tv.num_parameters() == 16 * 32 * (25 - 9)
    assert summary(paper, (192, 28, 28)).output_shape == (1, 256, 28, 28)
    assert paper.branch3[1].conv.kernel_size == (5, 5) and tv.branch3[1].conv.kernel_size == (3, 3)

"""nndl <-> torch: the zoo against torchvision's architectures, to_torch / from_torch on every layer and container.

torchvision cannot be imported here; ``tests/io/torchvision_twins.py`` writes
its architectures out in plain torch.nn with its module names (see there).
Zoo models run on small inputs (32×32; AlexNet 64×64), which the adaptive
pools accept, in evaluation mode and float32, compared with atol 1e-4 on the
logits; each big model is built once for both directions.
"""

import sys
import types

import numpy as np
import pytest

from nndl import io, models, nn

torch = pytest.importorskip("torch")
twins = pytest.importorskip("tests.io.torchvision_twins")
build_twin, numpy_state, twin_weighted = twins.build_twin, twins.numpy_state, twins.twin_weighted
TWIN_ARGUMENTS = twins.TWIN_ARGUMENTS

ZOO = ["resnet18", "resnet34", "resnet50", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
       "vgg19", "vgg19_bn", "alexnet", "googlenet", "densenet121"]
SIDE = {"alexnet": 64}


def torch_input(name, batch=2, seed=0):
    side = SIDE.get(name, 32)
    return np.random.default_rng(seed).standard_normal((batch, 3, side, side)).astype(np.float32)


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_loads_torchvision_state_dict_and_back(name):
    twin = build_twin(name)
    model = models.MODEL_ZOO[name](init="zeros").eval()  # its weights come from the twin
    x = torch_input(name)

    model.load_state_dict(numpy_state(twin), strict=True)  # torchvision -> nndl, unchanged keys
    with torch.no_grad():
        expected = twin(torch.from_numpy(x)).numpy()
    assert np.abs(expected).max() > 1e-2  # logits that say something
    np.testing.assert_allclose(model(x), expected, rtol=0, atol=1e-4)

    for param in model.parameters():  # nndl -> torchvision: other weights on the nndl side first
        param.data[...] = np.roll(param.data.ravel(), 1).reshape(param.data.shape)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()}, strict=True)
    with torch.no_grad():
        changed = twin(torch.from_numpy(x)).numpy()
    assert np.abs(changed - expected).max() > 1e-3
    np.testing.assert_allclose(model(x), changed, rtol=0, atol=1e-4)


def every_layer_model():
    """A float64 chain that uses every leaf layer to_torch knows on a 4-D input, then on a 2-D one."""
    conv = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding="same", dilation=2, groups=2, bias=False), nn.LocalResponseNorm(3),
        nn.PReLU(4), nn.MaxPool2d(3, 2, padding=1, ceil_mode=True), nn.Dropout2d(0.3),
        nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), nn.Upsample(scale_factor=2),
        nn.Residual(nn.Sequential(nn.Conv2d(3, 3, 1), nn.ELU(0.7)), nn.Conv2d(3, 3, 1)),
        nn.Concat(nn.Identity(), nn.Sequential(nn.Conv2d(3, 2, 1), nn.LeakyReLU(0.1))),
        nn.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False), nn.AdaptiveAvgPool2d((3, 2)))
    head = nn.Sequential(
        nn.Flatten(), nn.LayerNorm(30), nn.Linear(30, 12), nn.BatchNorm1d(12), nn.Softplus(2.0), nn.Dropout(0.2),
        nn.Maxout(12, 6, 3), nn.Tanh(), nn.Linear(6, 6), nn.Sigmoid(), nn.Linear(6, 5))
    heads = nn.Parallel(out=nn.Softmax(), log=nn.LogSoftmax(), step=nn.Step())
    return nn.Sequential(conv, head, heads).to(np.float64)


def randomize_buffers(model, rng):
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.running_mean[...] = rng.normal(0, 0.1, module.running_mean.shape)
            module.running_var[...] = rng.uniform(0.5, 1.5, module.running_var.shape)
            module.weight.data[...] = rng.uniform(0.5, 1.5, module.weight.shape)
    return model


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_to_torch_and_back_on_every_layer(train):
    rng = np.random.default_rng(0)
    model = randomize_buffers(every_layer_model(), rng).train(train)
    if train:  # dropout draws different masks in torch; compare the deterministic part
        for module in model.modules():
            if isinstance(module, (nn.Dropout, nn.Dropout2d)):
                module.drop_prob = 0.0
    x = rng.standard_normal((3, 3, 9, 9))
    converted = io.to_torch(model)
    assert converted.training is train
    assert list(converted.state_dict()) == list(model.state_dict())
    ours = model(x)
    with torch.no_grad():
        theirs = converted(torch.from_numpy(x))
    assert list(ours) == list(theirs) == ["out", "log", "step"]
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key].numpy(), rtol=1e-6, atol=1e-12, err_msg=key)

    back = io.from_torch(converted)
    assert type(back) is nn.Sequential and back.dtype == np.float64
    assert repr(back) == repr(model)  # the same layers with the same arguments
    for (key, a), (_, b) in zip(model.state_dict().items(), back.state_dict().items()):
        # In training mode both forwards updated the running statistics (in their own rounding).
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=key)
    model.eval(), back.eval()
    for key, value in model(x).items():
        np.testing.assert_allclose(back(x)[key], value, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["resnet18", "googlenet", "densenet121"])
def test_zoo_model_to_torch_without_torchvision(name):
    model = twin_weighted(name)
    converted = io.to_torch(model).eval()
    x = torch_input(name)
    with torch.no_grad():
        expected = converted(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(x), expected, rtol=0, atol=1e-4)
    twin = twins.BUILDERS[name](**TWIN_ARGUMENTS.get(name, {}))  # the same keys as torchvision's model
    twin.load_state_dict(converted.state_dict(), strict=True)
    back = io.from_torch(converted)
    assert type(back) is type(model)
    np.testing.assert_array_equal(back.eval()(x), model(x))


@pytest.fixture
def stand_in_torchvision(monkeypatch):
    """``torchvision.models`` served by the twins, their classes named as torchvision's."""
    package, submodule = types.ModuleType("torchvision"), types.ModuleType("torchvision.models")
    for name, build in twins.BUILDERS.items():
        setattr(submodule, name, build)
    package.models = submodule
    monkeypatch.setitem(sys.modules, "torchvision", package)
    monkeypatch.setitem(sys.modules, "torchvision.models", submodule)
    for cls in twins.CLASSES:
        monkeypatch.setattr(cls, "__module__", "torchvision.models.stand_in")


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "googlenet", "densenet121"])
def test_zoo_model_becomes_torchvision_class_where_torchvision_imports(stand_in_torchvision, name):
    model = twin_weighted(name)
    converted = io.to_torch(model).eval()
    assert type(converted).__name__ == {"resnet18": "ResNet", "resnet50": "ResNet", "googlenet": "GoogLeNet",
                                        "densenet121": "DenseNet"}[name]
    x = torch_input(name)
    with torch.no_grad():
        expected = converted(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(x), expected, rtol=0, atol=1e-4)
    back = io.from_torch(converted)  # torchvision's class -> the zoo model, architecture read from its layers
    assert type(back) is type(model)
    np.testing.assert_array_equal(back.eval()(x), model(x))


def test_replaced_child_is_not_sent_to_torchvision(stand_in_torchvision):
    model = twin_weighted("resnet18")
    model.layer1[0].relu_out = nn.LeakyReLU(0.2)
    converted = io.to_torch(model).eval()
    assert type(converted).__name__ == "NndlFlow"
    x = torch_input("resnet18")
    with torch.no_grad():
        np.testing.assert_allclose(model(x), converted(torch.from_numpy(x)).numpy(), rtol=0, atol=1e-4)


def test_from_torch_names_the_first_unsupported_module():
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Sequential(torch.nn.ReLU(), torch.nn.GRU(4, 4)))
    with pytest.raises(TypeError, match=r"'1\.1'.*GRU"):
        io.from_torch(module)

    class Custom(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 2)

    with pytest.raises(TypeError, match=r"'<root>'.*Custom.*Sequential"):
        io.from_torch(Custom())


def test_to_torch_refuses_a_module_without_data_flow():
    class Opaque(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(x) * 2

    with pytest.raises(TypeError, match=r"'0' Opaque: its data flow is not known"):
        io.to_torch(nn.Sequential(Opaque()))

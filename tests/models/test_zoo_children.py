"""Zoo models are module trees: a replaced child is the one that runs, and hooks fire for every module.

For every zoo model a child is replaced after construction (``m.fc = ...``,
``m.classifier[6] = ...``, ``m.layer4[0].conv1 = ...``); the new child must
take part in forward (its forward hook sees the data), backward (its
parameters get gradients), ``output_shape`` and the summary (a row of its
type with the shape it produced).
"""

import numpy as np
import pytest

from nndl import models, nn
from nndl.summary import summary

# Small configurations keep every forward pass cheap; each still has the structure of the full model.
TINY_DENSENET = dict(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2, num_classes=3)


def make_inception():
    return models.Inception(16, 4, 4, 6, 2, 3, 5, rng=0)


CASES = {
    # name: (build, input shape, dotted path of the child to replace, new child)
    "resnet18.fc": (lambda: models.resnet18(num_classes=10, rng=0), (3, 32, 32), "fc",
                    lambda: nn.Linear(512, 5, rng=1)),
    "resnet18.layer4": (lambda: models.resnet18(num_classes=10, rng=0), (3, 32, 32), "layer4",
                        lambda: nn.Sequential(models.BasicBlock(256, 512, stride=2, rng=1))),
    "resnet18.layer4.0.conv1": (lambda: models.resnet18(num_classes=10, rng=0), (3, 32, 32), "layer4.0.conv1",
                                lambda: nn.Conv2d(256, 512, 3, stride=2, padding=1, bias=False, rng=1)),
    "resnet50.layer1.0.downsample": (lambda: models.resnet50(num_classes=4, rng=0), (3, 32, 32),
                                     "layer1.0.downsample",
                                     lambda: nn.Sequential(nn.Conv2d(64, 256, 1, bias=False, rng=1),
                                                           nn.BatchNorm2d(256))),
    "basic_block.conv2": (lambda: models.BasicBlock(4, 4, rng=0), (4, 6, 6), "conv2",
                          lambda: nn.Conv2d(4, 4, 3, padding=1, bias=False, rng=1)),
    "basic_block.downsample": (lambda: models.BasicBlock(4, 4, rng=0), (4, 6, 6), "downsample",
                               lambda: nn.Conv2d(4, 4, 1, rng=1)),
    "bottleneck.conv3": (lambda: models.Bottleneck(8, 2, stride=2, rng=0), (8, 6, 6), "conv3",
                         lambda: nn.Conv2d(2, 8, 1, bias=False, rng=1)),
    "vgg11.classifier.6": (lambda: models.vgg11(num_classes=10, init="zeros"), (3, 32, 32), "classifier.6",
                           lambda: nn.Linear(4096, 5, rng=1)),
    "alexnet.classifier": (lambda: models.alexnet(num_classes=10, init="zeros"), (3, 63, 63), "classifier",
                           lambda: nn.Sequential(nn.Linear(256 * 36, 5, rng=1))),
    "alexnet_original.classifier.6": (lambda: models.alexnet_original(init="zeros"), (3, 99, 99), "classifier.6",
                                      lambda: nn.Linear(4096, 5, rng=1)),
    "zfnet.classifier": (lambda: models.zfnet(init="zeros"), (3, 64, 64), "classifier",
                         lambda: nn.Sequential(nn.Dropout(0.5, rng=0), nn.Linear(256 * 36, 3, rng=1))),
    "googlenet.fc": (lambda: models.googlenet(num_classes=10, rng=0), (3, 32, 32), "fc",
                     lambda: nn.Linear(1024, 5, rng=1)),
    "googlenet.inception5b.branch1": (lambda: models.googlenet(num_classes=10, rng=0), (3, 32, 32),
                                      "inception5b.branch1", lambda: models.BasicConv2d(832, 384, 1, rng=1)),
    "inception.branch1": (make_inception, (16, 5, 5), "branch1", lambda: models.BasicConv2d(16, 7, 1, rng=1)),
    "inception_aux.fc2": (lambda: models.InceptionAux(16, 10, rng=0), (16, 8, 8), "fc2",
                          lambda: nn.Linear(1024, 3, rng=1)),
    "basic_conv2d.conv": (lambda: models.BasicConv2d(3, 4, 3, rng=0), (3, 6, 6), "conv",
                          lambda: nn.Conv2d(3, 4, 1, bias=False, rng=1)),
    "densenet.classifier": (lambda: models.DenseNet(**TINY_DENSENET, rng=0), (3, 32, 32), "classifier",
                            lambda: nn.Linear(16, 2, rng=1)),
    "densenet.features.denseblock2.denselayer1.conv2": (
        lambda: models.DenseNet(**TINY_DENSENET, rng=0), (3, 32, 32), "features.denseblock2.denselayer1.conv2",
        lambda: nn.Conv2d(8, 4, 3, padding=1, bias=False, rng=1)),
    "dense_layer.conv2": (lambda: models.DenseLayer(6, growth_rate=4, bn_size=2, rng=0), (6, 5, 5), "conv2",
                          lambda: nn.Conv2d(8, 9, 3, padding=1, bias=False, rng=1)),
    "autoencoder.decoder.2": (lambda: models.autoencoder([12, 6, 3], rng=0), (12,), "decoder.2",
                              lambda: nn.Linear(6, 12, rng=1)),
    "conv_autoencoder.decoder.2": (lambda: models.conv_autoencoder(channels=(2, 3), rng=0), (1, 8, 8), "decoder.2",
                                   lambda: nn.ConvTranspose2d(2, 1, 2, stride=2, rng=1)),
    "conv_autoencoder_unpool.encoder.3": (lambda: models.conv_autoencoder(channels=(2, 3), decoder="unpool", rng=0),
                                          (1, 8, 8), "encoder.3", lambda: nn.Conv2d(2, 3, 3, padding=1, rng=1)),
    "lenet5.fc3": (lambda: models.lenet5(rng=0), (1, 32, 32), "fc3", lambda: nn.Linear(84, 5, rng=1)),
    "mlp.-1": (lambda: models.mlp([12, 8, 4], rng=0), (12,), "3", lambda: nn.Linear(8, 2, rng=1)),
    "cifar_net.-1": (lambda: models.cifar_net(width=4, rng=0), (3, 32, 32), "18", lambda: nn.Linear(256, 3, rng=1)),
    "small_cnn.-1": (lambda: models.small_cnn(width=4, rng=0), (1, 8, 8), "13", lambda: nn.Linear(32, 3, rng=1)),
}


def child_at(model, path):
    parent = model
    for part in path.split(".")[:-1]:
        parent = parent[int(part)] if part.isdigit() else getattr(parent, part)
    return parent, path.split(".")[-1]


def replace(model, path, new):
    parent, last = child_at(model, path)
    if last.isdigit():
        parent[int(last)] = new
    else:
        setattr(parent, last, new)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_replaced_child_runs_in_forward_backward_output_shape_and_summary(case):
    build, shape, path, make_new = CASES[case]
    model, new = build(), make_new()
    replace(model, path, new)
    assert dict(model.named_modules())[path] is new
    seen = []
    new.register_forward_hook(lambda module, inputs, output: seen.append(output.shape))
    x = np.random.default_rng(0).standard_normal((2,) + shape).astype(np.float32)
    out = model(x)
    assert len(seen) == 1, "the new child did not run in forward"
    assert model.output_shape((2,) + shape) == out.shape
    model.zero_grad()
    nn.backward(model, np.ones_like(out))
    assert all(p.grad is not None and p.grad.shape == p.shape for p in new.parameters())
    assert any(np.any(p.grad != 0) for p in new.parameters())
    row = next(r for r in summary(model, shape, batch_size=2).rows if r.name == path)
    assert row.type == type(new).__name__ and row.output_shape == seen[0]
    assert row.params == new.num_parameters()


def test_a_replaced_head_gives_the_new_head_output():
    model = models.resnet18(num_classes=10, rng=0).eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    features = model.flatten(model.avgpool(model.layer4(model.layer3(model.layer2(model.layer1(
        model.maxpool(model.relu(model.bn1(model.conv1(x))))))))))
    model.fc = nn.Linear(512, 5, rng=1)
    np.testing.assert_allclose(model(x), model.fc(features), rtol=1e-6)
    assert summary(model, (3, 32, 32)).output_shape == (1, 5)


def test_a_replaced_concatenated_branch_changes_the_channels():
    block = make_inception()
    assert block.output_shape((1, 16, 5, 5)) == (1, 4 + 6 + 3 + 5, 5, 5)
    block.branch1 = models.BasicConv2d(16, 7, 1, rng=1)
    assert block.output_shape((1, 16, 5, 5)) == (1, 7 + 6 + 3 + 5, 5, 5)
    assert block(np.zeros((1, 16, 5, 5), np.float32)).shape == (1, 21, 5, 5)


# ---------------------------------------------------------------------- hooks inside zoo models
HOOK_CASES = {name: CASES[name][:2] for name in (
    "resnet18.fc", "resnet50.layer1.0.downsample", "vgg11.classifier.6", "googlenet.fc", "densenet.classifier",
    "autoencoder.decoder.2", "conv_autoencoder.decoder.2", "lenet5.fc3", "mlp.-1", "small_cnn.-1",
    "alexnet_original.classifier.6", "inception_aux.fc2")}
HOOK_CASES["conv_autoencoder_unpool"] = CASES["conv_autoencoder_unpool.encoder.3"][:2]


def runs_layer_by_layer(model):
    """The unpooling autoencoder runs its encoder and decoder layer by layer (the pools' indices pass between)."""
    return isinstance(model, models.ConvAutoencoder) and model.decoder_kind == "unpool"


@pytest.mark.parametrize("case", sorted(HOOK_CASES))
def test_forward_and_backward_hooks_fire_once_for_every_module(case):
    build, shape = HOOK_CASES[case]
    model = build()
    forward_calls, backward_calls = {}, {}
    for name, module in model.named_modules():
        module.register_forward_hook(lambda m, i, o, name=name: forward_calls.__setitem__(
            name, forward_calls.get(name, 0) + 1))
        module.register_full_backward_hook(lambda m, gi, go, name=name: backward_calls.__setitem__(
            name, backward_calls.get(name, 0) + 1))
    x = np.random.default_rng(0).standard_normal((2,) + shape).astype(np.float32)
    out = model(x)
    nn.backward(model, np.ones_like(out))
    names = [name for name, module in model.named_modules()
             if not (runs_layer_by_layer(model) and name in ("encoder", "decoder"))]
    leaves = [name for name, module in model.named_modules() if not any(True for _ in module.children())]
    assert leaves and set(leaves) <= set(names)
    assert {name: forward_calls.get(name, 0) for name in names} == {name: 1 for name in names}
    assert {name: backward_calls.get(name, 0) for name in names} == {name: 1 for name in names}


def test_googlenet_auxiliary_heads_keep_their_weights_but_do_not_run():
    model = models.googlenet(num_classes=4, aux_logits=True, rng=0)
    calls = []
    model.aux1.register_forward_hook(lambda *args: calls.append(1))
    out = model(np.zeros((2, 3, 32, 32), np.float32))
    assert out.shape == (2, 4) and not calls
    assert "aux1.fc2.weight" in model.state_dict()


# ---------------------------------------------------------------------- a replaced child survives a checkpoint
@pytest.mark.parametrize("build, path, make_new, shape", [
    (lambda: models.resnet18(num_classes=10, rng=0), "fc", lambda: nn.Linear(512, 5, rng=1), (3, 32, 32)),
    # vgg11's classifier.6 goes the same way (above); a small chain keeps the file small here
    (lambda: models.CifarNet(width=4, rng=0), "18", lambda: nn.Linear(256, 5, rng=1), (3, 32, 32)),
], ids=["resnet18.fc", "cifar_net.18"])
def test_a_model_with_a_replaced_child_saves_and_loads_with_the_same_outputs(tmp_path, build, path, make_new, shape):
    from nndl import io

    model = build()
    replace(model, path, make_new())
    config = nn.to_config(model)
    assert path.split(".")[0] in config["children"]
    io.save(model, tmp_path / "model.safetensors")
    loaded = io.load(tmp_path / "model.safetensors").model
    assert type(loaded) is type(model) and list(loaded.state_dict()) == list(model.state_dict())
    parent, last = child_at(loaded, path)
    assert (parent[int(last)] if last.isdigit() else getattr(parent, last)).out_features == 5
    x = np.random.default_rng(0).standard_normal((2,) + shape).astype(np.float32)
    np.testing.assert_array_equal(loaded.eval()(x), model.eval()(x))
    assert loaded.eval()(x).shape == (2, 5)

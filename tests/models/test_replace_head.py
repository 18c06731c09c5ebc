"""Transfer learning: Module.freeze()/unfreeze() and nndl.models.replace_head on every zoo classifier."""

import numpy as np
import pytest

from nndl import io, models, nn, optim

TINY_DENSENET = dict(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2, num_classes=3)

CLASSIFIERS = {
    # name: (build, input shape, the head's dotted name as torchvision calls it)
    "lenet5": (lambda: models.lenet5(rng=0), (1, 32, 32), "fc3"),
    "alexnet": (lambda: models.alexnet(num_classes=10, init="zeros"), (3, 63, 63), "classifier.6"),
    "zfnet": (lambda: models.zfnet(num_classes=10, init="zeros"), (3, 64, 64), "classifier.6"),
    "vgg11": (lambda: models.vgg11(num_classes=10, init="zeros"), (3, 32, 32), "classifier.6"),
    "googlenet": (lambda: models.googlenet(num_classes=10, rng=0), (3, 32, 32), "fc"),
    "resnet18": (lambda: models.resnet18(num_classes=10, rng=0), (3, 32, 32), "fc"),
    "densenet": (lambda: models.DenseNet(**TINY_DENSENET, rng=0), (3, 32, 32), "classifier"),
    "mlp": (lambda: models.mlp([12, 8, 4], rng=0), (12,), "3"),
    "small_cnn": (lambda: models.small_cnn(width=4, rng=0), (1, 8, 8), "13"),
    "cifar_net": (lambda: models.cifar_net(width=4, rng=0), (3, 32, 32), "18"),
}


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_replace_head_gives_new_classes_and_trains_only_the_head_when_frozen(name):
    build, shape, head_name = CLASSIFIERS[name]
    model = build()
    assert models.head_names(model) == [head_name]
    old_head = dict(model.named_modules())[head_name]
    before = {k: v.copy() for k, v in model.state_dict().items()}
    model.freeze()
    head = models.replace_head(model, 5, rng=1)
    assert dict(model.named_modules())[head_name] is head and head is not old_head
    assert (head.in_features, head.out_features) == (old_head.in_features, 5)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == [f"{head_name}.weight", f"{head_name}.bias"]
    assert model.num_parameters(trainable_only=True) == 5 * old_head.in_features + 5

    x = np.random.default_rng(0).standard_normal((2, *shape)).astype(np.float32)
    model.eval()  # batch norm's running statistics stay as they are
    out = model(x)
    assert out.shape == (2, 5)
    assert model.output_shape((2, *shape)) == (2, 5)
    nn.backward(model, np.ones_like(out))
    assert all((p.grad is None) != p.requires_grad for p in model.parameters())
    optim.SGD(model.parameters(), lr=0.1).step()
    after = model.state_dict()
    changed = {k for k in after if k in before and before[k].shape == after[k].shape
               and not np.array_equal(before[k], after[k])}
    assert changed <= {f"{head_name}.weight", f"{head_name}.bias"}


def test_googlenet_auxiliary_heads_are_replaced_too():
    model = models.googlenet(num_classes=10, aux_logits=True, rng=0)
    assert models.head_names(model) == ["fc", "aux1.fc2", "aux2.fc2"]
    head = models.replace_head(model, 3, rng=0)
    assert head is model.fc
    assert model.aux1.fc2.out_features == model.aux2.fc2.out_features == 3


def test_replaced_head_survives_a_checkpoint(tmp_path):
    model = models.small_cnn(width=4, rng=0)
    models.replace_head(model, 3, rng=1)
    io.save(model, tmp_path / "m.safetensors")
    loaded = io.load(tmp_path / "m.safetensors").model
    x = np.random.default_rng(2).standard_normal((3, 1, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(loaded.eval()(x), model.eval()(x))
    assert loaded(x).shape == (3, 3)


def test_replace_head_refuses_what_has_no_head():
    with pytest.raises(ValueError, match="Autoencoder has a decoder"):
        models.replace_head(models.autoencoder([12, 6, 3], rng=0), 2)
    with pytest.raises(ValueError, match="has no Linear layer"):
        models.replace_head(nn.Sequential(nn.Conv2d(1, 2, 3)), 2)
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        models.replace_head(models.mlp([4, 3]), 0)


def test_freeze_and_unfreeze_by_prefix():
    model = models.lenet5(rng=0)
    names = [n for n, _ in model.named_parameters()]
    assert model.freeze("conv1", "conv2") is model
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {n for n in names if n.startswith(("conv1.", "conv2."))} and len(frozen) == 4
    model.unfreeze("conv2")
    assert {n for n, p in model.named_parameters() if not p.requires_grad} == {"conv1.weight", "conv1.bias"}
    model.freeze()
    assert model.num_parameters(trainable_only=True) == 0
    model.unfreeze("fc3.weight")  # a full name is a prefix too
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["fc3.weight"]
    model.unfreeze()
    assert model.num_parameters(trainable_only=True) == model.num_parameters()
    # A prefix matches whole components: "fc" is not "fc1".
    with pytest.raises(ValueError, match="no parameter is named 'fc'"):
        model.freeze("fc")


def test_freeze_drops_gradients_and_the_optimizer_leaves_frozen_weights():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    nn.backward(model, model(x))
    assert model[0].weight.grad is not None
    model.freeze("0")
    assert model[0].weight.grad is None
    first = model[0].weight.data.copy()
    opt = optim.Adam(model.parameters(), lr=0.1)
    nn.backward(model, model(x))
    opt.step()
    np.testing.assert_array_equal(model[0].weight.data, first)
    assert model[0].weight.grad is None and model[2].weight.grad is not None

"""Zoo models and torchvision's classes of the same architecture (used only where torchvision imports).

The zoo's models hold torchvision's children under torchvision's names, so
a state dict moves between the two unchanged; this module only picks the
builder: :func:`torchvision_twin` the torchvision model for a zoo model
built as its builder makes it (no child replaced since), and
:func:`from_torchvision` the zoo model for a torchvision model (its
architecture read from its layers).
"""

from __future__ import annotations

import inspect

from nndl.models.alexnet import AlexNet
from nndl.models.densenet import DenseNet
from nndl.models.googlenet import GoogLeNet
from nndl.models.resnet import RESNET_LAYERS, ResNet
from nndl.models.vgg import VGG, VGG_CONFIGS
from nndl.nn.core.config import ConfigError, to_config


def _torchvision_models():
    """``torchvision.models``, or None where torchvision is missing or fails to import."""
    try:
        import torchvision.models as models
    except Exception:  # not installed, or its compiled operators do not load against this torch
        return None
    return models


def _arguments(model) -> dict:
    signature = inspect.signature(type(model).__init__)
    bound = signature.bind(model, *model._init_args, **model._init_kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.pop(next(iter(signature.parameters)))
    return arguments


def _torchvision_call(model) -> tuple[str, dict] | None:
    """``(builder name, keyword arguments)`` of torchvision's model for ``model``, or None if it has none."""
    try:
        if "children" in to_config(model) or "_init_args" not in model.__dict__:
            return None  # a child was replaced: torchvision's class would not compute the same
    except ConfigError:
        return None
    a = _arguments(model)
    kind = type(model)
    if kind is ResNet and a["in_channels"] == 3:
        for name, (block, layers) in RESNET_LAYERS.items():
            if (block, tuple(layers)) == (a["block"], tuple(a["layers"])):
                return name, {"num_classes": a["num_classes"]}
    if kind is VGG:
        return a["config"] + ("_bn" if a["batch_norm"] else ""), {"num_classes": a["num_classes"],
                                                                  "dropout": a["dropout"]}
    if kind is AlexNet:
        return "alexnet", {"num_classes": a["num_classes"], "dropout": a["dropout"]}
    if kind is GoogLeNet:
        return "googlenet", {"num_classes": a["num_classes"], "aux_logits": a["aux_logits"],
                             "dropout": a["dropout"], "transform_input": False, "init_weights": False}
    if kind is DenseNet and (a["growth_rate"], tuple(a["block_config"]), a["num_init_features"],
                             a["bn_size"]) == (32, (6, 12, 24, 16), 64, 4):
        return "densenet121", {"num_classes": a["num_classes"], "drop_rate": a["drop_rate"]}
    return None


def torchvision_twin(model):
    """torchvision's model of ``model``'s architecture (untrained, no download), or None."""
    models = _torchvision_models()
    call = _torchvision_call(model) if models is not None else None
    if call is None:
        return None
    name, kwargs = call
    return getattr(models, name)(weights=None, **kwargs)


def _is_torchvision(module, name: str) -> bool:
    return type(module).__name__ == name and type(module).__module__.startswith("torchvision.models")


def _vgg(module):
    config, batch_norm = [], False
    for layer in module.features:
        kind = type(layer).__name__
        if kind == "Conv2d":
            config.append(layer.out_channels)
        elif kind == "MaxPool2d":
            config.append("M")
        batch_norm = batch_norm or kind == "BatchNorm2d"
    for name, layers in VGG_CONFIGS.items():
        if tuple(config) == layers:
            return VGG(name, batch_norm=batch_norm, num_classes=module.classifier[-1].out_features)
    raise TypeError(f"from_torch: torchvision VGG with layers {config} is none of {', '.join(VGG_CONFIGS)}")


def _densenet(module):
    blocks = [child for name, child in module.features.named_children() if name.startswith("denseblock")]
    first = blocks[0].denselayer1
    return DenseNet(first.conv2.out_channels, tuple(len(block) for block in blocks),
                    module.features.conv0.out_channels, first.conv1.out_channels // first.conv2.out_channels,
                    num_classes=module.classifier.out_features)


def _googlenet(module):
    if module.transform_input:
        raise TypeError("from_torch: torchvision GoogLeNet with transform_input=True rescales its input; "
                        "nndl's does not (build it with transform_input=False)")
    return GoogLeNet(module.fc.out_features, aux_logits=module.aux_logits)


def _resnet(module):
    block = "basic" if type(module.layer1[0]).__name__ == "BasicBlock" else "bottleneck"
    layers = tuple(len(getattr(module, f"layer{i}")) for i in range(1, 5))
    return ResNet(block, layers, num_classes=module.fc.out_features, in_channels=module.conv1.in_channels)


FROM_TORCHVISION = {"ResNet": _resnet, "VGG": _vgg, "AlexNet": lambda m: AlexNet(m.classifier[-1].out_features),
                    "GoogLeNet": _googlenet, "DenseNet": _densenet}
"""torchvision class name -> the zoo model of the same architecture (default weights)."""


def from_torchvision(module):
    """The zoo model of a torchvision model's architecture (weights not copied), or None if it is not one."""
    for name, build in FROM_TORCHVISION.items():
        if _is_torchvision(module, name):
            return build(module)
    return None

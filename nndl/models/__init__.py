"""The model zoo."""

from nndl.models.alexnet import AlexNet, AlexNetOriginal, alexnet, alexnet_original
from nndl.models.autoencoder import Autoencoder, ConvAutoencoder, autoencoder, conv_autoencoder
from nndl.models.blocks import Chain
from nndl.models.cifar_net import CifarNet, cifar_net
from nndl.models.densenet import DenseLayer, DenseNet, densenet121
from nndl.models.googlenet import BasicConv2d, GoogLeNet, Inception, InceptionAux, googlenet
from nndl.models.head import head_names, replace_head
from nndl.models.lenet import LeNet5, lenet5
from nndl.models.mlp import ACTIVATIONS, MLP, mlp
from nndl.models.resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50
from nndl.models.small_cnn import SmallCNN, small_cnn
from nndl.models.vgg import VGG, vgg11, vgg13, vgg16, vgg19
from nndl.models.zfnet import ZFNet, zfnet


def _batch_norm_variant(builder):
    def build(**kwargs):
        return builder(batch_norm=True, **kwargs)

    build.__name__ = build.__qualname__ = f"{builder.__name__}_bn"
    build.__doc__ = f"{builder.__name__} with batch normalization after every convolution."
    return build


MODEL_ZOO = {
    "lenet5": lenet5, "alexnet": alexnet, "alexnet_original": alexnet_original, "zfnet": zfnet,
    "vgg11": vgg11, "vgg11_bn": _batch_norm_variant(vgg11), "vgg13": vgg13, "vgg13_bn": _batch_norm_variant(vgg13),
    "vgg16": vgg16, "vgg16_bn": _batch_norm_variant(vgg16), "vgg19": vgg19, "vgg19_bn": _batch_norm_variant(vgg19),
    "googlenet": googlenet, "resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50,
    "densenet121": densenet121, "conv_autoencoder": conv_autoencoder, "small_cnn": small_cnn, "cifar_net": cifar_net,
}
"""Builders of the zoo's fixed architectures by name (``nndl summary NAME``); each takes keyword arguments."""

ZOO_INPUT_SHAPES = {name: (3, 224, 224) for name in MODEL_ZOO}
ZOO_INPUT_SHAPES.update({"lenet5": (1, 32, 32), "alexnet_original": (3, 227, 227), "conv_autoencoder": (1, 28, 28),
                         "small_cnn": (1, 8, 8), "cifar_net": (3, 32, 32)})
"""The input shape (one sample, ``(C, H, W)``) each zoo model was designed for."""

__all__ = [
    "ACTIVATIONS", "MLP", "CifarNet", "SmallCNN", "cifar_net", "mlp", "small_cnn", "MODEL_ZOO", "ZOO_INPUT_SHAPES", "Chain",
    "AlexNet", "AlexNetOriginal", "alexnet", "alexnet_original", "Autoencoder", "ConvAutoencoder", "autoencoder",
    "conv_autoencoder", "DenseLayer", "DenseNet", "densenet121", "BasicConv2d", "GoogLeNet",
    "Inception", "InceptionAux", "googlenet", "LeNet5", "lenet5", "BasicBlock", "Bottleneck", "ResNet", "resnet18",
    "resnet34", "resnet50", "VGG", "vgg11", "vgg13", "vgg16", "vgg19", "ZFNet", "zfnet", "head_names", "replace_head",
]

"""The names a training configuration may use, each mapped to what it builds."""

from __future__ import annotations

import math

import numpy as np

from nndl import data, optim
from nndl.models import cifar_net, lenet5, mlp, small_cnn


# ---------------------------------------------------------------------- data sets
def _split(x, y, test_size, seed):
    x_train, x_test, y_train, y_test = data.train_test_split(x, y, test_size=test_size, stratify=y, rng=seed)
    return x_train, y_train, x_test, y_test


def _need_path(name, path):
    if not path:
        fetchable = name in ("mnist", "fashion_mnist", "cifar10", "cifar100")
        raise ValueError(f"[data] name = '{name}' needs path = the directory or file to read"
                         + (" (or download = true)" if fetchable else ""))
    return path


def digits(cfg, seed):
    """scikit-learn's bundled 8x8 digits, split into train and test (stratified)."""
    x, y = data.load_digits()
    return _split(x, y, cfg["test_size"], seed)


def _published(name, loader):
    """A published data set's train and test splits: from ``path``, fetched there (or to the cache) with download."""
    def load(cfg, seed):
        path = cfg["path"] if cfg["download"] else _need_path(name, cfg["path"])
        return (*loader(path, kind="train", download=cfg["download"]),
                *loader(path, kind="test", download=cfg["download"]))
    load.__doc__ = (f"{loader.__name__}: the files in ``path`` with their own test set; ``download = true`` "
                    "fetches them (into ``path``, or the cache without one), checksums verified.")
    return load


mnist = _published("mnist", data.load_mnist)
fashion_mnist = _published("fashion_mnist", data.load_fashion_mnist)
cifar10 = _published("cifar10", data.load_cifar10)
cifar100 = _published("cifar100", data.load_cifar100)


def npz(cfg, seed):
    """Arrays ``x_key`` and ``y_key`` of an .npz file, split into train and test."""
    x, y = data.load_npz(_need_path("npz", cfg["path"]), x_key=cfg["x_key"], y_key=cfg["y_key"])
    return _split(x, y.astype(np.int64), cfg["test_size"], seed)


def csv(cfg, seed):
    """A numeric CSV file whose ``target_column`` holds integer class labels, split into train and test."""
    x, y = data.load_csv(_need_path("csv", cfg["path"]), target_column=cfg["target_column"])
    if not np.all(y == np.round(y)):
        raise ValueError(f"{cfg['path']}: the target column must hold integer class labels")
    return _split(x, y.astype(np.int64), cfg["test_size"], seed)


DATASETS = {"digits": digits, "mnist": mnist, "fashion_mnist": fashion_mnist, "cifar10": cifar10,
            "cifar100": cifar100, "npz": npz, "csv": csv}


# ---------------------------------------------------------------------- models
def _image_shape(name, input_shape):
    if len(input_shape) != 3:
        raise ValueError(f"[model] {name} needs images of shape (C, H, W), the data has samples of shape "
                         f"{tuple(input_shape)}")
    return input_shape


def mlp_model(input_shape, num_classes, hidden=(128,), activation="relu", dropout=0.0, batch_norm=False,
              init="auto", rng=None):
    """Multilayer perceptron on the flattened input."""
    return mlp([math.prod(input_shape), *hidden, num_classes], activation=activation, dropout=dropout,
               batch_norm=batch_norm, init=init, rng=rng)


def small_cnn_model(input_shape, num_classes, width=32, dropout=0.3, rng=None):
    """Three conv blocks with batch norm and two max-pools (``nndl.models.small_cnn``) on (C, H, W) images."""
    channels, height, width_px = _image_shape("small_cnn", input_shape)
    return small_cnn(channels, num_classes, input_size=(height, width_px), width=width, dropout=dropout, rng=rng)


def lenet5_model(input_shape, num_classes, activation="relu", pool="max", rng=None):
    """LeNet-5 on 32x32 images, or on 28x28 ones (MNIST) with conv1 padded by 2."""
    channels, height, width = _image_shape("lenet5", input_shape)
    if (height, width) not in ((32, 32), (28, 28)):
        raise ValueError(f"[model] lenet5 needs 32x32 or 28x28 images, the data has {height}x{width}")
    return lenet5(num_classes, channels, activation=activation, pool=pool, padding=2 if height == 28 else 0, rng=rng)


def cifar_net_model(input_shape, num_classes, width=32, dropout=0.5, rng=None):
    """Two VGG stages with batch norm and a 256-unit classifier (``nndl.models.cifar_net``) on 32x32 images."""
    channels, height, width_px = _image_shape("cifar_net", input_shape)
    if (height, width_px) != (32, 32):
        raise ValueError(f"[model] cifar_net needs 32x32 images, the data has {height}x{width_px}")
    return cifar_net(num_classes, channels, width=width, dropout=dropout, rng=rng)


MODELS = {"mlp": mlp_model, "small_cnn": small_cnn_model, "lenet5": lenet5_model, "cifar_net": cifar_net_model}
"""Model builders ``f(input_shape, num_classes, **arguments, rng=...)``."""

OPTIMIZERS = optim.OPTIMIZERS
SCHEDULES = optim.LR_SCHEDULERS

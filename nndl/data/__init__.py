"""Data sets and file formats, mini-batch loading, splits, scaling and augmentation.

The readers open files the user already has (MNIST IDX, CIFAR-10 binary or
Python version, CIFAR-100, CSV, NPZ). ``load_mnist``, ``load_fashion_mnist``,
``load_cifar10`` and ``load_cifar100`` fetch their data set on request
(``download=True``) from its published mirrors into a cache folder
(``NNDL_DATA``, else ``~/.cache/nndl``), verifying every file's MD5 checksum
before use; nothing is ever fetched otherwise. ``load_digits`` uses the copy
bundled with scikit-learn (imported only when called).
"""

from nndl.data.augment_geometric import RandomRotation, RandomScale, RandomTranslation, affine_transform
from nndl.data.augment_photometric import Cutout, GaussianBlur, PCAColorJitter, RandomBrightness, RandomContrast
from nndl.data.augmentation import Compose, GaussianNoise, RandomCrop, RandomHorizontalFlip
from nndl.data.class_weight import compute_class_weight
from nndl.data.cifar import (CIFAR10_CLASSES, load_cifar10, load_cifar100, read_cifar_binary_batch,
                             read_cifar_python_batch)
from nndl.data.digits import load_digits
from nndl.data.errors import DataFormatError
from nndl.data.download import DataSource, DownloadError, RemoteFile, data_home
from nndl.data.idx import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist, read_idx, write_idx
from nndl.data.loader import DataLoader
from nndl.data.preprocessing import MinMaxScaler, StandardScaler, one_hot
from nndl.data.safe_pickle import RestrictedUnpickler, safe_load_pickle
from nndl.data import kernels
from nndl.data.splits import KFold, StratifiedKFold, bootstrap_sample, train_test_split, train_val_test_split
from nndl.data.npz import load_npz
from nndl.data.tabular import load_csv

__all__ = [
    "CIFAR10_CLASSES", "Compose", "Cutout", "DataFormatError", "DataLoader", "GaussianBlur", "GaussianNoise", "KFold",
    "MinMaxScaler", "PCAColorJitter", "RandomBrightness", "RandomContrast", "RandomCrop", "RandomHorizontalFlip",
    "RandomRotation", "RandomScale", "RandomTranslation", "RestrictedUnpickler", "StandardScaler", "StratifiedKFold",
    "affine_transform", "bootstrap_sample", "compute_class_weight", "kernels", "load_cifar10", "load_csv",
    "load_digits", "load_mnist", "load_npz", "one_hot", "read_cifar_binary_batch", "read_cifar_python_batch",
    "read_idx", "safe_load_pickle", "train_test_split", "train_val_test_split", "write_idx",
]

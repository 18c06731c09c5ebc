"""Data sets and file formats, mini-batch loading, splits, scaling and augmentation.

Nothing here downloads: the readers open files the user already has (MNIST
IDX, CIFAR-10 binary or Python version, CSV, NPZ); ``load_digits`` uses the
copy bundled with scikit-learn (imported only when called).
"""

from nndl.data.augmentation import Compose, GaussianNoise, RandomCrop, RandomHorizontalFlip
from nndl.data.class_weight import compute_class_weight
from nndl.data.cifar import (CIFAR10_CLASSES, load_cifar10, read_cifar_binary_batch,
                             read_cifar_python_batch)
from nndl.data.digits import load_digits
from nndl.data.errors import DataFormatError
from nndl.data.idx import load_mnist, read_idx, write_idx
from nndl.data.loader import DataLoader
from nndl.data.preprocessing import MinMaxScaler, StandardScaler, one_hot
from nndl.data.safe_pickle import RestrictedUnpickler, safe_load_pickle
from nndl.data import kernels
from nndl.data.splits import KFold, StratifiedKFold, bootstrap_sample, train_test_split, train_val_test_split
from nndl.data.npz import load_npz
from nndl.data.tabular import load_csv

__all__ = [
    "CIFAR10_CLASSES", "Compose", "DataFormatError", "DataLoader", "GaussianNoise", "KFold", "MinMaxScaler",
    "RandomCrop", "RandomHorizontalFlip", "RestrictedUnpickler", "StandardScaler", "StratifiedKFold",
    "bootstrap_sample", "compute_class_weight", "kernels", "load_cifar10", "load_csv", "load_digits", "load_mnist",
    "load_npz", "one_hot", "read_cifar_binary_batch", "read_cifar_python_batch", "read_idx", "safe_load_pickle",
    "train_test_split", "train_val_test_split", "write_idx",
]

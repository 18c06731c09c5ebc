"""The published sources of MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100, with their checksums.

The mirrors are those torchvision and Keras download from; sizes and MD5
checksums are the published ones (the CIFAR page lists the archives' MD5s).
CIFAR comes as its Python version (pickled batches, read with the restricted
unpickler), the archive torchvision and Keras use; the binary version of
CIFAR-10 is read too when it is already on disk.

To download from another mirror (a local copy, a proxy), pass
``source=dataclasses.replace(MNIST, mirrors=("https://my.mirror/mnist/",))``
to the loader.
"""

from __future__ import annotations

import os

from nndl.data.download import DataSource, RemoteFile, data_home

MNIST = DataSource(
    title="MNIST",
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
             "https://storage.googleapis.com/cvdf-datasets/mnist/",
             "http://yann.lecun.com/exdb/mnist/"),
    files=(RemoteFile("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422),
           RemoteFile("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28881),
           RemoteFile("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1648877),
           RemoteFile("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4542)),
    homepage="http://yann.lecun.com/exdb/mnist/",
)

FASHION_MNIST = DataSource(
    title="Fashion-MNIST",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
             "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"),
    files=(RemoteFile("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26421880),
           RemoteFile("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", 29515),
           RemoteFile("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", 4422102),
           RemoteFile("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", 5148)),
    homepage="https://github.com/zalandoresearch/fashion-mnist",
)

CIFAR10 = DataSource(
    title="CIFAR-10",
    mirrors=("https://www.cs.toronto.edu/~kriz/",),
    files=(RemoteFile("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a", 170498071),),
    members=(RemoteFile("cifar-10-batches-py/data_batch_1", "c99cafc152244af753f735de768cd75f", None),
             RemoteFile("cifar-10-batches-py/data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec", None),
             RemoteFile("cifar-10-batches-py/data_batch_3", "54ebc095f3ab1f0389bbae665268c751", None),
             RemoteFile("cifar-10-batches-py/data_batch_4", "634d18415352ddfa80567beed471001a", None),
             RemoteFile("cifar-10-batches-py/data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb", None),
             RemoteFile("cifar-10-batches-py/test_batch", "40351d587109b95175f43aff81a1287e", None)),
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
)

CIFAR100 = DataSource(
    title="CIFAR-100",
    mirrors=("https://www.cs.toronto.edu/~kriz/",),
    files=(RemoteFile("cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85", 169001437),),
    members=(RemoteFile("cifar-100-python/train", "16019d7e3df5f24257cddd939b257f8d", None),
             RemoteFile("cifar-100-python/test", "f0ef6b0ae62326f3e7ffdfab6717acfc", None)),
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
)

SOURCES = {"mnist": MNIST, "fashion_mnist": FASHION_MNIST, "cifar10": CIFAR10, "cifar100": CIFAR100}
"""Data set folder name -> its published source."""


def dataset_folder(directory, root, name: str, loader: str) -> str:
    """The folder a loader reads: ``directory`` (``root`` is torchvision's name for it), else the cache's ``name``."""
    if directory is not None and root is not None:
        raise TypeError(f"{loader}: pass the folder as directory or as root, not both")
    folder = directory if directory is not None else root
    return os.fspath(folder) if folder is not None else os.path.join(data_home(), name)


def split_kind(loader: str, kind: str, train: bool | None) -> str:
    """``kind`` from torchvision's ``train=True/False`` when given (it must agree with an explicit kind)."""
    if train is None:
        return kind
    chosen = "train" if train else "test"
    if kind not in ("train", chosen):
        raise ValueError(f"{loader}: kind='{kind}' contradicts train={train}")
    return chosen


def not_found_hint(source: DataSource, folder: str) -> str:
    """The sentence every loader adds when the files are missing: how to get them."""
    return (f"; pass download=True to fetch {source.title} from {source.mirrors[0]} into {folder} "
            f"(checksums verified), or put the files there by hand")

"""Transfer learning: find and replace the classification head of a model.

The recipe of the notes (000, 001), for a network trained on a large task
and reused on a small one:

1. ``model.freeze()``: the body's weights stay as they were learned;
2. ``replace_head(model, num_classes)``: a new, trainable last linear layer
   sized for the new classes (the only layer that is trained);
3. train the head; optionally ``model.unfreeze()`` and fine-tune the whole
   network with a lower learning rate (e.g. a tenth), so that the body's
   features move only a little.

::

    model = nndl.models.resnet18(num_classes=1000)
    model.load_state_dict(pretrained)
    model.freeze()
    head = replace_head(model, 5, rng=0)       # model.fc is now Linear(512, 5)
    optimizer = optim.SGD(head.parameters(), lr=0.01)
"""

from __future__ import annotations

import numpy as np

from nndl import nn
from nndl.nn.core.module import Module
from nndl.nn.core.sequential import Sequential


def _last_linear(module: Module, prefix: str = "") -> str | None:
    """Dotted name of the last ``Linear`` under ``module`` in registration order (None if there is none)."""
    found = None
    for name, child in module.named_modules(prefix):
        if isinstance(child, nn.Linear):
            found = name
    return found


def head_names(model: Module) -> list[str]:
    """Dotted names of the classification heads of ``model``: the main head first, then auxiliary ones.

    The main head is the last ``Linear`` in registration order outside the
    auxiliary classifiers: ``fc`` for ResNet and GoogLeNet,
    ``classifier.6`` for AlexNet, ZFNet and VGG, ``classifier`` for DenseNet,
    ``fc3`` for LeNet-5, the last layer of an MLP, SmallCNN or CifarNet. An
    auxiliary classifier is a top-level child named ``aux…`` (GoogLeNet's
    ``aux1``, ``aux2``, as torchvision names them); its own last ``Linear``
    is its head.
    """
    if not isinstance(model, Module):
        raise TypeError(f"replace_head: model must be an nndl Module, got {type(model).__name__}")
    if callable(getattr(model, "decode", None)):
        raise ValueError(f"replace_head: {type(model).__name__} has a decoder: it reconstructs its input and "
                         "has no classification head (use its encoder as the body of a new model instead)")
    auxiliary = [name for name in model._modules if name.startswith("aux")]
    main = None
    for name, child in model.named_children():
        if name not in auxiliary:
            main = _last_linear(child, name) or main
    if main is None:
        raise ValueError(f"replace_head: {type(model).__name__} has no Linear layer to replace")
    return [main] + [found for found in (_last_linear(model._modules[name], name) for name in auxiliary) if found]


def _set_child(model: Module, dotted: str, new: Module) -> None:
    *path, last = dotted.split(".")
    parent = model
    for part in path:
        parent = parent._modules[part]
    if isinstance(parent, Sequential) and last.isdigit():
        parent[list(parent._modules).index(last)] = new
    else:
        setattr(parent, last, new)


def replace_head(model: Module, num_classes: int, rng=None) -> Module:
    """Replace the classification head of ``model`` by a new ``Linear(in_features, num_classes)``; return it.

    The new layer has the old one's ``in_features``, bias and dtype, fresh
    weights (the layer's default initialization, drawn from ``rng``) and is
    trainable whatever the rest of the model is (call ``model.freeze()``
    first to train the head alone). Auxiliary classifiers (GoogLeNet's
    ``aux1``/``aux2``) get new heads too, so that every output has
    ``num_classes`` columns; the main head is returned. The replacement is a
    child assignment (``model.fc = ...``), so forward, backward, the summary
    and checkpoints see it.

    Parameters
    ----------
    model : Module
        A classifier whose head is found by :func:`head_names`.
    num_classes : int
    rng : Generator, int or None

    Returns
    -------
    Linear
        The new main head (give its ``parameters()`` to an optimizer).
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"replace_head: num_classes must be a positive int, got {num_classes!r}")
    from nndl.random import as_generator

    rng = as_generator(rng)
    heads = []
    for dotted in head_names(model):
        old = dict(model.named_modules())[dotted]
        new = nn.Linear(old.in_features, int(num_classes), bias=old.bias is not None, rng=rng, dtype=old.dtype)
        _set_child(model, dotted, new)
        heads.append(new)
    return heads[0]

"""nndl models to torch modules and back, weights and buffers copied (torch is the ``interop`` extra).

``to_torch(model)`` builds the torch module tree with the same children and
state-dict keys, then copies every tensor with a strict ``load_state_dict``:

- a leaf layer becomes its torch layer (:mod:`nndl.io.torch_layers`);
- ``nn.Sequential`` becomes ``torch.nn.Sequential`` with the same child names;
- every other module with children (``Residual``, ``Concat``, ``Parallel``,
  the zoo's models and blocks, a ``Sequential`` subclass) becomes a
  :class:`NndlFlow` holding the torch children under the same names and
  running the route :func:`nndl.io.flow.data_flow` reads from the nndl
  module; it remembers the nndl configuration, so ``from_torch`` rebuilds
  the same class;
- a zoo model of one of torchvision's architectures (ResNet-18/34/50,
  VGG-11/13/16/19 with or without batch norm, AlexNet, GoogLeNet,
  DenseNet-121), built as its builder makes it, becomes the torchvision
  class itself when torchvision can be imported.

``from_torch(module)`` is the reverse: torch layers, ``torch.nn.Sequential``,
what ``to_torch`` wrote, and torchvision's classes of the architectures
above. Anything else raises a ``TypeError`` naming the first unsupported
module.
"""

from __future__ import annotations

import functools
import json
from collections import OrderedDict

import numpy as np

from nndl import nn
from nndl.io.flow import Heads, Join, Steps, Sum, data_flow
from nndl.io.torch_layers import import_torch, nndl_leaf, torch_leaf
from nndl.io.torchvision_names import from_torchvision, torchvision_twin
from nndl.nn.core.config import ConfigError, to_config
from nndl.nn.core.module import Module


@functools.cache
def flow_class():
    """The torch module class that runs an nndl route over its children (built once torch is imported)."""
    torch = import_torch()

    class NndlFlow(torch.nn.Module):
        """Children under nndl's names, run along ``route`` (steps, sums, concatenations, heads).

        ``nndl_config`` is the JSON configuration of the nndl module it was
        made from (``nndl.nn.to_config``), or None.
        """

        def __init__(self, route, nndl_class: str, nndl_config: str | None, children):
            super().__init__()
            self.route, self.nndl_class, self.nndl_config = route, nndl_class, nndl_config
            for name, child in children.items():
                self.add_module(name, child)

        def run(self, item, x):
            if isinstance(item, str):
                return self._modules[item](x)
            if isinstance(item, Steps):
                for step in item.items:
                    x = self.run(step, x)
                return x
            outs = [self.run(branch, x) for branch in item.items]
            if isinstance(item, Sum):
                total = outs[0]
                for out in outs[1:]:
                    total = total + out
                return total
            if isinstance(item, Join):
                return torch.cat(outs, dim=item.axis)
            return dict(zip(item.items, outs)) if item.named else tuple(outs)  # Heads

        def forward(self, x):
            return self.run(self.route, x)

        def extra_repr(self) -> str:
            return f"nndl={self.nndl_class}"

    return NndlFlow


def _class_path(module: Module) -> str:
    return f"{type(module).__module__}.{type(module).__qualname__}"


def _build_torch(module: Module, path: str):
    torch = import_torch()
    route = data_flow(module, path)
    if route is None:
        return torch_leaf(module)
    children = {name: _build_torch(child, f"{path}.{name}" if path else name)
                for name, child in module._modules.items()}
    if type(module) is nn.Sequential:
        return torch.nn.Sequential(OrderedDict(children))
    try:
        config = json.dumps(to_config(module))
    except ConfigError:
        config = None
    return flow_class()(route, _class_path(module), config, children)


def _numpy_state(model: Module, torch):
    return {key: torch.from_numpy(np.array(value, copy=True)) for key, value in model.state_dict().items()}


def to_torch(model: Module):
    """The torch module computing what ``model`` computes, with its weights and buffers copied.

    Parameters
    ----------
    model : Module
        Any nndl model made of layers torch has (plus Step and Maxout, which
        become small torch modules) and of nndl's containers and zoo models.

    Returns
    -------
    torch.nn.Module
        In ``model``'s mode (``train()``/``eval()``) and dtype (float32 or
        float64); its ``state_dict()`` has ``model.state_dict()``'s keys.
    """
    torch = import_torch()
    if not isinstance(model, Module):
        raise TypeError(f"to_torch: expected an nndl Module, got {type(model).__name__}")
    result = torchvision_twin(model)
    if result is None:
        result = _build_torch(model, "")
    if np.dtype(model.dtype) == np.float64:
        result = result.to(torch.float64)
    result.load_state_dict(_numpy_state(model, torch), strict=True)
    return result.train(model.training)


def _torch_state(module) -> dict[str, np.ndarray]:
    return {key: value.detach().cpu().numpy().copy() for key, value in module.state_dict().items()}


def _build_nndl(module, path: str) -> Module:
    torch = import_torch()
    flow = flow_class()
    if isinstance(module, flow):
        if module.nndl_config is not None:
            return nn.from_config(json.loads(module.nndl_config))
        route = module.route
        children = {name: _build_nndl(child, f"{path}.{name}" if path else name)
                    for name, child in module.named_children()}
        if isinstance(route, Sum) and len(route.items) == 2 and route.items[0] == "block":
            return nn.Residual(children["block"], children.get("shortcut"))
        if isinstance(route, Join):
            return nn.Concat(children, axis=route.axis)
        if isinstance(route, Heads):
            return nn.Parallel(children)
        if isinstance(route, Steps) and list(route.items) == list(children):
            return nn.Sequential(children)
        raise TypeError(f"from_torch: '{path or '<root>'}' ({module.nndl_class}) was written without its nndl "
                        "configuration and its route is not a container's")
    if type(module) is torch.nn.Sequential:
        return nn.Sequential(OrderedDict((name, _build_nndl(child, f"{path}.{name}" if path else name))
                                         for name, child in module.named_children()))
    zoo = from_torchvision(module)
    if zoo is not None:
        return zoo
    if any(True for _ in module.children()):
        raise TypeError(f"from_torch: unsupported torch module '{path or '<root>'}' "
                        f"({type(module).__module__}.{type(module).__name__}): a module with children must be "
                        "torch.nn.Sequential, one of torchvision's zoo classes, or written by nndl.io.to_torch")
    return nndl_leaf(module, path)


def from_torch(module) -> Module:
    """The nndl model computing what the torch ``module`` computes, with its weights and buffers copied.

    Raises
    ------
    TypeError
        Naming the first module (by its path) that has no nndl equivalent.
    """
    torch = import_torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch: expected a torch.nn.Module, got {type(module).__name__}")
    model = _build_nndl(module, "")
    dtypes = {value.dtype for value in module.state_dict().values() if value.is_floating_point()}
    if torch.float64 in dtypes:
        model.to(np.float64)
    model.load_state_dict(_torch_state(module), strict=True)
    return model.train(module.training)

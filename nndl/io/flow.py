"""The data flow of a module tree, read from its declared structure: what torch and ONNX export walk.

A module with children routes its input through them; the route is one of
a few shapes, written with the children's *names* so that an exporter can
rebuild it anywhere (a torch module with the same children, an ONNX graph):

- ``Steps(items)``: one after another (``Sequential``, a zoo ``Chain``'s
  ``layers()``); ``Steps(())`` is the identity;
- ``Sum(items)``: every item on the same input, the outputs added
  (``Residual``, a ResNet block's residual path and shortcut);
- ``Join(items, axis)``: every item on the same input, the outputs
  concatenated along ``axis`` (``Concat``, Inception, a dense layer);
- ``Heads(items, named)``: every item on the same input, a tuple out, or a
  dict by name (``Parallel``).

An item is a child's name (a string) or another route. The table
:data:`FLOWS` maps a class to the function that reads its route; a
subclass uses its nearest registered base. A module with children whose
class is not in the table cannot be exported, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from nndl.models.blocks import Chain
from nndl.models.densenet import DenseLayer
from nndl.models.googlenet import Inception
from nndl.models.resnet import ResidualBlock
from nndl.nn.core.containers import Concat, Parallel, Residual
from nndl.nn.core.module import Module
from nndl.nn.core.sequential import Sequential


@dataclass(frozen=True)
class Steps:
    items: tuple


@dataclass(frozen=True)
class Sum:
    items: tuple


@dataclass(frozen=True)
class Join:
    items: tuple
    axis: int = 1


@dataclass(frozen=True)
class Heads:
    items: tuple
    named: bool = False  # a dict out, keyed by the items' names, rather than a tuple


IDENTITY = Steps(())


class FlowError(TypeError):
    """A module whose data flow cannot be read from its structure."""


def _names(owner: Module, children) -> tuple[str, ...]:
    """The names under which ``owner`` holds ``children`` (the objects its methods return)."""
    by_id = {id(child): name for name, child in owner._modules.items()}
    missing = [type(c).__name__ for c in children if id(c) not in by_id]
    if missing:
        raise FlowError(f"{owner.describe()}: runs modules it does not hold as children ({', '.join(missing)})")
    return tuple(by_id[id(child)] for child in children)


def _residual_block(block: ResidualBlock) -> Steps:
    shortcut = IDENTITY if block.downsample is None else "downsample"
    return Steps((Sum((Steps(_names(block, block.residual())), shortcut)), "relu_out"))


FLOWS = {
    Sequential: lambda m: Steps(tuple(m._modules)),
    Chain: lambda m: Steps(_names(m, m.layers())),
    Residual: lambda m: Sum(("block", IDENTITY if m.shortcut is None else "shortcut")),
    Concat: lambda m: Join(tuple(m._modules), m.axis),
    Parallel: lambda m: Heads(tuple(m._modules), bool(getattr(m, "returns_dict", False))),
    ResidualBlock: _residual_block,
    Inception: lambda m: Join(_names(m, m.branches())),
    DenseLayer: lambda m: Join((IDENTITY, Steps(_names(m, m.new_features())))),
}
"""Route readers by class; containers first, then the zoo's blocks."""


def data_flow(module: Module, path: str = ""):
    """The route of ``module`` through its direct children, or None for a leaf (a module without children).

    Raises
    ------
    FlowError
        If ``module`` has children but its class (and every base) is not in :data:`FLOWS`.
    """
    if not module._modules:
        return None
    for cls in type(module).__mro__:
        if cls in FLOWS:
            return FLOWS[cls](module)
    where = f"'{path}' " if path else ""
    raise FlowError(f"{where}{type(module).__name__}: its data flow is not known (it has children but is not a "
                    f"Sequential, Residual, Concat, Parallel or zoo block); add its class to nndl.io.flow.FLOWS")


def child_names(route) -> list[str]:
    """Every child name a route uses, in order of first use."""
    found: list[str] = []
    stack = [route]
    while stack:
        item = stack.pop(0)
        if isinstance(item, str):
            if item not in found:
                found.append(item)
        else:
            stack[:0] = list(item.items)
    return found

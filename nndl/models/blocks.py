"""``GraphBlock``: named children (torchvision's state-dict keys) wired by a graph of nndl containers."""

from __future__ import annotations

from nndl.nn.core.module import Module


class GraphBlock(Module):
    """A module whose children carry their published names while nndl containers do the wiring.

    torchvision names the layers of a ResNet block ``conv1, bn1, conv2, bn2,
    downsample`` and writes the skip connection in ``forward``;
    ``Residual(block, shortcut)`` would name them ``block.*`` and
    ``shortcut.*``. A ``GraphBlock`` has both: a subclass registers its layers
    as children under the published names, then builds the computation from
    those same layer objects with ``Sequential``/``Residual``/``Concat`` and
    passes it to :meth:`_set_graph`. The graph is *not* registered as a
    child, so state-dict keys are the published ones and every parameter
    appears once; ``forward``, ``backward`` and ``output_shape`` run the
    graph, so the backpropagation rules are the containers' own (sum of
    gradients where a tensor feeds two branches, split at a concatenation).

    ``dataflow()`` returns the graph: ``nndl.summary`` walks it to follow the
    data, and names each layer by its registered path.
    """

    def _set_graph(self, graph: Module) -> None:
        object.__setattr__(self, "_graph", graph)  # deliberately not a registered child

    def dataflow(self) -> Module:
        """The container tree that computes this module (its leaves are this module's children)."""
        graph = self.__dict__.get("_graph")
        if graph is None:
            raise RuntimeError(f"{type(self).__name__}: the subclass did not call _set_graph")
        return graph

    def forward(self, x):
        return self.dataflow()(x)

    def backward(self, dout):
        return self.dataflow().backward(dout)

    def output_shape(self, input_shape):
        return self.dataflow().output_shape(tuple(input_shape))

"""Registry of benchmark workloads: name -> factory(seed, sides) returning an object with
``check() -> (nndl_loss, torch_loss)`` and ``tasks() -> list[harness.Task]``."""

from workloads.mlp import MLPWorkload

WORKLOADS = {
    "mlp": MLPWorkload,
}

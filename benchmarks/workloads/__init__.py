"""Registry of benchmark workloads: name -> factory(seed, sides) returning an object with
``check() -> (nndl_loss, torch_loss)`` and ``tasks() -> list[harness.Task]``."""

from workloads.cnn import CifarWorkload, LeNetWorkload
from workloads.mlp import MLPWorkload

WORKLOADS = {
    "mlp": MLPWorkload,
    "lenet": LeNetWorkload,
    "cifar": CifarWorkload,
}

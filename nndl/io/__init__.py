"""Checkpoints in safetensors format (never pickle)."""

from nndl.io.checkpoint import Checkpoint, CheckpointError, load, read_metadata, save

__all__ = ["Checkpoint", "CheckpointError", "load", "read_metadata", "save"]

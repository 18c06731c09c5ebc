"""Checkpoints in safetensors format (never pickle): data only, checked before anything is allocated."""

from nndl.io.checkpoint import Checkpoint, CheckpointError, load, read_metadata, save

__all__ = ["Checkpoint", "CheckpointError", "load", "read_metadata", "save"]

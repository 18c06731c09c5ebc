"""Checkpoints in safetensors format (never pickle): data only, checked before anything is allocated.

Interoperability (torch and onnx are optional extras, imported when used):
plain state-dict files, nndl <-> torch modules, ONNX export and import.
"""

from nndl.io.checkpoint import Checkpoint, CheckpointError, load, read_metadata, save
from nndl.io.onnx_export import export_onnx
from nndl.io.onnx_import import import_onnx
from nndl.io.state_dict_file import checkpoint_state_dict, load_state_dict, save_state_dict
from nndl.io.torch_interop import from_torch, to_torch

__all__ = ["Checkpoint", "CheckpointError", "load", "read_metadata", "save", "checkpoint_state_dict",
           "export_onnx", "from_torch", "import_onnx", "load_state_dict", "save_state_dict", "to_torch"]

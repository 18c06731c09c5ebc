"""``nndl export CHECKPOINT OUT.onnx|OUT.safetensors``: a checkpoint's model for other tools.

- ``OUT.safetensors``: the model's tensors only, under torch's keys (the
  optimizer's ``optimizer::`` tensors and the metadata left out), for
  ``torch_module.load_state_dict(safetensors.torch.load_file(OUT), strict=True)``;
- ``OUT.onnx``: the model as an ONNX graph (evaluation mode, dynamic batch),
  for inputs of one sample's shape ``--input-shape`` (e.g. ``1,8,8`` for the
  bundled digits).
"""

from __future__ import annotations

from rich.console import Console


def add_parser(commands) -> None:
    """Register ``nndl export`` on ``commands`` (an argparse subparsers object)."""
    export = commands.add_parser(
        "export", help="write a checkpoint's model as ONNX (.onnx) or as a plain torch state dict (.safetensors)")
    export.add_argument("checkpoint")
    export.add_argument("output", help="OUT.onnx or OUT.safetensors")
    export.add_argument("--input-shape", dest="input_shape",
                        help="one sample's shape, without the batch axis, e.g. 3,32,32 (required for .onnx)")
    export.add_argument("--opset", type=int, default=17, help="ONNX operator set (default 17)")


def _sample_shape(text: str | None) -> tuple[int, ...]:
    if text is None:
        raise ValueError("--input-shape is required for an ONNX export (one sample's shape, e.g. 1,8,8)")
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--input-shape: expected integers separated by commas (e.g. 3,32,32), got {text!r}") \
            from None
    if min(shape) < 1:
        raise ValueError(f"--input-shape: expected positive sizes, got {text!r}")
    return shape


def run_export(args, console: Console) -> int:
    """Write ``args.output`` from ``args.checkpoint``; 0 on success."""
    from nndl import io

    output = str(args.output)
    if output.endswith(".safetensors"):
        keys = io.checkpoint_state_dict(args.checkpoint, output)
        console.print(f"wrote {output}: {len(keys)} model tensors (torch's keys; optimizer state left out)",
                      highlight=False, soft_wrap=True, markup=False)
        return 0
    if not output.endswith(".onnx"):
        raise ValueError(f"{output}: the output must end in .onnx or .safetensors")
    shape = (1,) + _sample_shape(args.input_shape)
    io.export_onnx(io.load(args.checkpoint).model, output, shape, opset=args.opset, dynamic_batch=True)
    console.print(f"wrote {output}: ONNX opset {args.opset}, input (batch, {', '.join(map(str, shape[1:]))})",
                  highlight=False, soft_wrap=True, markup=False)
    return 0

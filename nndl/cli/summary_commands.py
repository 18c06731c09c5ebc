"""``nndl summary`` (a model's layer table) and ``nndl explain`` (the layer-size calculator)."""

from __future__ import annotations

import os

from rich.console import Console

EXPLAIN_KINDS = ("conv", "pool", "deconv", "linear")


def parse_shape(text: str, option: str = "--input") -> tuple[int, ...]:
    """``'3x32x32'`` (or ``'3,32,32'``, ``'400'``) -> ``(3, 32, 32)``."""
    parts = text.lower().replace("×", "x").replace(",", "x").split("x")
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"{option}: expected sizes like 3x32x32, got '{text}'") from None
    if not shape or min(shape) < 1:
        raise ValueError(f"{option}: sizes must be positive, got '{text}'")
    return shape


def add_parsers(commands) -> None:
    """Register the ``summary`` and ``explain`` subcommands on ``commands`` (an argparse subparsers object)."""
    summary = commands.add_parser("summary", help="layer table of a zoo model, a training config or a checkpoint")
    summary.add_argument("model", help="a zoo model name (e.g. resnet18), a TOML training config or a checkpoint")
    summary.add_argument("--input", help="one sample's shape, e.g. 3x32x32 (default: the zoo model's own, the "
                                         "config's data, required for a checkpoint)")
    summary.add_argument("--batch-size", dest="batch_size", type=int, default=1,
                         help="batch size of the memory estimate (default 1)")
    summary.add_argument("--depth", type=int, help="deepest nesting level shown (default: all)")
    summary.add_argument("--num-classes", dest="num_classes", type=int, help="classes of a zoo model")
    summary.add_argument("--notes", action="store_true",
                         help="the notes' table form: Activation Shape, Activation Size, # Parameters")

    explain = commands.add_parser("explain", help="output size and parameters of one layer, formulas worked out")
    explain.add_argument("layer", choices=EXPLAIN_KINDS, help="conv, pool, deconv (transposed conv) or linear")
    explain.add_argument("--input", required=True,
                         help="one sample's shape C x H x W, the tensors' order as in every nndl command (e.g. "
                              "3x32x32; the output also shows the notes' H x W x C); for linear the number of "
                              "inputs, or a shape that is flattened")
    explain.add_argument("--filters", type=int, help="number of filters K (conv, deconv)")
    explain.add_argument("--kernel", type=int, help="filter size F")
    explain.add_argument("--stride", type=int, help="stride S (default 1; pooling: the kernel size)")
    explain.add_argument("--padding", type=int, default=0, help="zero padding P (default 0)")
    explain.add_argument("--dilation", type=int, default=1, help="dilation D of a conv (default 1)")
    explain.add_argument("--output-padding", dest="output_padding", type=int, default=0,
                         help="extra rows/columns of a deconv (default 0)")
    explain.add_argument("--out-features", "--units", dest="out_features", type=int,
                         help="outputs of a linear layer")


def _load_model(source: str, num_classes: int | None):
    """The model named by ``source`` and the input shape it implies (or None)."""
    from nndl.models import MODEL_ZOO, ZOO_INPUT_SHAPES

    if source in MODEL_ZOO:
        kwargs = {} if num_classes is None else {"num_classes": num_classes}
        # Zero weights allocate lazily: a summary of VGG-16 never touches its 550 MB.
        return MODEL_ZOO[source](init="zeros", **kwargs), ZOO_INPUT_SHAPES[source]
    if source.endswith(".toml"):
        from nndl.cli.commands import build_run
        from nndl.cli.config import load_config

        (x_train, *_), model, *_ = build_run(load_config(source))
        return model, tuple(x_train.shape[1:])
    if os.path.exists(source):
        from nndl import io

        return io.load(source).model, None
    raise ValueError(f"nndl summary: '{source}' is not a zoo model, a .toml config or an existing checkpoint; "
                     f"zoo models: {', '.join(MODEL_ZOO)}")


def run_summary(args, console: Console) -> None:
    from nndl.summary import summary

    model, default_shape = _load_model(args.model, args.num_classes)
    shape = parse_shape(args.input) if args.input else default_shape
    if shape is None:
        raise ValueError(f"nndl summary {args.model}: give the input shape of one sample, e.g. --input 3x32x32")
    result = summary(model, shape, batch_size=args.batch_size, depth=args.depth)
    console.print(result.render("notes" if args.notes else "layers"), markup=False, highlight=False,
                  soft_wrap=True)


def _need(args, *names) -> None:
    missing = [f"--{name.replace('_', '-')}" for name in names if getattr(args, name) is None]
    if missing:
        raise ValueError(f"nndl explain {args.layer}: needs {', '.join(missing)}")


def run_explain(args, console: Console) -> int:
    """Print the worked formulas; return 1 when the layer does not fit at all, else 0."""
    from nndl.summary import explain_conv, explain_deconv, explain_linear, explain_pool

    if args.layer == "linear":
        _need(args, "out_features")
        result = explain_linear(parse_shape(args.input)[0] if "x" not in args.input else _flat(args.input),
                                args.out_features)
    else:
        chw = parse_shape(args.input)
        if len(chw) != 3:
            raise ValueError(f"nndl explain {args.layer}: --input must be C x H x W, e.g. 3x32x32, got '{args.input}'")
        shape = (chw[1], chw[2], chw[0])  # the calculator works in the notes' H x W x C
        console.print(f"--input {'x'.join(map(str, chw))} read as C×H×W = {chw[0]}×{chw[1]}×{chw[2]} "
                      f"(the notes write H×W×C = {shape[0]}×{shape[1]}×{shape[2]})", markup=False, highlight=False,
                      soft_wrap=True)
        if args.layer == "conv":
            _need(args, "filters", "kernel")
            result = explain_conv(shape, args.filters, args.kernel, 1 if args.stride is None else args.stride,
                                  args.padding, args.dilation)
        elif args.layer == "pool":
            _need(args, "kernel")
            result = explain_pool(shape, args.kernel, args.stride, args.padding)
        else:
            _need(args, "filters", "kernel")
            result = explain_deconv(shape, args.filters, args.kernel, 1 if args.stride is None else args.stride,
                                    args.padding, args.output_padding)
    console.print(str(result), markup=False, highlight=False, soft_wrap=True)
    return 0 if result.output_shape is not None else 1


def _flat(text: str) -> int:
    """A linear layer after a flatten: ``16x5x5`` means 400 inputs."""
    size = 1
    for value in parse_shape(text):
        size *= value
    return size

"""Inside a network: first-layer filters, feature maps of one input, activation and gradient histograms by depth."""

from __future__ import annotations

import math

import numpy as np

from nndl.plot._figure import new_figure, one_panel


def _normalized(tile: np.ndarray) -> np.ndarray:
    low, high = float(tile.min()), float(tile.max())
    return (tile - low) / (high - low) if high > low else np.zeros_like(tile, dtype=np.float64)


def _mosaic(tiles: list[np.ndarray], columns: int | None = None) -> np.ndarray:
    """Tiles (H, W) or (H, W, 3), each scaled to [0, 1], in a grid with 1-pixel white gaps."""
    count = len(tiles)
    columns = columns or int(math.ceil(math.sqrt(count)))
    rows = int(math.ceil(count / columns))
    height, width = tiles[0].shape[:2]
    shape = (rows * (height + 1) - 1, columns * (width + 1) - 1) + tiles[0].shape[2:]
    canvas = np.ones(shape)
    for index, tile in enumerate(tiles):
        r, c = divmod(index, columns)
        canvas[r * (height + 1):r * (height + 1) + height, c * (width + 1):c * (width + 1) + width] = _normalized(tile)
    return canvas


def filters(layer, max_filters: int = 64, image_shape=None, ax=None):
    """The learned filters of a first layer as small images (the notes' Gabor-like pictures).

    Parameters
    ----------
    layer : Module with a ``weight``
        A convolution (weight ``(C_out, C_in, kH, kW)``: RGB when ``C_in = 3``,
        else the first input channel), or a Linear layer whose rows are
        images of ``image_shape`` (the linear classifier's templates).
    max_filters : int
    image_shape : (H, W) or (C, H, W), optional
        For a Linear layer.
    ax : Axes, optional

    Returns
    -------
    Figure
        One Axes with the filters tiled, each scaled to [0, 1] on its own.
    """
    weight = getattr(getattr(layer, "weight", None), "data", None)
    if not isinstance(weight, np.ndarray):
        raise TypeError(f"filters: {type(layer).__name__} has no weight to show")
    weight = weight[:max_filters].astype(np.float64)
    if weight.ndim == 2:
        if image_shape is None:
            side = int(round(math.sqrt(weight.shape[1])))
            if side * side != weight.shape[1]:
                raise ValueError(f"filters: give image_shape for a Linear layer with {weight.shape[1]} inputs")
            image_shape = (side, side)
        weight = weight.reshape((len(weight),) + (tuple(image_shape) if len(image_shape) == 3
                                                  else (1,) + tuple(image_shape)))
    if weight.ndim != 4:
        raise ValueError(f"filters: expected a 4-D convolution weight, got shape {weight.shape}")
    rgb = weight.shape[1] == 3
    tiles = [np.transpose(w, (1, 2, 0)) if rgb else w[0] for w in weight]
    figure, ax = one_panel(ax)
    ax.imshow(_mosaic(tiles), cmap=None if rgb else "gray", interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"{len(tiles)} filters of {type(layer).__name__} {tuple(getattr(layer, 'weight').data.shape)}")
    return figure


def _leaf_modules(model):
    from nndl.doctor.probe import is_leaf

    return [(name, m) for name, m in model.named_modules() if is_leaf(m)]


def feature_maps(model, x, layers=None, max_maps: int = 16):
    """The feature maps every convolutional stage produces for one input image.

    Parameters
    ----------
    model : Module
    x : ndarray, shape (C, H, W) or (1, C, H, W)
    layers : sequence of str, optional
        Dotted names of the modules to show; by default every leaf module
        with a 4-D output, up to 8 of them spread over the depth.
    max_maps : int
        Channels shown per layer.

    Returns
    -------
    Figure
        One Axes per layer, its maps tiled. The model runs in evaluation
        mode; its modes are restored.
    """
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or len(x) != 1:
        raise ValueError(f"feature_maps: expected one image (C, H, W) or (1, C, H, W), got shape {x.shape}")
    captured = {}
    named = dict(_leaf_modules(model))
    wanted = list(layers) if layers is not None else None
    if wanted is not None:
        unknown = [n for n in wanted if n not in dict(model.named_modules())]
        if unknown:
            raise ValueError(f"feature_maps: no module named {', '.join(unknown)} in {type(model).__name__}")
        named = {n: m for n, m in model.named_modules() if n in wanted}
    handles = [m.register_forward_hook(lambda m, i, out, n=n: captured.__setitem__(n, out))
               for n, m in named.items()]
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        model(x.astype(model.dtype))
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes:
            module.training = mode
    maps = [(n, v) for n, v in captured.items() if isinstance(v, np.ndarray) and v.ndim == 4]
    if wanted is None and len(maps) > 8:
        maps = [maps[i] for i in np.unique(np.linspace(0, len(maps) - 1, 8).round().astype(int))]
    if not maps:
        raise ValueError("feature_maps: no chosen layer produces 4-D feature maps")
    columns = min(len(maps), 4)
    figure, axes = new_figure(int(math.ceil(len(maps) / columns)), columns, figsize=(3.2 * columns, 3.2 * math.ceil(len(maps) / columns)))
    flat = axes.reshape(-1)
    for ax, (name, value) in zip(flat, maps):
        ax.imshow(_mosaic(list(value[0, :max_maps].astype(np.float64))), cmap="viridis", interpolation="nearest")
        ax.set_title(f"{name} ({type(dict(model.named_modules())[name]).__name__}, {value.shape[1]} maps)",
                     fontsize=8)
        ax.set_axis_off()
    for ax in flat[len(maps):]:
        figure.delaxes(ax)
    return figure


def _chosen_layers(model, max_layers: int) -> list[str]:
    from nndl.doctor.facts import activation_facts
    from nndl.doctor.probe import has_own_parameters

    leaves = _leaf_modules(model)
    names = [n for n, m in leaves if activation_facts(m) is not None] or \
            [n for n, m in leaves if has_own_parameters(m)] or [n for n, _ in leaves]
    if len(names) > max_layers:
        names = [names[i] for i in np.unique(np.linspace(0, len(names) - 1, max_layers).round().astype(int))]
    return names


def _measure(model, x, y, loss_fn, names, rng):
    """Activations and backpropagated gradients of the named layers for one batch; the model is restored."""
    from nndl.doctor.snapshot import Snapshot
    from nndl.nn.core.hooks import backward as backward_entry

    activations, gradients = {}, {}
    modules = dict(model.named_modules())
    with Snapshot(model, others=(loss_fn,)):
        model.train()
        handles = []
        for name in names:
            handles.append(modules[name].register_forward_hook(
                lambda m, i, out, n=name: activations.__setitem__(n, np.asarray(out, dtype=np.float64).ravel())))
            handles.append(modules[name].register_full_backward_hook(
                lambda m, gi, go, n=name: gradients.__setitem__(n, np.asarray(go[0], dtype=np.float64).ravel())))
        try:
            scores = model(x)
            if y is not None:
                if loss_fn is None:
                    from nndl.nn import SoftmaxCrossEntropy
                    loss_fn = SoftmaxCrossEntropy()
                loss_fn(scores, y)
                delta = loss_fn.backward()
            else:  # no labels: a unit-variance signal from the top, as in the notes' experiment
                delta = rng.standard_normal(scores.shape).astype(scores.dtype)
            backward_entry(model, delta, need_input_grad=False)
        finally:
            for handle in handles:
                handle.remove()
    return activations, gradients


def histograms(monitor_or_model, x=None, y=None, loss_fn=None, max_layers: int = 8, bins: int = 50, rng=0):
    """Histograms of activations (top row) and backpropagated gradients (bottom row), layer by layer in depth.

    Parameters
    ----------
    monitor_or_model : Monitor or Module
        A ``Monitor`` after training (the values it sampled from its last
        measured batch), or a network run here on ``x``.
    x : ndarray, optional
        A batch, for a network.
    y : ndarray, optional
        Its labels: gradients of ``loss_fn`` (softmax cross-entropy by
        default); without them a standard-normal δ is sent from the output.
    loss_fn : Loss, optional
    max_layers : int
        Layers shown (activation layers first, else layers with parameters), spread over the depth.
    bins : int
    rng : Generator, int or None
        For the random δ.

    Returns
    -------
    Figure
        ``2 × L`` Axes. A network is restored exactly (weights, ``.grad``, statistics, generators).
    """
    from nndl.doctor.monitor import Monitor
    from nndl.random import as_generator

    if isinstance(monitor_or_model, Monitor):
        activations, gradients = monitor_or_model.activations, monitor_or_model.gradients
        names = [n for n in activations if n in gradients] or list(activations)
        types = monitor_or_model.layer_types
        names = [n for n in names if n in monitor_or_model.activation_layers] or names
        if len(names) > max_layers:
            names = [names[i] for i in np.unique(np.linspace(0, len(names) - 1, max_layers).round().astype(int))]
    else:
        if x is None:
            raise ValueError("histograms: give a batch x to run the network on")
        names = _chosen_layers(monitor_or_model, max_layers)
        activations, gradients = _measure(monitor_or_model, x, y, loss_fn, names, as_generator(rng))
        types = {n: type(m).__name__ for n, m in monitor_or_model.named_modules()}
    if not names:
        raise ValueError("histograms: nothing was recorded")
    figure, axes = new_figure(2, len(names), figsize=(2.4 * len(names) + 0.8, 4.8))
    for column, name in enumerate(names):
        for row, (values, what, color) in enumerate(((activations.get(name), "activation", "C0"),
                                                     (gradients.get(name), "gradient", "C1"))):
            ax = axes[row, column]
            if values is not None and len(values):
                values = np.asarray(values, dtype=np.float64)
                values = values[np.isfinite(values)]
                ax.hist(values, bins=bins, color=color)
                ax.set_xlabel(f"std {values.std():.2g}", fontsize=7)
            ax.tick_params(labelsize=6)
            ax.set_title(f"{name} {types.get(name, '')}\n{what}" if row == 0 else what, fontsize=8)
            ax.set_yticks([])
    return figure

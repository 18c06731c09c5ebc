"""Every plot renders headless to a PNG with the expected number of axes and drawn (non-blank) pixels."""

import io

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="nndl.plot needs matplotlib (the plot extra)")

from matplotlib.image import imread  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nndl import nn, optim, plot  # noqa: E402
from nndl.classic import KNeighborsClassifier  # noqa: E402
from nndl.data.digits import load_digits  # noqa: E402
from nndl.doctor import Monitor, lr_find  # noqa: E402
from nndl.train import Trainer  # noqa: E402

from tests.doctor.nets import he_mlp  # noqa: E402
from tests.doctor.state import assert_same, capture  # noqa: E402


def rendered(figure, axes_count):
    """Render to PNG, check the axes count and that a good part of the image is drawn (not background)."""
    assert isinstance(figure, Figure)
    assert len(figure.axes) == axes_count, [a.get_title() for a in figure.axes]
    png = plot.to_png(figure, dpi=60)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(io.BytesIO(png))[..., :3]
    drawn = np.mean(np.any(np.abs(pixels - 1.0) > 0.05, axis=-1))  # not white
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert drawn > 0.02, f"only {drawn:.3f} of the pixels are drawn"
    return pixels


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(flatten=True)
    return x[:300], y[:300]


@pytest.fixture(scope="module")
def trained(digits):
    x, y = digits
    model = he_mlp(0)
    monitor = Monitor(every=1)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
                      callbacks=[monitor])
    history = trainer.fit(x, y, epochs=3, batch_size=32, validation_split=0.2, rng=0, verbose=0)
    return model, monitor, history


def test_learning_curves(trained):
    _, _, history = trained
    # loss, accuracy, lr: one panel each, train and validation together
    figure = plot.learning_curves(history)
    rendered(figure, 3)
    assert [a.get_title() for a in figure.axes] == ["loss", "accuracy", "lr"]
    assert len(figure.axes[0].get_lines()) == 2 and len(figure.axes[2].get_lines()) == 1
    rendered(plot.learning_curves(history.history, keys=["loss"]), 1)


def test_confusion_matrix_counts():
    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0, 2])
    figure = plot.confusion_matrix(y_true, y_pred, labels=["a", "b", "c"])
    rendered(figure, 2)  # the matrix and its colour bar
    image = figure.axes[0].get_images()[0].get_array()
    np.testing.assert_array_equal(image, [[1, 1, 0], [0, 2, 0], [1, 0, 2]])
    normalized = plot.confusion_matrix(y_true, y_pred, normalize=True).axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(normalized.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="integer class labels"):
        plot.confusion_matrix(np.array([0.5]), np.array([1]))


def test_filters_of_a_conv_and_of_a_linear_layer():
    conv = nn.Conv2d(3, 10, 5, rng=0)
    figure = plot.filters(conv)
    rendered(figure, 1)
    mosaic = figure.axes[0].get_images()[0].get_array()
    assert mosaic.shape == (3 * 6 - 1, 4 * 6 - 1, 3)  # ceil(sqrt(10)) = 4 columns, 3 rows of 5x5 RGB tiles
    rendered(plot.filters(nn.Linear(64, 10, rng=0)), 1)  # 8x8 templates
    with pytest.raises(ValueError, match="image_shape"):
        plot.filters(nn.Linear(10, 3))


def test_feature_maps_restore_modes():
    x, _ = load_digits()
    model = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(96, 10, rng=0))
    figure = plot.feature_maps(model, x[0])
    rendered(figure, 3)  # conv, relu, pool: the 4-D outputs
    assert model.training
    rendered(plot.feature_maps(model, x[:1], layers=["1"]), 1)
    with pytest.raises(ValueError, match="no module named"):
        plot.feature_maps(model, x[0], layers=["9"])


def test_histograms_from_a_model_and_a_monitor(trained, digits):
    model, monitor, _ = trained
    x, y = digits
    before = capture(model)
    figure = plot.histograms(model, x[:64], y[:64])
    assert_same(before, capture(model))
    rendered(figure, 4)  # two ReLU layers x (activations, gradients)
    rendered(plot.histograms(model, x[:64]), 4)  # random δ from the top
    rendered(plot.histograms(monitor), 4)


def test_init_experiment_shows_the_notes_result():
    figure = plot.init_experiment(depth=6, width=100, samples=200)
    rendered(figure, 2)
    tanh_lines = {line.get_label(): line.get_ydata() for line in figure.axes[0].get_lines()}
    relu_lines = {line.get_label(): line.get_ydata() for line in figure.axes[1].get_lines()}
    assert tanh_lines["too small (0.01)"][-1] < 1e-5  # collapses by 0.01·√100 = 0.1 a layer
    assert tanh_lines["too large (1.0)"][-1] > 0.9  # saturated at ±1
    assert relu_lines["He (√(2/fan_in))"][-1] == pytest.approx(relu_lines["He (√(2/fan_in))"][0], rel=0.5)
    assert relu_lines["Xavier (1/√fan_in)"][-1] < 0.3 * relu_lines["Xavier (1/√fan_in)"][0]  # halves per layer


def test_optimizer_trajectories_every_optimizer():
    figure = plot.optimizer_trajectories(steps=60)
    rendered(figure, 3)
    labels = [line.get_label() for line in figure.axes[0].get_lines() if not line.get_label().startswith("_")]
    assert {"SGD", "SGD momentum", "Adagrad", "RMSprop", "Adam", "AdamW"} <= set(labels)
    quadratic = plot.SURFACES["ill-conditioned quadratic"]
    from nndl.plot.trajectories import default_optimizers, trajectory
    path = trajectory(default_optimizers()["SGD momentum"], quadratic, 200)
    assert quadratic.f(path[-1]) < 1e-3 * quadratic.f(path[0])  # momentum gets down the ravine


def test_decision_boundary_network_and_classical():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-1, 0.5, (50, 2)), rng.normal(1, 0.5, (50, 2))]).astype(np.float32)
    y = np.repeat([0, 1], 50)
    rendered(plot.decision_boundary(KNeighborsClassifier(n_neighbors=3).fit(x, y), x, y), 1)
    net = nn.Sequential(nn.Linear(2, 16, rng=0), nn.ReLU(), nn.Linear(16, 2, rng=0))
    Trainer(net, nn.SoftmaxCrossEntropy(), optim.Adam(net.parameters(), lr=0.05)).fit(x, y, epochs=20, verbose=0, rng=0)
    figure = plot.decision_boundary(net, x, y, resolution=50)
    rendered(figure, 1)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plot.decision_boundary(net, np.zeros((3, 3)), np.zeros(3))


def test_knn_cv_curve(digits):
    x, y = digits
    figure = plot.knn_cv_curve(x, y, [1, 3, 5, 9])
    rendered(figure, 1)
    errorbar_x = figure.axes[0].get_lines()[0].get_xdata()
    np.testing.assert_array_equal(errorbar_x, [1, 3, 5, 9])


def test_lr_finder_plot(digits):
    x, y = digits
    model = he_mlp(0)
    result = lr_find(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters(), lr=0.1), x, y, steps=40)
    rendered(plot.lr_finder(result), 1)
    figure = plot.new_figure(1, 2)[0]
    assert plot.lr_finder(result, ax=figure.axes[1]) is figure  # draws into the given Axes


def test_loss_landscape_restores_the_model(trained, digits):
    model, _, _ = trained
    x, y = digits
    before = capture(model)
    figure = plot.loss_landscape(model, nn.SoftmaxCrossEntropy(), x[:100], y[:100], steps=7)
    assert_same(before, capture(model))
    rendered(figure, 2)  # the slice and its colour bar
    from nndl.plot.landscape import loss_surface
    alphas, _, losses = loss_surface(model, nn.SoftmaxCrossEntropy(), x[:100], y[:100], steps=7)
    model.eval()
    center = nn.SoftmaxCrossEntropy()(model(x[:100]), y[:100])
    model.train()
    assert losses[3, 3] == pytest.approx(center, rel=1e-6)  # the middle of the grid is the model itself
    assert losses[3, 3] < losses[0, 0] and losses[3, 3] < losses[-1, -1]

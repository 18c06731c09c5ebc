"""nndl.summary: the notes' table, per-layer formulas, containers, totals, errors."""

from collections import OrderedDict
from fractions import Fraction

import numpy as np
import pytest

import nndl
from nndl import nn
from nndl.nn.core.parameter import Parameter
from nndl.summary import Summary, SummaryError, summary


def notes_cnn():
    """The network of "Deep Learning" (Wenxiao Yang) §3.5.

    CONV1 f=5 ×8, POOL1, CONV2 f=5 ×16, POOL2, FC3, FC4, softmax.
    """
    return nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(3, 8, 5), relu1=nn.ReLU(), pool1=nn.MaxPool2d(2),
        conv2=nn.Conv2d(8, 16, 5), relu2=nn.ReLU(), pool2=nn.MaxPool2d(2), flatten=nn.Flatten(),
        fc3=nn.Linear(400, 120), relu3=nn.ReLU(), fc4=nn.Linear(120, 84), relu4=nn.ReLU(),
        fc5=nn.Linear(84, 10), softmax=nn.Softmax(axis=1)))


# The table of §3.5, row by row: (Activation Shape, Activation Size, # Parameters).
NOTES_TABLE = [
    ((32, 32, 3), 3072, 0),      # Input Layer
    ((28, 28, 8), 6272, 608),    # CONV1 (f=5, s=1): (5·5·3 + 1)·8
    ((14, 14, 8), 1568, 0),      # POOL1
    ((10, 10, 16), 1600, 3216),  # CONV2 (f=5, s=1): (5·5·8 + 1)·16
    ((5, 5, 16), 400, 0),        # POOL2
    ((120, 1), 120, 48120),      # FC3: 120·400 + 120
    ((84, 1), 84, 10164),        # FC4: 84·120 + 84
    ((10, 1), 10, 850),          # Softmax: 10·84 + 10
]


def test_notes_table_row_by_row():
    rows = summary(notes_cnn(), (3, 32, 32)).notes_rows()
    assert [(r["activation_shape"], r["activation_size"], r["parameters"]) for r in rows] == NOTES_TABLE
    assert [r["layer"] for r in rows] == ["input", "conv1 + relu1", "pool1", "conv2 + relu2", "pool2 + flatten",
                                          "fc3 + relu3", "fc4 + relu4", "fc5 + softmax"]
    assert rows[1]["type"] == "Conv2d (f=5, s=1)"


def test_layer_rows_shapes_params_macs_and_totals():
    result = summary(notes_cnn(), (3, 32, 32), batch_size=4)
    conv1, conv2, fc3 = (next(r for r in result.rows if r.name == n) for n in ("conv1", "conv2", "fc3"))
    assert conv1.output_shape == (4, 8, 28, 28) and conv1.activation_size == 6272
    # MACs per sample: F·H_out·W_out·C_in·k·k, and n_in·n_out.
    assert conv1.macs == 8 * 28 * 28 * 3 * 25 == 470_400
    assert conv2.macs == 16 * 10 * 10 * 8 * 25 == 320_000
    assert fc3.macs == 400 * 120
    assert result.total_params == 608 + 3216 + 48120 + 10164 + 850 == 62_958
    assert result.total_macs == 470_400 + 320_000 + 48_000 + 10_080 + 840
    assert result.total_flops == 2 * result.total_macs
    assert result.output_shape == (4, 10)
    # Memory: float32, batch 4; activations kept forward and their gradients backward.
    leaf_elements = sum(r.activation_size for r in result.rows)
    assert result.activation_bytes == 2 * leaf_elements * 4 * 4
    assert result.input_bytes == 4 * 3 * 32 * 32 * 4
    assert result.param_bytes == 62_958 * 4 and result.gradient_bytes == 62_958 * 4


@pytest.mark.parametrize("layer, shape, macs, params", [
    (nn.Conv2d(4, 6, 3, padding=1, groups=2), (4, 5, 5), 6 * 5 * 5 * 2 * 9, 6 * 2 * 9 + 6),
    (nn.Conv2d(3, 5, 3, dilation=2, bias=False), (3, 9, 9), 5 * 5 * 5 * 3 * 9, 5 * 3 * 9),
    (nn.Conv2d(3, 4, (3, 1), stride=(2, 1)), (3, 7, 6), 4 * 3 * 6 * 3 * 3, 4 * 3 * 3 + 4),
    (nn.ConvTranspose2d(4, 2, 3, stride=2), (4, 5, 5), 4 * 5 * 5 * 2 * 9, 4 * 2 * 9 + 2),
    (nn.ConvTranspose2d(4, 6, 2, stride=2, groups=2, bias=False), (4, 3, 3), 4 * 3 * 3 * 3 * 4, 4 * 3 * 4),
    (nn.Linear(7, 3), (7,), 21, 24),
    (nn.BatchNorm2d(3), (3, 4, 4), 0, 6),
    (nn.Maxout(5, 3, pieces=2), (5,), 30, 2 * (15 + 3)),
])
def test_single_layer_formulas(layer, shape, macs, params):
    result = summary(layer, shape)
    (row,) = result.rows
    assert row.macs == macs and row.params == params
    assert row.output_shape == (1,) + tuple(layer.output_shape((1,) + shape)[1:])


def test_batchnorm_buffers_are_not_parameters_and_frozen_parameters_are_non_trainable():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    model[0].requires_grad_(False)
    result = summary(model, (3, 8, 8))
    assert result.total_params == (4 * 27 + 4) + 8 + (144 * 2 + 2)
    assert result.trainable_params == 8 + 290
    assert result.non_trainable_params == 112
    assert result.rows[0].trainable_params == 0
    assert "(frozen)" in str(result)
    # running_mean, running_var (float32) and num_batches_tracked (int64) are memory, not parameters
    assert result.param_bytes == result.total_params * 4 + 2 * 4 * 4 + 8


def test_shared_parameters_are_counted_once():
    first, second = nn.Linear(6, 6), nn.Linear(6, 6)
    second.weight = first.weight
    result = summary(nn.Sequential(first, nn.Tanh(), second), (6,))
    assert result.rows[2].params == 42 and result.rows[2].shared_params == 36
    assert result.total_params == 42 + 6
    assert result.notes_rows()[-1]["parameters"] == 6
    assert "shared" in str(result)


def test_containers_walk_branches_with_the_container_input():
    inception = nn.Concat(OrderedDict(
        a=nn.Conv2d(8, 4, 1), b=nn.Sequential(nn.Conv2d(8, 2, 1), nn.Conv2d(2, 6, 3, padding=1)),
        c=nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(8, 2, 1))))
    block = nn.Residual(nn.Sequential(nn.Conv2d(12, 12, 3, padding=1), nn.BatchNorm2d(12)))
    heads = nn.Parallel(nn.Linear(12 * 16, 3), nn.Linear(12 * 16, 1))
    model = nn.Sequential(OrderedDict(inception=inception, block=block, flat=nn.Flatten(), heads=heads))
    result = summary(model, (8, 4, 4))
    rows = {r.name: r for r in result.rows}
    assert rows["inception"].output_shape == (1, 12, 4, 4)
    assert rows["inception.b.1"].input_shape == (1, 2, 4, 4)
    assert rows["inception.c.0"].input_shape == (1, 8, 4, 4)
    assert rows["inception"].params == (8 * 4 + 4) + (8 * 2 + 2 + 2 * 6 * 9 + 6) + (8 * 2 + 2)
    assert rows["inception"].macs == sum(rows[n].macs for n in ("inception.a", "inception.b.0", "inception.b.1",
                                                                "inception.c.1"))
    assert rows["block.block.0"].input_shape == (1, 12, 4, 4)
    assert rows["heads"].output_shape == ((1, 3), (1, 1))
    assert rows["heads"].activation_size == 4
    assert [r.depth for r in result.rows[:3]] == [0, 1, 1]
    # receptive fields: the widest branch (3×3 conv after a 1×1), then the block's 3×3
    assert rows["inception"].receptive_field == (3, 3)
    assert rows["block"].receptive_field == (5, 5)
    assert result.total_params == model.num_parameters()


def test_receptive_field_recurrence_with_stride_dilation_and_upsampling():
    model = nn.Sequential(nn.Conv2d(1, 1, 3, stride=2), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3, dilation=2),
                          nn.Upsample(scale_factor=2), nn.ConvTranspose2d(1, 1, 3, stride=2))
    result = summary(model, (1, 64, 64))
    # r: 1 → 3 (j 2) → 3 + 1·2 = 5 (j 4) → 5 + 4·4 = 21 (j 4) → 21 (j 2) → 21 + (⌈3/2⌉ − 1)·2 = 23 (j 1)
    assert [r.receptive_field[0] for r in result.rows] == [3, 5, 21, 21, 23]
    assert [r.jump[0] for r in result.rows] == [2, 4, 4, 2, 1]
    assert isinstance(result.rows[-1].jump[0], Fraction)
    assert summary(nn.Linear(3, 2), (3,)).rows[0].receptive_field is None  # no spatial input


def rf_brute_force(model, input_size):
    """Receptive field size and jump of the centre output, from d(output)/d(input) through ``backward``."""
    model = model.to(np.float64)
    x = np.random.default_rng(0).standard_normal((1, model[0].in_channels, input_size, input_size))
    out = model(x)
    extents = []
    for offset in (0, 1):
        dout = np.zeros_like(out)
        centre = out.shape[2] // 2 + offset
        dout[:, :, centre, centre] = 1.0
        model.zero_grad()
        rows = np.nonzero(np.abs(model.backward(dout)).sum(axis=(0, 1, 3)))[0]
        extents.append((rows.min(), rows.max()))
    (first, last), (next_first, _) = extents
    return last - first + 1, next_first - first


def small_models():
    # Average pooling and tanh: every input of the window gets a non-zero gradient (a max pool would pick one).
    yield nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(2, 2, 3, dilation=2),
                        nn.AvgPool2d(3, stride=2), nn.Conv2d(2, 1, 5, stride=2))
    yield nn.Sequential(nn.Conv2d(1, 3, 3, padding=1),
                        nn.Concat(nn.Conv2d(3, 2, 1), nn.Sequential(nn.Conv2d(3, 2, 5, padding=2), nn.Tanh(),
                                                                    nn.Conv2d(2, 2, 3, padding=1))),
                        nn.AvgPool2d(2), nn.Conv2d(4, 2, 3, stride=2))
    yield nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.Residual(nn.Sequential(
        nn.Conv2d(4, 4, 3, padding=1), nn.Tanh(), nn.Conv2d(4, 4, 3, padding=1))), nn.Conv2d(4, 1, 3, stride=2))


@pytest.mark.parametrize("model", list(small_models()), ids=["chain", "concat", "residual"])
def test_receptive_field_matches_brute_force_gradient(model):
    row = summary(model, (1, 61, 61)).rows[-1]
    size, jump = rf_brute_force(model, 61)
    assert row.receptive_field == (size, size)
    assert row.jump == (jump, jump)


def test_bad_shape_stops_at_first_bad_layer_and_shows_rows_up_to_it():
    model = nn.Sequential(OrderedDict(conv1=nn.Conv2d(3, 8, 5), pool1=nn.MaxPool2d(2), flatten=nn.Flatten(),
                                      fc=nn.Linear(400, 10), out=nn.Linear(7, 2)))
    with pytest.raises(SummaryError) as info:
        summary(model, (3, 32, 32))
    error = info.value
    assert error.layer == "fc"
    assert [r.name for r in error.rows] == ["conv1", "pool1", "flatten", "fc"]
    assert error.rows[-1].output_shape is None and error.rows[-1].params == 4010
    message = str(error)
    assert "layer 'fc' Linear(in_features=400, out_features=10" in message
    assert "(1, 1568)" in message and "does not fit" in message and "pool1 (MaxPool2d)" in message
    assert isinstance(error, ValueError)


def test_residual_shape_mismatch_names_the_container():
    model = nn.Sequential(OrderedDict(stem=nn.Conv2d(3, 4, 3), skip=nn.Residual(nn.Conv2d(4, 8, 3, padding=1))))
    with pytest.raises(SummaryError, match=r"layer 'skip' Residual.*\(1, 8, 6, 6\).*\(1, 4, 6, 6\)") as info:
        summary(model, (3, 8, 8))
    assert [r.name for r in info.value.rows] == ["stem", "skip", "skip.block"]


def test_to_dict_to_rows_print_fn_and_package_entry_point():
    lines = []
    result = nndl.summary(notes_cnn(), (3, 32, 32), print_fn=lines.append, style="notes")
    assert isinstance(result, Summary)
    assert lines == result.render("notes").splitlines() and "SL.No" in lines[0]
    data = result.to_dict()
    assert data["total_params"] == 62_958 and data["total_flops"] == 2 * data["total_macs"]
    assert data["rows"] == result.to_rows() and data["rows"][0]["name"] == "conv1"
    assert data["rows"][0]["receptive_field"] == (5, 5) and data["rows"][2]["jump"] == (2, 2)
    with pytest.raises(ValueError, match="unknown style 'fancy'; valid: layers, notes"):
        result.render("fancy")


@pytest.mark.parametrize("shape, batch, message", [((3, 0, 4), 1, "positive ints"), ((), 1, "positive ints"),
                                                   ((3, 8, 8), 0, "batch_size")])
def test_bad_arguments(shape, batch, message):
    with pytest.raises(ValueError, match=message):
        summary(notes_cnn(), shape, batch_size=batch)


def test_opaque_module_with_children_is_one_row():
    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(3, 2)
            self.scale = Parameter(np.ones(2, dtype=np.float32))

        def output_shape(self, input_shape):
            return self.inner.output_shape(input_shape)

    result = summary(nn.Sequential(Wrapper(), nn.ReLU()), (3,))
    assert [r.name for r in result.rows] == ["0", "1"] and result.rows[0].params == 3 * 2 + 2 + 2
    # It declares no macs(): its cost is unknown (issue 10 changed this from a silent 0).
    assert result.rows[0].macs is None and result.unknown_mac_layers == ["0"] and result.total_params == 10


class Scale(nn.Module):
    """A user's layer that declares no facts: its MACs are unknown, never 0."""

    def forward(self, x):
        return 2 * x

    def output_shape(self, input_shape):
        return tuple(input_shape)


class Gated(nn.Module):
    """A user's container written with the shape entry: the summary follows its data flow like any zoo model's."""

    def __init__(self):
        super().__init__()
        self.value = nn.Conv2d(2, 3, 3, padding=1)
        self.gate = nn.Sequential(nn.Conv2d(2, 3, 1), nn.Sigmoid())

    def output_shape(self, input_shape):
        from nndl.nn.core.shapes import output_shape

        value = output_shape(self.value, input_shape)
        gate = output_shape(self.gate, input_shape)
        assert tuple(value) == tuple(gate)
        return tuple(value)  # a new shape: the two paths meet (value · gate)


def test_a_layer_that_declares_no_macs_is_unknown_in_rows_table_and_totals():
    model = nn.Sequential(OrderedDict(fc=nn.Linear(4, 3), block=nn.Sequential(Scale(), nn.Linear(3, 2)),
                                      out=Scale()))
    result = summary(model, (4,))
    rows = {r.name: r for r in result.rows}
    assert rows["block.0"].macs is None and rows["block.0"].unknown_macs == 1
    assert rows["block"].macs == 6 and rows["block"].unknown_macs == 1  # the known part, and how many are unknown
    assert result.total_macs == 12 + 6 and result.unknown_mac_layers == ["block.0", "out"]
    assert result.to_dict()["rows"][2]["macs"] is None
    text = str(result)
    line = next(line for line in text.splitlines() if line.lstrip().startswith("block.0 (Scale)"))
    assert line.split()[-3] == "?"  # MACs column, before RF and Jump
    assert "6 + ?" in next(line for line in text.splitlines() if line.startswith("block (Sequential)"))
    assert "excluding 2 layers of unknown cost" in text
    assert "MACs ? = unknown: block.0, out declare no macs()" in text
    assert Scale().macs((1, 4), (1, 4)) is None and Scale.train_eval_differs is None
    assert "unknown" not in str(summary(nn.Linear(4, 3), (4,)))


def test_a_layer_declares_its_own_facts():
    class Doubler(Scale):
        train_eval_differs = False

        def macs(self, input_shape, output_shape):
            return 7

        def receptive_window(self, input_shape, output_shape):
            return nn.Conv2d(1, 1, 3).receptive_window(input_shape, output_shape)

    (row,) = summary(Doubler(), (1, 5, 5)).rows
    assert row.macs == 7 and row.receptive_field == (3, 3)


def test_a_user_container_written_with_the_shape_entry_is_walked():
    result = summary(nn.Sequential(OrderedDict(gated=Gated(), flat=nn.Flatten())), (2, 6, 6))
    rows = {r.name: r for r in result.rows}
    assert [r.name for r in result.rows] == ["gated", "gated.value", "gated.gate", "gated.gate.0", "gated.gate.1",
                                             "flat"]
    assert not rows["gated"].is_leaf and rows["gated.gate.0"].input_shape == (1, 2, 6, 6)
    assert rows["gated"].macs == 3 * 36 * 2 * 9 + 3 * 36 * 2
    assert rows["gated"].receptive_field == (3, 3)  # the widest of the paths that meet
    assert rows["gated"].depth == 0 and rows["gated.gate.1"].depth == 2


@pytest.mark.parametrize("layer, differs", [(nn.Dropout(0.5), True), (nn.BatchNorm2d(2), True), (nn.ReLU(), False),
                                            (nn.Linear(2, 2), False), (nn.Conv2d(1, 1, 1), False)])
def test_train_eval_behaviour_is_declared_on_the_class(layer, differs):
    assert layer.train_eval_differs is differs


def test_batch_norm_without_running_statistics_computes_the_same_in_both_modes():
    assert nn.BatchNorm2d(2, track_running_stats=False).train_eval_differs is False

"""The layer-size calculator and the ``nndl summary`` / ``nndl explain`` commands."""

import pytest

from nndl import io
from nndl.cli import main
from nndl.models import lenet5
from nndl.summary import explain_conv, explain_deconv, explain_linear, explain_pool


def run(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().out


def test_conv_formulas_with_numbers_substituted(capsys):
    code, out = run(["explain", "conv", "--input", "3x32x32", "--filters", "10", "--kernel", "5", "--stride", "1",
                     "--padding", "2"], capsys)
    assert code == 0
    assert "W_out = (W − F + 2P)/S + 1 = (32 − 5 + 2·2)/1 + 1 = 31/1 + 1 = 32" in out
    assert "parameters = (F·F·C_in + 1)·K = (5·5·3 + 1)·10 = 760" in out
    assert "output: 32×32×10 = 10,240 activations" in out


@pytest.mark.parametrize("explanation, shape, params, macs", [
    (explain_conv((32, 32, 3), 8, 5), (28, 28, 8), 608, 28 * 28 * 8 * 75),          # notes 003 §3.5 CONV1
    (explain_conv((14, 14, 8), 16, 5), (10, 10, 16), 3216, 10 * 10 * 16 * 200),     # CONV2
    (explain_conv((9, 9, 4), 6, 3, dilation=2, groups=2), (5, 5, 6), (9 * 2 + 1) * 6, 5 * 5 * 6 * 18),
    (explain_pool((28, 28, 8), 2), (14, 14, 8), 0, 0),
    (explain_deconv((16, 16, 10), 3, 2, stride=2), (32, 32, 3), 2 * 2 * 10 * 3 + 3, 16 * 16 * 10 * 3 * 4),
    (explain_deconv((7, 7, 4), 2, 3, stride=2, padding=1, output_padding=1), (14, 14, 2), 9 * 8 + 2, 49 * 4 * 2 * 9),
    (explain_linear(400, 120), (120,), 48120, 48000),                              # FC3
])
def test_explanations_compute_the_numbers(explanation, shape, params, macs):
    assert explanation.output_shape == shape and explanation.parameters == params and explanation.macs == macs
    assert explanation.exact


def test_non_integer_output_size_is_explained(capsys):
    explanation = explain_conv((32, 32, 3), 10, 5, stride=2)
    assert not explanation.exact and explanation.output_shape == (14, 14, 10)
    assert "27/2 is not an integer: the layer floors H_out to 14" in str(explanation)
    assert "use stride S = 1" in str(explanation)
    assert "use padding P = 1 or stride S = 2" in str(explain_conv((30, 30, 3), 2, 4, stride=4))  # 26/4; 28/4
    code, out = run(["explain", "conv", "--input", "3x7x7", "--filters", "2", "--kernel", "9"], capsys)
    assert code == 1 and "does not fit" in out


def test_explain_argument_errors(capsys):
    code, out = run(["explain", "conv", "--input", "3x32x32", "--kernel", "5"], capsys)
    assert code == 2 and "needs --filters" in out
    code, out = run(["explain", "linear", "--input", "16x5x5", "--units", "120"], capsys)
    assert code == 0 and "400·120 + 120 = 48,120" in out
    with pytest.raises(ValueError, match="divisible by groups"):
        explain_conv((8, 8, 3), 4, 3, groups=2)


def test_summary_of_zoo_model_and_notes_form(capsys):
    code, out = run(["summary", "lenet5", "--notes"], capsys)
    assert code == 0
    assert "(28, 28, 6)" in out and "48,120" in out and "Total params: 61,706" in out
    code, out = run(["summary", "resnet18", "--input", "3x64x64", "--depth", "0"], capsys)
    assert code == 0 and "Total params: 11,689,512" in out and "layer1.0" not in out
    assert "output (1, 1000)" in out


def test_summary_of_checkpoint_and_config(tmp_path, capsys):
    path = tmp_path / "lenet.safetensors"
    io.save(lenet5(rng=0), path)
    code, out = run(["summary", str(path), "--input", "1x32x32"], capsys)
    assert code == 0 and "Total params: 61,706" in out
    code, out = run(["summary", str(path)], capsys)
    assert code == 2 and "--input 3x32x32" in out
    config = tmp_path / "mlp.toml"
    config.write_text('[model]\nname = "mlp"\nhidden = [32]\n\n[data]\nname = "digits"\n')
    code, out = run(["summary", str(config)], capsys)
    assert code == 0 and f"Total params: {64 * 32 + 32 + 32 * 10 + 10:,}" in out


def test_summary_errors(capsys):
    code, out = run(["summary", "nosuchnet"], capsys)
    assert code == 2 and "not a zoo model" in out and "resnet50" in out
    code, out = run(["summary", "lenet5", "--input", "1x8x8"], capsys)
    assert code == 2 and "summary stopped at layer" in out
    code, out = run(["summary", "lenet5", "--input", "1xAx8"], capsys)
    assert code == 2 and "expected sizes like 3x32x32" in out

"""ONNX: every layer and container exported, checked (full_check), run in onnxruntime and imported back.

Small models cover every exportable layer; one dynamic-batch file is run for
several batch sizes. The zoo runs at small inputs (32×32, AlexNet 64×64)
with its twins' weights (tests/io/torchvision_twins.py), so that float32
logits are of order 1 and atol 1e-4 is meaningful. The VGG family is
represented by VGG-11 with batch norm: the other variants use the same
node types, and each is a 530 MB graph to serialize, check and load
(their weights' keys and values are checked against torch in
test_torch_interop.py).
"""

import numpy as np
import pytest

from nndl import io, nn
from nndl.io.onnx_ops import LEAVES
from nndl.nn.core.module import Module

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def outputs(result):
    if isinstance(result, dict):
        return list(result.values())
    return list(result) if isinstance(result, tuple) else [result]


def randomize_batch_norms(model, rng):
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) and module.running_mean is not None:
            module.running_mean[...] = rng.normal(0, 0.1, module.running_mean.shape)
            module.running_var[...] = rng.uniform(0.5, 1.5, module.running_var.shape)
            if module.affine:
                module.weight.data[...] = rng.uniform(0.5, 1.5, module.weight.shape)
                module.bias.data[...] = rng.normal(0, 0.1, module.bias.shape)
    return model


CASES = {
    "conv_stack": (lambda: nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding="same", dilation=2, groups=2, bias=False), nn.LocalResponseNorm(3, k=2.0),
        nn.PReLU(4), nn.MaxPool2d(3, 2, padding=1, ceil_mode=True), nn.Dropout2d(0.3),
        nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), nn.Upsample(scale_factor=(2, 3)),
        nn.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False), nn.ELU(0.5),
        nn.AvgPool2d(2, ceil_mode=True), nn.Conv2d(3, 3, 2, padding=1, padding_mode="replicate")), (3, 9, 9)),
    "branches": (lambda: nn.Sequential(
        nn.Residual(nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.LeakyReLU(0.1))),
        nn.Residual(nn.Conv2d(3, 5, 1, stride=2), nn.Conv2d(3, 5, 3, stride=2, padding=1)),
        nn.Concat(nn.Identity(), nn.Sequential(nn.Conv2d(5, 2, 1), nn.Sigmoid()), nn.Tanh()),
        nn.BatchNorm2d(12, track_running_stats=False, affine=False), nn.BatchNorm2d(12, affine=False),
        nn.AdaptiveAvgPool2d((3, 2)),
        nn.Flatten(), nn.Linear(72, 6)), (3, 10, 10)),
    "head": (lambda: nn.Sequential(
        nn.GlobalAvgPool2d(), nn.LayerNorm(3), nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Softplus(2.0),
        nn.Maxout(8, 4, 3), nn.Softplus(), nn.Dropout(0.5), nn.GaussianNoise(0.3), nn.Linear(4, 5), nn.LogSoftmax()), (3, 5, 4)),
    "sequence": (lambda: nn.Sequential(
        nn.Linear(4, 6), nn.LayerNorm(6, elementwise_affine=False), nn.Maxout(6, 3, 2), nn.PReLU(),
        nn.Flatten(0, -1)), (5, 4)),
    "adaptive": (lambda: nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(1, 2),
                                       nn.Softmax(axis=1)), (2, 7, 5)),
    "adaptive_divisible": (lambda: nn.Sequential(nn.AdaptiveAvgPool2d(3), nn.AdaptiveAvgPool2d((3, 3)),
                                                 nn.Flatten(2)), (2, 6, 9)),
    "multi_task": (lambda: nn.Sequential(nn.Linear(4, 6), nn.Parallel(
        classes=nn.Sequential(nn.Linear(6, 3), nn.Softmax()), value=nn.Linear(6, 1),
        fired=nn.Step())), (4,)),
}


def built(name):
    build, shape = CASES[name]
    model = randomize_batch_norms(build(), np.random.default_rng(0)).eval()
    return model, shape


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_exports_runs_in_onnxruntime_and_imports(name, tmp_path):
    model, shape = built(name)
    path = tmp_path / f"{name}.onnx"
    io.export_onnx(model, path, (1,) + shape)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    runner, imported = session(path), io.import_onnx(path)
    assert set(imported.state_dict()) == set(model.state_dict())
    for batch in (1, 2, 5):  # one file, a dynamic batch axis
        x = np.random.default_rng(batch).standard_normal((batch,) + shape).astype(np.float32)
        expected = outputs(model(x))
        got = runner.run(None, {"input": x})
        assert len(got) == len(expected)
        for ours, theirs in zip(expected, got):
            np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-5)
        for ours, back in zip(expected, outputs(imported(x))):
            np.testing.assert_allclose(back, ours, rtol=1e-5, atol=1e-6)


def test_every_layer_is_exportable_or_refused_by_name():
    layers = {cls for cls in vars(nn).values() if isinstance(cls, type) and issubclass(cls, Module)
              and not issubclass(cls, nn.Loss) and cls.__module__.startswith("nndl.nn.")}
    containers = {nn.Module, nn.Sequential, nn.Residual, nn.Concat, nn.Parallel}
    assert layers - containers <= set(LEAVES), f"no ONNX form: {sorted(c.__name__ for c in layers - containers - set(LEAVES))}"
    used = {type(m) for name in CASES for m in built(name)[0].modules()}
    assert set(LEAVES) - used == {nn.MaxUnpool2d}
    assert containers - {nn.Module} <= used


def test_unexportable_layers_say_why(tmp_path):
    with pytest.raises(ValueError, match=r"'1' MaxPool2d\(return_indices=True\)"):
        io.export_onnx(nn.Sequential(nn.Conv2d(1, 1, 1), nn.MaxPool2d(2, return_indices=True)), tmp_path / "a.onnx",
                       (1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"'0' Conv2d\(padding_mode='circular'\) needs opset 19"):
        io.export_onnx(nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")), tmp_path / "b.onnx",
                       (1, 1, 4, 4))


def test_circular_padding_from_opset_19(tmp_path):
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")).eval()
    path = tmp_path / "circular.onnx"
    io.export_onnx(model, path, (1, 2, 5, 5), opset=19)
    x = np.random.default_rng(0).standard_normal((2, 2, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(session(path).run(None, {"input": x})[0], model(x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(io.import_onnx(path)(x), model(x), rtol=1e-5, atol=1e-6)


def test_imported_graph_backpropagates_like_the_model(tmp_path):
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(),
                          nn.Residual(nn.Sequential(nn.Conv2d(3, 3, 1), nn.Tanh())),
                          nn.Concat(nn.Identity(), nn.Conv2d(3, 2, 1)), nn.Flatten(), nn.Linear(80, 4)).eval()
    path = tmp_path / "small.onnx"
    io.export_onnx(model, path, (1, 2, 4, 4))
    imported = io.import_onnx(path)
    x = np.random.default_rng(0).standard_normal((3, 2, 4, 4)).astype(np.float32)
    dout = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    model(x), imported(x)
    dx, dx_imported = nn.backward(model, dout), nn.backward(imported, dout)
    np.testing.assert_allclose(dx_imported, dx, rtol=1e-5, atol=1e-6)
    grads = dict(imported.named_parameters())
    for key, param in model.named_parameters():
        np.testing.assert_allclose(grads[key].grad, param.grad, rtol=1e-5, atol=1e-6, err_msg=key)


def test_import_names_the_first_unsupported_operator(tmp_path):
    h = onnx.helper
    graph = h.make_graph(
        [h.make_node("Relu", ["input"], ["a"], name="first"), h.make_node("Gather", ["a", "idx"], ["b"], name="g"),
         h.make_node("Erf", ["b"], ["output"], name="e")], "g",
        [h.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["batch", 4])],
        [h.make_tensor_value_info("output", onnx.TensorProto.FLOAT, ["batch", 2])],
        initializer=[onnx.numpy_helper.from_array(np.array([0, 1], dtype=np.int64), "idx")])
    path = tmp_path / "foreign.onnx"
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]), str(path))
    with pytest.raises(ValueError, match=r"unsupported operator 'Gather' \(node 'g'\)"):
        io.import_onnx(path)
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="junk.onnx: not a readable ONNX model"):
        io.import_onnx(tmp_path / "junk.onnx")


ZOO = ["resnet18", "resnet34", "resnet50", "googlenet", "densenet121", "alexnet", "vgg11_bn"]
SIDE = {"alexnet": 64}


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_in_onnxruntime(name, tmp_path):
    twins = pytest.importorskip("tests.io.torchvision_twins")
    model = twins.twin_weighted(name)
    side = SIDE.get(name, 32)
    path = tmp_path / f"{name}.onnx"
    io.export_onnx(model, path, (1, 3, side, side))
    onnx.checker.check_model(str(path), full_check=True)
    runner = session(path)
    for batch in (1, 3):
        x = np.random.default_rng(batch).standard_normal((batch, 3, side, side)).astype(np.float32)
        expected = model(x)
        assert np.abs(expected).max() > 1e-2
        np.testing.assert_allclose(runner.run(None, {"input": x})[0], expected, rtol=0, atol=1e-4)
    if name in ("resnet18", "googlenet", "densenet121"):  # the round trip keeps torch's keys
        imported = io.import_onnx(path)
        assert set(imported.state_dict()) == set(model.state_dict())
        np.testing.assert_allclose(imported(x), expected, rtol=0, atol=1e-4)


def test_cli_export(tmp_path):
    from nndl.cli import main

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(72, 3))
    checkpoint = tmp_path / "model.safetensors"
    io.save(model, checkpoint)
    assert main([ "export", str(checkpoint), str(tmp_path / "model.onnx"), "--input-shape", "1,8,8"]) == 0
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype(np.float32)
    model.eval()
    np.testing.assert_allclose(session(tmp_path / "model.onnx").run(None, {"input": x})[0], model(x),
                               rtol=1e-5, atol=1e-6)
    assert main(["export", str(checkpoint), str(tmp_path / "model.onnx")]) == 2  # no --input-shape
    assert main(["export", str(checkpoint), str(tmp_path / "model.txt")]) == 2

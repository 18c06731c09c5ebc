"""Plain state-dict files between nndl and torch, and the model part of a training checkpoint."""

import numpy as np
import pytest

from nndl import io, models, nn, optim
from nndl.io import CheckpointError

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")
twins = pytest.importorskip("tests.io.torchvision_twins")


def test_saved_state_dict_loads_strictly_into_torchvision_model(tmp_path):
    model = twins.twin_weighted("resnet18")
    for param in model.parameters():  # weights the twin does not have yet
        param.data *= 1.1
    path = tmp_path / "resnet18.safetensors"
    io.save_state_dict(model, path)
    twin = twins.BUILDERS["resnet18"]().eval()
    twin.load_state_dict(safetensors_torch.load_file(str(path)), strict=True)
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(twin(torch.from_numpy(x)).numpy(), model(x), rtol=0, atol=1e-4)
    assert twin.layer1[0].bn1.num_batches_tracked.dtype == torch.int64


def test_state_dict_written_by_torch_loads_into_nndl(tmp_path):
    twin = twins.build_twin("densenet121")
    path = tmp_path / "densenet.safetensors"
    safetensors_torch.save_file(twin.state_dict(), str(path))
    model = models.densenet121(init="zeros").eval()
    model.load_state_dict(io.load_state_dict(path), strict=True)
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(model(x), twin(torch.from_numpy(x)).numpy(), rtol=0, atol=1e-4)


def small_model():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))


def torch_small_model():
    tnn = torch.nn
    return tnn.Sequential(tnn.Conv2d(1, 2, 3), tnn.BatchNorm2d(2), tnn.ReLU(), tnn.Flatten(), tnn.Linear(8, 3))


@pytest.fixture
def trained_checkpoint(tmp_path):
    model = small_model()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    x = np.random.default_rng(0).standard_normal((4, 1, 4, 4)).astype(np.float32)
    loss_fn = nn.SoftmaxCrossEntropy()
    loss_fn(model(x), np.array([0, 1, 2, 0]))
    model.backward(loss_fn.backward())
    optimizer.step()
    path = tmp_path / "checkpoint.safetensors"
    io.save(model, path, optimizer=optimizer, epoch=1)
    return model, path


def test_checkpoint_keeps_optimizer_state_in_its_own_namespace(trained_checkpoint):
    model, path = trained_checkpoint
    tensors = safetensors_torch.load_file(str(path))
    optimizer_keys = [k for k in tensors if k.startswith("optimizer::")]
    assert optimizer_keys and all(k.startswith(io.state_dict_file.OPTIMIZER_NAMESPACE) for k in optimizer_keys)
    assert set(tensors) - set(optimizer_keys) == set(model.state_dict())
    with pytest.raises(RuntimeError, match="optimizer::"):  # why a model-only export exists
        torch_small_model().load_state_dict(tensors, strict=True)
    assert set(io.load_state_dict(path)) == set(model.state_dict())


def test_model_only_export_of_a_checkpoint(trained_checkpoint, tmp_path):
    from nndl.cli import main

    model, path = trained_checkpoint
    out = tmp_path / "model.safetensors"
    assert main(["export", str(path), str(out)]) == 0
    twin = torch_small_model().eval()
    twin.load_state_dict(safetensors_torch.load_file(str(out)), strict=True)
    x = np.random.default_rng(1).standard_normal((3, 1, 4, 4)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(twin(torch.from_numpy(x)).numpy(), model.eval()(x), rtol=1e-6, atol=1e-6)
    assert sorted(io.checkpoint_state_dict(path, tmp_path / "again.safetensors")) == sorted(model.state_dict())


def test_unreadable_files_are_named(tmp_path):
    path = tmp_path / "bf16.safetensors"
    safetensors_torch.save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, str(path))
    with pytest.raises(CheckpointError, match=r"bf16.safetensors: tensor 'w' has dtype BF16"):
        io.load_state_dict(path)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 4)
    with pytest.raises(CheckpointError, match="junk.safetensors"):
        io.load_state_dict(junk)
    with pytest.raises(TypeError, match="expected an nndl Module"):
        io.save_state_dict({"w": np.ones(2)}, tmp_path / "x.safetensors")

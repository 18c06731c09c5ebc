"""Downloads against a local HTTP server on 127.0.0.1 serving small generated files in the real formats.

Every source here is a ``DataSource`` built by the test (mirrors on
127.0.0.1, the generated files' own sizes and MD5s) and passed to the loader
as ``source=``; no other address is ever contacted.
"""

import gzip
import hashlib
import io
import os
import pickle
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from nndl.data import (DataFormatError, DataSource, DownloadError, RemoteFile, data_home, load_cifar10,
                       load_cifar100, load_fashion_mnist, load_mnist)
from nndl.data import sources
from nndl.data.cifar import BATCH_NAMES


class Server:
    """An in-memory HTTP server on 127.0.0.1: ``files`` maps a URL path to bytes; ``requests`` records paths."""

    def __init__(self):
        self.files, self.requests = {}, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append(self.path)
                body = owner.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch, tmp_path):
    for name in ("no_proxy", "NO_PROXY"):  # a proxy set in the environment must not see these requests
        monkeypatch.setenv(name, "127.0.0.1")
    monkeypatch.setenv("NNDL_DATA", str(tmp_path / "cache"))
    running = Server()
    yield running
    running.stop()


def remote(name, body, size=None):
    return RemoteFile(name, hashlib.md5(body).hexdigest(), len(body) if size is None else size)


def idx_gz(array):
    header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def mnist_files(rng):
    arrays = {"train": (rng.integers(0, 256, (6, 28, 28)), rng.integers(0, 10, 6)),
              "t10k": (rng.integers(0, 256, (4, 28, 28)), rng.integers(0, 10, 4))}
    files = {}
    for prefix, (images, labels) in arrays.items():
        files[f"{prefix}-images-idx3-ubyte.gz"] = idx_gz(images)
        files[f"{prefix}-labels-idx1-ubyte.gz"] = idx_gz(labels)
    return arrays, files


def serve(server, folder, files):
    for name, body in files.items():
        server.files[f"/{folder}/{name}"] = body
    return tuple(remote(name, body) for name, body in files.items())


def test_first_download_then_cache_hit(server, mnist_files, tmp_path):
    arrays, files = mnist_files
    source = DataSource("test MNIST", (server.base + "mnist/",), serve(server, "mnist", files))
    images, labels = load_mnist(download=True, source=source)
    np.testing.assert_array_equal(images, arrays["train"][0][:, None].astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(labels, arrays["train"][1])
    assert sorted(server.requests) == ["/mnist/train-images-idx3-ubyte.gz", "/mnist/train-labels-idx1-ubyte.gz"]
    cached = tmp_path / "cache" / "mnist"
    assert sorted(os.listdir(cached)) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    again = load_mnist(kind="train", download=True, source=source)  # verified from the cache: no request
    np.testing.assert_array_equal(again[0], images)
    assert len(server.requests) == 2
    images_test, labels_test = load_mnist(train=False, download=True, source=source)
    np.testing.assert_array_equal(labels_test, arrays["t10k"][1])
    assert len(server.requests) == 4
    np.testing.assert_array_equal(load_mnist(kind="test")[1], labels_test)  # no download: reads the cache


def test_fashion_mnist_has_its_own_cache_folder(server, mnist_files, tmp_path):
    arrays, files = mnist_files
    source = DataSource("test Fashion-MNIST", (server.base + "fashion/",), serve(server, "fashion", files))
    images, labels = load_fashion_mnist(kind="test", download=True, source=source, dtype=np.float64)
    assert images.dtype == np.float64 and images.shape == (4, 1, 28, 28)
    np.testing.assert_array_equal(labels, arrays["t10k"][1])
    assert (tmp_path / "cache" / "fashion_mnist" / "t10k-labels-idx1-ubyte.gz").is_file()


def test_checksum_mismatch_is_refused_and_the_file_not_kept(server, mnist_files, tmp_path):
    _, files = mnist_files
    listed = serve(server, "mnist", files)
    wrong = tuple(RemoteFile(f.name, "0" * 32, f.size) for f in listed)
    folder = tmp_path / "here"
    with pytest.raises(DownloadError) as caught:
        load_mnist(folder, download=True, source=DataSource("test MNIST", (server.base + "mnist/",), wrong))
    message = str(caught.value)
    assert f"{server.base}mnist/train-images-idx3-ubyte.gz: checksum mismatch: MD5 " in message
    assert f"expected {'0' * 32}; not kept" in message
    assert f"put it at {folder / 'train-images-idx3-ubyte.gz'}" in message
    assert os.listdir(folder) == []


def test_a_file_larger_than_published_is_refused(server, mnist_files, tmp_path):
    _, files = mnist_files
    listed = serve(server, "mnist", files)
    short = tuple(RemoteFile(f.name, f.md5, f.size - 1) for f in listed)
    with pytest.raises(DownloadError, match=r"the server announces \d+ bytes, the published file has \d+"):
        load_mnist(tmp_path / "here", download=True, source=DataSource("t", (server.base + "mnist/",), short))
    assert os.listdir(tmp_path / "here") == []


def test_server_down_is_a_clear_error(server, mnist_files, tmp_path):
    _, files = mnist_files
    source = DataSource("test MNIST", (server.base + "mnist/",), serve(server, "mnist", files),
                        homepage="http://example.invalid/mnist")
    server.stop()
    with pytest.raises(DownloadError) as caught:
        load_mnist(tmp_path / "here", download=True, source=source)
    message = str(caught.value)
    assert message.startswith("could not download test MNIST file train-images-idx3-ubyte.gz:\n  "
                              f"{server.base}mnist/train-images-idx3-ubyte.gz: ")
    assert "refused" in message.lower()
    assert (f"download it by hand (http://example.invalid/mnist) and put it at "
            f"{tmp_path / 'here' / 'train-images-idx3-ubyte.gz'}") in message
    assert os.listdir(tmp_path / "here") == []


def test_next_mirror_after_a_failure_and_every_failure_listed(server, mnist_files, tmp_path):
    arrays, files = mnist_files
    listed = serve(server, "good", files)
    source = DataSource("test MNIST", (server.base + "missing/", server.base + "good/"), listed)
    np.testing.assert_array_equal(load_mnist(tmp_path / "a", download=True, source=source)[1], arrays["train"][1])
    assert server.requests[:2] == ["/missing/train-images-idx3-ubyte.gz", "/good/train-images-idx3-ubyte.gz"]
    both_missing = DataSource("test MNIST", (server.base + "missing/", server.base + "gone/"), listed)
    with pytest.raises(DownloadError, match=r"missing/train-images-idx3-ubyte.gz: Not Found\n  .*gone/train-images"):
        load_mnist(tmp_path / "b", download=True, source=both_missing)


def test_files_present_are_read_as_they_are_and_missing_ones_fetched(server, mnist_files, tmp_path):
    arrays, files = mnist_files
    source = DataSource("test MNIST", (server.base + "mnist/",), serve(server, "mnist", files))
    load_mnist(tmp_path / "d", download=True, source=source)
    path = tmp_path / "d" / "train-labels-idx1-ubyte.gz"
    path.write_bytes(b"\x00" * path.stat().st_size)  # damaged in place: the reader says so, nothing is fetched
    with pytest.raises(DataFormatError, match=r"train-labels-idx1-ubyte.gz: bad IDX magic number"):
        load_mnist(tmp_path / "d", download=True, source=source)
    assert len(server.requests) == 2
    path.unlink()  # missing: fetched again (with its checksum verified)
    np.testing.assert_array_equal(load_mnist(tmp_path / "d", download=True, source=source)[1], arrays["train"][1])
    assert server.requests.count("/mnist/train-labels-idx1-ubyte.gz") == 2


def test_only_http_mirrors(tmp_path, mnist_files):
    _, files = mnist_files
    (tmp_path / "src").mkdir()
    listed = tuple(remote(name, body) for name, body in files.items())
    with pytest.raises(DownloadError, match=r"file://.*train-images-idx3-ubyte.gz: not an http\(s\) URL"):
        load_mnist(tmp_path / "d", download=True, source=DataSource("t", ((tmp_path / "src").as_uri() + "/",), listed))


def test_missing_files_without_download_say_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_mnist: none of .* found in .*; pass download=True to fetch "
                                                r"MNIST from https://ossci-datasets.s3.amazonaws.com/mnist/ into"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"pass download=True to fetch CIFAR-10 from https://www.cs.toronto"):
        load_cifar10(root=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"load_cifar100: no CIFAR-100 file 'test' in .*pass download=True"):
        load_cifar100(tmp_path, train=False)


def test_cache_folder_and_argument_checks(monkeypatch, tmp_path):
    monkeypatch.delenv("NNDL_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_home() == str(tmp_path / "xdg" / "nndl")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data_home() == os.path.join(os.path.expanduser("~"), ".cache", "nndl")
    monkeypatch.setenv("NNDL_DATA", str(tmp_path / "env"))
    assert data_home() == str(tmp_path / "env") and data_home(tmp_path / "arg") == str(tmp_path / "arg")
    with pytest.raises(ValueError, match="load_mnist: kind='test' contradicts train=True"):
        load_mnist(tmp_path, kind="test", train=True)
    with pytest.raises(TypeError, match="load_cifar10: pass the folder as directory or as root, not both"):
        load_cifar10(tmp_path, root=tmp_path)
    with pytest.raises(ValueError, match="load_cifar100: unknown label 'medium'; valid: fine, coarse"):
        load_cifar100(tmp_path, label="medium")
    with pytest.raises(ValueError, match=r"file name '\.\./x' must be a relative path"):
        load_mnist(tmp_path, download=True, source=DataSource("t", ("http://127.0.0.1:9/",),
                                                              (RemoteFile("../x", "0" * 32, 1),)))


def test_published_sources_are_complete():
    for source in sources.SOURCES.values():
        assert source.mirrors and all(m.startswith(("http://", "https://")) and m.endswith("/")
                                      for m in source.mirrors)
        for listed in (*source.files, *source.members):
            assert len(listed.md5) == 32 and int(listed.md5, 16) >= 0
        assert all(f.size > 0 for f in source.files)
    assert [f.name for f in sources.MNIST.files] == [f.name for f in sources.FASHION_MNIST.files]
    assert [m.name.split("/")[1] for m in sources.CIFAR10.members] == [*BATCH_NAMES["train"], *BATCH_NAMES["test"]]


# ---------------------------------------------------------------------- CIFAR archives
def pickled(batch):
    return pickle.dumps(batch, protocol=2)


def tar_gz(members, links=()):
    """A .tar.gz of ``members`` (name -> bytes) and symbolic ``links`` (name -> target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buffer.getvalue()


def cifar10_members(rng):
    members, batches = {}, {}
    for name in (*BATCH_NAMES["train"], *BATCH_NAMES["test"]):
        data, labels = rng.integers(0, 256, (3, 3072), dtype=np.uint8), rng.integers(0, 10, 3).tolist()
        batches[name] = (data, labels)
        members[f"cifar-10-batches-py/{name}"] = pickled({b"data": data, b"labels": labels,
                                                          b"batch_label": name.encode()})
    return members, batches


def archive_source(server, archive_name, archive, members, listed=None):
    server.files[f"/cifar/{archive_name}"] = archive
    names = list(members) if listed is None else listed
    return DataSource("test CIFAR", (server.base + "cifar/",), (remote(archive_name, archive),),
                      tuple(remote(name, members[name], size=None) for name in names))


def test_cifar10_download_extract_and_cache_hit(server, rng, tmp_path):
    members, batches = cifar10_members(rng)
    extra = {"cifar-10-batches-py/batches.meta": b"not listed", "../outside": b"never written"}
    archive = tar_gz({**members, **extra}, links=[("cifar-10-batches-py/evil", "/etc/passwd")])
    source = archive_source(server, "cifar-10-python.tar.gz", archive, members)
    images, labels = load_cifar10(kind="test", download=True, source=source)
    data, expected_labels = batches["test_batch"]
    np.testing.assert_array_equal(images, data.reshape(-1, 3, 32, 32).astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(labels, expected_labels)
    folder = tmp_path / "cache" / "cifar10"
    assert sorted(os.listdir(folder)) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]
    assert sorted(os.listdir(folder / "cifar-10-batches-py")) == sorted(n.split("/")[1] for n in members)
    assert not (tmp_path / "cache" / "outside").exists()
    train_images, train_labels = load_cifar10(download=True, source=source)
    assert train_images.shape == (15, 3, 32, 32) and len(server.requests) == 1
    np.testing.assert_array_equal(train_labels, sum((batches[n][1] for n in BATCH_NAMES["train"]), []))


def test_cifar100_fine_and_coarse_labels(server, rng, tmp_path):
    members, expected = {}, {}
    for kind, n in (("train", 5), ("test", 3)):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        fine, coarse = rng.integers(0, 100, n).tolist(), rng.integers(0, 20, n).tolist()
        expected[kind] = (data, fine, coarse)
        members[f"cifar-100-python/{kind}"] = pickled({b"data": data, b"fine_labels": fine, b"coarse_labels": coarse,
                                                       b"filenames": [b"x.png"] * n})
    source = archive_source(server, "cifar-100-python.tar.gz", tar_gz(members), members)
    images, fine = load_cifar100(download=True, source=source)
    assert images.shape == (5, 3, 32, 32)
    np.testing.assert_array_equal(fine, expected["train"][1])
    _, coarse = load_cifar100(kind="test", label="coarse", download=True, source=source)
    np.testing.assert_array_equal(coarse, expected["test"][2])
    np.testing.assert_array_equal(load_cifar100(tmp_path / "cache" / "cifar100", label="coarse")[1],
                                  expected["train"][2])
    assert len(server.requests) == 1


def test_a_listed_member_that_is_a_link_is_refused(server, rng, tmp_path):
    members, _ = cifar10_members(rng)
    link = "cifar-10-batches-py/test_batch"
    archive = tar_gz({k: v for k, v in members.items() if k != link}, links=[(link, "/etc/passwd")])
    source = archive_source(server, "c.tar.gz", archive, members)
    with pytest.raises(DataFormatError, match=r"c.tar.gz: member cifar-10-batches-py/test_batch is not a regular "
                                              r"file \(a link, folder or device\); refused"):
        load_cifar10(tmp_path / "d", kind="test", download=True, source=source)
    assert sorted(os.listdir(tmp_path / "d")) == ["c.tar.gz"]  # nothing extracted


def test_corrupt_archive_is_the_readers_error(server, rng, tmp_path):
    members, _ = cifar10_members(rng)
    truncated = tar_gz(members)[:-200]  # its MD5 is listed: the download succeeds, reading it does not
    source = archive_source(server, "c.tar.gz", truncated, members)
    with pytest.raises(DataFormatError, match=r"c.tar.gz: corrupt or truncated archive"):
        load_cifar10(tmp_path / "d", kind="test", download=True, source=source)
    assert sorted(os.listdir(tmp_path / "d")) == ["c.tar.gz"]


def test_hostile_member_is_refused_by_the_restricted_unpickler(server, rng, tmp_path):
    members, _ = cifar10_members(rng)
    members["cifar-10-batches-py/test_batch"] = b"cos\nsystem\n(S'echo hostile'\ntR."
    source = archive_source(server, "c.tar.gz", tar_gz(members), members)
    with pytest.raises(DataFormatError, match=r"test_batch: refused to unpickle global 'os.system'"):
        load_cifar10(tmp_path / "d", kind="test", download=True, source=source)


def test_extracted_member_not_matching_its_checksum_is_refused(server, rng, tmp_path):
    members, _ = cifar10_members(rng)
    source = archive_source(server, "c.tar.gz", tar_gz(members), members)
    listed = tuple(RemoteFile(m.name, "f" * 32, None) if m.name.endswith("test_batch") else m
                   for m in source.members)
    with pytest.raises(DataFormatError, match=r"member cifar-10-batches-py/test_batch: MD5 [0-9a-f]{32}, expected f{32}"):
        load_cifar10(tmp_path / "d", kind="test", download=True,
                     source=DataSource(source.title, source.mirrors, source.files, listed))
    assert sorted(os.listdir(tmp_path / "d")) == ["c.tar.gz"]


def test_the_command_line_downloads_with_download_true(server, mnist_files, tmp_path, monkeypatch, capsys):
    """``[data] download = true`` without a path: fetched into the cache once, then read from it."""
    from nndl.cli import main
    from nndl.cli.config import load_config
    from nndl.cli.registry import DATASETS

    _, files = mnist_files
    # The published table is what the command line reads; here it points at the local server.
    monkeypatch.setattr(sources, "MNIST", DataSource("test MNIST", (server.base + "mnist/",),
                                                     serve(server, "mnist", files)))
    config = tmp_path / "run.toml"
    config.write_text('[data]\nname = "mnist"\ndownload = true\n[model]\nname = "mlp"\nhidden = [8]\n'
                      '[training]\nepochs = 1\nbatch_size = 4\nvalidation_split = 0.0\n')
    assert main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet"]) == 0, capsys.readouterr()
    assert sorted(server.requests) == sorted(f"/mnist/{name}" for name in files)
    assert sorted(os.listdir(tmp_path / "cache" / "mnist")) == sorted(files)
    loaded = DATASETS["mnist"](load_config(str(config))["data"], 0)  # the second run's data: from the cache
    assert [len(part) for part in loaded] == [6, 6, 4, 4] and len(server.requests) == 4
    config.write_text('[data]\nname = "mnist"\ndownload = "yes"\n')
    assert main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet"]) == 2
    assert "[data] download: expected a boolean, got 'yes'" in capsys.readouterr().out
    config.write_text('[data]\nname = "mnist"\n')
    assert main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet"]) == 2
    assert "[data] name = 'mnist' needs path = the directory or file to read (or download = true)" in \
        capsys.readouterr().out

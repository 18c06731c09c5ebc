"""Seeded mutation loops over every file format nndl reads (run by test_fuzz.py in a memory-capped process).

Each loop writes a valid file, then mutates it many times (bit flips, boundary bytes, deletions, insertions,
truncations, huge 32/64-bit numbers) and reads each mutant. The only outcomes allowed are a load or the
package's own error naming the file; anything else is returned as a failure.
"""

from __future__ import annotations

import io as bytes_io
import os
import pickle
import sys
import tempfile

import numpy as np


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    data = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        if not data:
            data = bytearray(rng.bytes(8))
        i = int(rng.integers(0, len(data)))
        kind = int(rng.integers(0, 7))
        if kind == 0:
            data[i] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1:
            data[i] = int(rng.choice([0, 1, 0x7F, 0x80, 0xFF]))
        elif kind == 2:
            del data[i:i + int(rng.integers(1, 32))]
        elif kind == 3:
            data[i:i] = rng.bytes(int(rng.integers(1, 32)))
        elif kind == 4:
            del data[i:]
        elif kind == 5:
            data[i:i + 4] = int(rng.choice([2**31 - 1, 2**32 - 1, 2**24])).to_bytes(4, "little")
        else:
            data[i:i + 8] = int(rng.choice([2**63 - 1, 2**40, 2**62])).to_bytes(8, "little")
    return bytes(data)


def _samples(kind: str, directory: str) -> list[bytes]:
    from nndl import io, optim
    from nndl.data import write_idx
    from nndl.models import mlp

    rng = np.random.default_rng(0)
    if kind == "idx":
        out = []
        for array, compress in ((rng.integers(0, 256, (3, 4, 4), dtype=np.uint8), False),
                                (rng.integers(0, 256, (3, 4, 4), dtype=np.uint8), True),
                                (rng.standard_normal((2, 5)).astype(np.float32), False),
                                (np.arange(6, dtype=np.int16), True)):
            path = os.path.join(directory, "sample")
            write_idx(path, array, compress=compress)
            with open(path, "rb") as f:
                out.append(f.read())
        return out
    if kind == "cifar_binary":
        records = np.concatenate([np.array([[3], [9]], np.uint8), rng.integers(0, 256, (2, 3072), dtype=np.uint8)], 1)
        return [records.tobytes()]
    if kind == "pickle":
        batch = {b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), b"labels": [3, 9],
                 b"filenames": [b"a.png", b"b.png"], "meta": (1.5, None, True, {"k": [1, 2]})}
        small = {b"data": rng.integers(0, 256, (1, 8), dtype=np.uint8), b"labels": [1], "t": ((1,), [2.0])}
        return [pickle.dumps(b, protocol=p) for b in (batch, small) for p in (0, 2, 4, 5)]
    if kind == "csv":
        return [b"a,b,label\n1.5,2,0\n-3e2,4,1\n\n5,6,2\n", b'1,"2",0\n3,4,1\n', b"0.25;1e-3;7\n1;2;3\n"]
    if kind == "npz":
        out = []
        for saver in (np.savez, np.savez_compressed):
            buffer = bytes_io.BytesIO()
            saver(buffer, x=rng.standard_normal((4, 3)), y=np.arange(4))
            out.append(buffer.getvalue())
        return out
    if kind == "checkpoint":
        model = mlp([3, 4, 2], rng=0)
        opt = optim.Adam(model.parameters(), lr=0.01)
        path = os.path.join(directory, "sample.safetensors")
        io.save(model, path, optimizer=opt, epoch=3, rng=np.random.default_rng(1), extra={"note": "x"})
        with open(path, "rb") as f:
            return [f.read()]
    if kind == "toml":
        return [b'[data]\nname = "digits"\ntest_size = 0.2\n[model]\nname = "mlp"\nhidden = [32, 16]\n'
                b'[optimizer]\nname = "adam"\nlr = 0.01\n[training]\nepochs = 3\nbatch_size = 16\n'
                b'validation_split = 0.1\n[schedule]\nname = "step"\nstep_size = 2\n']
    raise ValueError(kind)


def _reader(kind: str):
    from nndl import io
    from nndl.cli.config import ConfigKeyError, load_config
    from nndl.data import (DataFormatError, load_csv, load_npz, read_cifar_binary_batch, read_cifar_python_batch,
                           read_idx, safe_load_pickle)

    def pickle_reader(path):
        safe_load_pickle(path)
        try:
            read_cifar_python_batch(path)
        except DataFormatError:
            pass  # a valid pickle that is not a CIFAR batch

    readers = {"idx": (read_idx, DataFormatError), "cifar_binary": (read_cifar_binary_batch, DataFormatError),
               "pickle": (pickle_reader, DataFormatError), "csv": (load_csv, DataFormatError),
               "npz": (load_npz, DataFormatError), "checkpoint": (io.load, io.CheckpointError),
               "toml": (load_config, ConfigKeyError)}
    return readers[kind]


def run(kind: str, cases: int, seed: int = 0) -> tuple[int, int, list[str]]:
    """(loads, refusals, failures) of ``cases`` mutants of ``kind``'s sample files."""
    rng = np.random.default_rng(seed)
    read, error_type = _reader(kind)
    loads, refusals, failures = 0, 0, []
    with tempfile.TemporaryDirectory() as directory:
        samples = _samples(kind, directory)
        path = os.path.join(directory, f"mutant.{kind}")
        for case in range(cases):
            with open(path, "wb") as f:
                f.write(mutate(samples[case % len(samples)], rng))
            try:
                read(path)
                loads += 1
            except error_type as exc:
                refusals += 1
                if kind != "toml" and path not in str(exc):
                    failures.append(f"case {case}: message does not name the file: {exc}")
            except Exception as exc:  # anything else is a defect
                failures.append(f"case {case}: {type(exc).__name__}: {exc}"[:300])
    return loads, refusals, failures


if __name__ == "__main__":  # python -m tests.fuzz.cases KIND CASES MEMORY_MB
    import json
    import resource

    kind, cases, megabytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    _reader(kind)  # import everything before the cap
    with open("/proc/self/statm") as f:
        current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = current + megabytes * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    print(json.dumps(run(kind, cases)))

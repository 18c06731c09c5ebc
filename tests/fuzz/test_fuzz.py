"""Thousands of mutated files per format, read in a process whose address space is capped: every one loads or
raises the package's own error naming the file (no other exception, no crash, no memory blow-up)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASES = {"idx": 1500, "cifar_binary": 600, "pickle": 1500, "csv": 1200, "npz": 1000, "checkpoint": 500,
         "toml": 800}
MEMORY_MB = 512  # above what the process holds once nndl is imported


@pytest.mark.parametrize("kind", list(CASES))
def test_mutated_files_load_or_raise_the_package_error(kind):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "tests.fuzz.cases", kind, str(CASES[kind]), str(MEMORY_MB)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    loads, refusals, failures = json.loads(result.stdout.strip().splitlines()[-1])
    assert failures == []
    assert loads + refusals == CASES[kind]
    assert refusals > CASES[kind] // 10  # the mutations do reach the checks

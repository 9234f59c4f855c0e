"""Every metric under torchrun (gloo, CPU) equals the single-process result for 2 and 3 processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
JOB = "tests.helpers.distributed_metrics_job"


def _run(args: list[str]) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=400)
    assert res.returncode == 0, res.stderr[-3000:]


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    d = tmp_path_factory.mktemp("dist")
    real = d / "real.npy"
    np.save(real, np.random.default_rng(0).integers(0, 256, size=(60, 16, 16, 3), dtype=np.uint8))
    out = d / "single.json"
    _run([sys.executable, "-m", JOB, str(out), str(real)])
    return d, json.loads(out.read_text())


@pytest.mark.parametrize("nproc", [2, 3])
def test_metrics_under_torchrun_equal_single_process(single, nproc):
    d, ref = single
    out = d / f"multi{nproc}.json"
    _run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={nproc}",
            "-m",
            JOB,
            str(out),
            str(d / "real.npy"),
        ]
    )
    got = json.loads(out.read_text())
    for metric in ("ppl", "separability", "fid"):
        assert got[metric]["value"] == pytest.approx(ref[metric]["value"], rel=1e-6), metric
        np.testing.assert_allclose(got[metric]["per_sample"], ref[metric]["per_sample"], rtol=1e-6, atol=1e-9)

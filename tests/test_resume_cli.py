"""`kill -9` a real `ganeval ppl` run mid-way; the same command resumes and equals an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ganeval.models.native import save_generator
from ganeval.models.stylegan import StyleGAN

REPO = Path(__file__).resolve().parents[1]


def _cmd(gen: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ganeval",
        "ppl",
        "--generator",
        str(gen),
        "--distance",
        "zoo:shapes-perceptual",
        "--space",
        "w",
        "--sampling",
        "full",
        "--samples",
        "1500",
        "--batch-size",
        "10",
        "--seed",
        "3",
        "--device",
        "cpu",
        "--out",
        str(out),
        "--json",
        "--quiet",
    ]


def test_kill_9_then_same_command_resumes_exactly(tmp_path):
    torch.manual_seed(0)
    G = StyleGAN(z_dim=32, w_dim=32, img_resolution=32, mapping_layers=2, fmap_base=64, fmap_max=32).eval()
    gen = save_generator(G, tmp_path / "g")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = tmp_path / "run"
    proc = subprocess.Popen(_cmd(gen, out), cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob(".run-*/chunks/[0-9]*.npz"))) < 3:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = sorted(out.glob(".run-*/chunks/[0-9]*.npz"))
    assert len(kept) >= 3
    assert not (out / "results.jsonl").exists()  # nothing half-written looks complete

    resumed = subprocess.run(_cmd(gen, out), cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    fresh_out = tmp_path / "fresh"
    fresh = subprocess.run(_cmd(gen, fresh_out), cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert fresh.returncode == 0, fresh.stderr[-2000:]

    a, b = json.loads(resumed.stdout.strip().splitlines()[-1]), json.loads(fresh.stdout.strip().splitlines()[-1])
    assert a["results"] == b["results"] and a["num_samples"] == b["num_samples"] == 1500
    (csv,) = [p.name for p in out.glob("ppl-wfull-*-distances.csv")]  # same configuration, same name
    da, db = pd.read_csv(out / csv), pd.read_csv(fresh_out / csv)
    np.testing.assert_array_equal(da["path_length"].to_numpy(), db["path_length"].to_numpy())
    assert len((out / "results.jsonl").read_text().splitlines()) == 1

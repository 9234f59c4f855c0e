"""The sample loop: batch/world-size invariance, resume after kill -9, faults, progress."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ganeval import _seeding, runtime
from ganeval.errors import OutputError, RunFolderMismatchError
from ganeval.runtime import RunInterrupted, map_samples

REPO = Path(__file__).resolve().parents[1]


def _fn(idx: np.ndarray) -> dict[str, np.ndarray]:
    z = _seeding.normal(3, "t", idx, (4,)).numpy()
    return {"norm": np.linalg.norm(z, axis=1), "z": z}


def _reference(n: int) -> np.ndarray:
    return np.array(
        [
            np.linalg.norm(np.random.default_rng([3, _seeding.stream_id("t"), i]).standard_normal(4).astype(np.float32))
            for i in range(n)
        ]
    )


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_result_independent_of_batch_size(batch):
    out = map_samples(_fn, 150, batch_size=batch, progress="quiet")
    assert out.num_done == 150
    np.testing.assert_allclose(out["norm"], _reference(150), rtol=1e-6)


def test_stop_when_and_min_samples():
    out = map_samples(_fn, 1000, batch_size=10, progress="quiet", min_samples=200, stop_when=lambda g: True)
    assert out.stopped_early and out.num_done == 200 and len(out["norm"]) == 200


def test_resume_reads_chunks_and_refuses_other_config(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "_CHUNK_SAMPLES", 16)
    calls: list[int] = []

    def counting(idx):
        calls.append(len(idx))
        return _fn(idx)

    first = map_samples(counting, 100, batch_size=8, run_dir=tmp_path, config={"k": 1}, progress="quiet")
    n_first = sum(calls)
    again = map_samples(counting, 100, batch_size=8, run_dir=tmp_path, config={"k": 1}, progress="quiet")
    assert n_first == 100 and sum(calls) == 100  # nothing recomputed
    assert again.resumed == 100
    np.testing.assert_array_equal(first["z"], again["z"])
    with pytest.raises(RunFolderMismatchError, match="another configuration"):
        map_samples(_fn, 100, batch_size=8, run_dir=tmp_path, config={"k": 2}, progress="quiet")


def test_kill_9_then_resume_gives_uninterrupted_result(tmp_path):
    run_dir, out = tmp_path / "run", tmp_path / "out.npy"
    cmd = [sys.executable, "-m", "tests.helpers.runtime_job", str(out), "400", "10", str(run_dir)]
    proc = subprocess.Popen([*cmd, "0.05"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and len(list((run_dir / "chunks").glob("[0-9]*.npz"))) < 3:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = list((run_dir / "chunks").glob("[0-9]*.npz"))
    assert len(kept) >= 3 and not out.exists()
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    resumed = int(res.stdout.split("resumed")[1])
    assert 60 <= resumed < 400
    got = np.load(out)
    np.testing.assert_array_equal(got[0], np.arange(400))
    np.testing.assert_allclose(got[1], _reference_sq(400), rtol=1e-6)


def _reference_sq(n: int) -> np.ndarray:
    return np.array(
        [
            float(
                (
                    np.random.default_rng([7, _seeding.stream_id("job"), i]).standard_normal(3).astype(np.float32) ** 2
                ).sum()
            )
            for i in range(n)
        ]
    )


@pytest.mark.parametrize("nproc", [2, 3])
def test_torchrun_gloo_equals_single_process(tmp_path, nproc):
    single = tmp_path / "single.npy"
    multi = tmp_path / "multi.npy"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [sys.executable, "-m", "tests.helpers.runtime_job", str(single), "101", "8"],
        cwd=REPO,
        check=True,
        env=env,
        capture_output=True,
        timeout=120,
    )
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={nproc}",
            "-m",
            "tests.helpers.runtime_job",
            str(multi),
            "101",
            "8",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    np.testing.assert_allclose(np.load(multi), np.load(single), rtol=1e-6)
    assert res.stdout.count("done 101") == 1  # only rank 0 writes and prints


def test_out_of_memory_halves_the_batch():
    def picky(idx):
        if len(idx) > 5:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return _fn(idx)

    out = map_samples(picky, 50, batch_size=32, progress="quiet")
    assert out.oom_retries == 3  # 32 -> 16 -> 8 -> 4
    np.testing.assert_allclose(out["norm"], _reference(50), rtol=1e-6)


def test_ctrl_c_keeps_chunks_and_says_how_to_resume(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "_CHUNK_SAMPLES", 10)

    def interrupted(idx):
        if idx[0] >= 40:
            raise KeyboardInterrupt
        return _fn(idx)

    with pytest.raises(RunInterrupted, match="run the same command again to resume") as info:
        map_samples(interrupted, 100, batch_size=10, run_dir=tmp_path, config={}, progress="quiet")
    assert info.value.done == 40
    out = map_samples(_fn, 100, batch_size=10, run_dir=tmp_path, config={}, progress="quiet")
    assert out.resumed == 40
    np.testing.assert_allclose(out["norm"], _reference(100), rtol=1e-6)


def test_unwritable_run_folder_fails_before_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    called = []
    with pytest.raises(OutputError, match="Cannot write the run folder"):
        map_samples(
            lambda idx: called.append(1) or _fn(idx),
            10,
            batch_size=5,
            run_dir=blocker / "run",
            config={},
            progress="quiet",
        )
    assert not called


def test_progress_lines_and_json(capsys):
    map_samples(_fn, 20, batch_size=10, progress="lines", desc="demo")
    assert "demo: 20/20 samples" in capsys.readouterr().err
    map_samples(_fn, 20, batch_size=10, progress="json", desc="demo")
    err = capsys.readouterr().err.strip().splitlines()
    assert '"event": "progress"' in err[-1] and '"done": 20' in err[-1]
    map_samples(_fn, 20, batch_size=10, progress="quiet")
    assert capsys.readouterr().err == ""


def test_out_of_memory_keeps_the_batch_multiple():
    sizes: list[int] = []

    def picky(idx):
        if len(idx) > 5:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        sizes.append(len(idx))
        return _fn(idx)

    out = map_samples(picky, 48, batch_size=24, progress="quiet", batch_multiple=4)
    assert set(sizes) == {4} and out.oom_retries == 2  # 24 -> 12 -> 4 (multiples of 4 only)
    np.testing.assert_allclose(out["norm"], _reference(48), rtol=1e-6)
    with pytest.raises(torch.cuda.OutOfMemoryError):
        map_samples(picky, 8, batch_size=8, progress="quiet", batch_multiple=8)


def test_a_temp_file_left_by_a_kill_mid_write_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "_CHUNK_SAMPLES", 10)
    first = map_samples(_fn, 40, batch_size=10, run_dir=tmp_path, config={}, progress="quiet")
    (tmp_path / "chunks" / ".tmp-abc123.npz").write_bytes(b"half a chunk")  # what kill -9 during a write leaves
    again = map_samples(_fn, 40, batch_size=10, run_dir=tmp_path, config={}, progress="quiet")
    assert again.resumed == 40
    np.testing.assert_array_equal(again["z"], first["z"])


def test_every_sample_loop_runs_in_true_float32_and_restores_the_settings():
    # the one sample loop of PPL, separability and FID: TF32 off inside every call, restored after
    from ganeval.devices import fp32_state
    from ganeval.runtime import map_samples

    before = fp32_state()
    seen = []

    def fn(idx):
        seen.append(fp32_state())
        return {"x": idx.astype(np.float64)}

    out = map_samples(fn, 10, batch_size=4, progress=False)
    assert len(seen) == 3 and all(
        s["cudnn.conv.fp32_precision"] == "ieee" and s["cuda.matmul.fp32_precision"] == "ieee" for s in seen
    )
    assert fp32_state() == before and out["x"].tolist() == list(range(10))

    def boom(idx):
        raise RuntimeError("forward failed")

    with pytest.raises(RuntimeError, match="forward failed"):
        map_samples(boom, 10, batch_size=4, progress=False)
    assert fp32_state() == before

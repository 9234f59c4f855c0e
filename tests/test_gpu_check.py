"""benchmarks/gpu_check.py stays runnable: its CPU mode (--device cpu --quick) passes every check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_runs_on_the_cpu(tmp_path):
    out = tmp_path / "gpu_check.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--device", "cpu", "--quick", "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(out.read_text())
    checks = {row["check"]: row for row in report["rows"]}
    assert all(row["ok"] for row in report["rows"])
    # on one device the "device" and the reference are the same CPU: exactly equal
    assert checks["PPL zoo W end, per sample"]["max_rel"] == 0.0
    assert checks["torchrun --nproc_per_node=1 (gloo)"]["identical"] is True
    assert sum(name.startswith("PPL 32 px + LPIPS-VGG16, chunk") for name in checks) == 3
    assert "| check (CPU) | figures | verdict |" in proc.stdout

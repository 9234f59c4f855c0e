"""The zoo models load from an installed wheel, offline, without the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

_CHECK = r"""
import os, sys, torch
import ganeval
from ganeval.zoo._load import pretrained_dir
target = sys.argv[1]
assert ganeval.__file__.startswith(target), ganeval.__file__
root = pretrained_dir()
assert str(root).startswith(target), root
G = ganeval.load_generator("zoo:shapes-stylegan")
clf = ganeval.load_classifier("zoo:shapes-classifier")
dist = ganeval.load_distance("zoo:shapes-perceptual")
with torch.no_grad():
    x = G(torch.randn(2, G.z_dim))
    print("OK", tuple(x.shape), tuple(clf(x).shape), tuple(dist(x, x.flip(0)).flatten().shape), root)
"""


@pytest.mark.slow
def test_zoo_models_load_from_built_wheel(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    # build from a copy so no build/ or egg-info folders appear in the shared working tree
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "ganeval", src / "ganeval", ignore=ignore)
    shutil.copytree(REPO / "pretrained", src / "pretrained", ignore=ignore)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(src),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(wheels),
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("ganeval-*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheel)],
        check=True,
        cwd=tmp_path,
    )
    assert (target / "ganeval" / "_pretrained" / "shapes-stylegan.safetensors").exists()
    env = {**os.environ, "PYTHONPATH": str(target), "GANEVAL_OFFLINE": "1", "GANEVAL_HOME": str(tmp_path / "home")}
    res = subprocess.run(
        [sys.executable, "-c", _CHECK, str(target)], check=False, cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.startswith("OK (2, 3, 32, 32) (2, 11) (2,)")


def test_pyproject_lists_every_package():
    """pyproject.toml lists the packages by hand (to map `pretrained/`): a new subpackage must be added there,
    or the wheel silently lacks it."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(d.relative_to(REPO).parts)
        for d in (REPO / "ganeval").rglob("*")
        if d.is_dir() and d.name != "__pycache__" and any(f.suffix in (".py", ".j2") for f in d.iterdir())
    }
    assert listed == on_disk | {"ganeval", "ganeval._pretrained"}

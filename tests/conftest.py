"""Shared test helpers: the fixtures folder, quiet single-threaded torch, small generators."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("GANEVAL_FIXTURES", REPO.parent / "shared" / "fixtures"))

torch.set_num_threads(int(os.environ.get("GANEVAL_TEST_THREADS", "2")))


def fixture_path(*parts: str) -> Path:
    """Path of a file under ../shared/fixtures.

    Outside this workplace a missing fixture skips the test with a reason; under CI
    (``CI=true``) a missing fixture is a failure.
    """
    p = FIXTURES.joinpath(*parts)
    if not p.exists():
        msg = f"fixture {p} is missing (parity fixtures live in ../shared/fixtures)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return p


@pytest.fixture
def tmp_home(tmp_path, monkeypatch):
    """An empty GANEVAL_HOME cache root, offline."""
    home = tmp_path / "ganeval-home"
    monkeypatch.setenv("GANEVAL_HOME", str(home))
    monkeypatch.setenv("GANEVAL_OFFLINE", "1")
    return home


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module: on a loaded 2-core machine two threads spin against each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

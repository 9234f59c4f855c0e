"""`ganeval fid / kid / pr / stats` on small arrays with a registered tiny extractor."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_fid_sources import TinyExtractor

from ganeval.cli import run
from ganeval.features import register_extractor
from ganeval.features.stats import FeatureStatistics


@pytest.fixture(scope="module", autouse=True)
def tiny():
    register_extractor("test-tiny", TinyExtractor(), overwrite=True)


@pytest.fixture
def arrays(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "gen.npy", rng.integers(0, 256, (30, 16, 16, 3), dtype=np.uint8))
    np.save(tmp_path / "real.npy", rng.integers(0, 200, (30, 16, 16, 3), dtype=np.uint8))
    return tmp_path


def test_fid_cli_summary_table_json(arrays, capsys):
    code = run(
        [
            "fid",
            "-g",
            str(arrays / "gen.npy"),
            "-r",
            str(arrays / "real.npy"),
            "-e",
            "test-tiny",
            "--device",
            "cpu",
            "-q",
            "--metrics",
            "fid,kid,pr",
            "--no-cache",
            "--out",
            str(arrays / "res"),
        ]
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert out[0].startswith("FD_tiny ") and "resize tf" in out[0]
    lines = [json.loads(x) for x in out if x.startswith("{")]
    assert [x["metric"] for x in lines] == ["FD_tiny", "KD_tiny", "precision"]
    # the config names the extractor by the name that loads it again; its own name is the description
    assert lines[0]["config"]["extractor"] == "test-tiny" and lines[0]["config"]["extractor_description"] == "tiny"
    assert lines[0]["provenance"]["versions"]["ganeval"]
    assert (arrays / "res" / "metric-fd_tiny.jsonl").is_file()


def test_stats_cli_then_fid_against_stats(arrays, capsys):
    assert (
        run(
            [
                "stats",
                str(arrays / "real.npy"),
                "-o",
                str(arrays / "ref.npz"),
                "-e",
                "test-tiny",
                "--device",
                "cpu",
                "-q",
            ]
        )
        == 0
    )
    st = FeatureStatistics.load(arrays / "ref.npz")
    assert st.num_items == 30 and st.dim == 8
    capsys.readouterr()
    assert (
        run(
            [
                "fid",
                "-g",
                str(arrays / "real.npy"),
                "-r",
                str(arrays / "ref.npz"),
                "-e",
                "test-tiny",
                "--device",
                "cpu",
                "-q",
                "--json",
            ]
        )
        == 0
    )
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["results"]["FD_tiny"] == pytest.approx(0.0, abs=1e-9)


def test_missing_inception_weights_say_which_file(arrays, tmp_home, capsys):
    code = run(["fid", "-g", str(arrays / "gen.npy"), "-r", str(arrays / "real.npy"), "--device", "cpu", "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert "pt_inception-2015-12-05-6726825d.pth" in err and "inception-2015-12-05.pt" in err and str(tmp_home) in err

"""``ganeval weights list|fetch|verify|path`` end to end (local HTTP server for fetch)."""

from __future__ import annotations

import hashlib

import pytest
from test_weights_download import PAYLOAD, PAYLOAD_SHA, LocalServer

from ganeval import weights
from ganeval.cli import run


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A local server with one registered test entry; yields (server, cache root)."""
    monkeypatch.delenv("GANEVAL_OFFLINE", raising=False)
    monkeypatch.setenv("GANEVAL_HOME", str(tmp_path / "env-home"))
    srv = LocalServer()
    srv.thread.start()
    srv.routes["/cli.bin"] = ["ok"]
    weights.register(
        weights.WeightsEntry(
            name="test-cli",
            kind="other",
            filename="test-cli.bin",
            urls=[srv.url("/cli.bin")],
            sha256=PAYLOAD_SHA,
            licence="test-licence",
        )
    )
    yield srv, tmp_path / "cache"
    weights.unregister("test-cli")
    srv.httpd.shutdown()
    srv.httpd.server_close()


def test_fetch_downloads_prints_the_path_and_list_shows_it_cached(served, capsys):
    srv, cache = served
    assert run(["weights", "fetch", "test-cli", "--cache-dir", str(cache)]) == 0
    path = cache / "weights" / "test-cli.bin"
    assert capsys.readouterr().out.strip() == str(path)
    assert path.read_bytes() == PAYLOAD
    assert run(["weights", "list", "--kind", "other", "--cache-dir", str(cache)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "kind", "cached", "size", "licence"]
    row = next(line for line in lines if line.startswith("test-cli "))
    assert row.split() == ["test-cli", "other", "yes", "128.0", "KiB", "test-licence"]
    assert run(["weights", "path", "test-cli", "--cache-dir", str(cache)]) == 0
    assert capsys.readouterr().out.strip() == str(path)
    assert srv.hits["/cli.bin"] == 1


def test_fetch_offline_exits_2_with_one_line_naming_url_and_path(served, capsys):
    srv, cache = served
    assert run(["weights", "fetch", "test-cli", "--offline", "--cache-dir", str(cache)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: ")
    assert srv.url("/cli.bin") in err[0] and str(cache / "weights" / "test-cli.bin") in err[0]
    assert srv.total_hits == 0


def test_verify_reports_ok_then_fails_on_a_corrupted_file(served, capsys):
    _srv, cache = served
    assert run(["weights", "fetch", "test-cli", "--cache-dir", str(cache)]) == 0
    assert run(["weights", "verify", "test-cli", "--cache-dir", str(cache)]) == 0
    assert PAYLOAD_SHA in capsys.readouterr().out
    path = cache / "weights" / "test-cli.bin"
    path.write_bytes(b"corrupted")
    assert run(["weights", "verify", "--cache-dir", str(cache)]) == 2
    captured = capsys.readouterr()
    assert "MISMATCH  test-cli" in captured.out
    assert hashlib.sha256(b"corrupted").hexdigest() in captured.out
    assert captured.err.strip().splitlines()[-1] == "Error: 1 weights file(s) failed verification: test-cli."
    assert run(["weights", "verify", "test-cli", "--cache-dir", str(cache)]) == 2


def test_unknown_name_and_kind_exit_2(served, capsys):
    assert run(["weights", "path", "no-such-weights"]) == 2
    assert "Argument `name` must be a registered weights name" in capsys.readouterr().err
    assert run(["weights", "list", "--kind", "gan"]) == 2
    assert "Argument `kind` must be one of" in capsys.readouterr().err

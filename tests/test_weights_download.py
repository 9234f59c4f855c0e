"""Downloads against a real HTTP server on 127.0.0.1 (ephemeral port) started by the test.

Every scenario registers a test-only entry pointing at the local server and unregisters it after.
The server counts requests, so "cache hit" and "offline" are proven by what it saw.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from ganeval import weights
from ganeval.errors import ChecksumError, OfflineError, WeightsNotFoundError
from ganeval.weights.download import download_file

PAYLOAD = bytes(range(256)) * 512  # 128 KiB, spans several read() calls of the server socket
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


class LocalServer:
    """A threaded HTTP server with scripted answers per path.

    ``routes[path]`` is a list of behaviours consumed one per request (the last one repeats):
    ``"ok"``, ``"truncate"`` (Content-Length of the full body, half the bytes, then close),
    ``"html"``, ``"stall"`` (headers, then 1 s of silence before the body), or an HTTP status
    code such as ``404`` / ``503``.
    """

    def __init__(self, body: bytes = PAYLOAD) -> None:
        self.body = body
        self.routes: dict[str, list[object]] = {}
        self.hits: dict[str, int] = defaultdict(int)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server calls
                n = server.hits[self.path]
                server.hits[self.path] += 1
                script = server.routes.get(self.path, [404])
                action = script[min(n, len(script) - 1)]
                if isinstance(action, int):
                    self.send_error(action)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html" if action == "html" else "application/octet-stream")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                if action == "stall":
                    self.wfile.flush()
                    time.sleep(1.0)
                if action == "truncate":
                    self.wfile.write(server.body[: len(server.body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(server.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    @property
    def total_hits(self) -> int:
        return sum(self.hits.values())


@pytest.fixture
def server() -> Iterator[LocalServer]:
    srv = LocalServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache root, online by default (GANEVAL_OFFLINE unset)."""
    monkeypatch.delenv("GANEVAL_OFFLINE", raising=False)
    root = tmp_path / "cache"
    monkeypatch.setenv("GANEVAL_HOME", str(root))
    return root


@pytest.fixture
def entry_factory() -> Iterator:
    """Register test-only entries; every one is unregistered after the test."""
    names: list[str] = []

    def make(name: str, urls: list[str], **kwargs: object) -> weights.WeightsEntry:
        entry = weights.WeightsEntry(name=name, kind="other", filename=f"{name}.bin", urls=urls, **kwargs)
        weights.register(entry)
        names.append(name)
        return entry

    yield make
    for name in names:
        weights.unregister(name)


def _files(root: Path) -> list[str]:
    """Every file under the cache root (hidden temp files included)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_download_then_cache_hit_without_second_request(server, cache, entry_factory):
    server.routes["/w.bin"] = ["ok"]
    entry_factory("test-ok", [server.url("/w.bin")], sha256=PAYLOAD_SHA)
    path = weights.resolve("test-ok", progress=False)
    assert path == cache / "weights" / "test-ok.bin"
    assert path.read_bytes() == PAYLOAD
    assert weights.sha256_file(path) == PAYLOAD_SHA
    assert server.hits["/w.bin"] == 1
    assert weights.resolve("test-ok", progress=False) == path
    assert server.hits["/w.bin"] == 1  # served from the cache
    assert weights.verify("test-ok").status == "ok"
    # only the file and its hash record; no temp file left behind
    assert _files(cache) == ["weights/test-ok.bin", "weights/test-ok.bin.sha256.json"]


def test_checksum_mismatch_is_refused_and_nothing_is_cached(server, cache, entry_factory):
    server.routes["/w.bin"] = ["ok"]
    wrong = hashlib.sha256(b"another file").hexdigest()
    entry_factory("test-bad-sha", [server.url("/w.bin")], sha256=wrong)
    with pytest.raises(ChecksumError) as info:
        weights.resolve("test-bad-sha", progress=False)
    msg = str(info.value)
    assert wrong in msg and PAYLOAD_SHA in msg and server.url("/w.bin") in msg
    assert "\n" not in msg
    assert _files(cache) == []


def test_sha256_prefix_is_enforced(server, cache, entry_factory):
    server.routes["/w.bin"] = ["ok"]
    entry_factory("test-prefix-ok", [server.url("/w.bin")], sha256=PAYLOAD_SHA[:8])
    assert weights.resolve("test-prefix-ok", progress=False).read_bytes() == PAYLOAD
    bad_prefix = "00000000" if not PAYLOAD_SHA.startswith("00000000") else "11111111"
    entry_factory("test-prefix-bad", [server.url("/w.bin")], sha256=bad_prefix)
    with pytest.raises(ChecksumError, match=r"sha256 prefix 0|sha256 prefix 1"):
        weights.resolve("test-prefix-bad", progress=False)
    assert not (cache / "weights" / "test-prefix-bad.bin").exists()


def test_interrupted_transfer_is_never_cached(server, cache):
    server.routes["/cut.bin"] = ["truncate"]
    dest = cache / "weights" / "cut.bin"
    with pytest.raises(WeightsNotFoundError) as info:
        download_file([server.url("/cut.bin")], dest, retries=2, backoff=0.01, progress=False)
    msg = str(info.value)
    assert f"got {len(PAYLOAD) // 2} of {len(PAYLOAD)} bytes" in msg and str(dest) in msg
    assert server.hits["/cut.bin"] == 3  # 1 attempt + 2 retries
    assert _files(cache) == []  # neither the final file nor a .part temp file


def test_stalled_transfer_times_out_and_leaves_nothing(server, cache):
    server.routes["/slow.bin"] = ["stall"]
    dest = cache / "weights" / "slow.bin"
    t0 = time.perf_counter()
    with pytest.raises(WeightsNotFoundError, match="timed out"):
        download_file([server.url("/slow.bin")], dest, timeout=0.2, retries=0, progress=False)
    assert time.perf_counter() - t0 < 0.9  # gave up before the server's 1 s stall ended
    assert server.hits["/slow.bin"] == 1
    assert _files(cache) == []


def test_interrupted_once_then_retried_successfully(server, cache, entry_factory):
    server.routes["/w.bin"] = ["truncate", "ok"]
    entry_factory("test-cut-once", [server.url("/w.bin")], sha256=PAYLOAD_SHA)
    path = weights.resolve("test-cut-once", progress=False)
    assert path.read_bytes() == PAYLOAD
    assert server.hits["/w.bin"] == 2


def test_404_fails_at_once_with_a_clear_message(server, cache, entry_factory):
    server.routes["/missing.bin"] = [404]
    entry_factory("test-404", [server.url("/missing.bin")])
    with pytest.raises(WeightsNotFoundError) as info:
        weights.resolve("test-404", progress=False)
    msg = str(info.value)
    assert "HTTP 404" in msg and server.url("/missing.bin") in msg
    assert str(cache / "weights" / "test-404.bin") in msg
    assert server.hits["/missing.bin"] == 1  # no retry
    assert _files(cache) == []


def test_transient_503_is_retried_then_succeeds(server, cache, entry_factory):
    server.routes["/w.bin"] = [503, "ok"]
    entry_factory("test-503", [server.url("/w.bin")], size=len(PAYLOAD))
    path = weights.resolve("test-503", progress=False)
    assert path.read_bytes() == PAYLOAD
    assert server.hits["/w.bin"] == 2


def test_next_url_is_tried_when_the_first_fails(server, cache, entry_factory):
    server.routes["/gone.bin"] = [404]
    server.routes["/mirror.bin"] = ["ok"]
    entry_factory("test-mirror", [server.url("/gone.bin"), server.url("/mirror.bin")], sha256=PAYLOAD_SHA)
    assert weights.resolve("test-mirror", progress=False).read_bytes() == PAYLOAD
    assert server.hits["/gone.bin"] == 1 and server.hits["/mirror.bin"] == 1


def test_html_page_instead_of_the_file_is_refused(server, cache, entry_factory):
    server.routes["/drive"] = ["html"]
    entry_factory("test-html", [server.url("/drive")])
    with pytest.raises(WeightsNotFoundError, match="HTML page"):
        weights.resolve("test-html", progress=False)
    assert server.hits["/drive"] == 1 and _files(cache) == []


def test_offline_never_connects_and_names_url_and_path(server, cache, entry_factory, monkeypatch):
    server.routes["/w.bin"] = ["ok"]
    entry = entry_factory("test-offline", [server.url("/w.bin")], sha256=PAYLOAD_SHA)
    expected_path = cache / "weights" / entry.filename
    monkeypatch.setenv("GANEVAL_OFFLINE", "1")
    with pytest.raises(OfflineError) as info:
        weights.resolve("test-offline")
    msg = str(info.value)
    assert "`test-offline`" in msg and server.url("/w.bin") in msg and str(expected_path) in msg
    assert "\n" not in msg
    monkeypatch.delenv("GANEVAL_OFFLINE")
    with pytest.raises(OfflineError):
        weights.resolve("test-offline", offline=True)
    with pytest.raises(WeightsNotFoundError) as info:
        weights.resolve("test-offline", download=False)
    assert not isinstance(info.value, OfflineError) and str(expected_path) in str(info.value)
    assert server.total_hits == 0
    # a file placed by hand at the named path is then used, still offline
    expected_path.parent.mkdir(parents=True)
    expected_path.write_bytes(PAYLOAD)
    assert weights.resolve("test-offline", offline=True) == expected_path
    assert server.total_hits == 0


def test_partial_temp_file_is_not_taken_as_cached(server, cache, entry_factory):
    entry = entry_factory("test-partial", [server.url("/w.bin")], sha256=PAYLOAD_SHA)
    folder = cache / "weights"
    folder.mkdir(parents=True)
    (folder / f".{entry.filename}.abc123.part").write_bytes(PAYLOAD[:1000])
    with pytest.raises(OfflineError):
        weights.resolve("test-partial", offline=True)
    assert weights.verify("test-partial").status == "missing"


def test_hash_recorded_at_first_download_is_enforced_afterwards(server, cache, entry_factory):
    server.routes["/w.bin"] = ["ok"]
    entry_factory("test-tofu", [server.url("/w.bin")])  # the source publishes no hash
    path = weights.resolve("test-tofu", progress=False)
    tampered = bytearray(PAYLOAD)
    tampered[100] ^= 0xFF
    path.write_bytes(bytes(tampered))  # same size, different content
    with pytest.raises(ChecksumError) as info:
        weights.resolve("test-tofu")
    msg = str(info.value)
    actual = hashlib.sha256(bytes(tampered)).hexdigest()
    assert str(path) in msg and PAYLOAD_SHA in msg and actual in msg
    assert weights.verify("test-tofu").status == "mismatch"
    # deleting the bad file re-downloads, and the re-download is checked against the record
    path.unlink()
    assert weights.resolve("test-tofu", progress=False).read_bytes() == PAYLOAD
    assert server.hits["/w.bin"] == 2


def test_size_is_checked_when_no_hash_is_published(server, cache, entry_factory):
    server.routes["/w.bin"] = ["ok"]
    entry_factory("test-size", [server.url("/w.bin")], size=len(PAYLOAD) + 1)
    with pytest.raises(ChecksumError, match=f"{len(PAYLOAD) + 1} bytes were expected but {len(PAYLOAD)} arrived"):
        weights.resolve("test-size", progress=False)
    assert _files(cache) == []

"""The only module of ganeval that touches the network: verified, atomic file downloads.

A download streams into a temporary file in the destination folder (hidden name, ``.part``
suffix), hashing as it goes; only a complete, verified file is moved into place with
``os.replace``, so a partial file is never taken as cached. Connection errors, truncated
transfers, timeouts, HTTP 429 and 5xx are retried a bounded number of times with exponential
backoff; any other HTTP error (404, 403, ...) fails at once.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from .._version import __version__
from ..errors import ChecksumError, WeightsNotFoundError

__all__ = ["download_file", "DEFAULT_TIMEOUT_S", "DEFAULT_RETRIES", "DEFAULT_BACKOFF_S"]

DEFAULT_TIMEOUT_S = 30.0  # per blocking socket operation, not for the whole transfer
DEFAULT_RETRIES = 3  # extra attempts per URL after the first
DEFAULT_BACKOFF_S = 0.5  # wait before retry k is DEFAULT_BACKOFF_S * 2**k
_CHUNK = 1 << 20


class _Retryable(Exception):
    """A failure worth another attempt (connection, truncation, timeout, 429/5xx)."""


class _Fatal(Exception):
    """A failure that another attempt at the same URL will not fix (404, HTML page, ...)."""


def _fetch_once(url: str, dest: Path, *, timeout: float, progress: bool, desc: str) -> tuple[Path, str, int]:
    """Stream ``url`` into a temp file next to ``dest``; return (temp path, sha256, size)."""
    request = urllib.request.Request(url, headers={"User-Agent": f"ganeval/{__version__}"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # http(s) only: checked by the entry
    except urllib.error.HTTPError as exc:
        if exc.code == 429 or exc.code >= 500:
            raise _Retryable(f"HTTP {exc.code} {exc.reason}") from exc
        raise _Fatal(f"HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise _Retryable(f"connection failed ({reason})") from exc

    with response:
        ctype = response.headers.get("Content-Type", "")
        if ctype.startswith("text/html"):
            # e.g. Google Drive's "too large to scan" confirmation page instead of the file
            raise _Fatal("the server answered with an HTML page instead of the file")
        length_header = response.headers.get("Content-Length")
        expected_len = int(length_header) if length_header and length_header.isdigit() else None

        from tqdm import tqdm

        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        tmp = Path(tmp_name)
        digest = hashlib.sha256()
        received = 0
        try:
            with (
                os.fdopen(fd, "wb") as out,
                tqdm(
                    total=expected_len,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=desc,
                    file=sys.stderr,
                    disable=not progress,
                    leave=False,
                ) as bar,
            ):
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        except (OSError, http.client.HTTPException) as exc:  # socket.timeout is an OSError
            tmp.unlink(missing_ok=True)
            raise _Retryable(f"transfer interrupted after {received} bytes ({exc})") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    # http.client returns b"" on an early close instead of raising: compare with Content-Length.
    if expected_len is not None and received != expected_len:
        tmp.unlink(missing_ok=True)
        raise _Retryable(f"transfer interrupted: got {received} of {expected_len} bytes")
    return tmp, digest.hexdigest(), received


def _check(
    tmp: Path, actual_sha: str, actual_size: int, *, sha256: str | None, size: int | None, url: str, label: str
) -> None:
    """Raise ChecksumError (after deleting ``tmp``) when the download differs from the record."""
    problem = None
    if sha256 is not None and not actual_sha.startswith(sha256):
        kind = "sha256 prefix" if len(sha256) < 64 else "sha256"
        problem = f"{kind} {sha256} was expected but the file has sha256 {actual_sha}"
    elif size is not None and actual_size != size:
        problem = f"{size} bytes were expected but {actual_size} arrived"
    if problem is not None:
        tmp.unlink(missing_ok=True)
        raise ChecksumError(f"Download of {label} from {url} refused: {problem}.")


def download_file(
    urls: Sequence[str],
    dest: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    size: int | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF_S,
    progress: bool = True,
    label: str | None = None,
) -> str:
    """Download the first URL that works to ``dest``, verified, atomically; return its sha256.

    Args:
        urls: candidate URLs, tried in order; each gets ``1 + retries`` attempts on transient errors.
        dest: final path; its folder is created. Nothing is written there unless verification passes.
        sha256: expected digest (64 hex digits) or published prefix; ``None`` to skip.
        size: expected size in bytes, checked when ``sha256`` is None.
        timeout: seconds per blocking socket operation.
        retries: extra attempts per URL after transient failures (connection, truncation, 429, 5xx).
        backoff: base wait in seconds; attempt k waits ``backoff * 2**k`` before retrying.
        progress: show a tqdm bar on stderr.
        label: what to call the file in messages (defaults to its name).

    Raises:
        ChecksumError: a URL delivered a file whose sha256 or size differs (no file is left behind).
        WeightsNotFoundError: every URL failed; the message lists each URL with its reason and the
            path where the file can be placed by hand.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    label = label or dest.name
    failures: list[str] = []
    mismatch: ChecksumError | None = None
    for url in urls:
        for attempt in range(retries + 1):
            try:
                tmp, actual_sha, actual_size = _fetch_once(url, dest, timeout=timeout, progress=progress, desc=label)
            except _Retryable as exc:
                if attempt < retries:
                    time.sleep(backoff * 2**attempt)
                    continue
                failures.append(f"{url}: {exc} (after {retries + 1} attempts)")
                break
            except _Fatal as exc:
                failures.append(f"{url}: {exc}")
                break
            try:
                _check(tmp, actual_sha, actual_size, sha256=sha256, size=size, url=url, label=label)
            except ChecksumError as exc:
                # a stale mirror may serve another version; the next URL may still be right
                mismatch = exc
                failures.append(f"{url}: checksum mismatch")
                break
            os.replace(tmp, dest)
            return actual_sha
    if mismatch is not None and len(failures) == 1:
        raise ChecksumError(f"{mismatch} Nothing was saved to {dest}.")
    reasons = "; ".join(failures) if failures else "no URL is registered"
    cls = ChecksumError if mismatch is not None else WeightsNotFoundError
    raise cls(f"Could not download {label}: {reasons}. Download it by hand and save it as {dest}.")

"""Output-file helpers: check a folder is writable before work starts, write all or nothing.

A results file is never left truncated: JSON lines are appended with one ``write`` call and
the file is cut back to its old length if that write fails or comes up short (disk full);
other files are written to a temporary file beside the target and renamed into place.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import OutputError

__all__ = ["check_writable_dir", "append_text", "append_line", "atomic_write"]


def check_writable_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` if needed and prove it is writable (a probe file); raise :class:`OutputError`."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=p, prefix=".write-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"Cannot write to the output folder {p}: {exc.strerror or exc}; "
                          "choose a writable --out.") from None
    return p


def append_text(path: str | os.PathLike[str], text: str) -> None:
    """Append ``text`` in one write call; on a failed or short write, restore the old length."""
    data = text.encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError(f"Cannot append to {str(path)!r} ({exc.strerror or exc}).") from None
    try:
        size = os.fstat(fd).st_size
        try:
            written = os.write(fd, data)
        except OSError as exc:
            os.ftruncate(fd, size)
            raise OutputError(f"Cannot append to {str(path)!r} ({exc.strerror or exc}); "
                              "the file was left as it was.") from None
        if written != len(data):
            os.ftruncate(fd, size)
            raise OutputError(f"Cannot append to {str(path)!r}: only {written} of {len(data)} bytes could be "
                              "written (disk full?); the file was left as it was.")
    finally:
        os.close(fd)


def append_line(path: str | os.PathLike[str], line: str) -> None:
    """Append one line (``\\n`` added) with :func:`append_text`."""
    append_text(path, line.rstrip("\n") + "\n")


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], object]) -> None:
    """Create ``path`` through ``write(tmp_path)`` on a temporary file beside it, then rename."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".tmp-{p.stem}-", suffix=p.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, p)
    except OSError as exc:
        raise OutputError(f"Cannot write {str(p)!r} ({exc.strerror or exc}); choose a writable --out.") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)

"""Output-file helpers: check a folder is writable before work starts, write atomically.

A results file is never left truncated: JSON lines are appended with a single ``write`` of
the whole line, other files are written to a temporary file and renamed into place.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import OutputError

__all__ = ["check_writable_dir", "append_line", "atomic_write_text"]


def check_writable_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` if needed and prove it is writable (a probe file); raise :class:`OutputError`."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=p, prefix=".write-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"Output folder {str(p)!r} is not writable ({exc.strerror or exc}); "
                          "choose another folder with --out.") from exc
    return p


def append_line(path: str | os.PathLike[str], line: str) -> None:
    """Append one line (``\\n`` added) with a single write, so a crash never leaves half a line."""
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise OutputError(f"Cannot append to {str(path)!r} ({exc.strerror or exc}).") from exc


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it into place."""
    p = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, p)
    except OSError as exc:
        if "tmp" in locals() and os.path.exists(tmp):
            os.unlink(tmp)
        raise OutputError(f"Cannot write {str(p)!r} ({exc.strerror or exc}).") from exc

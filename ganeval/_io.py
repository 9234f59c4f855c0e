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

__all__ = [
    "check_writable_dir",
    "check_output_file",
    "OutputClaim",
    "append_text",
    "append_line",
    "atomic_write",
    "file_mode",
    "current_umask",
]


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux ``/proc``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)  # the only portable way to read it; restored at once
    os.umask(old)
    return old


def file_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file: ``0o666`` less the umask."""
    return 0o666 & ~current_umask()


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest existing path at or above ``folder`` when it is a file (so no folder can be made there)."""
    for anc in [folder, *folder.parents]:
        if anc.exists():
            return None if anc.is_dir() else anc
    return None


def check_writable_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` if needed and prove it is writable (a probe file); raise :class:`OutputError`."""
    p = Path(path)
    blocker = _file_in_the_way(p)
    if blocker is not None:
        raise OutputError(
            f"Cannot write to the output folder {p}: {blocker} is a file, not a folder; choose another --out."
        )
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=p, prefix=".write-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(
            f"Cannot write to the output folder {p}: {exc.strerror or exc}; choose a writable --out."
        ) from None
    return p


def check_output_file(path: str | os.PathLike[str], suffixes: tuple[str, ...], what: str = "--out") -> Path:
    """Check, before any work, that a file can be written at ``path`` with one of ``suffixes``.

    Refuses an unknown extension, a folder in the way, a parent that is a file or cannot be
    created or written (``/proc``, read-only); raises :class:`OutputError` naming the fix.
    """
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise OutputError(f"Option `{what}` must end in {' or '.join(suffixes)}, but got {str(p)!r}.")
    if p.is_dir():
        raise OutputError(f"Option `{what}` names {str(p)!r}, which is a folder; give a file name.")
    blocker = _file_in_the_way(p.parent)
    if blocker is not None:
        raise OutputError(
            f"Option `{what}` {str(p)!r} lies inside {str(blocker)!r}, which is a file, "
            "not a folder; choose another path."
        )
    check_writable_dir(p.parent)
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
            raise OutputError(
                f"Cannot append to {str(path)!r} ({exc.strerror or exc}); the file was left as it was."
            ) from None
        if written != len(data):
            os.ftruncate(fd, size)
            raise OutputError(
                f"Cannot append to {str(path)!r}: only {written} of {len(data)} bytes could be "
                "written (disk full?); the file was left as it was."
            )
    finally:
        os.close(fd)


def append_line(path: str | os.PathLike[str], line: str) -> None:
    """Append one line (``\\n`` added) with :func:`append_text`."""
    append_text(path, line.rstrip("\n") + "\n")


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], object]) -> None:
    """Create ``path`` through ``write(tmp_path)`` on a temporary file beside it, then rename.

    The file gets the mode an ordinary write would (``0o666`` less the umask), not the
    temporary file's private ``0o600``.
    """
    p = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".tmp-{p.stem[:40]}-", suffix=p.suffix)
    except OSError as exc:
        raise OutputError(f"Cannot write {str(p)!r} ({exc.strerror or exc}); choose a writable --out.") from None
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, p)
    except OSError as exc:
        raise OutputError(f"Cannot write {str(p)!r} ({exc.strerror or exc}); choose a writable --out.") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class OutputClaim:
    """Per-run files of a run folder, guarded against a later run of another configuration.

    ``<folder>/.ganeval-outputs.json`` maps each file to the configuration hash of the run that
    wrote it. :meth:`check` (before the work) refuses, unless ``force``, to overwrite a file that
    another configuration wrote or that ganeval did not write; :meth:`record` (after writing)
    notes the files as this run's.
    """

    RECORD = ".ganeval-outputs.json"

    def __init__(self, folder: str | os.PathLike[str], files: list[str], config_hash: str, force: bool) -> None:
        self.folder, self.files, self.hash, self.force = Path(folder), list(files), config_hash, force

    def _owners(self) -> dict[str, str]:
        import json

        try:
            data = json.loads((self.folder / self.RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def check(self) -> None:
        """Raise :class:`OutputError` naming the first file another run wrote (unless ``force``)."""
        if self.force:
            return
        owners = self._owners()
        for name in self.files:
            if (self.folder / name).exists() and owners.get(name) != self.hash:
                who = "a run of another configuration" if name in owners else "something other than this command"
                raise OutputError(
                    f"{self.folder / name} was written by {who}; choose another --out, or pass --force to overwrite it."
                )

    def record(self) -> None:
        """Note the files as written by this configuration."""
        import json

        owners = {**self._owners(), **{name: self.hash for name in self.files}}
        blob = json.dumps(owners, indent=1, sort_keys=True).encode()
        atomic_write(self.folder / self.RECORD, lambda tmp: Path(tmp).write_bytes(blob))

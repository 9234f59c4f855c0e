"""The registry: entries by name, the cache root, zoo discovery, resolution and verification.

Cache layout: ``<cache root>/weights/<entry.filename>`` plus a small JSON sidecar
``<filename>.sha256.json`` written by ganeval: it holds the file's sha256 (recorded at download,
or at first use of a file placed by hand) with the size and modification time it was computed
for, so unchanged large files are not re-hashed on every use. ``verify`` always re-hashes.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.resources
import importlib.util
import json
import os
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from .. import registry
from ..errors import ChecksumError, GanevalValueError, OfflineError, WeightsNotFoundError
from ._entry import FORMATS, KINDS, WeightsEntry, check_name

__all__ = [
    "register",
    "unregister",
    "get_entry",
    "list_entries",
    "cache_root",
    "weights_dir",
    "sha256_file",
    "local_path",
    "is_cached",
    "resolve",
    "verify",
    "VerifyResult",
    "load_zoo_cards",
    "is_offline",
]

_ENTRIES: dict[str, WeightsEntry] = {}
_LOADED = False
_SIDECAR_SUFFIX = ".sha256.json"
_TRUE = {"1", "true", "yes", "on"}


# --------------------------------------------------------------------------- registry


def _ensure_loaded() -> None:
    """Fill the registry on first use (catalog, then zoo cards): no I/O at import time."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    from ._catalog import builtin_entries

    for entry in [*builtin_entries(), *load_zoo_cards()]:
        _add(entry)


def _add(entry: WeightsEntry) -> None:
    if entry.name in _ENTRIES:
        raise GanevalValueError(f"Argument `entry` must have a new name, but {entry.name!r} is already registered.")
    if not entry.is_zoo:
        for other in _ENTRIES.values():
            if not other.is_zoo and other.filename == entry.filename:
                raise GanevalValueError(
                    f"Argument `entry` must have a file name not used by another entry, but {entry.filename!r} "
                    f"of {entry.name!r} is already the file of {other.name!r}."
                )
    _ENTRIES[entry.name] = entry


def register(entry: WeightsEntry) -> WeightsEntry:
    """Add ``entry`` to the registry; its name and cache file name must both be new.

    A ``generator`` entry also becomes a generator name of :mod:`ganeval.registry` (loadable by
    :func:`ganeval.load_generator`); :func:`unregister` removes it there too.
    """
    if not isinstance(entry, WeightsEntry):
        raise GanevalValueError(f"Argument `entry` must be a WeightsEntry, but got {type(entry).__name__}.")
    _ensure_loaded()
    _add(entry)
    if entry.kind == "generator":  # loadable by name: ganeval.load_generator looks names up in ganeval.registry
        try:
            registry.register("generator", entry.name, partial(resolve, entry.name), description=entry.description)
        except GanevalValueError:
            del _ENTRIES[entry.name]
            raise
    return entry


def unregister(name: str) -> WeightsEntry:
    """Remove the entry called ``name`` and return it (for tests and plugins)."""
    entry = get_entry(name)
    del _ENTRIES[entry.name]
    if entry.kind == "generator" and registry.has("generator", entry.name):
        registry.unregister("generator", entry.name)
    return entry


def get_entry(name: str) -> WeightsEntry:
    """The entry called ``name``; the error suggests close names."""
    _ensure_loaded()
    entry = _ENTRIES.get(name) if isinstance(name, str) else None
    if entry is None:
        check_name(name)
        close = difflib.get_close_matches(name, list(_ENTRIES), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise WeightsNotFoundError(
            f"Argument `name` must be a registered weights name (see `ganeval weights list`), but got {name!r}.{hint}"
        )
    return entry


def list_entries(kind: str | None = None) -> list[WeightsEntry]:
    """Every registered entry (built-in order, then zoo, then user registrations), optionally of one kind."""
    _ensure_loaded()
    if kind is not None and kind not in KINDS:
        raise GanevalValueError(f"Argument `kind` must be one of {', '.join(KINDS)}, but got {kind!r}.")
    return [e for e in _ENTRIES.values() if kind is None or e.kind == kind]


# --------------------------------------------------------------------------- zoo cards


def _pretrained_files() -> list[Path]:
    """Files of the packaged ``ganeval._pretrained`` folder, or of ``<repo>/pretrained`` in a checkout."""
    try:
        root = importlib.resources.files("ganeval._pretrained")
        children = [Path(str(c)) for c in root.iterdir() if isinstance(c, Path)]
        if children:
            return children
    except ModuleNotFoundError:
        pass
    fallback = Path(__file__).resolve().parents[2] / "pretrained"
    return sorted(fallback.iterdir()) if fallback.is_dir() else []


def load_zoo_cards(directory: str | os.PathLike[str] | None = None) -> list[WeightsEntry]:
    """Build ``zoo:<name>`` entries from the JSON cards in ``directory`` (default: the packaged folder).

    A card is a JSON object with ``name`` and ``kind``; it must also give ``sha256`` and the
    weights file (``file``, or ``weights`` as in a native-format config), relative to the card.
    Optional keys ``format``, ``licence``/``license``, ``source``, ``description`` and ``size``
    fill the entry. JSON files with neither ``name`` nor ``kind`` are not cards and are skipped;
    a card missing a key raises, naming the card and the key.
    """
    files = sorted(Path(directory).iterdir()) if directory is not None else _pretrained_files()
    entries = []
    for card_path in sorted(p for p in files if p.suffix == ".json" and p.is_file()):
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise GanevalValueError(
                f"Zoo card {card_path} must be a JSON object, but reading it failed: {exc}."
            ) from exc
        if not isinstance(card, dict) or not ({"name", "kind"} & card.keys()):
            continue
        entries.append(_card_entry(card_path, card))
    return entries


def _card_entry(card_path: Path, card: dict) -> WeightsEntry:
    file = card.get("file", card.get("weights"))
    given = {"name": card.get("name"), "kind": card.get("kind"), "file": file, "sha256": card.get("sha256")}
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise GanevalValueError(
            f"Zoo card {card_path} must have the keys name, kind, file, sha256, but it lacks {', '.join(missing)}."
        )
    name, kind, path = str(card["name"]), str(card["kind"]), card_path.parent / str(file)
    fmt = card.get("format")
    if fmt == "ganeval-native" or (fmt is None and kind == "generator"):
        fmt = "native"
    elif fmt not in FORMATS:  # descriptive only: an unknown label must not hide the model
        fmt = "safetensors" if path.suffix == ".safetensors" else "other"
    return WeightsEntry(
        name=name if name.startswith("zoo:") else f"zoo:{name}",
        kind=kind,
        filename=path.name,
        sha256=str(card["sha256"]),
        size=card.get("size"),
        licence=str(card.get("licence", card.get("license", "MIT (ganeval)"))),
        source=str(card.get("source", f"trained by ganeval; card {card_path.name}")),
        description=str(card.get("description", "")),
        format=fmt,
        packaged_path=path,
    )


# --------------------------------------------------------------------------- cache


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache root.

    Precedence: ``cache_dir``, then ``$GANEVAL_HOME``, then ``$XDG_CACHE_HOME/ganeval``, then
    ``~/.cache/ganeval``. Empty environment variables count as unset.
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    home = os.environ.get("GANEVAL_HOME")
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ganeval"


def weights_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Folder holding downloaded weights: ``cache_root(cache_dir) / "weights"``."""
    return cache_root(cache_dir) / "weights"


def is_offline(offline: bool | None = None) -> bool:
    """``offline`` if given, else whether ``GANEVAL_OFFLINE`` is set to 1/true/yes/on."""
    if offline is not None:
        return bool(offline)
    return os.environ.get("GANEVAL_OFFLINE", "").strip().lower() in _TRUE


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Lower-case hex sha256 of the file at ``path`` (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def local_path(name: str, *, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the file of entry ``name`` is (zoo: inside the package) or would be once downloaded."""
    entry = get_entry(name)
    if entry.packaged_path is not None:
        return entry.packaged_path
    return weights_dir(cache_dir) / entry.filename


def is_cached(name: str, *, cache_dir: str | os.PathLike[str] | None = None) -> bool:
    """Whether the file of ``name`` exists locally (existence only; nothing is hashed)."""
    return local_path(name, cache_dir=cache_dir).is_file()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + _SIDECAR_SUFFIX)


def _read_sidecar(path: Path) -> dict | None:
    try:
        data = json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("sha256"), str) else None


def _write_sidecar(path: Path, sha: str) -> None:
    st = path.stat()
    record = {"sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    tmp = _sidecar(path).with_name(_sidecar(path).name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, _sidecar(path))


def _expected(entry: WeightsEntry, path: Path) -> tuple[str | None, str]:
    """(full sha256 the file must have or None, where that value comes from)."""
    if entry.sha256 is not None and not entry.sha256_is_prefix:
        return entry.sha256, "registry"
    record = _read_sidecar(path)
    if record is not None:
        return record["sha256"], f"recorded at first download in {_sidecar(path).name}"
    return None, "none recorded yet"


def _check_file(entry: WeightsEntry, path: Path, *, rehash: bool) -> str:
    """Verify ``path`` against everything known about ``entry``; return its sha256.

    Raises ChecksumError naming the file, the expected and the actual value.
    """
    st = path.stat()
    record = None if entry.is_zoo else _read_sidecar(path)
    unchanged = record is not None and record.get("size") == st.st_size and record.get("mtime_ns") == st.st_mtime_ns
    # an unchanged file (size and mtime as when ganeval hashed it) keeps its recorded hash
    actual = record["sha256"] if record is not None and unchanged and not rehash else sha256_file(path)
    expected, origin = _expected(entry, path) if not entry.is_zoo else (entry.sha256, "zoo card")
    if entry.is_zoo:
        fix = "The installation is damaged: reinstall ganeval."
    else:
        origin_url = entry.urls[0] if entry.urls else entry.source
        fix = f"Delete it and run `ganeval weights fetch {entry.name}`, or replace it with the file from {origin_url}."
    if entry.sha256 is not None and not actual.startswith(entry.sha256):
        raise ChecksumError(
            f"Weights file {path} of `{entry.name}` has sha256 {actual}, but the registry expects "
            f"{'a digest starting with ' if entry.sha256_is_prefix else ''}{entry.sha256}. {fix}"
        )
    if expected is not None and actual != expected:
        raise ChecksumError(
            f"Weights file {path} of `{entry.name}` has sha256 {actual}, but {expected} was expected ({origin}). {fix}"
        )
    if expected is None and entry.size is not None and st.st_size != entry.size:
        raise ChecksumError(
            f"Weights file {path} of `{entry.name}` has {st.st_size} bytes, but the registry expects "
            f"{entry.size} bytes. {fix}"
        )
    if not entry.is_zoo and not (record is not None and unchanged and record["sha256"] == actual):
        try:
            _write_sidecar(path, actual)  # first use of a file placed by hand: record, enforce from now on
        except OSError as exc:
            # a read-only shared cache still serves verified files; only the record is skipped
            warnings.warn(f"Could not record the sha256 of {path} ({exc}); it is re-hashed on each use.", stacklevel=3)
    return actual


def _package_copy(entry: WeightsEntry) -> Path | None:
    """An identical copy installed by a pip package (e.g. lpips' linear weights), if present."""
    if entry.package_file is None or entry.sha256 is None or entry.sha256_is_prefix:
        return None
    package, rel = entry.package_file
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / rel
        if candidate.is_file() and sha256_file(candidate) == entry.sha256:
            return candidate
    return None


# --------------------------------------------------------------------------- resolve / verify


def _resolve_path(name: str | os.PathLike[str]) -> Path | None:
    """A local file named directly (not a registry name); None if ``name`` is not path-like."""
    named_path = isinstance(name, str) and (
        os.sep in name or "/" in name or name.startswith(".") or Path(name).exists()
    )
    if not (isinstance(name, os.PathLike) or named_path):
        return None
    path = Path(name).expanduser()
    if not path.is_file():
        raise WeightsNotFoundError(
            f"Argument `name` must be a registered weights name or an existing file, but {str(path)!r} does not exist."
        )
    return path


def resolve(
    name: str | os.PathLike[str],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
    download: bool = True,
    progress: bool = True,
) -> Path:
    """Return the verified local path of the weights called ``name``, downloading them if needed.

    ``name`` is a registry name (``"stylegan2-ffhq-config-f"``, ``"zoo:shapes-stylegan"``) or the
    path of an existing local file, which is returned as is (nothing to check it against).

    Args:
        cache_dir: cache root; default ``$GANEVAL_HOME`` or the user cache folder (see :func:`cache_root`).
        offline: never use the network; default from ``GANEVAL_OFFLINE``.
        download: allow a download when the file is missing.
        progress: show a download progress bar on stderr.

    Raises:
        OfflineError: missing and offline; the message names the entry, the URL and the exact path
            where to put the file.
        WeightsNotFoundError: missing and ``download=False`` or every URL failed (same message).
        ChecksumError: the local or downloaded file differs from the registry or the recorded hash.
    """
    _ensure_loaded()
    direct = _resolve_path(name) if not (isinstance(name, str) and name in _ENTRIES) else None
    if direct is not None:
        return direct
    entry = get_entry(str(name))
    if entry.packaged_path is not None:
        if not entry.packaged_path.is_file():
            raise WeightsNotFoundError(
                f"Weights `{entry.name}` must be shipped at {entry.packaged_path}, but the file is missing: "
                "the installation is incomplete, reinstall ganeval."
            )
        _check_file(entry, entry.packaged_path, rehash=True)
        return entry.packaged_path
    path = weights_dir(cache_dir) / entry.filename
    if path.is_file():
        _check_file(entry, path, rehash=False)
        return path
    copy = _package_copy(entry)
    if copy is not None:
        return copy
    url = entry.urls[0]
    if is_offline(offline):
        raise OfflineError(
            f"Weights `{entry.name}` are not in the cache and offline mode is on (GANEVAL_OFFLINE / --offline): "
            f"download {url} and save it as {path}."
        )
    if not download:
        raise WeightsNotFoundError(
            f"Weights `{entry.name}` are not in the cache and downloading is disabled: "
            f"download {url} and save it as {path}."
        )
    from .download import download_file

    expected = entry.sha256
    record = _read_sidecar(path)  # the file was deleted but its recorded hash survives: enforce it
    if record is not None and (expected is None or len(expected) < 64):
        expected = record["sha256"]
    label = f"`{entry.name}` ({entry.filename})"
    actual = download_file(entry.urls, path, sha256=expected, size=entry.size, progress=progress, label=label)
    _write_sidecar(path, actual)
    return path


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`: ``status`` is ``"ok"``, ``"missing"`` or ``"mismatch"``."""

    name: str
    path: Path
    status: str
    sha256: str | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def verify(name: str, *, cache_dir: str | os.PathLike[str] | None = None) -> VerifyResult:
    """Re-hash the local file of ``name`` and compare it with the registry or the recorded hash."""
    entry = get_entry(name)
    path = local_path(name, cache_dir=cache_dir)
    if not path.is_file():
        copy = _package_copy(entry)
        if copy is None:
            return VerifyResult(entry.name, path, "missing", message=f"{path} does not exist")
        path = copy
    try:
        sha = _check_file(entry, path, rehash=True)
    except ChecksumError as exc:
        return VerifyResult(entry.name, path, "mismatch", message=str(exc))
    return VerifyResult(entry.name, path, "ok", sha256=sha)

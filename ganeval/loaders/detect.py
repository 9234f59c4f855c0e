"""Recognise a checkpoint's format from its content (magic bytes and structure), not its name.

Containers, by their first bytes:

- ``PK\\x03\\x04``: a zip archive, i.e. ``torch.save`` output (rosinality checkpoints, state dicts);
- ``\\x80\\x02\\x8a\\x0a\\x6c\\xfc\\x9c\\x46\\xf9\\x20\\x6a\\xa8\\x50\\x19``: the legacy (pre-1.6) ``torch.save`` magic;
- ``\\x80`` + protocol 2..5: a plain pickle (NVIDIA TF or torch network pickle), read with the
  restricted unpickler;
- ``\\xfd7zXZ\\x00``: xz-compressed zip or pickle content (e.g. a compressed rosinality checkpoint);
- 8-byte little-endian length + ``{``: safetensors (native weights, or a bare ada state dict);
- ``{``: JSON (a native config);
- a directory: a native ``<name>.safetensors`` + ``<name>.json`` pair inside.

The result names the *format* (``nvidia-tf-pickle``, ``nvidia-torch-pickle``, ``rosinality``,
``stylegan2-state-dict``, ``native``) together with the object read, so nothing is read twice.
"""

from __future__ import annotations

import io
import json
import lzma
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CheckpointError, UnsafePickleError, WeightsNotFoundError
from .safe_pickle import PersistentRecord, TFNetworkStub, safe_load

__all__ = ["Checkpoint", "read_checkpoint", "detect_format", "FORMATS"]

FORMATS: tuple[str, ...] = ("nvidia-tf-pickle", "nvidia-torch-pickle", "rosinality", "stylegan2-state-dict", "native")

_ZIP = b"PK\x03\x04"
_XZ = b"\xfd7zXZ\x00"
_TORCH_LEGACY = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
_EXPECTED = (
    "a generator checkpoint (NVIDIA TF or torch network pickle, rosinality .pt, ganeval native .safetensors + .json)"
)


@dataclass
class Checkpoint:
    """A recognised checkpoint: ``format`` (one of :data:`FORMATS`), the object read
    (``payload``), the file it came from and extra provenance (e.g. ``compression``)."""

    format: str
    payload: Any
    path: Path
    extra: dict[str, Any] = field(default_factory=dict)


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format name of the checkpoint at ``path`` (see :func:`read_checkpoint`)."""
    return read_checkpoint(path).format


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Recognise and read the checkpoint at ``path`` without executing anything from it."""
    p = Path(path).expanduser()
    if not p.exists():
        raise WeightsNotFoundError(f"Checkpoint {p} does not exist; expected {_EXPECTED}.")
    if p.is_dir():
        return _read_directory(p)
    size = p.stat().st_size
    if size == 0:
        raise CheckpointError(f"Cannot load {p}: expected {_EXPECTED}, but the file is empty (0 bytes).")
    with open(p, "rb") as f:
        head = f.read(16)
    if head.startswith(_XZ):
        data = _decompress_xz(p, size)
        ckpt = _read_bytes(data, p, data[:16])
        ckpt.extra["compression"] = "xz"
        return ckpt
    if _is_safetensors(p, head, size):
        return _read_safetensors(p)
    if head.lstrip()[:1] == b"{":
        return _read_json(p)
    return _read_bytes(p, p, head)


# network weights are nearly incompressible; even block-structured test checkpoints stay near 50x
_XZ_MAX_RATIO = 256
_XZ_SLACK = 64 * 2**20


def _decompress_xz(p: Path, size: int) -> bytes:
    """The xz content, refusing a stream that expands beyond 256x its size + 64 MiB (a
    decompression bomb) before that much memory is used."""
    cap = _XZ_MAX_RATIO * size + _XZ_SLACK
    dec = lzma.LZMADecompressor()
    try:
        data = dec.decompress(p.read_bytes(), max_length=cap + 1)
    except lzma.LZMAError as exc:
        raise CheckpointError(
            f"Cannot load {p}: expected a complete xz stream, but decompression failed: {exc}."
        ) from None
    if len(data) > cap:
        raise CheckpointError(
            f"Cannot load {p}: expected xz-compressed weights (at most {_XZ_MAX_RATIO}x expansion), "
            f"but it expands beyond {cap} bytes (a decompression bomb?)."
        )
    if not dec.eof:
        raise CheckpointError(f"Cannot load {p}: expected a complete xz stream, but it ends early (truncated file?).")
    return data


def _read_bytes(data: bytes | Path, p: Path, head: bytes) -> Checkpoint:
    """Zip / legacy torch / pickle content, from a path or from decompressed bytes."""
    if not head:
        raise CheckpointError(f"Cannot load {p}: expected {_EXPECTED}, but it holds no data.")
    if head.startswith(_ZIP) or head.startswith(_TORCH_LEGACY):
        ckpt = Checkpoint("rosinality", _torch_load(data, p), p)
        ckpt.extra["container"] = _torch_container(data, p, head)
        return ckpt
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        seen: set[str] = set()
        ckpt = _classify_pickle(safe_load(io.BytesIO(data) if isinstance(data, bytes) else data, seen=seen), p)
        ckpt.extra["pickle_protocol"] = head[1]
        writer = _numpy_writer(seen)
        if writer:
            ckpt.extra["numpy_writer"] = writer
        return ckpt
    raise CheckpointError(
        f"Cannot load {p}: expected {_EXPECTED}, but its first bytes {head[:8]!r} match none of them."
    )


def _torch_load(data: bytes | Path, p: Path) -> Any:
    """``torch.load`` with ``weights_only`` semantics; the one extra class allowed is
    ``argparse.Namespace``, which rosinality's train.py stores as ``args`` (rebuilt as a plain
    attribute container, nothing called), scoped to this call."""
    import argparse
    import pickle

    import torch

    head = data[:16] if isinstance(data, bytes) else _head(p)
    if head[:4] == _ZIP:
        _check_zip(data, p)
    else:  # the pre-1.6 format: storages sized from the file's own headers, checked first
        _check_legacy(data, p)
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(io.BytesIO(data) if isinstance(data, bytes) else p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's text goes on to suggest unsafe remedies; name only the offending global
        found = re.search(r"(?:GLOBAL|global) `?([\w.]+)", str(exc))
        raise UnsafePickleError(
            f"Cannot load {p}: expected a torch checkpoint holding only tensors, plain containers and the "
            f"argparse.Namespace of rosinality's train.py (read with weights_only semantics), but it references "
            f"{'`' + found.group(1) + '`' if found else 'another object'}; nothing from the file was executed."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, IndexError, struct.error) as exc:
        # torch's messages run on for several sentences: keep the first
        first = str(exc).strip().splitlines()[0].split(". ")[0][:200] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"Cannot load {p}: expected a complete torch checkpoint, but reading failed "
            f"(truncated or corrupt?): {first}"
        ) from None


def _torch_container(data: bytes | Path, p: Path, head: bytes) -> str:
    """The torch.save container: the zip format (torch >= 1.6; newer torch adds .format_version)
    or the legacy stream (torch < 1.6, or _use_new_zipfile_serialization=False)."""
    if not head.startswith(_ZIP):
        return "legacy torch.save stream (torch < 1.6 format)"
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else p) as zf:
        names = zf.namelist()
    newer = any(n.endswith("/.format_version") for n in names)
    return "torch zip (torch >= 1.6" + (", with .format_version: a recent torch)" if newer else ")")


def _numpy_writer(seen: set[str]) -> str | None:
    """Which NumPy pickled the arrays/scalars, from the module path it wrote (None: no NumPy)."""
    if any(g.startswith("numpy._core.") for g in seen):
        return "NumPy >= 2 (numpy._core)"
    if any(g.startswith("numpy.core.") for g in seen):
        return "NumPy < 2 (numpy.core)"
    return None


def _head(p: Path) -> bytes:
    with open(p, "rb") as f:
        return f.read(16)


def _check_legacy(data: bytes | Path, p: Path) -> None:
    from .safe_pickle import check_legacy_torch_stream

    if isinstance(data, bytes):
        check_legacy_torch_stream(io.BytesIO(data), len(data), str(p))
    else:
        with open(p, "rb") as f:
            check_legacy_torch_stream(f, p.stat().st_size, str(p))


def _check_zip(data: bytes | Path, p: Path) -> None:
    """Verify every member's CRC-32 (torch.load does not): a changed byte is an error, not a
    silently different weight. Member sizes are checked against the file by zipfile itself."""
    import zipfile
    import zlib

    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else p) as zf:
            bad = zf.testzip()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
        lzma.LZMAError,
        RuntimeError,
        zlib.error,
    ) as exc:
        raise CheckpointError(
            f"Cannot load {p}: expected a complete torch zip checkpoint, but the archive is "
            f"corrupt or truncated: {str(exc)[:160]}"
        ) from None
    if bad is not None:
        raise CheckpointError(
            f"Cannot load {p}: expected an intact torch zip checkpoint, but member {bad!r} fails "
            "its CRC-32 check (corrupt file)."
        )
    _check_zip_sizes(data, p)


def _check_zip_sizes(data: bytes | Path, p: Path) -> None:
    """Storage sizes claimed in ``data.pkl`` must match their records, and every tensor view must
    fit its storage: torch would otherwise grow a storage (uninitialised memory, or gigabytes)."""
    import zipfile

    from .safe_pickle import dry_run_torch_pickle, element_size

    with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else p) as zf:
        members = {i.filename: i.file_size for i in zf.infolist()}
        pkl = [n for n in members if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkl) != 1:
            raise CheckpointError(f"Cannot load {p}: expected one data.pkl in the torch zip, but found {len(pkl)}.")
        if members[pkl[0]] > 256 * 2**20:
            raise CheckpointError(f"Cannot load {p}: expected a small data.pkl, but it claims {members[pkl[0]]} bytes.")
        run = dry_run_torch_pickle(zf.read(pkl[0]), str(p))
    prefix = pkl[0][: -len("data.pkl")]
    for key, ref in run.storages.items():
        stored = members.get(f"{prefix}data/{key}")
        if stored is None or ref.numel < 0 or ref.numel * element_size(ref.type_name) > stored:
            raise CheckpointError(
                f"Cannot load {p}: storage {key!r} claims {ref.numel} elements of "
                f"{ref.type_name}, but its record holds {stored} bytes (corrupt file)."
            )


def _classify_pickle(obj: Any, p: Path) -> Checkpoint:
    if isinstance(obj, TFNetworkStub) or (
        isinstance(obj, tuple) and obj and all(isinstance(o, TFNetworkStub) for o in obj)
    ):
        return Checkpoint("nvidia-tf-pickle", obj, p)
    if isinstance(obj, dict) and any(isinstance(v, PersistentRecord) for v in obj.values()):
        return Checkpoint("nvidia-torch-pickle", obj, p)
    if isinstance(obj, PersistentRecord):
        return Checkpoint("nvidia-torch-pickle", {"G_ema": obj}, p)
    raise CheckpointError(
        f"Cannot load {p}: expected an NVIDIA network pickle ((G, D, Gs) tuple or dict with G_ema), "
        f"but it holds a {type(obj).__name__}."
    )


def _is_safetensors(p: Path, head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return head[8:9] == b"{" and 8 + n <= size


def _read_safetensors(p: Path) -> Checkpoint:
    from ..models.native import read_config

    config = p.with_suffix(".json")
    if config.exists():
        try:
            read_config(config)
            return Checkpoint("native", p, p)
        except CheckpointError:
            pass  # a JSON beside it that is not a native config: read the file as a bare state dict
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return Checkpoint("stylegan2-state-dict", load_file(str(p)), p)
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(
            f"Cannot load {p}: expected a complete safetensors file, but reading failed: {exc}"
        ) from None


def _read_json(p: Path) -> Checkpoint:
    try:
        config = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(
            f"Cannot load {p}: expected a ganeval native JSON config, but it is not valid JSON: {exc}."
        ) from None
    if not isinstance(config, dict) or config.get("format") != "ganeval-native":
        raise CheckpointError(
            f'Cannot load {p}: expected a ganeval native config ("format": "ganeval-native"), but this JSON '
            "file is something else."
        )
    return Checkpoint("native", p, p)


def _read_directory(p: Path) -> Checkpoint:
    pairs = sorted(c for c in p.glob("*.json") if c.with_suffix(".safetensors").exists())
    if len(pairs) == 1:
        return Checkpoint("native", p, p)
    found = sorted(x.name for x in p.iterdir())
    listing = ", ".join(found[:6]) + (", ..." if len(found) > 6 else "") if found else "nothing"
    raise CheckpointError(
        f"Cannot load directory {p}: expected exactly one native <name>.safetensors + <name>.json pair "
        f"(or pass a checkpoint file), but found {len(pairs)} pair(s) among: {listing}."
    )

"""Reading ``.npy`` / ``.npz`` files that may be truncated, corrupt or lying about their size.

Every array's header (dtype, shape) is read and checked against the bytes actually stored
BEFORE anything is allocated: a 100-byte file whose header claims ``[2**40]`` float32 is refused
in microseconds instead of allocating terabytes. Object arrays (pickles) are never loaded.
Every failure is a :class:`~ganeval.errors.CheckpointError` naming the file and what is wrong.
"""

from __future__ import annotations

import io
import math
import struct
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from .errors import CheckpointError

__all__ = ["read_npz", "npz_names", "open_npy", "ArrayHeader", "MAX_ARRAY_BYTES"]

MAX_ARRAY_BYTES = 64 << 30  # no array ganeval reads legitimately comes near 64 GiB
# what NumPy and zipfile raise on corrupt input: a bad compression method is NotImplementedError
# (a RuntimeError), a garbled header dict a tokenize.TokenError or SyntaxError
_READ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    IndexError,
    TypeError,
    RuntimeError,
    SyntaxError,
    tokenize.TokenError,
    struct.error,
    OverflowError,
)


class ArrayHeader:
    """dtype, shape and payload size of one ``.npy`` record, as its header states them."""

    def __init__(self, dtype: np.dtype, shape: tuple[int, ...], offset: int) -> None:
        self.dtype, self.shape, self.offset = dtype, shape, offset
        self.nbytes = math.prod(shape) * dtype.itemsize


def _header(f: IO[bytes], where: str) -> ArrayHeader:
    """Parse the header at the start of ``f``; refuse object dtypes."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"unknown .npy format version {version}")
    except _READ_ERRORS as exc:
        raise CheckpointError(f"Cannot read {where}: not a valid .npy record ({exc}).") from None
    if dtype.hasobject:
        raise CheckpointError(
            f"Cannot read {where}: it holds Python objects (dtype {dtype}); only numeric "
            "arrays are read (loading objects could execute code)."
        )
    return ArrayHeader(dtype, tuple(int(s) for s in shape), f.tell())


def _check_size(h: ArrayHeader, stored: int, where: str, max_bytes: int) -> None:
    if h.nbytes > max_bytes:
        raise CheckpointError(
            f"Cannot read {where}: its header declares {h.dtype} {list(h.shape)} "
            f"({h.nbytes:,} bytes), more than the {max_bytes:,} allowed."
        )
    if stored != h.nbytes:
        raise CheckpointError(
            f"Cannot read {where}: its header declares {h.dtype} {list(h.shape)} "
            f"({h.nbytes:,} bytes) but {stored:,} bytes are stored (truncated or corrupt file)."
        )


_BOMB_BYTES, _BOMB_RATIO = 256 << 20, 200  # deflate tops out near 1000:1; real arrays compress far less


def _check_ratio(info: zipfile.ZipInfo, where: str) -> None:
    """Refuse a compressed member that would inflate enormously from a few bytes (a zip bomb)."""
    if (
        info.compress_type != zipfile.ZIP_STORED
        and info.file_size > _BOMB_BYTES
        and info.file_size > _BOMB_RATIO * max(info.compress_size, 1)
    ):
        raise CheckpointError(
            f"Cannot read {where}: {info.compress_size:,} compressed bytes would inflate to "
            f"{info.file_size:,} (a zip bomb?)."
        )


def read_npz(
    path: str | Path, *, keys: tuple[str, ...] | None = None, max_bytes: int = MAX_ARRAY_BYTES
) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` (only ``keys`` when given, those present), each verified first.

    Raises:
        CheckpointError: empty, not a zip, a member truncated/corrupt/over ``max_bytes``, or an
            object array.
    """
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as zf:
            members = {n[:-4]: n for n in zf.namelist() if n.endswith(".npy")}
            wanted = [k for k in (keys if keys is not None else sorted(members)) if k in members]
            out: dict[str, np.ndarray] = {}
            for k in wanted:
                where = f"{str(p)!r} (array {k!r})"
                info = zf.getinfo(members[k])
                _check_ratio(info, where)
                with zf.open(info) as f:
                    h = _header(f, where)
                    _check_size(h, info.file_size - h.offset, where, max_bytes)
                with zf.open(info) as f:
                    # typeshed wants a raw stream for BufferedReader; a ZipExtFile reads the same way
                    out[k] = np.lib.format.read_array(io.BufferedReader(f), allow_pickle=False)  # type: ignore[type-var]
    except CheckpointError:
        raise
    except _READ_ERRORS as exc:
        raise _not_npz(p, exc) from None
    if not members:
        raise CheckpointError(f"Cannot read {str(p)!r}: the .npz archive holds no arrays.")
    return out


def _not_npz(p: Path, exc: BaseException) -> CheckpointError:
    """The one-line error for a file that is empty or no readable ``.npz`` archive."""
    size = p.stat().st_size if p.is_file() else 0
    what = "an empty file" if size == 0 else f"not a readable .npz archive ({type(exc).__name__}: {exc})"
    return CheckpointError(f"Cannot read {str(p)!r}: {what}.")


def npz_names(path: str | Path) -> list[str]:
    """The array names of an ``.npz`` (sorted); CheckpointError when it is not one or holds none."""
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as zf:
            names = sorted(n[:-4] for n in zf.namelist() if n.endswith(".npy"))
    except _READ_ERRORS as exc:
        raise _not_npz(p, exc) from None
    if not names:
        raise CheckpointError(f"Cannot read {str(p)!r}: the .npz archive holds no arrays.")
    return names


def open_npy(path: str | Path, *, max_bytes: int = MAX_ARRAY_BYTES) -> np.ndarray:
    """A read-only memory map of an ``.npy`` file whose header matches its size."""
    p = Path(path)
    try:
        size = p.stat().st_size
        with open(p, "rb") as f:
            h = _header(f, repr(str(p)))
        _check_size(h, size - h.offset, repr(str(p)), max_bytes)
        if h.nbytes == 0:
            return np.empty(h.shape, h.dtype)
        return np.load(p, mmap_mode="r", allow_pickle=False)
    except CheckpointError:
        raise
    except _READ_ERRORS as exc:
        raise CheckpointError(f"Cannot read {str(p)!r}: {type(exc).__name__}: {exc}.") from None

"""The sample loop every metric runs on: per-sample work over index batches.

A metric supplies ``fn(indices) -> {name: array}``, a pure function of the sample indices
(every random draw inside derives from (seed, index), see :mod:`ganeval._seeding`).
:func:`map_samples` calls it over ``[0, num_samples)`` and returns the arrays concatenated in
index order. Because ``fn`` depends only on the indices, the result is the same for any batch
size, any number of processes and any resume point. This loop is the one place that handles:

- sharding under torch.distributed: batch ``b`` runs on rank ``b % world_size``; after each
  round the per-sample results are gathered in index order on every rank;
- resuming: with ``run_dir``, completed samples are written as atomic ``.npz`` chunks next to
  the configuration hash; the same call after a crash (even ``kill -9``) continues from the
  last chunk, and a folder of another configuration is refused;
- faults: CUDA out-of-memory halves the per-call batch and retries (reported); Ctrl-C keeps
  the completed chunks and raises :class:`RunInterrupted` saying how to resume;
- progress: a tqdm bar on a terminal, plain periodic lines otherwise, JSON lines for machine
  logs, or nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import distributed as dist
from ._io import atomic_write, file_mode
from ._validate import check_positive_int
from .errors import OutputError, RunFolderMismatchError
from .results import to_jsonable

__all__ = ["map_samples", "ChunkFn", "Gathered", "RunInterrupted", "config_hash", "PROGRESS_MODES"]

log = logging.getLogger("ganeval")

ChunkFn = Callable[[np.ndarray], dict[str, np.ndarray]]
PROGRESS_MODES = ("auto", "bar", "lines", "json", "quiet")
_CHUNK_SAMPLES = 1024  # flush a resume chunk once min(this, num_samples // 20) samples are pending ...
_CHUNK_SECONDS = 30.0  # ... or this long after the last flush
_CHUNK_NAME = re.compile(r"(\d{10})-(\d{10})\.npz")


class Gathered(dict):
    """``{name: array}`` in index order, plus how the loop got there.

    Attributes:
        num_done: samples in the arrays.
        resumed: samples read back from an earlier run's chunks.
        oom_retries: times the per-call batch was halved after CUDA out-of-memory.
        stopped_early: ``stop_when`` ended the loop before ``num_samples``.
        discarded: resume chunks that failed verification and were recomputed (``path: reason``).
    """

    num_done: int = 0
    resumed: int = 0
    oom_retries: int = 0
    stopped_early: bool = False
    discarded: tuple[str, ...] = ()


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`map_samples`; completed chunks were kept in ``run_dir``."""

    def __init__(self, done: int, total: int, run_dir: Path | None) -> None:
        self.done, self.total, self.run_dir = done, total, run_dir
        where = (
            f"; {done} completed samples are kept in {run_dir}: run the same command again to resume"
            if run_dir is not None
            else "; nothing was kept (no run folder was given)"
        )
        super().__init__(f"interrupted after {done} of {total} samples{where}.")


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``config`` (everything that affects per-sample results)."""
    blob = json.dumps(to_jsonable(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


_CHUNK_META = "__ganeval_chunk__"  # JSON record inside every chunk: range, config hash, checksum


def _checksum(arrays: Mapping[str, np.ndarray]) -> str:
    """sha256 over the names, dtypes, shapes and bytes of ``arrays`` (in name order)."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}|{a.dtype.str}|{list(a.shape)}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


class _CorruptChunk(Exception):
    """A resume chunk failed verification (internal: the chunk is discarded and recomputed)."""


class _RunFolder:
    """Atomic per-sample chunks under ``run_dir/chunks`` keyed by a configuration hash.

    Every chunk ``<start>-<end>.npz`` holds, besides the arrays, a JSON record with its sample
    range, the configuration hash and a sha256 over the arrays' names, dtypes, shapes and bytes.
    On reuse each chunk is verified against its file name, the record, the checksum and
    the layout of the chunks before it; a chunk that fails is reported with its path, deleted and
    recomputed (with every later chunk, which no longer continues a verified prefix).
    """

    def __init__(self, run_dir: Path, config: dict[str, Any]) -> None:
        self.dir = Path(run_dir)
        self.chunks = self.dir / "chunks"
        self.hash = config_hash(config)
        self.config = config
        self.discarded: list[str] = []
        self._to_delete: list[Path] = []

    def open(self, write: bool) -> None:
        """Create (rank 0) or validate the folder; refuse a folder of another configuration."""
        meta = self.dir / "run-config.json"
        if meta.exists():
            old = self._stored_hash(meta)
            if old is not None and old != self.hash:
                raise RunFolderMismatchError(
                    f"Run folder {self.dir} holds a run with another configuration (hash {str(old)[:12]}, "
                    f"this run {self.hash[:12]}); use another output folder or delete that one."
                )
            if old is not None or not write:
                return
        if not write:
            return
        try:
            self.chunks.mkdir(parents=True, exist_ok=True)
            blob = json.dumps({"config_hash": self.hash, "config": to_jsonable(self.config)}, indent=2).encode()
            atomic_write(meta, lambda tmp: Path(tmp).write_bytes(blob))
        except OSError as exc:
            raise OutputError(
                f"Cannot write the run folder {self.dir}: {exc.strerror or exc}; choose a writable output folder."
            ) from exc

    @staticmethod
    def _stored_hash(meta: Path) -> str | None:
        """The configuration hash in ``run-config.json``; None (and a warning) when it is unreadable.

        Every chunk carries the hash too, so an unreadable record is rewritten, not trusted.
        """
        try:
            rec = json.loads(meta.read_text(encoding="utf-8")) if meta.stat().st_size < (1 << 24) else None
            old = rec.get("config_hash") if isinstance(rec, dict) else None
        except (OSError, ValueError, RecursionError):
            old = None
        if not isinstance(old, str):
            log.warning(
                "run folder record %s is unreadable; it is rewritten (chunks carry their own "
                "configuration hash and are verified one by one)",
                meta,
            )
            return None
        return old

    def _read_chunk(
        self, path: Path, start: int, end: int, layout: dict[str, tuple[str, tuple[int, ...]]] | None
    ) -> dict[str, np.ndarray]:
        """The verified arrays of one chunk; :class:`_CorruptChunk` naming what is wrong otherwise."""
        from ._npfile import read_npz
        from .errors import CheckpointError

        try:  # every member's header is checked against its stored size before anything is allocated
            arrays = read_npz(path, max_bytes=max(1 << 20, path.stat().st_size * 2))
        except (CheckpointError, OSError) as exc:
            raise _CorruptChunk(f"unreadable: {exc}") from None
        raw = arrays.pop(_CHUNK_META, None)
        try:
            rec = json.loads(str(raw)) if raw is not None and raw.dtype.kind == "U" and raw.ndim == 0 else None
        except (ValueError, RecursionError):
            rec = None
        if not isinstance(rec, dict):
            raise _CorruptChunk("it carries no integrity record (written by an older version or by hand)")
        expect = {"start": start, "end": end, "config_hash": self.hash, "sha256": _checksum(arrays)}
        for key, want in expect.items():
            if rec.get(key) != want:
                raise _CorruptChunk(
                    f"its {key} does not match (recorded {str(rec.get(key))[:16]!r}, expected {str(want)[:16]!r})"
                )
        if not arrays:
            raise _CorruptChunk("it holds no arrays")
        for k, a in arrays.items():
            if a.ndim == 0 or a.shape[0] != end - start:
                raise _CorruptChunk(f"array {k!r} has shape {list(a.shape)}, expected {end - start} rows")
            if layout is not None and layout.get(k) != (a.dtype.str, a.shape[1:]):
                raise _CorruptChunk(f"array {k!r} ({a.dtype} {list(a.shape)}) differs from the earlier chunks")
        if layout is not None and set(layout) != set(arrays):
            raise _CorruptChunk(f"it holds arrays {sorted(arrays)}, the earlier chunks {sorted(layout)}")
        return arrays

    def load(self) -> tuple[dict[str, list[np.ndarray]], int]:
        """Read back the verified contiguous prefix of completed samples.

        Chunks after a gap are orphans (ignored). A chunk failing verification is deleted with
        every later one, reported in ``self.discarded`` and a warning, and recomputed.
        """
        parts: dict[str, list[np.ndarray]] = {}
        done = 0
        if not self.chunks.is_dir():
            return parts, 0
        # only finished chunks count; a temp file left by a kill mid-write is ignored
        spans = sorted(
            (int(m.group(1)), int(m.group(2)), p) for p in self.chunks.iterdir() if (m := _CHUNK_NAME.fullmatch(p.name))
        )
        layout: dict[str, tuple[str, tuple[int, ...]]] | None = None
        for i, (start, end, path) in enumerate(spans):
            if start != done:
                break
            try:
                if end <= start:
                    raise _CorruptChunk("its name gives an empty sample range")
                arrays = self._read_chunk(path, start, end, layout)
            except _CorruptChunk as exc:
                self._discard(path, str(exc), [p for _, _, p in spans[i + 1 :]])
                break
            layout = {k: (a.dtype.str, a.shape[1:]) for k, a in arrays.items()}
            for k, a in arrays.items():
                parts.setdefault(k, []).append(a)
            done = end
        return parts, done

    def _discard(self, path: Path, why: str, later: list[Path]) -> None:
        log.warning(
            "resume chunk %s is corrupt (%s); it%s is deleted and recomputed",
            path,
            why,
            f" and {len(later)} later chunk(s)" if later else "",
        )
        self.discarded.append(f"{path}: {why}")
        self._to_delete = [path, *later]

    def delete_discarded(self) -> None:
        """Delete the chunks :meth:`load` rejected (rank 0, after every rank has read the folder)."""
        for p in self._to_delete:
            try:
                p.unlink(missing_ok=True)
            except OSError as exc:
                raise OutputError(
                    f"Resume chunk {p} failed verification and cannot be deleted "
                    f"({exc.strerror or exc}); delete {self.chunks} and run the same command "
                    "again."
                ) from None

    def write(self, start: int, end: int, arrays: dict[str, np.ndarray]) -> None:
        path = self.chunks / f"{start:010d}-{end:010d}.npz"
        record = {"start": start, "end": end, "config_hash": self.hash, "sha256": _checksum(arrays)}
        try:
            fd, tmp = tempfile.mkstemp(dir=self.chunks, prefix=".tmp-", suffix=".npz")
            with os.fdopen(fd, "wb") as f:
                # numpy's stub lets ** fill savez's allow_pickle; these keys are array names
                np.savez(f, **arrays, **{_CHUNK_META: np.array(json.dumps(record))})  # type: ignore[arg-type]
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, file_mode())  # the umask's mode, as every other file ganeval writes
            os.replace(tmp, path)
        except OSError as exc:
            if "tmp" in locals() and os.path.exists(tmp):
                os.unlink(tmp)
            raise OutputError(
                f"Cannot write a result chunk to {self.chunks}: {exc.strerror or exc}; "
                "completed chunks are kept, free space and run the same command again."
            ) from exc


class _ConcatView(Mapping):
    """Read-only ``{name: concatenated array}`` that concatenates a key only when it is read.

    ``stop_when`` runs after every round; most callers read one small array, so joining every
    array every round (quadratic in the run length for wide ones like latents) is avoided.
    """

    def __init__(self, parts: dict[str, list[np.ndarray]]) -> None:
        self._parts = parts
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._cache:
            self._cache[key] = np.concatenate(self._parts[key])
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)


class _Progress:
    """Progress on stderr: tqdm bar, plain lines every few seconds, JSON lines, or nothing."""

    def __init__(self, mode: str, total: int, desc: str, initial: int) -> None:
        if mode == "auto":
            mode = "bar" if sys.stderr.isatty() else "lines"
        self.mode = mode if dist.is_main() else "quiet"
        self.total, self.desc, self.start_done = total, desc, initial
        self.t0 = self.last = time.monotonic()
        self.bar = None
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, unit="sample", file=sys.stderr, dynamic_ncols=True)

    def update(self, done: int, final: bool = False) -> None:
        if self.bar is not None:
            self.bar.n = done
            self.bar.refresh()
            return
        now = time.monotonic()
        if self.mode == "quiet" or (not final and now - self.last < 5.0):
            return
        self.last = now
        rate = (done - self.start_done) / max(now - self.t0, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        if self.mode == "json":
            rec = {
                "event": "progress",
                "desc": self.desc,
                "done": done,
                "total": self.total,
                "samples_per_s": round(rate, 3),
                "eta_s": None if eta == float("inf") else round(eta, 1),
            }
            print(json.dumps(rec), file=sys.stderr, flush=True)
        else:
            eta_s = "?" if eta == float("inf") else f"{eta:.0f}s"
            print(f"{self.desc}: {done}/{self.total} samples ({rate:.1f}/s, ETA {eta_s})", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Caller:
    """Calls ``fn``, halving the per-call batch after CUDA out-of-memory (kept a multiple of ``multiple``)."""

    def __init__(self, fn: ChunkFn, batch_size: int, multiple: int = 1) -> None:
        self.fn, self.max_call, self.multiple, self.oom_retries = fn, batch_size, multiple, 0
        self.layout: dict[str, tuple[str, tuple[int, ...]]] | None = None  # of the first call (or the resumed chunks)

    def __call__(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        import torch

        from .devices import full_fp32

        outs: list[dict[str, np.ndarray]] = []
        pos = 0
        while pos < len(idx):
            piece = idx[pos : pos + self.max_call]
            try:
                with full_fp32():  # every metric's forwards in true float32 (TF32 off; restored after)
                    outs.append(self._checked(self.fn(piece), len(piece)))
            except torch.cuda.OutOfMemoryError:
                if self.max_call <= self.multiple:
                    raise
                torch.cuda.empty_cache()
                self.max_call = max(self.multiple, (self.max_call // 2) // self.multiple * self.multiple)
                self.oom_retries += 1
                log.warning("CUDA out of memory; retrying with batches of %d samples", self.max_call)
                continue
            pos += len(piece)
        if len(outs) == 1:
            return outs[0]
        return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}

    def _checked(self, out: Any, rows: int) -> dict[str, np.ndarray]:
        """``out`` as arrays, checked: a dict of arrays with ``rows`` rows, laid out as the first call's."""
        from .errors import GanevalValueError

        if not isinstance(out, Mapping) or not out:
            raise GanevalValueError(
                f"The per-sample function must return a non-empty dict of arrays, but returned {type(out).__name__}."
            )
        arrays = {str(k): np.asarray(v) for k, v in out.items()}
        for k, a in arrays.items():
            if a.dtype == object or a.ndim == 0 or a.shape[0] != rows:
                raise GanevalValueError(
                    f"The per-sample function returned {k!r} with shape {list(a.shape)} (dtype {a.dtype}) for "
                    f"{rows} sample indices; every output must have one row per index (a model returning "
                    "more or fewer items than it was given?)."
                )
        layout = {k: (a.dtype.str, a.shape[1:]) for k, a in arrays.items()}
        if self.layout is None:
            self.layout = layout
        elif layout != self.layout:
            raise GanevalValueError(
                f"The per-sample function changed its outputs between batches: {_fmt_layout(self.layout)} "
                f"before, {_fmt_layout(layout)} now; a model whose output size varies cannot be evaluated."
            )
        return arrays


def _fmt_layout(layout: Mapping[str, tuple[str, tuple[int, ...]]]) -> str:
    return ", ".join(
        f"{k} {np.dtype(d).name} [*, {', '.join(map(str, shape))}]".replace(", ]", "]")
        for k, (d, shape) in sorted(layout.items())
    )


def _progress_mode(progress: Any) -> str:
    aliases: dict[object, Any] = {None: "auto", True: "auto", False: "quiet"}
    mode = aliases.get(progress, progress) if isinstance(progress, (str, bool, type(None))) else progress
    if not isinstance(mode, str) or mode not in PROGRESS_MODES:
        from .errors import GanevalValueError

        raise GanevalValueError(
            f"Argument `progress` must be one of {', '.join(PROGRESS_MODES)}, but got {progress!r}."
        )
    return mode


def map_samples(
    fn: ChunkFn,
    num_samples: int,
    *,
    batch_size: int,
    desc: str = "samples",
    progress: bool | str | None = None,
    stop_when: Callable[[Mapping[str, np.ndarray]], bool] | None = None,
    min_samples: int = 0,
    run_dir: str | Path | None = None,
    config: dict[str, Any] | None = None,
    batch_multiple: int = 1,
) -> Gathered:
    """Run ``fn`` over sample indices ``0 .. num_samples - 1`` and gather the results.

    Args:
        fn: maps an int64 index array ``[B]`` to arrays whose first dimension is ``B``; it must
            depend on the indices only.
        num_samples: total number of samples (upper bound when ``stop_when`` is given).
        batch_size: indices per call of ``fn`` (per process).
        desc: label of the progress output.
        progress: ``"auto"`` (bar on a terminal, lines otherwise; also ``None``/``True``),
            ``"bar"``, ``"lines"``, ``"json"`` or ``"quiet"`` (also ``False``). Rank 0 only.
        stop_when: called after each round with everything gathered so far; returning True ends
            the loop early (never before ``min_samples``). Sees identical data on every rank.
        min_samples: lower bound on the samples done before ``stop_when`` may stop the loop.
        run_dir: folder for resumable chunks (written by rank 0); ``None`` keeps nothing.
        config: everything that affects the per-sample results; its hash guards ``run_dir``.
        batch_multiple: calls of ``fn`` always cover a multiple of this many samples (e.g. a
            classifier whose minibatch statistics span groups of 4), also after an OOM retry.

    Returns:
        :class:`Gathered`: ``{name: array}`` in index order, identical on every rank.
    """
    mode = _progress_mode(progress)
    num_samples = check_positive_int("num_samples", num_samples, minimum=0)
    batch_size = check_positive_int("batch_size", batch_size)
    batch_multiple = check_positive_int("batch_multiple", batch_multiple)
    min_samples = check_positive_int("min_samples", min_samples, minimum=0)
    world, rank = dist.world_size(), dist.rank()
    folder = _RunFolder(Path(run_dir), config or {}) if run_dir is not None else None
    parts: dict[str, list[np.ndarray]] = {}
    done = 0
    if folder is not None:
        if dist.is_main():
            folder.open(write=True)
        dist.barrier()
        folder.open(write=False)
        parts, done = folder.load()
        dist.barrier()  # every rank has read the folder before rank 0 deletes a rejected chunk
        if dist.is_main():
            folder.delete_discarded()
    out = Gathered()
    out.resumed = min(done, num_samples)
    out.discarded = tuple(folder.discarded) if folder is not None else ()
    call = _Caller(fn, batch_size, batch_multiple)
    if parts:  # new batches must continue the resumed chunks' layout
        call.layout = {k: (v[0].dtype.str, v[0].shape[1:]) for k, v in parts.items()}
    bar = _Progress(mode, num_samples, desc, initial=min(done, num_samples))
    pending: dict[str, list[np.ndarray]] = {}
    pending_start, last_flush = done, time.monotonic()
    chunk_samples = max(1, min(_CHUNK_SAMPLES, num_samples // 20))  # a kill loses at most ~5 % of a run

    def flush() -> None:
        nonlocal pending, pending_start, last_flush
        if folder is not None and dist.is_main() and pending:
            end = pending_start + sum(len(a) for a in next(iter(pending.values())))
            folder.write(pending_start, end, {k: np.concatenate(v) for k, v in pending.items()})
            pending_start = end
        pending, last_flush = {}, time.monotonic()

    try:
        while done < num_samples:
            start = done + rank * batch_size
            idx = np.arange(start, min(start + batch_size, num_samples), dtype=np.int64)
            mine = call(idx) if len(idx) else None
            for piece in dist.all_gather_object(mine) if world > 1 else [mine]:
                if piece is None:
                    continue
                for k, v in piece.items():
                    parts.setdefault(k, []).append(v)
                    pending.setdefault(k, []).append(v)
            done = min(done + world * batch_size, num_samples)
            if folder is not None and (
                sum(len(a) for a in next(iter(pending.values()), [])) >= chunk_samples
                or time.monotonic() - last_flush > _CHUNK_SECONDS
            ):
                flush()
            bar.update(done)
            if stop_when is not None and min_samples <= done < num_samples and stop_when(_ConcatView(parts)):
                out.stopped_early = True
                break
        flush()
    except KeyboardInterrupt as exc:
        bar.close()
        flush()
        raise RunInterrupted(
            pending_start if folder is not None else 0, num_samples, folder.dir if folder is not None else None
        ) from exc
    bar.update(done, final=True)
    bar.close()
    # a resumed folder may hold more samples than asked for now: keep the first num_samples
    out.update({k: np.concatenate(v)[:num_samples] for k, v in parts.items()})
    out.num_done = min(done, num_samples)
    out.oom_retries = call.oom_retries
    return out

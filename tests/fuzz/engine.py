"""A file-mutation fuzzer over ganeval's readers of untrusted files.

Each :class:`Target` writes a valid seed file, reads a file the way ganeval does, and states
what an accepted result must satisfy. Mutations of the seed (truncation at many offsets, byte
flips, inserted bytes, headers that lie about shapes and dtypes, wrong types in every field of
a JSON config) are read one by one and each outcome is classified:

- ``refused``: a :class:`ganeval.errors.GanevalError` with a one-line message (the goal for bad input);
- ``recovered``: the damage was detected, reported and repaired (a resume chunk recomputed), and
  the result is right;
- ``accepted``: read, and the result passes the target's invariant (harmless mutations: a
  flipped byte inside a float, an ignored field);
- ``traceback``: any other exception (a bug);
- ``multiline``: a GanevalError whose message spans several lines;
- ``hang``: over the per-case time limit;
- ``memory``: the process's peak RSS grew by more than ``MEMORY_LIMIT`` while reading;
- ``wrong``: accepted, but the invariant fails (a silently wrong number);
- ``lost``: the reader changed or removed a file it must leave alone.

Used by ``tests/test_fuzz_inputs.py`` (a bounded number of cases) and
``benchmarks/fuzz_inputs.py`` (many more, printed as a table).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import resource
import signal
import struct
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUTCOMES = ("refused", "recovered", "accepted", "traceback", "multiline", "hang", "memory", "wrong", "lost")
BAD = ("traceback", "multiline", "hang", "memory", "wrong", "lost")
MEMORY_LIMIT = 1 << 30  # bytes of peak-RSS growth one case may cause
CASE_SECONDS = 20.0


class _Timeout(Exception):
    pass


@dataclass
class Case:
    """One mutated input: its label and the bytes to write (or a function that builds the file)."""

    label: str
    data: bytes


@dataclass
class Target:
    """A reader under test.

    Attributes:
        name: table row label.
        suffix: file suffix the reader dispatches on.
        seed: writes a valid file into a folder and returns its path.
        read: reads a path as ganeval does; returns what ``check`` inspects.
        check: returns ``None`` when an accepted result is right, else what is wrong.
        mutate: yields extra, format-aware cases (lying headers, wrong field types).
        reset: prepares the folder before each case (e.g. a run folder); optional.
        recovered: whether a right result came from detecting and repairing damage; optional.
    """

    name: str
    suffix: str
    seed: Callable[[Path], Path]
    read: Callable[[Path], Any]
    check: Callable[[Any], str | None]
    mutate: Callable[[bytes, random.Random], Iterator[Case]] = lambda data, rng: iter(())
    reset: Callable[[Path, bytes], Path] | None = None
    recovered: Callable[[Any], bool] | None = None


@dataclass
class Tally:
    """Outcome counts of one target and the first few bad cases (label: message)."""

    counts: Counter = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)

    def add(self, outcome: str, label: str, detail: str) -> None:
        self.counts[outcome] += 1
        if outcome in BAD and len(self.bad) < 10:
            self.bad.append(f"{outcome}: {label}: {detail[:300]}")


# ------------------------------------------------------------------------------------ generic mutations


def byte_mutations(data: bytes, rng: random.Random, n: int) -> Iterator[Case]:
    """Truncations at spread and random offsets, byte flips, inserted and zeroed runs."""
    size = len(data)
    offsets = sorted({0, 1, 8, 16, 64, 128, size // 2, size - 1, *[rng.randrange(size) for _ in range(n)]})
    for off in [o for o in offsets if 0 <= o < size][: max(2, n // 2)]:
        yield Case(f"truncate@{off}", data[:off])
    for _ in range(n):
        pos = rng.randrange(size)
        b = bytearray(data)
        b[pos] = rng.randrange(256)
        yield Case(f"byte@{pos}", bytes(b))
    for _ in range(max(1, n // 4)):
        pos = rng.randrange(size)
        yield Case(f"insert@{pos}", data[:pos] + os.urandom(rng.randrange(1, 9)) + data[pos:])
        end = min(size, pos + rng.randrange(1, 64))
        yield Case(f"zero@{pos}-{end}", data[:pos] + bytes(end - pos) + data[end:])


def npy_header_lies(npy: bytes) -> Iterator[tuple[str, bytes]]:
    """``.npy`` records whose header states another shape or dtype than the payload holds."""
    head_len = struct.unpack("<H", npy[8:10])[0]
    header = npy[10 : 10 + head_len].decode("latin1")
    payload = npy[10 + head_len :]
    import ast

    d = ast.literal_eval(header)
    shape = d["shape"]
    lies = {
        "huge-shape": {**d, "shape": (2**40, *shape[1:])},
        "huge-dim": {**d, "shape": (*shape[:-1], 2**31)} if shape else {**d, "shape": (2**31,)},
        "neg-shape": {**d, "shape": (-1, *shape[1:])},
        "extra-row": {**d, "shape": (shape[0] + 1, *shape[1:])} if shape else {**d, "shape": (2,)},
        "object-dtype": {**d, "descr": "|O"},
        "f8-dtype": {**d, "descr": "<f8"},
        "string-dtype": {**d, "descr": "<U7"},
        "scalar": {**d, "shape": ()},
        "fortran": {**d, "fortran_order": True},
    }
    for label, h in lies.items():
        text = repr(h)
        text = text + " " * ((64 - (10 + len(text) + 1) % 64) % 64) + "\n"
        yield label, npy[:8] + struct.pack("<H", len(text)) + text.encode("latin1") + payload


def npz_member_cases(npz: bytes) -> Iterator[Case]:
    """Rebuild an ``.npz`` with one member's header lying, a member removed or renamed, or not a zip."""
    src = zipfile.ZipFile(io.BytesIO(npz))
    names = src.namelist()
    for victim in names:
        for label, member in npy_header_lies(src.read(victim)):
            yield Case(f"{victim}:{label}", _zip({n: (member if n == victim else src.read(n)) for n in names}))
        yield Case(f"{victim}:removed", _zip({n: src.read(n) for n in names if n != victim}))
        yield Case(f"{victim}:garbage", _zip({n: (b"garbage" if n == victim else src.read(n)) for n in names}))
    yield Case("empty-zip", _zip({}))
    yield Case("empty-file", b"")
    yield Case("not-a-zip", b"PK\x03\x04" + b"\x00" * 40)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    return buf.getvalue()


def json_field_cases(doc: Any, path: tuple[str, ...] = ()) -> Iterator[Case]:
    """The JSON document with every field (recursively) replaced by values of the wrong type/size."""
    bad_values = ["abc", None, [1, 2], {"a": 1}, True, -1, 0, 10**7, 10**30, 1e308, -1e308, 0.5, "", [[[]]]]
    if isinstance(doc, dict):
        items = list(doc.items())
    elif isinstance(doc, list):
        items = list(enumerate(doc))[:3]
    else:
        return
    for k, v in items:
        for bad in bad_values:
            if bad == v and type(bad) is type(v):
                continue
            yield Case(
                f"{'.'.join(map(str, (*path, str(k))))}={json.dumps(bad)[:20]}",
                json.dumps(_replace(doc, k, bad)).encode(),
            )
        for sub in json_field_cases(v, (*path, str(k))):
            yield Case(sub.label, json.dumps(_replace(doc, k, json.loads(sub.data))).encode())


def _replace(doc: Any, key: Any, value: Any) -> Any:
    out = json.loads(json.dumps(doc))
    out[key] = value
    return out


# ------------------------------------------------------------------------------------ running


def _classify(target: Target, path: Path, protected: dict[Path, str]) -> tuple[str, str]:
    from ganeval.errors import GanevalError

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    old = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    try:
        result = target.read(path)
        problem = target.check(result)
        fixed = not problem and target.recovered is not None and target.recovered(result)
        outcome, detail = ("wrong", problem) if problem else ("recovered", "") if fixed else ("accepted", "")
    except _Timeout:
        outcome, detail = "hang", f"over {CASE_SECONDS} s"
    except GanevalError as exc:
        msg = str(exc)
        outcome, detail = ("multiline", msg) if "\n" in msg.strip() else ("refused", msg)
    except Exception as exc:  # the point: anything else is a bug to report
        outcome, detail = "traceback", f"{type(exc).__name__}: {exc}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss0
    if grown > MEMORY_LIMIT:
        outcome, detail = "memory", f"peak RSS grew by {grown >> 20} MiB"
    for p, digest in protected.items():
        if not p.exists() or _sha(p) != digest:
            outcome, detail = "lost", f"{p} was changed or removed"
    return outcome, detail


def _raise_timeout(signum: int, frame: Any) -> None:
    raise _Timeout()


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def run_target(
    target: Target, workdir: Path, *, cases: int, seed: int = 0, protected: list[Path] | None = None
) -> Tally:
    """Run up to ``cases`` mutations of ``target``'s seed file (format-aware ones first)."""
    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    seed_path = target.seed(workdir / "seed")
    data = seed_path.read_bytes()
    structured = list(target.mutate(data, rng))
    rng.shuffle(structured)
    generic = list(byte_mutations(data, rng, max(4, cases)))
    chosen = structured[: cases // 2] + generic[: cases - min(len(structured), cases // 2)]
    tally = Tally()
    guard = {p: _sha(p) for p in (protected or []) + [seed_path]}
    for i, case in enumerate(chosen[:cases]):
        case_dir = workdir / f"case{i:04d}"
        case_dir.mkdir(parents=True, exist_ok=True)
        path = target.reset(case_dir, case.data) if target.reset else case_dir / f"input{target.suffix}"
        if target.reset is None:
            path.write_bytes(case.data)
        t0 = time.perf_counter()
        outcome, detail = _classify(target, path, guard)
        tally.add(outcome, case.label, f"{detail} ({time.perf_counter() - t0:.2f} s)")
    return tally


def format_table(rows: dict[str, Tally]) -> str:
    """A Markdown table: target, cases tried, then one column per outcome."""
    head = "| target | cases | " + " | ".join(OUTCOMES) + " |"
    sep = "|" + "---|" * (len(OUTCOMES) + 2)
    lines = [head, sep]
    total = Counter()
    for name, t in rows.items():
        total.update(t.counts)
        lines.append(f"| {name} | {sum(t.counts.values())} | " + " | ".join(str(t.counts[o]) for o in OUTCOMES) + " |")
    lines.append(f"| **all** | {sum(total.values())} | " + " | ".join(str(total[o]) for o in OUTCOMES) + " |")
    return "\n".join(lines)

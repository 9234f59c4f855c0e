"""Fuzzing the torch loaders with producer-layout files: truncations, byte mutations, lying headers.

Every case must end in a one-line CheckpointError that names the file (never suggesting
``weights_only=False``), or load and reproduce the producer's outputs. The one exception is a
changed byte inside the raw tensor bytes of a network pickle: the pickle format has no checksum,
so such a file loads with a different weight (counted as ``differs``, outputs finite). A torch zip
has CRC-32s, which ganeval checks, so there every changed data byte is an error. No case may hang
(each is timed) or allocate gigabytes (the process's data limit is lowered while fuzzing, and an
allocation failure is reported as such, not hidden). Counts are printed per target.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import pickletools
import random
import resource
import struct
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from _producer_layout import FIXTURES, ada_snapshot_bytes, records, rosinality_checkpoint
from safetensors.torch import load_file

from ganeval import load_generator
from ganeval.errors import CheckpointError, UnsafePickleError
from ganeval.loaders.safe_pickle import safe_load

pytestmark = pytest.mark.usefixtures("one_thread")
SEED = 12
MAX_CASE_SECONDS = 10.0
HEADROOM = 1536 * 2**20  # bytes of extra data segment allowed while fuzzing


@pytest.fixture
def limited_memory():
    """Lower RLIMIT_DATA (private mappings included since Linux 4.7) to the current use + 1.5 GiB."""
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    used = _vm_data()
    if used is None:
        yield
        return
    limit = used + HEADROOM if hard == resource.RLIM_INFINITY else min(used + HEADROOM, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


def _vm_data() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _outputs(name: str) -> dict[str, torch.Tensor]:
    io_ = load_file(str(FIXTURES / name / "io.safetensors"))
    return {k: v[:1] for k, v in io_.items()}


def _close(got: torch.Tensor, want: torch.Tensor, rtol: float) -> bool:
    """Within rtol x max|want| (batch 1 here, the reference ran a batch: never assert bit-identity)."""
    assert torch.isfinite(got).all()
    return float((got - want).abs().max()) <= rtol * float(want.abs().max())


def _check_ada(G, io_: dict[str, torch.Tensor]) -> bool:
    with torch.no_grad():
        return _close(G.mapping(io_["z"]), io_["ws"], 1e-6) and _close(
            G.synthesis(io_["ws"], noise_mode="const"), io_["img_const"], 2e-5
        )


def _check_ros(G, io_: dict[str, torch.Tensor]) -> bool:
    with torch.no_grad():
        ws = G.mapping(io_["z"])
        return _close(ws, io_["latents"], 1e-6) and _close(G.synthesis(ws, noise_mode="const"), io_["img"], 2e-5)


def _run_case(path: Path, data: bytes, check: Callable, may_differ: bool) -> str:
    """Write ``data`` to ``path`` and load it; the outcome: 'error', 'reproduced' or 'differs'."""
    path.write_bytes(data)
    start = time.monotonic()
    try:
        G = load_generator(path)
    except CheckpointError as exc:
        msg = str(exc)
        assert str(path) in msg and "\n" not in msg, msg
        assert "weights_only=False" not in msg and "allocate" not in msg.lower(), msg
        outcome = "error"
    else:
        outcome = "reproduced" if check(G, _IO[path.suffix]) else "differs"
        assert outcome == "reproduced" or may_differ, f"{path}: loaded but does not reproduce the outputs"
    assert time.monotonic() - start < MAX_CASE_SECONDS
    return outcome


_IO: dict[str, dict[str, torch.Tensor]] = {}


def _tensor_payload_spans(data: bytes) -> list[tuple[int, int]]:
    """Byte spans of the storage payloads (BINBYTES arguments) in a pickle stream."""
    spans = []
    header = {"SHORT_BINBYTES": 2, "BINBYTES": 5, "BINBYTES8": 9}
    for op, arg, pos in pickletools.genops(data):
        if op.name in header and isinstance(arg, bytes) and len(arg) > 64:
            spans.append((pos + header[op.name], pos + header[op.name] + len(arg)))
    return spans


def _fuzz(
    tmp_path: Path,
    suffix: str,
    data: bytes,
    check: Callable,
    *,
    n_trunc: int,
    n_mut: int,
    payload_spans: list[tuple[int, int]],
) -> collections.Counter:
    rng = random.Random(SEED)
    counts: collections.Counter = collections.Counter()
    offsets = sorted(
        {0, 1, 2, 8, 16, 64, len(data) - 1, len(data) - 2} | {rng.randrange(len(data)) for _ in range(n_trunc)}
    )
    for i, off in enumerate(offsets):
        counts["truncated/" + _run_case(tmp_path / f"t{i}{suffix}", data[:off], check, may_differ=False)] += 1

    def in_payload(o):
        return any(a <= o < b for a, b in payload_spans)

    structural = [o for o in range(len(data)) if not in_payload(o)]
    for i in range(n_mut):
        # half the mutations hit the structure (opcodes, headers, names), half anywhere
        off = rng.choice(structural) if i % 2 == 0 else rng.randrange(len(data))
        mutated = bytearray(data)
        mutated[off] = (mutated[off] + rng.randrange(1, 256)) % 256
        outcome = _run_case(tmp_path / f"m{i}{suffix}", bytes(mutated), check, may_differ=in_payload(off))
        counts["mutated/" + outcome] += 1
    return counts


def test_fuzz_ada_snapshot(tmp_path, limited_memory):
    data = ada_snapshot_bytes("ada-r32-rgb", protocol=4)
    _IO[".pkl"] = _outputs("ada-r32-rgb")
    counts = _fuzz(tmp_path, ".pkl", data, _check_ada, n_trunc=24, n_mut=40, payload_spans=_tensor_payload_spans(data))
    print(f"\nfuzz ada snapshot ({len(data)} bytes): {dict(sorted(counts.items()))}")
    assert counts["truncated/error"] >= 24 and sum(counts.values()) >= 64


def test_fuzz_rosinality_train_zip(tmp_path, limited_memory):
    data = rosinality_checkpoint("rosinality-train-r32", tmp_path / "src.pt").read_bytes()
    _IO[".pt"] = _outputs("rosinality-train-r32")
    counts = _fuzz(tmp_path, ".pt", data, _check_ros, n_trunc=20, n_mut=30, payload_spans=[])
    print(f"\nfuzz rosinality train.py zip ({len(data)} bytes): {dict(sorted(counts.items()))}")
    assert counts["truncated/error"] >= 20 and sum(counts.values()) >= 50


def _legacy_data_start(data: bytes) -> int:
    """Offset where the raw storage data of a legacy torch.save stream begins (after five pickles)."""
    pos = 0
    for _ in range(5):
        for op, _arg, at in pickletools.genops(data[pos:]):
            if op.name == "STOP":
                pos += at + 1
                break
    return pos


def test_fuzz_rosinality_legacy_format(tmp_path, limited_memory):
    """The pre-1.6 torch.save format (what 2020-era rosinality runs wrote): no checksums, sizes in headers."""
    import argparse

    src = rosinality_checkpoint("rosinality-convert-r64", tmp_path / "src.pt")
    with torch.serialization.safe_globals([argparse.Namespace]):
        obj = torch.load(src, weights_only=True)
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    data = buf.getvalue()
    _IO[".pth"] = _outputs("rosinality-convert-r64")
    counts = _fuzz(
        tmp_path, ".pth", data, _check_ros, n_trunc=15, n_mut=20, payload_spans=[(_legacy_data_start(data), len(data))]
    )
    print(f"\nfuzz rosinality legacy torch.save ({len(data)} bytes): {dict(sorted(counts.items()))}")
    assert counts["truncated/error"] >= 15


def test_fuzz_bare_state_dict_safetensors(tmp_path, limited_memory):
    """A bare stylegan2-ada G_ema.state_dict() as safetensors (no checksum over the tensor bytes)."""
    data = (FIXTURES / "ada-r32-rgb" / "weights.safetensors").read_bytes()
    _IO[".safetensors"] = _outputs("ada-r32-rgb")
    header_end = 8 + struct.unpack("<Q", data[:8])[0]
    counts = _fuzz(
        tmp_path, ".safetensors", data, _check_ada, n_trunc=15, n_mut=20, payload_spans=[(header_end, len(data))]
    )
    print(f"\nfuzz bare state dict safetensors ({len(data)} bytes): {dict(sorted(counts.items()))}")
    assert counts["truncated/error"] >= 15


def test_fuzz_safe_pickle_direct():
    """safe_load alone: truncated streams end in CheckpointError naming the source, never anything else."""
    data = ada_snapshot_bytes("ada-r32-rgb", protocol=5)
    rng = random.Random(SEED)
    n = 0
    for off in sorted({rng.randrange(len(data)) for _ in range(40)}):
        with pytest.raises(CheckpointError, match="<bytes>"):
            safe_load(data[:off])
        n += 1
    print(f"\nfuzz safe_load: {n} truncations, all CheckpointError")


# ---- lying headers: each refused before anything of the claimed size exists ----


def _kwargs_node(tree: dict) -> list:
    """The [key, value] items of G_ema's _init_kwargs in a record tree."""
    for key, value in tree["G_ema"]["record"]["state"]["dict"]:
        if key == "_init_kwargs":
            return next(iter(value.values()))
    raise AssertionError("no _init_kwargs")


def _set_kwarg(tree: dict, path: list[str], value) -> None:
    items = _kwargs_node(tree)
    for name in path[:-1]:
        items = next(iter(next(v for k, v in items if k == name).values()))
    for item in items:
        if item[0] == path[-1]:
            item[1] = value
            return
    items.append([path[-1], value])


def _set_tensor(tree: dict, key: str, value) -> None:
    def walk(node):
        if isinstance(node, dict):
            if node.get("tensor") == key:
                return value
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    tree["G_ema"] = walk(tree["G_ema"])


LYING = {
    "num_layers=1e5": lambda t: _set_kwarg(t, ["mapping_kwargs", "num_layers"], 100000),
    "z_dim='abc'": lambda t: _set_kwarg(t, ["z_dim"], "abc"),
    "mapping_kwargs a list": lambda t: _set_kwarg(t, ["mapping_kwargs"], [1, 2]),
    "img_resolution=2**20": lambda t: _set_kwarg(t, ["img_resolution"], 2**20),
    "channel_base=2**24, channel_max=8192": lambda t: (
        _set_kwarg(t, ["synthesis_kwargs", "channel_base"], 2**24),
        _set_kwarg(t, ["synthesis_kwargs", "channel_max"], 8192),
    ),
    "w_dim=-1": lambda t: _set_kwarg(t, ["w_dim"], -1),
    "resample_filter of 10**6 taps": lambda t: _set_kwarg(t, ["synthesis_kwargs", "resample_filter"], [1] * 10**6),
    "state entry an int": lambda t: _set_tensor(t, "mapping.fc0.weight", 3),
    "state entry a string": lambda t: _set_tensor(t, "synthesis.b4.const", "x"),
    "wrong-rank tensor": lambda t: _set_tensor(
        t,
        "synthesis.b4.conv1.weight",
        {"tensor": "mapping.fc0.bias", "shape": [32], "dtype": "float32", "parameter": True},
    ),
}


@pytest.mark.parametrize("case", sorted(LYING))
def test_lying_header_is_refused(tmp_path, limited_memory, case):
    tree = records("ada-r32-rgb")
    LYING[case](tree)
    path = tmp_path / "snap.pkl"
    path.write_bytes(ada_snapshot_bytes("ada-r32-rgb", protocol=4, tree=tree))
    start = time.monotonic()
    with pytest.raises(CheckpointError) as info:
        load_generator(path)
    assert time.monotonic() - start < MAX_CASE_SECONDS
    assert str(path) in str(info.value) and "\n" not in str(info.value)


class _Reduce:
    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


@pytest.mark.parametrize("payload", ["ndarray((2**28,), 'f4')", "_reconstruct huge shape"])
def test_numpy_allocation_bombs_are_refused(tmp_path, limited_memory, payload):
    obj = (
        _Reduce(np.ndarray, ((2**28,), "f4"))
        if payload.startswith("ndarray")
        else _Reduce(np._core.multiarray._reconstruct, (np.ndarray, (2**28,), b"b"))
    )
    path = tmp_path / "bomb.pkl"
    path.write_bytes(pickle.dumps({"G_ema": obj}, protocol=4))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError) as info:
        load_generator(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 256 * 1024  # KiB


def _legacy_storage_bytes(count: int, data: bytes) -> bytes:
    """A torch.storage._load_from_bytes payload whose header claims ``count`` elements."""
    buf = io.BytesIO()
    torch.save(torch.zeros(2).untyped_storage(), buf, _use_new_zipfile_serialization=False)
    raw = buf.getvalue()
    size_at = len(raw) - 8 - 8  # int64 count then 2 float32 = 8 bytes of data
    assert struct.unpack("<q", raw[size_at : size_at + 8])[0] == 8
    return raw[:size_at] + struct.pack("<q", count) + data


def test_lying_storage_header_is_refused(tmp_path, limited_memory):
    from torch.storage import _load_from_bytes

    bomb = _Reduce(_load_from_bytes, (_legacy_storage_bytes(2**40, b"\0" * 8),))
    path = tmp_path / "storage.pkl"
    path.write_bytes(pickle.dumps({"G_ema": bomb}, protocol=4))
    with pytest.raises(CheckpointError, match="claims 1099511627776 elements") as info:
        load_generator(path)
    assert str(path) in str(info.value)


def test_nested_pickle_refusal_names_file(tmp_path):
    """A storage payload whose inner pickle calls os.system: refused, nothing runs, no unsafe advice."""
    from torch.storage import _load_from_bytes

    marker = tmp_path / "ran"
    inner = io.BytesIO()
    torch.save(_Reduce(os.system, (f"touch {marker}",)), inner, _use_new_zipfile_serialization=False)
    path = tmp_path / "nested.pkl"
    path.write_bytes(pickle.dumps({"G_ema": _Reduce(_load_from_bytes, (inner.getvalue(),))}, protocol=4))
    with pytest.raises(UnsafePickleError) as info:
        load_generator(path)
    msg = str(info.value)
    assert str(path) in msg and "\n" not in msg and "weights_only=False" not in msg
    assert not marker.exists()


def test_one_changed_byte_in_torch_zip_is_an_error(tmp_path):
    import zipfile

    path = rosinality_checkpoint("rosinality-convert-r64", tmp_path / "ckpt.pt")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        member = next(i for i in zf.infolist() if "/data/" in i.filename and i.file_size > 64)
    start = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra)
    data[start + 17] ^= 0x01  # the lowest mantissa bit of one weight
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="CRC-32") as info:
        load_generator(path)
    assert str(path) in str(info.value)


def test_xz_decompression_bomb_is_refused(tmp_path, limited_memory):
    import lzma

    path = tmp_path / "bomb.pt.xz"
    path.write_bytes(lzma.compress(b"PK\x03\x04" + b"\0" * (600 * 2**20), preset=1))
    assert path.stat().st_size < 2**20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match="decompression bomb") as info:
        load_generator(path)
    assert str(path) in str(info.value)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB


def test_truncated_xz_is_refused(tmp_path):
    import lzma

    src = rosinality_checkpoint("rosinality-convert-r64", tmp_path / "c.pt").read_bytes()
    packed = lzma.compress(src)
    for cut in (10, len(packed) // 2, len(packed) - 1):
        path = tmp_path / f"c{cut}.pt.xz"
        path.write_bytes(packed[:cut])
        with pytest.raises(CheckpointError) as info:
            load_generator(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)
    path = tmp_path / "ok.pt.xz"
    path.write_bytes(packed)
    assert load_generator(path).provenance["compression"] == "xz"


def _rezip(src: bytes, edit: Callable[[bytes], bytes]) -> bytes:
    """The torch zip with data.pkl edited and every CRC recomputed (a hostile, not corrupt, file)."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            zout.writestr(info.filename, edit(body) if info.filename.endswith("data.pkl") else body)
    return out.getvalue()


@pytest.mark.parametrize("lie", ["tensor size", "storage numel"])
def test_torch_zip_lying_sizes_are_refused(tmp_path, limited_memory, lie):
    """Valid CRCs, but data.pkl claims 2**30 elements: refused before torch grows a storage."""
    buf = io.BytesIO()
    torch.save({"g_ema": {"w": torch.arange(7.0)}}, buf)
    # BININT1 7 then TUPLE1 is the size (7,); BININT1 7 then TUPLE closes the storage id's numel
    pattern = b"K\x07\x85" if lie == "tensor size" else b"K\x07t"
    huge = b"J" + struct.pack("<i", 2**30) + pattern[2:]
    edited = _rezip(buf.getvalue(), lambda body: body.replace(pattern, huge, 1))
    assert edited != buf.getvalue()
    path = tmp_path / "lying.pt"
    path.write_bytes(edited)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match="1073741824") as info:
        load_generator(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 256 * 1024  # KiB

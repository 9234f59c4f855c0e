"""The readers the fuzzer attacks, each with a valid seed file and the invariant of an accepted read."""

from __future__ import annotations

import json
import pickle
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .engine import Case, Target, json_field_cases, npy_header_lies, npz_member_cases

_RNG = np.random.default_rng(0)
_FEATS = _RNG.normal(size=(40, 6)) @ _RNG.normal(size=(6, 6))
MU, SIGMA = _FEATS.mean(0), np.cov(_FEATS, rowvar=False)


# ------------------------------------------------------------------------------------ statistics


def _stats_seed(folder: Path) -> Path:
    from ganeval.features.stats import FeatureStatistics

    folder.mkdir(parents=True, exist_ok=True)
    return FeatureStatistics(mu=MU, sigma=SIGMA, num_items=40, meta={"source": "fuzz seed"}).save(folder / "s.npz")


def _stats_read(path: Path) -> Any:
    from ganeval.features.stats import FeatureStatistics
    from ganeval.metrics.frechet import frechet_distance

    st = FeatureStatistics.load(path)
    return st, frechet_distance(st.mu, st.sigma, MU, SIGMA)


def _stats_check_exact(result: Any) -> str | None:
    """ganeval wrote the seed with a checksum: whatever is accepted must be the seed's numbers."""
    st, fd = result
    if not (np.array_equal(st.mu, MU) and np.array_equal(st.sigma, SIGMA)):
        return "statistics accepted with values that differ from the file ganeval wrote"
    return None if fd == 0.0 or abs(fd) < 1e-9 else f"FD {fd} between identical statistics"


def _stats_check_sane(result: Any) -> str | None:
    """No checksum in a foreign file: an accepted read must at least give a finite distance >= 0."""
    st, fd = result
    if not (np.isfinite(fd) and fd >= 0):
        return f"FD {fd}"
    if not (np.isfinite(st.mu).all() and np.isfinite(st.sigma).all()):
        return "non-finite statistics accepted"
    return None


def _npz_mutations(data: bytes, rng: random.Random) -> Iterator[Case]:
    yield from npz_member_cases(data)


def stats_npz() -> Target:
    return Target("statistics .npz (ganeval)", ".npz", _stats_seed, _stats_read, _stats_check_exact, _npz_mutations)


def _pytorch_fid_seed(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "s.npz", mu=MU, sigma=SIGMA)
    return folder / "s.npz"


def stats_npz_foreign() -> Target:
    return Target(
        "statistics .npz (pytorch-fid)", ".npz", _pytorch_fid_seed, _stats_read, _stats_check_sane, _npz_mutations
    )


def _pkl_seed(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    obj = {
        "capture_all": False,
        "capture_mean_cov": True,
        "max_items": None,
        "num_items": 40,
        "num_features": 6,
        "all_features": None,
        "raw_mean": _FEATS.sum(0),
        "raw_cov": _FEATS.T @ _FEATS,
    }
    (folder / "s.pkl").write_bytes(pickle.dumps(obj, protocol=4))
    return folder / "s.pkl"


def _pkl_mutations(data: bytes, rng: random.Random) -> Iterator[Case]:
    base = pickle.loads(data)
    for key in list(base):
        for bad in (
            "abc",
            None,
            [1, 2],
            -5,
            1,
            10**30,
            1e308,
            np.zeros(0),
            np.full(6, np.inf),
            np.ones((3, 3)),
            np.array(["x"]),
            {"a": 1},
        ):
            obj = dict(base, **{key: bad})
            yield Case(f"{key}={type(bad).__name__}", pickle.dumps(obj, protocol=4))
    yield Case("list", pickle.dumps([1, 2, 3]))
    yield Case("pair-of-strings", pickle.dumps(("a", "b")))


def stats_pkl() -> Target:
    return Target("statistics .pkl (NVIDIA)", ".pkl", _pkl_seed, _stats_read, _stats_check_sane, _pkl_mutations)


# ------------------------------------------------------------------------------------ image arrays

_IMAGES = _RNG.integers(0, 256, size=(6, 8, 8, 3), dtype=np.uint8)


def _npy_seed(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "a.npy", _IMAGES)
    return folder / "a.npy"


def _npz_images_seed(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "a.npz", images=_IMAGES)
    return folder / "a.npz"


def _images_read(path: Path) -> Any:
    from ganeval.features.sources import ArraySource

    src = ArraySource(path)
    return len(src), src.load(np.arange(min(len(src), 3)))


def _images_check(result: Any) -> str | None:
    n, batch = result
    for img in batch.images:
        if img is None or img.dtype.is_floating_point or img.ndim != 3 or img.shape[0] != 3:
            return f"image accepted as {None if img is None else (img.dtype, list(img.shape))}"
    return None if n >= 1 else "empty image set accepted"


def _npy_mutations(data: bytes, rng: random.Random) -> Iterator[Case]:
    for label, lie in npy_header_lies(data):
        yield Case(label, lie)
    yield Case("object-array", _npy_bytes(np.array([{"a": 1}, None], dtype=object), allow_pickle=True))
    yield Case("bool-images", _npy_bytes(_IMAGES > 127))
    yield Case("int64-images", _npy_bytes(_IMAGES.astype(np.int64)))
    yield Case("float-images", _npy_bytes(_IMAGES.astype(np.float32)))
    yield Case("zero-images", _npy_bytes(_IMAGES[:0]))
    yield Case("zero-width", _npy_bytes(np.zeros((3, 8, 0, 3), np.uint8)))
    yield Case("5-channels", _npy_bytes(np.zeros((3, 8, 8, 5), np.uint8)))


def _npy_bytes(a: np.ndarray, allow_pickle: bool = False) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=allow_pickle)
    return buf.getvalue()


def images_npy() -> Target:
    return Target("images .npy", ".npy", _npy_seed, _images_read, _images_check, _npy_mutations)


def images_npz() -> Target:
    return Target("images .npz", ".npz", _npz_images_seed, _images_read, _images_check, _npz_mutations)


# ------------------------------------------------------------------------------------ native config


def _native_seed(folder: Path) -> Path:
    import torch

    from ganeval.models.native import save_generator
    from ganeval.models.stylegan import StyleGAN

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    G = StyleGAN(z_dim=8, w_dim=8, img_resolution=8, mapping_layers=2, fmap_base=16, fmap_max=8)
    save_generator(G, folder / "g")
    return folder / "g.json"


def _native_reset(case_dir: Path, data: bytes) -> Path:
    seed = case_dir.parent / "seed"
    shutil.copyfile(seed / "g.safetensors", case_dir / "g.safetensors")
    (case_dir / "g.json").write_bytes(data)
    return case_dir / "g.json"


def _native_read(path: Path) -> Any:
    import torch

    from ganeval.models.native import load_native

    G = load_native(path)
    with torch.no_grad():
        return G(torch.zeros(2, G.z_dim), None)


def _native_check(img: Any) -> str | None:
    import torch

    return None if isinstance(img, torch.Tensor) and torch.isfinite(img).all() else "non-finite images"


def _native_mutations(data: bytes, rng: random.Random) -> Iterator[Case]:
    doc = json.loads(data)
    yield from json_field_cases(doc)
    yield Case("deep-nesting", b"[" * 100_000 + b"]" * 100_000)
    yield Case("huge-z_dim", json.dumps({**doc, "init_kwargs": {**doc["init_kwargs"], "z_dim": 10**7}}).encode())
    yield Case("not-utf8", b"\xff\xfe" + data)


def native_config() -> Target:
    return Target(
        "native config .json",
        ".json",
        _native_seed,
        _native_read,
        _native_check,
        _native_mutations,
        reset=_native_reset,
    )


# ------------------------------------------------------------------------------------ resume chunks

N_SAMPLES, BATCH = 480, 160


def _chunk_fn(idx: np.ndarray) -> dict[str, np.ndarray]:
    x = np.stack([np.sin(idx * 0.37), np.cos(idx * 1.3), idx / 7.0], axis=1).astype(np.float32)
    return {"x": x, "k": idx.astype(np.int64)}


def _run(run_dir: Path) -> dict[str, np.ndarray]:
    from ganeval.runtime import map_samples

    return map_samples(_chunk_fn, N_SAMPLES, batch_size=BATCH, progress="quiet", run_dir=run_dir, config={"fuzz": 1})


def _clean() -> dict[str, np.ndarray]:
    return _chunk_fn(np.arange(N_SAMPLES))


def _chunk_seed(folder: Path) -> Path:
    _run(folder / "run")
    return sorted((folder / "run" / "chunks").glob("[0-9]*.npz"))[1]  # the middle chunk: rows 160-320


def _chunk_reset(case_dir: Path, data: bytes) -> Path:
    seed_run = case_dir.parent / "seed" / "run"
    shutil.copytree(seed_run, case_dir / "run")
    victim = sorted((case_dir / "run" / "chunks").glob("[0-9]*.npz"))[1]
    victim.write_bytes(data)
    return case_dir / "run"


def _chunk_read(run_dir: Path) -> Any:
    return _run(run_dir)


def _chunk_check(out: Any) -> str | None:
    clean = _clean()
    for k, v in clean.items():
        if k not in out or out[k].shape != v.shape or not np.array_equal(out[k], v):
            return f"resumed result {k!r} differs from a clean run"
    return None


def _chunk_mutations(data: bytes, rng: random.Random) -> Iterator[Case]:
    import io

    with np.load(io.BytesIO(data)) as z:
        arrays = {k: z[k] for k in z.files}
    meta = "__ganeval_chunk__"

    def save(d: dict[str, np.ndarray]) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, **d)
        return buf.getvalue()

    yield Case("100-of-160-rows", save({k: (v if k == meta else v[:100]) for k, v in arrays.items()}))
    yield Case("values-x1000", save({k: (v * 1000 if k == "x" else v) for k, v in arrays.items()}))
    yield Case("int-values+1", save({k: (v + 1 if k == "k" else v) for k, v in arrays.items()}))
    yield Case("no-record", save({k: v for k, v in arrays.items() if k != meta}))
    yield Case("float64-x", save({k: (v.astype(np.float64) if k == "x" else v) for k, v in arrays.items()}))
    yield Case("extra-array", save({**arrays, "y": np.zeros(160)}))
    yield Case("missing-array", save({k: v for k, v in arrays.items() if k != "k"}))
    rec = json.loads(str(arrays[meta]))
    for key in rec:
        for bad in (0, "x", None, 10**12):
            yield Case(f"record.{key}={bad!r}", save({**arrays, meta: np.array(json.dumps({**rec, key: bad}))}))
    yield Case("record-not-json", save({**arrays, meta: np.array("{")}))
    yield from npz_member_cases(data)


def resume_chunk() -> Target:
    return Target(
        "resume chunk .npz",
        ".npz",
        _chunk_seed,
        _chunk_read,
        _chunk_check,
        _chunk_mutations,
        reset=_chunk_reset,
        recovered=lambda out: bool(out.discarded),
    )


# ------------------------------------------------------------------------------------ results.jsonl


def _results_seed(folder: Path) -> Path:
    from ganeval.report import parse_config, run_report

    folder.mkdir(parents=True, exist_ok=True)
    cfg = parse_config(
        {
            "name": "fuzz",
            "out": str(folder / "rep"),
            "generators": [{"label": "shapes", "source": "zoo:shapes-stylegan"}],
            "metrics": [{"name": "no-such-metric"}],
            "figures": {"enabled": False},
        }
    )
    run_report(cfg)
    return folder / "rep" / "results.jsonl"


def _results_read(path: Path) -> Any:
    from ganeval.report import render_report

    return render_report(path)


def _results_check(out: Any) -> str | None:
    return None if out.index.is_file() and out.index.stat().st_size > 0 else "no index.html"


def _results_mutations(data: bytes, rng: random.Random) -> Iterator[Case]:
    lines = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
    for odd in ([], 3, "x", None, [1, 2], {"record": "run"}, {"record": "metric"}, {"record": "metric", "report": []}):
        yield Case(f"line={json.dumps(odd)[:20]}", (json.dumps(odd) + "\n").encode() + data)
    for i, rec in enumerate(lines):
        for case in json_field_cases(rec):
            body = [json.dumps(r) if j != i else case.data.decode() for j, r in enumerate(lines)]
            yield Case(f"rec{i}:{case.label}", ("\n".join(body) + "\n").encode())


def results_jsonl() -> Target:
    return Target("report results.jsonl", ".jsonl", _results_seed, _results_read, _results_check, _results_mutations)


# ------------------------------------------------------------------------------------ report config (TOML)

_TOML = """name = "fuzz report"
out = "out"
seed = 3
device = "cpu"

[[generators]]
label = "shapes"
source = "zoo:shapes-stylegan"

[[metrics]]
name = "fid"
num_samples = 64
real = "zoo:shapes"

[figures]
enabled = true
truncation = 0.7
grid = 4
"""


def _toml_seed(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "r.toml").write_text(_TOML)
    return folder / "r.toml"


def _toml_read(path: Path) -> Any:
    from ganeval.report import load_config

    return path.parent, load_config(path)


def _toml_check(result: Any) -> str | None:
    folder, cfg = result
    out = cfg.out if cfg.out.is_absolute() else (Path.cwd() / cfg.out)
    inside = folder.resolve() == out.resolve() or folder.resolve() in out.resolve().parents
    if not (inside or Path(cfg.out).is_absolute() or str(cfg.out).startswith("reports")):
        return f"out {cfg.out} escapes the config folder"
    return None


def _toml_mutations(data: bytes, rng: random.Random) -> Iterator[Case]:
    bad = [
        '"abc"',
        "-1",
        "0",
        "1e308",
        "nan",
        "inf",
        "[1, 2]",
        "{a = 1}",
        "true",
        '"../../x"',
        '"../.."',
        '""',
        '"a/../../b"',
        '"x\u0000y"',
        '"' + "a" * 5000 + '"',
        "[[[[]]]]",
        "2099-01-01",
    ]
    lines = data.decode().splitlines()
    for i, line in enumerate(lines):
        if "=" not in line:
            continue
        key = line.split("=")[0].strip()
        for value in bad:
            body = [*lines[:i], f"{key} = {value}", *lines[i + 1 :]]
            yield Case(f"{key}={value[:16]}", ("\n".join(body) + "\n").encode())
        yield Case(f"drop {key}", ("\n".join(lines[:i] + lines[i + 1 :]) + "\n").encode())
    yield Case("deep", b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n")
    yield Case("unknown-top", data + b"\nevil = 1\n")


def report_config() -> Target:
    return Target("report config .toml", ".toml", _toml_seed, _toml_read, _toml_check, _toml_mutations)


ALL = (
    stats_npz,
    stats_npz_foreign,
    stats_pkl,
    images_npy,
    images_npz,
    native_config,
    resume_chunk,
    results_jsonl,
    report_config,
)

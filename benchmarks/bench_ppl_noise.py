"""PPL's float32 noise floor, the exact-derivative method, and TF32 (a benchmark, not a test).

    python benchmarks/bench_ppl_noise.py [--samples 2000] [--large 50000] [--sg2-samples 32] [--out FILE]

Measures, on the zoo models (``zoo:shapes-stylegan`` + ``zoo:shapes-perceptual``) and on a
StyleGAN2 at 256 px (random weights, channel_max 128) with LPIPS-VGG16 (random backbone):

1. The per-sample relative spread of finite-difference path lengths when only the rounding
   changes: another forward shape (chunks of 1 or 64 pairs instead of 16), two intra-op threads
   instead of one, oneDNN limited to AVX2 (``ONEDNN_MAX_CPU_ISA=AVX2``), and TF32 emulated on
   the CPU (every convolution's input and weight rounded to 10 mantissa bits, what cuDNN does
   by default on Ampere and newer GPUs). Each condition runs in its own process (thread count and
   ISA are fixed at start-up). Reported: median, 99th percentile and max of
   ``|a / ref - 1|``, and the relative change of the PPL (filtered mean) of the first 2,000 and
   of ``--large`` samples.
2. The same spreads for ``method="jvp"``.
3. ``method="jvp"`` vs the finite difference on every zoo path (Z/W x full/end): both values,
   the finite difference's 95 % CI, whether the exact value lies inside it, and the CPU time
   of each (``time.process_time``: on a shared machine wall time mostly measures the neighbours).

Prints one table per part and writes everything to ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the parent process only launches workers; torch loads in each worker
    import torch

ROOT = Path(__file__).resolve().parents[1]
CONDITIONS = {  # name: (chunk_size, threads, extra environment, tf32)
    "reference": (16, 1, {}, False),
    "chunk 1": (1, 1, {}, False),
    "chunk 64": (64, 1, {}, False),
    "2 threads": (16, 2, {}, False),
    "ISA AVX2": (16, 1, {"ONEDNN_MAX_CPU_ISA": "AVX2"}, False),
    "TF32 convs": (16, 1, {}, True),
}


# --------------------------------------------------------------------------- worker side


def _round_tf32(x: torch.Tensor) -> torch.Tensor:
    """Round float32 ``x`` to TF32 (10 explicit mantissa bits), to nearest even."""
    import torch

    bits = x.contiguous().view(torch.int32).to(torch.int64) & 0xFFFFFFFF
    bits = ((bits + 0xFFF + ((bits >> 13) & 1)) >> 13) << 13
    bits = torch.where(bits >= 2**31, bits - 2**32, bits)
    return bits.to(torch.int32).view(torch.float32)


@contextlib.contextmanager
def _tf32_convolutions() -> Iterator[None]:
    """Every ``F.conv2d``/``F.conv_transpose2d`` sees TF32-rounded inputs and weights."""
    import torch.nn.functional as F

    saved = F.conv2d, F.conv_transpose2d

    def conv(x: torch.Tensor, w: torch.Tensor, *a: Any, **k: Any) -> torch.Tensor:
        return saved[0](_round_tf32(x), _round_tf32(w), *a, **k)

    def tconv(x: torch.Tensor, w: torch.Tensor, *a: Any, **k: Any) -> torch.Tensor:
        return saved[1](_round_tf32(x), _round_tf32(w), *a, **k)

    F.conv2d, F.conv_transpose2d = conv, tconv
    try:
        yield
    finally:
        F.conv2d, F.conv_transpose2d = saved


def _models(which: str) -> tuple[Any, Any]:
    import torch

    import ganeval
    from ganeval.distances import lpips_with_random_backbone

    if which == "zoo":
        return ganeval.load_generator("zoo:shapes-stylegan"), "zoo:shapes-perceptual"
    torch.manual_seed(0)
    G = ganeval.StyleGAN2(z_dim=512, w_dim=512, img_resolution=256, channel_max=128).eval().requires_grad_(False)
    return G, lpips_with_random_backbone("vgg", 0)


def worker(spec: dict, out: str) -> None:
    """Compute one condition's per-sample path lengths and save them (``.npz``)."""
    import torch

    from ganeval.metrics.ppl import ppl

    torch.set_num_threads(spec["threads"])
    G, dist = _models(spec["model"])
    kw = {
        "space": spec["space"],
        "sampling": spec["sampling"],
        "distance": dist,
        "method": spec["method"],
        "chunk_size": spec["chunk"],
        "batch_size": 64,
        "device": "cpu",
    }
    t0 = time.process_time()
    with _tf32_convolutions() if spec["tf32"] else contextlib.nullcontext():
        if spec["n"] >= 100:
            r = ppl(G, num_samples=spec["n"], progress=False, **kw)
            found = {"per_sample": r.per_sample, "value": r.value, "ci": [r.ci_low, r.ci_high]}
        else:  # fewer samples than the statistics need (the 256 px model): per-sample values only
            found = {"per_sample": _path_lengths(G, spec["n"], kw)}
    np.savez(out, cpu_s=time.process_time() - t0, **found)


def _path_lengths(G: Any, n: int, kw: dict) -> np.ndarray:
    """Per-sample path lengths of samples 0..n-1 through ppl's own sampler (no statistics)."""
    import torch

    from ganeval.devices import full_fp32
    from ganeval.distances import load_distance
    from ganeval.metrics.ppl import _plan, _sampler

    given = {
        "space": kw["space"],
        "sampling": kw["sampling"],
        "num_samples": 100,
        "epsilon": None,
        "crop": None,
        "method": kw["method"],
    }
    plan = _plan(None, given, None, None, kw["chunk_size"], kw["batch_size"], 0, "stop", None, 1000)
    dist = load_distance(kw["distance"], device="cpu")
    sampler, _ = _sampler(G, dist, plan, torch.device("cpu"))
    with full_fp32():
        return sampler(np.arange(n))["path_length"]


# --------------------------------------------------------------------------- driver side


def _run(model: str, condition: str, method: str, n: int, space: str = "w", sampling: str = "end") -> dict:
    chunk, threads, env, tf32 = CONDITIONS[condition]
    spec = {
        "model": model,
        "chunk": chunk,
        "threads": threads,
        "tf32": tf32,
        "method": method,
        "n": n,
        "space": space,
        "sampling": sampling,
    }
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"ppl-noise-{os.getpid()}.npz"
    subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec), str(out)],
        check=True,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    with np.load(out) as z:
        res = {k: z[k] for k in z.files}
    out.unlink()
    return res


def _filtered_mean(d: np.ndarray) -> float:
    from ganeval.metrics.ppl import filtered_mean

    return filtered_mean(d)


def _spread(a: np.ndarray, ref: np.ndarray, first: int) -> dict:
    """Per-sample spread, and the PPL's change (direct when there are >= 100 samples; else the
    mean relative change per sample and its standard error, which a mean of n samples inherits
    scaled by 1/sqrt(n))."""
    signed = a / ref - 1
    r = np.abs(signed)
    row = {"median": float(np.median(r)), "p99": float(np.percentile(r, 99)), "max": float(r.max())}
    if len(a) < 100:
        row["mean_signed"] = float(signed.mean())
        row["sem_signed"] = float(signed.std(ddof=1) / np.sqrt(len(a)))
        return row
    row[f"ppl_change_{first}"] = _filtered_mean(a[:first]) / _filtered_mean(ref[:first]) - 1
    if len(a) > first:
        row[f"ppl_change_{len(a)}"] = _filtered_mean(a) / _filtered_mean(ref) - 1
    return row


def noise_floor(model: str, method: str, n: int, first: int, conds: list[str] | None = None) -> dict:
    # the bit-level TF32 emulation strips forward-mode tangents: finite differences only
    conds = [c for c in conds or CONDITIONS if method == "fd" or not CONDITIONS[c][3]]
    runs = {c: _run(model, c, method, n) for c in conds}
    ref = runs["reference"]["per_sample"]
    return {c: _spread(runs[c]["per_sample"], ref, first) for c in conds if c != "reference"}


def jvp_vs_fd(n: int) -> list[dict]:
    rows = []
    for space in ("z", "w"):
        for sampling in ("full", "end"):
            fd = _run("zoo", "reference", "fd", n, space, sampling)
            ex = _run("zoo", "reference", "jvp", n, space, sampling)
            lo, hi = fd["ci"]
            rows.append(
                {
                    "path": f"{space}{sampling}",
                    "fd": float(fd["value"]),
                    "fd_ci": [float(lo), float(hi)],
                    "jvp": float(ex["value"]),
                    "jvp_ci": [float(x) for x in ex["ci"]],
                    "jvp_inside_fd_ci": bool(lo <= ex["value"] <= hi),
                    "fd_cpu_s": float(fd["cpu_s"]),
                    "jvp_cpu_s": float(ex["cpu_s"]),
                    "cost_ratio": float(ex["cpu_s"] / fd["cpu_s"]),
                }
            )
    return rows


def _print_spreads(title: str, table: dict) -> None:
    print(f"\n{title}")
    keys = list(next(iter(table.values())))
    print("| condition | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for cond, row in table.items():
        print(f"| {cond} | " + " | ".join(f"{row[k]:.2e}" for k in keys) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--large", type=int, default=50_000, help="samples of the zoo finite-difference run")
    ap.add_argument("--sg2-samples", type=int, default=32)
    ap.add_argument("--parts", default="jvp,sg2,zoo")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "ppl_noise.json"))
    args = ap.parse_args()
    if args.worker:
        worker(json.loads(args.worker[0]), args.worker[1])
        return
    parts, report = args.parts.split(","), {}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after every part: a long run that is stopped keeps what it measured
        out.write_text(json.dumps(report, indent=2))

    if "jvp" in parts:
        report["jvp_vs_fd"] = jvp_vs_fd(args.samples)
        print(f"\njvp vs finite difference on the zoo, {args.samples} samples each")
        for row in report["jvp_vs_fd"]:
            print(row)
        save()
    if "sg2" in parts:
        for method in ("fd", "jvp"):
            report[f"sg2_256_{method}"] = noise_floor(
                "sg2",
                method,
                args.sg2_samples,
                args.sg2_samples,
                ["reference", "chunk 1", "2 threads", "ISA AVX2", "TF32 convs"],
            )
            _print_spreads(
                f"StyleGAN2 256 px + LPIPS-VGG16 (random), W end, {method}, {args.sg2_samples} samples",
                report[f"sg2_256_{method}"],
            )
            save()
    if "zoo" in parts:
        report["zoo_jvp"] = noise_floor("zoo", "jvp", args.samples, args.samples)
        _print_spreads(f"zoo W end, jvp, {args.samples} samples", report["zoo_jvp"])
        save()
        report["zoo_fd"] = noise_floor("zoo", "fd", args.large, args.samples)
        _print_spreads(f"zoo W end, finite difference, {args.large} samples", report["zoo_fd"])
        save()
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()

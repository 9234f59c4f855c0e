"""One-shot GPU check (a benchmark, not a test): CUDA vs CPU parity, throughput, OOM recovery, NCCL.

    python benchmarks/gpu_check.py [--device cuda] [--quick] [--out gpu_check.json]

Meant to run once, in under 8 minutes, whenever a GPU is lent (``--device cuda``); kept working
on the CPU by the test suite with ``--device cpu --quick``, where the "device" and the reference
are the same CPU and the sizes are tiny. Every metric forward runs in true float32 (TF32 off).

1. Parity, device vs CPU on identical inputs: per-sample PPL on the zoo models (W end; the
   spread is the float32 noise floor of BENCHMARKS.md, the means agree within their CI); a
   StyleGAN2 forward at 1024 px with config-f widths and random weights; FID Inception-v3
   features with random weights; the zoo classifier's separability logits.
2. Throughput: PPL pairs/s at 1024 px with LPIPS-VGG16 (random backbone) for chunks of 8, 16
   and 32 pairs; Inception images/s; the separability SVM stage on 100,000 x 512 latents.
3. A real CUDA out-of-memory: FID with an oversized batch (2,048 images at 1024 px) halves its
   batch until it fits and gives the value of a run with a small batch.
4. ``torchrun --nproc_per_node=1`` (NCCL on CUDA, gloo on the CPU): PPL equals the
   single-process per-sample values bit for bit.

Prints one table (check, figure, verdict) and writes all figures to ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import ganeval
from ganeval.devices import full_fp32

ROOT = Path(__file__).resolve().parents[1]
Row = dict[str, Any]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _rel(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """max |a - b| / max |b| (0 when both vanish)."""
    a, b = np.asarray(torch.as_tensor(a).detach().cpu()), np.asarray(torch.as_tensor(b).detach().cpu())
    scale = float(np.abs(b).max()) or 1.0
    return float(np.abs(a - b).max() / scale)


def _seeded(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Give every parameter and buffer of ``module`` seeded random values at a sane scale."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            fan_in = p[0].numel() if p.ndim > 1 else 1
            p.copy_(torch.randn(p.shape, generator=gen) * (1.0 / fan_in) ** 0.5)
    return module.eval().requires_grad_(False)


# --------------------------------------------------------------------------- 1. parity


def parity_ppl(dev: torch.device, quick: bool) -> Row:
    G = ganeval.load_generator("zoo:shapes-stylegan")
    kw = {"space": "w", "num_samples": 100 if quick else 2000, "distance": "zoo:shapes-perceptual", "progress": False}
    on_dev = ganeval.ppl(G, device=dev, **kw)
    on_cpu = ganeval.ppl(G, device="cpu", **kw)
    r = np.abs(on_dev.per_sample / on_cpu.per_sample - 1)
    inside = on_cpu.ci_low <= on_dev.value <= on_cpu.ci_high
    return {
        "check": "PPL zoo W end, per sample",
        "median_rel": float(np.median(r)),
        "max_rel": float(r.max()),
        "value_device": on_dev.value,
        "value_cpu": on_cpu.value,
        "ok": bool(inside and np.median(r) < 1e-2),
    }


def parity_sg2(dev: torch.device, quick: bool) -> Row:
    res, cmax = (32, 32) if quick else (1024, 512)
    torch.manual_seed(0)
    G = ganeval.StyleGAN2(img_resolution=res, channel_max=cmax).eval().requires_grad_(False)
    z = torch.randn(2 if quick else 4, G.z_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad(), full_fp32():
        ref = G(z, noise_mode="const")
        out = G.to(dev)(z.to(dev), noise_mode="const").cpu()
    err = _rel(out, ref)
    return {
        "check": f"StyleGAN2 {res} px forward (config-f widths)" if not quick else f"StyleGAN2 {res} px forward",
        "max_rel": err,
        "ok": err < 2e-5,
    }


def parity_inception(dev: torch.device, quick: bool) -> Row:
    from ganeval.features.inception import FIDInceptionV3

    net = _seeded(FIDInceptionV3(), 0)
    x = torch.rand(1 if quick else 8, 3, 64, 64, generator=torch.Generator().manual_seed(2)) * 2 - 1
    with torch.no_grad(), full_fp32():
        ref = net(x)
        out = net.to(dev)(x.to(dev)).cpu()
    err = _rel(out, ref)
    return {"check": "FID Inception-v3 features (random weights)", "max_rel": err, "ok": err < 1e-4}


def parity_logits(dev: torch.device, quick: bool) -> Row:
    G = ganeval.load_generator("zoo:shapes-stylegan")
    clf = ganeval.load_classifier("zoo:shapes-classifier")
    z = torch.randn(16 if quick else 256, G.z_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad(), full_fp32():
        img = G(z, noise_mode="const")
        ref = clf(img)
        out = clf.to(dev)(img.to(dev)).cpu()
    err = _rel(out, ref)
    return {"check": "separability logits (zoo classifier)", "max_rel": err, "ok": err < 1e-4}


# --------------------------------------------------------------------------- 2. throughput


def _rate(fn: Callable[[], int], dev: torch.device, repeats: int = 2, warm: bool = True) -> float:
    if warm:
        fn()  # warm-up (cuDNN autotuning, allocator)
    best = 0.0
    for _ in range(repeats):
        _sync(dev)
        t0 = time.perf_counter()
        n = fn()
        _sync(dev)
        best = max(best, n / (time.perf_counter() - t0))
    return best


def throughput_ppl(dev: torch.device, quick: bool) -> list[Row]:
    from ganeval.distances import lpips_with_random_backbone

    res, cmax, n = (32, 32, 100) if quick else (1024, 512, 256)
    torch.manual_seed(0)
    G = ganeval.StyleGAN2(img_resolution=res, channel_max=cmax).eval().requires_grad_(False)
    dist = lpips_with_random_backbone("vgg", 0)
    rows = []
    for chunk in (8, 16, 32):

        def run(chunk: int = chunk) -> int:
            ganeval.ppl(
                G,
                space="w",
                num_samples=n,
                distance=dist,
                chunk_size=chunk,
                batch_size=chunk,
                device=dev,
                progress=False,
            )
            return n

        rate = _rate(run, dev, 1, warm=not quick)
        rows.append({"check": f"PPL {res} px + LPIPS-VGG16, chunk {chunk}", "pairs_per_s": rate, "ok": True})
    return rows


def throughput_inception(dev: torch.device, quick: bool) -> Row:
    from ganeval.features.inception import FIDInceptionV3

    net = _seeded(FIDInceptionV3(), 0).to(dev)
    x = torch.rand(2 if quick else 256, 3, 299, 299, device=dev) * 2 - 1

    def run() -> int:
        with torch.no_grad(), full_fp32():
            net(x)
        return x.shape[0]

    return {
        "check": "Inception-v3 features",
        "images_per_s": _rate(run, dev, 1 if quick else 2, warm=not quick),
        "ok": True,
    }


def throughput_svm(quick: bool) -> Row:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_svm import synthetic

    from ganeval.metrics._linear_svm import fit_linear_svm

    n, d = (5_000, 64) if quick else (100_000, 512)
    x, ys = synthetic(n, d, 1)
    t0 = time.perf_counter()
    fit = fit_linear_svm(x, ys[0])
    seconds = time.perf_counter() - t0
    accuracy = float(((x @ fit.coef + fit.intercept > 0) == ys[0]).mean())
    return {"check": f"SVM stage {n} x {d}", "seconds": seconds, "train_accuracy": accuracy, "ok": bool(fit.converged)}


# --------------------------------------------------------------------------- 3. out of memory


def oom_recovery(dev: torch.device, quick: bool) -> Row:
    if dev.type != "cuda":
        return {"check": "CUDA out-of-memory recovery", "skipped": "no CUDA device", "ok": True}
    from ganeval.features.inception import FIDInceptionV3

    torch.manual_seed(0)
    G = ganeval.StyleGAN2(img_resolution=1024).eval().requires_grad_(False)
    with tempfile.TemporaryDirectory() as tmp:
        real = Path(tmp) / "real.npy"
        np.save(real, np.random.default_rng(0).integers(0, 256, (256, 64, 64, 3), dtype=np.uint8))
        kw = {
            "num_samples": 256,
            "extractor": _seeded(FIDInceptionV3(), 0),
            "device": dev,
            "cache": False,
            "progress": False,
        }
        big = ganeval.fid(G, str(real), batch_size=2048, **kw)
        small = ganeval.fid(G, str(real), batch_size=16, **kw)
    retries = big.provenance.get("oom_retries", 0)
    ok = retries > 0 and abs(big.value / small.value - 1) < 1e-3
    return {
        "check": "CUDA out-of-memory recovery (FID, batch 2048 at 1024 px)",
        "oom_retries": retries,
        "value_big_batch": big.value,
        "value_small_batch": small.value,
        "ok": bool(ok),
    }


# --------------------------------------------------------------------------- 4. torchrun


def _torchrun_job(out: str, device: str) -> None:
    """Run under torchrun: PPL on the zoo models; rank 0 writes the per-sample values."""
    from ganeval import distributed

    distributed.init_from_env()
    G = ganeval.load_generator("zoo:shapes-stylegan")
    r = ganeval.ppl(G, space="w", num_samples=100, distance="zoo:shapes-perceptual", device=device, progress=False)
    if distributed.is_main():
        np.save(out, r.per_sample)


def torchrun_check(dev: torch.device) -> Row:
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "ppl.npy")
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node=1",
            "--master_port=29533",
            __file__,
            "--torchrun-job",
            out,
            "--device",
            str(dev),
        ]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            return {"check": "torchrun --nproc_per_node=1", "error": proc.stderr[-500:], "ok": False}
        multi = np.load(out)
    G = ganeval.load_generator("zoo:shapes-stylegan")
    single = ganeval.ppl(
        G, space="w", num_samples=100, distance="zoo:shapes-perceptual", device=dev, progress=False
    ).per_sample
    backend = "nccl" if dev.type == "cuda" else "gloo"
    return {
        "check": f"torchrun --nproc_per_node=1 ({backend})",
        "identical": bool(np.array_equal(multi, single)),
        "ok": bool(np.array_equal(multi, single)),
    }


# --------------------------------------------------------------------------- driver


def _figure(row: Row) -> str:
    skip = {"check", "ok"}
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items() if k not in skip)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (the CPU test of this script)")
    ap.add_argument("--out", default="gpu_check.json")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: parity,throughput,oom,torchrun")
    ap.add_argument("--torchrun-job", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torchrun_job:
        _torchrun_job(args.torchrun_job, args.device)
        return 0
    dev = torch.device(args.device)
    skip = set(filter(None, args.skip.split(",")))
    parts: dict[str, Callable[[], list[Row]]] = {
        "parity": lambda: [f(dev, args.quick) for f in (parity_ppl, parity_sg2, parity_inception, parity_logits)],
        "throughput": lambda: [
            *throughput_ppl(dev, args.quick),
            throughput_inception(dev, args.quick),
            throughput_svm(args.quick),
        ],
        "oom": lambda: [oom_recovery(dev, args.quick)],
        "torchrun": lambda: [torchrun_check(dev)],
    }
    rows: list[Row] = []
    for part, run in parts.items():
        if part not in skip:
            t0 = time.perf_counter()
            rows += run()
            print(f"{part}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU"
    print(f"| check ({name}) | figures | verdict |\n|---|---|---|")
    for row in rows:
        print(f"| {row['check']} | {_figure(row)} | {'ok' if row['ok'] else 'FAILED'} |")
    Path(args.out).write_text(json.dumps({"device": name, "quick": args.quick, "rows": rows}, indent=2, default=str))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())

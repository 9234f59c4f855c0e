"""FID benchmark: feature extraction (ganeval vs pytorch-fid, same weights and images) and the
Fréchet step (eigenvalue form vs scipy.linalg.sqrtm) on 2048-d covariances.

Run: ``python benchmarks/bench_fid.py [--images 32] [--batch 16] [--device cpu]``. Appends the
figures to BENCHMARKS.md under ``## FID``. The Inception runs with seeded random weights of the
FID graph (the timing does not depend on the values; no download is needed).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_features(n: int, batch: int, device: str, repeats: int) -> tuple[float, float]:
    import pytorch_fid.inception as pfi

    from ganeval.features.inception import FIDInceptionV3

    torch.manual_seed(0)
    ours = FIDInceptionV3(resize="half-pixel")
    sd = ours.state_dict()
    original = pfi.load_state_dict_from_url
    pfi.load_state_dict_from_url = lambda *a, **k: sd
    try:
        ref = pfi.InceptionV3([3], use_fid_inception=True).eval().to(device)
    finally:
        pfi.load_state_dict_from_url = original
    ours = ours.fuse().to(device)
    images = torch.rand(n, 3, 64, 64, generator=torch.Generator().manual_seed(0)).to(device)

    def run_ref() -> None:
        with torch.no_grad():
            for i in range(0, n, batch):
                ref(images[i : i + batch])
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def run_ours() -> None:
        with torch.inference_mode():
            for i in range(0, n, batch):
                ours(images[i : i + batch] * 2 - 1)
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    run_ref(), run_ours()  # warm-up
    return n / _best(run_ref, repeats), n / _best(run_ours, repeats)


def bench_frechet(dim: int, repeats: int) -> tuple[float, float, float]:
    import scipy.linalg

    from ganeval.metrics.frechet import frechet_distance

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2 * dim, dim)), rng.standard_normal((2 * dim, dim)) * 1.1 + 0.2
    m1, m2, s1, s2 = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    box: dict[str, float] = {}

    def ref() -> None:
        root = scipy.linalg.sqrtm(s1 @ s2)
        box["ref"] = float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(root).real)

    def ours() -> None:
        box["ours"] = frechet_distance(m1, s1, m2, s2)

    ours()  # warm-up (LAPACK initialisation)
    t_ref, t_ours = _best(ref, repeats), _best(ours, repeats)
    return t_ref, t_ours, abs(box["ours"] - box["ref"]) / box["ref"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=32)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--dim", type=int, default=2048)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args()
    ref_fps, our_fps = bench_features(args.images, args.batch, args.device, args.repeats)
    t_ref, t_ours, rel = bench_frechet(args.dim, args.repeats)
    host = f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads"
    lines = [
        f"- features ({args.device}, {args.images} images 64->299, batch {args.batch}): pytorch-fid "
        f"{ref_fps:.2f} img/s, ganeval {our_fps:.2f} img/s, ratio {our_fps / ref_fps:.2f}x",
        f"- Fréchet step ({args.dim}-d, float64): scipy sqrtm {t_ref:.2f} s, ganeval {t_ours:.2f} s, "
        f"ratio {t_ref / t_ours:.1f}x, relative difference {rel:.1e}",
    ]
    print("\n".join(lines))
    if not args.no_write:
        path = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
        text = path.read_text() if path.exists() else "# Benchmarks\n"
        entry = f"\n{time.strftime('%Y-%m-%d')} ({host}):\n" + "\n".join(lines) + "\n"
        if "## FID" not in text:
            text = text.rstrip("\n") + "\n\n## FID\n" + entry
        else:
            head, tail = text.split("## FID", 1)
            nxt = tail.find("\n## ")
            section, rest = (tail, "") if nxt < 0 else (tail[:nxt], tail[nxt:])
            text = head + "## FID" + section.rstrip("\n") + "\n" + entry + rest
        path.write_text(text)


if __name__ == "__main__":
    main()

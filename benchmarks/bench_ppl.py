"""PPL benchmark (not a test): ganeval vs torchmetrics, overhead over bare forward passes, memory.

    python -m benchmarks.bench_ppl [--samples 1000] [--batch-size 50] [--device cpu] [--no-append]

1. Throughput on the same work (Z, lerp, t = 0, no crop, same generator, same distance network):
   ganeval ``ppl`` vs torchmetrics ``perceptual_path_length`` (samples/s and the ratio);
   the three timings are interleaved and each is the best of 3 (the machine is shared).
2. ganeval's overhead over the bare mapping + synthesis + distance forward passes on the same
   batches, with latents and noise prepared beforehand (target <= 10 %).
3. Peak memory of a 10k and a 100k-sample run (cheap linear generator and squared-L2 distance,
   so the loop itself is measured): tracemalloc peak of Python/NumPy allocations and the growth
   of the process's peak RSS.

Uses the zoo generator and distance when their weights exist, else a stand-in StyleGAN
(32 px) and LPIPS-alex on a random backbone. Appends a dated entry to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import torch

from ganeval import _seeding
from ganeval.metrics.ppl import ppl

ROOT = Path(__file__).resolve().parents[1]


def _models(device: str) -> tuple[torch.nn.Module, torch.nn.Module, str]:
    from ganeval.distances import load_distance, lpips_with_random_backbone
    from ganeval.loaders import load_generator

    try:
        G = load_generator("zoo:shapes-stylegan", device=device)
        dist = load_distance("zoo:shapes-perceptual", device=device)
        return G, dist, "zoo:shapes-stylegan + zoo:shapes-perceptual"
    except Exception as exc:  # noqa: BLE001 - the benchmark falls back to a stand-in, and says why
        print(f"(zoo models unavailable: {type(exc).__name__}; using a stand-in)", file=sys.stderr)
    from ganeval.models.stylegan import StyleGAN

    torch.manual_seed(0)
    G = StyleGAN(z_dim=64, w_dim=64, img_resolution=32, mapping_layers=4, fmap_base=512, fmap_max=64).eval()
    G.requires_grad_(False)
    return G.to(device), lpips_with_random_backbone("alex", 0).to(device), \
        "stand-in StyleGAN v1 32 px (64 ch) + LPIPS-alex (random backbone)"


class _TMWrapper(torch.nn.Module):
    """torchmetrics' protocol: sample(n) -> z, forward(z) -> [0, 255] images."""

    def __init__(self, G: torch.nn.Module) -> None:
        super().__init__()
        self.G = G

    def sample(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.G.z_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (self.G.synthesis(self.G.mapping(z, None), noise_mode="const") + 1) * 127.5


def bench_throughput(G: torch.nn.Module, dist: torch.nn.Module, n: int, bs: int, device: str,
                     repeats: int = 3) -> dict[str, float]:
    from torchmetrics.functional.image.perceptual_path_length import perceptual_path_length

    kw = {"space": "z", "sampling": "end", "interpolation": "lerp", "num_samples": n, "distance": dist,
          "batch_size": bs, "device": device, "progress": False}
    # bare forward passes on the same batches, inputs prepared outside the timed region
    res = G.synthesis.noise_resolutions
    batches = []
    for start in range(0, n, bs):
        idx = np.arange(start, min(start + bs, n))
        z0 = _seeding.normal(0, "ppl.z0", idx, [G.z_dim]).to(device)
        z1 = _seeding.normal(0, "ppl.z1", idx, [G.z_dim]).to(device)
        noise = [torch.randn(len(idx), 1, r, r, device=device) for r in res]
        batches.append((z0, z1, noise))

    def run_ours() -> None:
        ppl(G, **kw)

    def run_peer() -> None:
        torch.manual_seed(0)
        with torch.no_grad():
            perceptual_path_length(_TMWrapper(G), num_samples=n, batch_size=bs, interpolation_method="lerp",
                                   resize=None, sim_net=dist, device=device)

    def run_bare() -> None:
        with torch.no_grad():
            for z0, z1, noise in batches:
                lat = torch.cat([z0, z0 + (z1 - z0) * 1e-4])
                img = G.synthesis(G.mapping(lat, None), noise_mode="const", noise=[torch.cat([m, m]) for m in noise])
                b = len(z0)
                dist(img[:b], img[b:])

    ppl(G, **{**kw, "num_samples": 100})  # warm-up
    times: dict[str, list[float]] = {"ours_s": [], "peer_s": [], "bare_s": []}
    for _ in range(repeats):  # interleaved, best of `repeats`: the machine is shared
        for key, fn in (("ours_s", run_ours), ("peer_s", run_peer), ("bare_s", run_bare)):
            t0 = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t0)
    ours, peer, bare = (min(times[k]) for k in ("ours_s", "peer_s", "bare_s"))
    return {"ours_s": ours, "peer_s": peer, "bare_s": bare}


def bench_memory(n: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "tests"))
    from helpers.ppl_generators import LinearGenerator, squared_l2

    G = LinearGenerator(z_dim=64, resolution=8)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    ppl(G, space="w", num_samples=n, distance=squared_l2, batch_size=1000, device="cpu", progress=False)
    wall = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"tracemalloc_peak_mb": peak / 2**20, "rss_growth_mb": (rss1 - rss0) / 1024, "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    G, dist, what = _models(args.device)
    t = bench_throughput(G, dist, args.samples, args.batch_size, args.device)
    n = args.samples
    ours_rate, peer_rate = n / t["ours_s"], n / t["peer_s"]
    overhead = t["ours_s"] / t["bare_s"] - 1
    mem = {k: bench_memory(k) for k in (10_000, 100_000)}
    lines = [
        f"- models: {what}; {n} pairs, batch {args.batch_size}, device {args.device}, {torch.get_num_threads()} threads",
        f"- throughput (Z, lerp, end, no crop): torchmetrics {peer_rate:.1f} samples/s, ganeval {ours_rate:.1f} "
        f"samples/s, ratio {ours_rate / peer_rate:.2f}x",
        f"- overhead over bare mapping+synthesis+distance on the same batches: {100 * overhead:+.1f} % "
        f"(bare {t['bare_s']:.2f} s, ganeval {t['ours_s']:.2f} s)",
        *(f"- memory at {k // 1000}k samples (linear G, squared L2): tracemalloc peak {m['tracemalloc_peak_mb']:.1f} MiB, "
          f"peak RSS growth {m['rss_growth_mb']:.1f} MiB, {k / m['wall_s']:.0f} samples/s" for k, m in mem.items()),
    ]
    print("\n".join(lines))
    if not args.no_append:
        bench = ROOT / "BENCHMARKS.md"
        text = bench.read_text(encoding="utf-8") if bench.exists() else "# Benchmarks\n"
        if "## PPL" not in text:
            text = text.rstrip("\n") + "\n\n## PPL\n"
        head = (f"\n{datetime.date.today()} ({platform.machine()}, torch {torch.__version__}); command: "
                f"`python -m benchmarks.bench_ppl --samples {n} --batch-size {args.batch_size} --device {args.device}`\n")
        idx = text.index("## PPL") + len("## PPL\n")
        nxt = text.find("\n## ", idx)
        end = len(text) if nxt < 0 else nxt
        text = text[:end].rstrip("\n") + "\n" + head + "\n".join(lines) + "\n" + text[end:]
        bench.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

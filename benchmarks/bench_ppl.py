"""PPL benchmark (not a test): ganeval vs torchmetrics, overhead over bare forward passes, memory.

    nice -n 0 python -m benchmarks.bench_ppl [--samples 1000] [--batch-size 50] [--device cpu]
                                             [--threads 1] [--repeats 5] [--no-append]

1. Throughput on the same generator, distance network, pairs, batch size and device, all in
   one process (Z, lerp, t = 0, no crop): ganeval ``ppl`` vs torchmetrics
   ``perceptual_path_length`` (samples/s and the ratio). torchmetrics' work differs: it uses the
   generator's constant noise (no per-pair noise maps), draws latents with ``torch.randn`` (not
   per sample index), computes no bootstrap CI and no finiteness/range checks, and round-trips
   the images through [0, 255] as its protocol requires. So ganeval is timed twice: as it runs
   by default (per-pair noise) and on a constant-noise view of the same generator, which is
   exactly torchmetrics' generator and distance work.
   torchmetrics calls the distance module on the two halves of each batch (two backbone passes);
   ganeval calls ``Distance.pairs`` on the stacked batch (one pass, identical per-pair values).
2. ganeval's overhead over the bare mapping + synthesis + distance forward passes on the same
   batches (per-pair noise, the same one-pass distance call), with latents and noise prepared
   beforehand (target <= 10 %).
3. Peak memory of a 10k and a 100k-sample run (cheap linear generator and squared-L2 distance,
   so the loop itself is measured): tracemalloc peak of Python/NumPy allocations and the growth
   of the process's peak RSS.

All timed runs are interleaved; each figure is the best (and the median) of ``--repeats``.
``--threads`` sets torch's intra-op threads for every run alike (default 1: on a shared 2-core
machine a second thread mostly waits for the busy core, making every run several times slower).
Uses the zoo generator and distance when their weights exist, else a stand-in StyleGAN
(32 px) and LPIPS-alex on a random backbone. Appends a dated entry to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import statistics
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
    except Exception as exc:  # the benchmark falls back to a stand-in, and says why
        print(f"(zoo models unavailable: {type(exc).__name__}; using a stand-in)", file=sys.stderr)
    from ganeval.models.stylegan import StyleGAN

    torch.manual_seed(0)
    G = StyleGAN(z_dim=64, w_dim=64, img_resolution=32, mapping_layers=4, fmap_base=512, fmap_max=64).eval()
    G.requires_grad_(False)
    return (
        G.to(device),
        lpips_with_random_backbone("alex", 0).to(device),
        "stand-in StyleGAN v1 32 px (64 ch) + LPIPS-alex (random backbone)",
    )


class _TMWrapper(torch.nn.Module):
    """torchmetrics' protocol: sample(n) -> z, forward(z) -> [0, 255] images (constant noise)."""

    def __init__(self, G: torch.nn.Module) -> None:
        super().__init__()
        self.G = G

    def sample(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.G.z_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (self.G.synthesis(self.G.mapping(z, None), noise_mode="const") + 1) * 127.5


class _ConstNoiseView(torch.nn.Module):
    """The same generator seen as a foreign one (no ``noise=`` input): ganeval then uses its
    constant noise, i.e. the generator work torchmetrics does."""

    def __init__(self, G: torch.nn.Module) -> None:
        super().__init__()
        self.G = G
        self.z_dim, self.c_dim, self.img_resolution = G.z_dim, 0, G.img_resolution

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0) -> torch.Tensor:
        return self.G.mapping(z, None, truncation_psi=truncation_psi)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        return self.G.synthesis(ws, noise_mode="const")


def bench_throughput(
    G: torch.nn.Module, dist: torch.nn.Module, n: int, bs: int, device: str, repeats: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    from torchmetrics.functional.image.perceptual_path_length import perceptual_path_length

    kw = {
        "space": "z",
        "sampling": "end",
        "interpolation": "lerp",
        "num_samples": n,
        "distance": dist,
        "batch_size": bs,
        "device": device,
        "progress": False,
    }
    # bare forward passes on the same batches, inputs prepared outside the timed region
    res = G.synthesis.noise_resolutions
    batches = []
    for start in range(0, n, bs):
        idx = np.arange(start, min(start + bs, n))
        z0 = _seeding.normal(0, "ppl.z0", idx, [G.z_dim]).to(device)
        z1 = _seeding.normal(0, "ppl.z1", idx, [G.z_dim]).to(device)
        noise = [torch.randn(len(idx), 1, r, r, device=device) for r in res]
        batches.append((z0, z1, [torch.cat([m, m]) for m in noise]))
    view = _ConstNoiseView(G)

    def run_ours() -> None:
        ppl(G, **kw)

    def run_ours_const() -> None:
        ppl(view, **kw)

    def run_peer() -> None:
        torch.manual_seed(0)
        perceptual_path_length(
            _TMWrapper(G),
            num_samples=n,
            batch_size=bs,
            interpolation_method="lerp",
            resize=None,
            sim_net=dist,
            device=device,
        )

    def run_bare() -> None:
        with torch.inference_mode():
            for z0, z1, noise in batches:
                lat = torch.cat([z0, z0 + (z1 - z0) * 1e-4])
                img = G.synthesis(G.mapping(lat, None), noise_mode="const", noise=noise)
                dist.pairs(img).cpu()  # the distance call ganeval makes: both halves in one pass

    runs = {"ours": run_ours, "ours_const": run_ours_const, "peer": run_peer, "bare": run_bare}
    for fn in runs.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {k: [] for k in runs}
    cpu: dict[str, list[float]] = {k: [] for k in runs}
    for r in range(repeats):  # interleaved, rotating the order: the machine is shared
        keys = list(runs)
        for key in keys[r % len(keys) :] + keys[: r % len(keys)]:
            t0, c0 = time.perf_counter(), time.process_time()
            runs[key]()
            times[key].append(time.perf_counter() - t0)
            cpu[key].append(time.process_time() - c0)
    return times, cpu


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
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load0 = os.getloadavg()
    G, dist, what = _models(args.device)
    t, cpu = bench_throughput(G, dist, args.samples, args.batch_size, args.device, args.repeats)
    load1 = os.getloadavg()
    n = args.samples
    best = {k: min(v) for k, v in t.items()}
    med = {k: statistics.median(v) for k, v in t.items()}
    cmed = {k: statistics.median(v) for k, v in cpu.items()}
    mem = {k: bench_memory(k) for k in (10_000, 100_000)}

    def rates(key: str) -> str:
        return f"{n / best[key]:.1f} samples/s (median {n / med[key]:.1f})"

    lines = [
        f"- models: {what}; {n} pairs, batch {args.batch_size}, device {args.device}, {args.threads} torch "
        f"thread(s), best and median of {args.repeats} interleaved repeats; load average "
        f"{load0[0]:.2f} before, {load1[0]:.2f} after (`uptime`, 2 cores)",
        f"- throughput (Z, lerp, t = 0, no crop): torchmetrics {rates('peer')}; ganeval on the same work "
        f"(constant noise) {rates('ours_const')}, ratio {best['peer'] / best['ours_const']:.2f}x "
        f"(median {med['peer'] / med['ours_const']:.2f}x); ganeval as it runs (per-pair noise maps) "
        f"{rates('ours')}, ratio {best['peer'] / best['ours']:.2f}x (median {med['peer'] / med['ours']:.2f}x)",
        "- torchmetrics' work differs from ganeval's default: constant noise instead of one noise realisation per "
        "pair, latents from torch.randn instead of per sample index, no bootstrap CI, no finiteness or range "
        "checks; images round-trip through [0, 255]; it calls the distance on the two halves (two backbone "
        "passes of B), ganeval once on the stacked 2B pairs (`Distance.pairs`, identical per-pair values)",
        f"- overhead over bare mapping+synthesis+distance on the same batches (per-pair noise): "
        f"{100 * (best['ours'] / best['bare'] - 1):+.1f} % best (bare {best['bare']:.2f} s, ganeval "
        f"{best['ours']:.2f} s), {100 * (med['ours'] / med['bare'] - 1):+.1f} % median",
        f"- process CPU time (median; insensitive to other processes' load, one thread): torchmetrics "
        f"{cmed['peer']:.2f} s, ganeval same work {cmed['ours_const']:.2f} s "
        f"(ratio {cmed['peer'] / cmed['ours_const']:.2f}x), ganeval per-pair noise {cmed['ours']:.2f} s "
        f"(ratio {cmed['peer'] / cmed['ours']:.2f}x), bare {cmed['bare']:.2f} s "
        f"(ganeval overhead {100 * (cmed['ours'] / cmed['bare'] - 1):+.1f} %)",
        *(
            f"- memory at {k // 1000}k samples (linear G, squared L2): "
            f"tracemalloc peak {m['tracemalloc_peak_mb']:.1f} MiB, "
            f"peak RSS growth {m['rss_growth_mb']:.1f} MiB, {k / m['wall_s']:.0f} samples/s"
            for k, m in mem.items()
        ),
    ]
    print("\n".join(lines))
    if not args.no_append:
        bench = ROOT / "BENCHMARKS.md"
        text = bench.read_text(encoding="utf-8") if bench.exists() else "# Benchmarks\n"
        if "## PPL" not in text:
            text = text.rstrip("\n") + "\n\n## PPL\n"
        head = (
            f"\n{datetime.date.today()} ({platform.machine()}, torch {torch.__version__}); command: "
            f"`nice -n 0 python -m benchmarks.bench_ppl --samples {n} --batch-size {args.batch_size} "
            f"--device {args.device} --threads {args.threads} --repeats {args.repeats}`\n"
        )
        idx = text.index("## PPL") + len("## PPL\n")
        nxt = text.find("\n## ", idx)
        end = len(text) if nxt < 0 else nxt
        text = text[:end].rstrip("\n") + "\n" + head + "\n".join(lines) + "\n" + text[end:]
        bench.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

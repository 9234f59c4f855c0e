"""Do torch.compile or channels_last speed PPL up on the CPU at unchanged values? (benchmark)

    python benchmarks/bench_ppl_speedups.py [--samples 1000] [--threads 1]

On the zoo models (W end, finite difference, chunks of 16 pairs) measures CPU time
(``time.process_time``, robust to a loaded machine) of:

- the default run;
- channels_last: generator and distance converted with ``memory_format=torch.channels_last``;
- torch.compile of the generator's mapping and synthesis and of the distance's forward
  (reported with and without the first, compiling call).

and the per-sample agreement of each with the default (median and max ``|a / b - 1|``), to be
compared with the float32 noise floor in BENCHMARKS.md. ``cudnn.benchmark`` only affects cuDNN
(GPUs); it is listed for the GPU check. A variant is worth keeping behind an option only if it
gives at least 1.2x with per-sample values inside the noise floor.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import torch

import ganeval


def _models() -> tuple[Any, Any]:
    from ganeval.distances import load_distance

    return ganeval.load_generator("zoo:shapes-stylegan"), load_distance("zoo:shapes-perceptual", device="cpu")


def _run(G: Any, dist: Any, n: int) -> tuple[np.ndarray, float]:
    t0 = time.process_time()
    r = ganeval.ppl(G, space="w", num_samples=n, distance=dist, device="cpu", progress=False)
    return r.per_sample, time.process_time() - t0


def _channels_last(G: Any, dist: Any) -> tuple[Any, Any]:
    return G.to(memory_format=torch.channels_last), dist.to(memory_format=torch.channels_last)


def _compiled(G: Any, dist: Any) -> tuple[Any, Any]:
    G.mapping = torch.compile(G.mapping, dynamic=False)
    G.synthesis.forward = torch.compile(G.synthesis.forward, dynamic=False)
    dist.forward = torch.compile(dist.forward, dynamic=False)
    return G, dist


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    G0, dist0 = _models()
    _, t_first = _run(G0, dist0, args.samples)  # the same warm-up every variant gets
    base, t_base = _run(G0, dist0, args.samples)
    rows = [("default", t_base, 0.0, 0.0, t_first)]
    for name, make in (("channels_last", _channels_last), ("torch.compile", _compiled)):
        G, dist = make(*_models())
        first, t_first = _run(G, dist, args.samples)
        again, t_again = _run(G, dist, args.samples)
        r = np.abs(again / base - 1)
        rows.append((name, t_again, float(np.median(r)), float(r.max()), t_first))
    print(
        f"| variant | CPU s ({args.samples} samples) | speed-up | median rel. diff | max rel. diff | "
        "first run incl. start-up |\n|---|---|---|---|---|---|"
    )
    for name, t, med, mx, first in rows:
        first_s = "" if first is None else f"{first:.1f}"
        print(f"| {name} | {t:.1f} | {t_base / t:.2f}x | {med:.1e} | {mx:.1e} | {first_s} |")


if __name__ == "__main__":
    main()

"""One PPL run for bench_scale.py: prints a JSON line with samples, wall time and peak RSS (rank 0)."""

from __future__ import annotations

import json
import resource
import sys
import time

import torch

import ganeval
from ganeval import distributed


def main() -> None:
    n, batch, zoo = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "zoo"
    distributed.init_from_env()
    if zoo:
        G, dist_name = ganeval.load_generator("zoo:shapes-stylegan"), "zoo:shapes-perceptual"
        distance = ganeval.load_distance(dist_name)
    else:
        from ganeval.models.stylegan import StyleGAN

        torch.manual_seed(0)
        G = StyleGAN(z_dim=64, w_dim=64, img_resolution=32, mapping_layers=8, fmap_base=256, fmap_max=64).eval()

        def distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return (a - b).square().mean(dim=(1, 2, 3))

    t0 = time.perf_counter()
    res = ganeval.ppl(
        G,
        space="w",
        sampling="full",
        num_samples=n,
        distance=distance,
        batch_size=batch,
        device="cpu",
        seed=0,
        progress="quiet",
    )
    wall = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if distributed.is_main():
        print(
            json.dumps(
                {
                    "n": n,
                    "wall_s": wall,
                    "peak_rss_mib": peak_mib,
                    "value": res.value,
                    "world": distributed.world_size(),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()

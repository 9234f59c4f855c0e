"""PPL, separability and FID on small seeded networks; run plainly or under torchrun.

Usage: python -m tests.helpers.distributed_metrics_job OUT.json REAL.npy
Rank 0 writes {metric: {"value": ..., "per_sample": [...]}} to OUT.json.
"""

from __future__ import annotations

import json
import sys

import torch

import ganeval
from ganeval import distributed
from ganeval.classifiers.base import wrap_classifier
from ganeval.models.stylegan import StyleGAN


def main() -> None:
    out, real = sys.argv[1], sys.argv[2]
    distributed.init_from_env()
    torch.manual_seed(0)
    G = StyleGAN(z_dim=16, w_dim=16, img_resolution=16, mapping_layers=2, fmap_base=64, fmap_max=16).eval()
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=2), torch.nn.Flatten(), torch.nn.LazyLinear(3))
    net(torch.zeros(1, 3, 16, 16))
    clf = wrap_classifier(net, ["a", "b", "c"], 16)
    torch.manual_seed(2)
    feat = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten())

    def sq_l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a - b).square().mean(dim=(1, 2, 3))

    p = ganeval.ppl(
        G,
        space="w",
        sampling="full",
        num_samples=130,
        distance=sq_l2,
        seed=5,
        batch_size=8,
        device="cpu",
        progress="quiet",
    )
    s = ganeval.separability(
        G, clf, num_samples=150, num_keep=100, seed=5, batch_size=8, device="cpu", cache_dir=False, progress="quiet"
    )
    f = ganeval.fid(
        G, real, num_samples=90, extractor=feat, seed=5, batch_size=8, device="cpu", cache=False, progress="quiet"
    )
    if distributed.is_main():
        res = {
            "ppl": {"value": p.value, "per_sample": p.per_sample.tolist()},
            "separability": {"value": s.value, "per_sample": s.table["entropy_bits"].tolist()},
            "fid": {"value": f.value, "per_sample": []},
        }
        with open(out, "w") as fh:
            json.dump(res, fh)


if __name__ == "__main__":
    main()

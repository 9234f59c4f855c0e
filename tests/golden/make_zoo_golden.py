"""Regenerate the zoo golden tensors (run once when the shipped zoo weights change).

    .venv/bin/python tests/golden/make_zoo_golden.py

Inputs are fixed (renders of the evaluation seed, seeded z); outputs of the shipped models are
stored in ``tests/golden/zoo_golden.safetensors`` for ``tests/test_zoo_models.py``.
"""

from __future__ import annotations

from pathlib import Path

import torch


def golden_inputs(z_dim: int) -> dict[str, torch.Tensor]:
    """The fixed inputs: 8 renders a, 8 renders b (seed 1_000_003) and 4 latents z (torch seed 123)."""
    from ganeval.zoo import shapes
    from ganeval.zoo.train import EVAL_SEED

    a, _ = shapes.render(list(range(8)), EVAL_SEED)
    b, _ = shapes.render(list(range(8, 16)), EVAL_SEED)
    z = torch.randn(4, z_dim, generator=torch.Generator().manual_seed(123))
    return {"a": a, "b": b, "z": z}


def golden_outputs() -> dict[str, torch.Tensor]:
    import ganeval
    from ganeval.zoo.classifier import load_zoo_classifier
    from ganeval.zoo.perceptual import load_zoo_distance

    G = ganeval.load_generator("zoo:shapes-stylegan")
    T = ganeval.load_generator("zoo:shapes-traditional")
    clf, dist = load_zoo_classifier("zoo:shapes-classifier"), load_zoo_distance("zoo:shapes-perceptual")
    x = golden_inputs(G.z_dim)
    with torch.no_grad():
        ws = G.mapping(x["z"])
        return {
            "classifier_logits": clf(x["a"]),
            "classifier_features": clf.features(x["a"]),
            "perceptual": dist(x["a"], x["b"]),
            "generator_ws": ws,
            "generator_images": G.synthesis(ws, noise_mode="const"),
            "traditional_images": T(golden_inputs(T.z_dim)["z"]),
        }


if __name__ == "__main__":
    from safetensors.torch import save_file

    out = Path(__file__).with_name("zoo_golden.safetensors")
    save_file({k: v.contiguous() for k, v in golden_outputs().items()}, str(out))
    print(f"wrote {out}")

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


def generator_golden(name: str) -> dict[str, torch.Tensor]:
    """Outputs of zoo generator ``name`` on the fixed z: ``<name>.ws`` (style-based only) and ``<name>.images``
    (noise ``const``)."""
    import ganeval

    G = ganeval.load_generator(f"zoo:{name}")
    z = golden_inputs(G.z_dim)["z"]
    with torch.no_grad():
        if not G.has_w_space:
            return {f"{name}.images": G(z)}
        ws = G.mapping(z)
        return {f"{name}.ws": ws, f"{name}.images": G.synthesis(ws, noise_mode="const")}


def golden_outputs() -> dict[str, torch.Tensor]:
    from ganeval.zoo._load import generator_card_names
    from ganeval.zoo.classifier import load_zoo_classifier
    from ganeval.zoo.perceptual import load_zoo_distance

    clf, dist = load_zoo_classifier("zoo:shapes-classifier"), load_zoo_distance("zoo:shapes-perceptual")
    x = golden_inputs(1)
    with torch.no_grad():
        out = {
            "classifier_logits": clf(x["a"]),
            "classifier_features": clf.features(x["a"]),
            "perceptual": dist(x["a"], x["b"]),
        }
    for name in generator_card_names():
        out.update(generator_golden(name))
    return out


if __name__ == "__main__":
    from safetensors.torch import save_file

    torch.set_num_threads(1)  # as the tests run (conftest's one_thread): the same float rounding
    out = Path(__file__).with_name("zoo_golden.safetensors")
    save_file({k: v.contiguous() for k, v in golden_outputs().items()}, str(out))
    print(f"wrote {out}")

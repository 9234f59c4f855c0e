"""The zoo attribute classifier: one logit per shapes attribute, plus penultimate features."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._validate import check_tensor_shape
from . import shapes
from .networks import ShapesNet

__all__ = ["ShapesClassifier", "load_zoo_classifier", "evaluate_classifier"]


class ShapesClassifier(ShapesNet):
    """Images ``[N, 3, 32, 32]`` in [-1, 1] -> logits ``[N, A]`` (A = len(attribute_names)).

    ``features(images)`` returns the ``[N, 128]`` penultimate layer (for Fréchet distances).
    """

    name = "zoo:shapes-classifier"
    input_resolution = shapes.RESOLUTION

    def __init__(
        self, attribute_names: list[str], widths: tuple[int, int, int] = (16, 32, 64), feature_dim: int = 128
    ) -> None:
        super().__init__(num_outputs=len(attribute_names), widths=widths, feature_dim=feature_dim)
        self.attribute_names = list(attribute_names)
        self.init_kwargs = {
            "attribute_names": self.attribute_names,
            "widths": list(widths),
            "feature_dim": int(feature_dim),
        }
        self.weights_sha256: dict[str, str] = {}

    def _check(self, images: torch.Tensor) -> None:
        check_tensor_shape("images", images, [None, 3, self.input_resolution, self.input_resolution])

    def features(self, images: torch.Tensor) -> torch.Tensor:
        self._check(images)
        return super().features(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


@torch.no_grad()
def evaluate_classifier(model: torch.nn.Module, *, num: int, seed: int, batch: int = 512) -> dict[str, float]:
    """Per-attribute accuracy (threshold logit 0) on renders ``0..num-1`` of dataset ``seed``."""
    correct = torch.zeros(len(shapes.ATTRIBUTES))
    for start in range(0, num, batch):
        images, labels = shapes.render(np.arange(start, min(start + batch, num)), seed)
        correct += ((model(images) > 0) == labels).float().sum(0)
    return {a: round(float(c) / num, 5) for a, c in zip(shapes.ATTRIBUTES, correct)}


def load_zoo_classifier(
    name: str = "zoo:shapes-classifier", device: Any = None, root: str | Path | None = None
) -> ShapesClassifier:
    """Load the zoo classifier (sha256-checked), in eval mode with requires_grad False."""
    from ..devices import resolve_device
    from ._load import pretrained_dir, read_card, verified_state_dict

    root = Path(root) if root is not None else pretrained_dir()
    card = read_card(name, root)
    kwargs = dict(card["init_kwargs"])
    model = ShapesClassifier(
        attribute_names=kwargs["attribute_names"], widths=tuple(kwargs["widths"]), feature_dim=kwargs["feature_dim"]
    )
    state, sha = verified_state_dict(card, root)
    model.load_state_dict(state, strict=True)
    model.weights_sha256 = {card["name"]: sha}
    return model.eval().requires_grad_(False).to(resolve_device(device if device is not None else "cpu"))

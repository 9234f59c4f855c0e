"""``shapes-perceptual``: an LPIPS-style distance on a CNN trained on the shapes data.

NOT LPIPS-VGG16: the backbone is a small :class:`ShapesNet` trained (``python -m
ganeval.zoo.train perceptual``) to predict the shapes attributes and the scene geometry and
colours; the per-channel weights are uniform (1), not fitted to human judgements. Numbers
computed with it are only comparable with other numbers computed with it.

Distance, for images a, b ``[N, 3, 32, 32]`` in [-1, 1] and stage outputs f_l (l = 0, 1, 2 at
32, 16, 8 px)::

    d(a, b) = sum_l mean_{h,w} sum_c w_lc * (f̂_l(a) - f̂_l(b))^2,   f̂ = f / (||f||_channels + 1e-10)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validate import check_tensor_shape
from . import shapes
from .networks import ShapesNet

__all__ = ["ShapesPerceptual", "load_zoo_distance", "REGRESSION_TARGETS", "regression_targets"]

#: Continuous scene parameters the perceptual trunk regresses (besides the attributes).
REGRESSION_TARGETS: list[str] = ["cx", "cy", "rx", "ry", "hue_cos", "hue_sin", "sat", "val", "bg_val"]


def regression_targets(indices: np.ndarray, seed: int) -> torch.Tensor:
    """Scaled scene parameters ``[N, 9]`` (order of :data:`REGRESSION_TARGETS`), each roughly in [-1, 1]."""
    p = shapes.render_params(indices, seed)
    cols = [
        (p["cx"] - 16) / 16,
        (p["cy"] - 16) / 16,
        p["rx"] / 16,
        p["ry"] / 16,
        np.cos(2 * np.pi * p["hue"]),
        np.sin(2 * np.pi * p["hue"]),
        p["sat"],
        p["val"],
        p["bg_val"],
    ]
    return torch.from_numpy(np.stack(cols, axis=1).astype(np.float32))


class ShapesPerceptual(nn.Module):
    """LPIPS-style distance: ``forward(img_a, img_b) -> [N]`` (images ``[N, 3, 32, 32]`` in [-1, 1]).

    Attributes ``name`` (says it is not LPIPS-VGG16) and ``weights_sha256``; buffers
    ``lin{l}`` ``[C_l]`` hold the non-negative per-channel weights (uniform 1 as shipped).
    """

    name = "shapes-perceptual (ganeval zoo CNN; NOT LPIPS-VGG16)"
    description = "ganeval zoo CNN; NOT LPIPS-VGG16"  # shown beside the name `zoo:shapes-perceptual` in results
    input_resolution = shapes.RESOLUTION

    def __init__(self, num_outputs: int, widths: tuple[int, int, int] = (16, 32, 64), feature_dim: int = 128) -> None:
        super().__init__()
        self.net = ShapesNet(num_outputs=num_outputs, widths=widths, feature_dim=feature_dim)
        self.init_kwargs: dict[str, Any] = dict(self.net.init_kwargs)
        for k, c in enumerate(widths):
            self.register_buffer(f"lin{k}", torch.ones(c))
        self.weights_sha256: dict[str, str] = {}

    def forward(self, img_a: torch.Tensor, img_b: torch.Tensor) -> torch.Tensor:
        r = self.input_resolution
        check_tensor_shape("img_a", img_a, [None, 3, r, r])
        check_tensor_shape("img_b", img_b, [img_a.shape[0], 3, r, r])
        n = img_a.shape[0]
        feats = self._unit_features(torch.cat([img_a, img_b]))
        total = torch.zeros(n, dtype=img_a.dtype, device=img_a.device)
        for k, f in enumerate(feats):
            diff = (f[:n] - f[n:]).square() * getattr(self, f"lin{k}").view(1, -1, 1, 1)
            total = total + diff.sum(dim=1).mean(dim=(1, 2))
        return total

    def _unit_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [f / (f.square().sum(dim=1, keepdim=True).sqrt() + 1e-10) for f in self.net.stage_outputs(x)]

    def path_quadratic(self, images: torch.Tensor, tangents: torch.Tensor) -> torch.Tensor:
        """``lim d(x, x + s v) / s**2`` ``[N]``: the weighted squared directional derivative of the
        unit-normalised stage features (one forward-mode pass; see ganeval's PPL ``method="jvp"``)."""
        from torch.func import jvp

        r = self.input_resolution
        check_tensor_shape("images", images, [None, 3, r, r])
        # torch annotates jvp's result as the 2- or (has_aux) 3-tuple
        _, dfeats = jvp(lambda x: tuple(self._unit_features(x)), (images,), (tangents,))  # type: ignore[misc]
        total = torch.zeros(images.shape[0], dtype=images.dtype, device=images.device)
        for k, df in enumerate(dfeats):
            total = total + (df.square() * getattr(self, f"lin{k}").view(1, -1, 1, 1)).sum(dim=1).mean(dim=(1, 2))
        return total


def load_zoo_distance(
    name: str = "zoo:shapes-perceptual", device: Any = None, root: str | Path | None = None
) -> ShapesPerceptual:
    """Load the zoo perceptual distance (sha256-checked), in eval mode with requires_grad False."""
    from ..devices import resolve_device
    from ._load import pretrained_dir, read_card, verified_state_dict

    root = Path(root) if root is not None else pretrained_dir()
    card = read_card(name, root)
    kwargs = card["init_kwargs"]
    model = ShapesPerceptual(
        num_outputs=kwargs["num_outputs"], widths=tuple(kwargs["widths"]), feature_dim=kwargs["feature_dim"]
    )
    state, sha = verified_state_dict(card, root)
    model.load_state_dict(state, strict=True)
    model.weights_sha256 = {card["name"]: sha}
    return model.eval().requires_grad_(False).to(resolve_device(device if device is not None else "cpu"))

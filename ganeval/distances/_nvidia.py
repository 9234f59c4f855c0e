"""NVIDIA's ``vgg16.pt`` TorchScript LPIPS embedding (stylegan2-ada-pytorch metrics).

Called exactly as stylegan2-ada-pytorch's PPL calls it: images in [0, 255],
``resize_images=False, return_lpips=True``; it returns one embedding per image and the LPIPS
distance is the squared L2 distance between the two embeddings.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import CheckpointError
from ._base import Distance, as_rgb, sha256_file

__all__ = ["NvidiaVGG16Distance"]


class NvidiaVGG16Distance(Distance):
    """``forward(img_a, img_b)`` on images in [-1, 1] ``[N, 1|3, H, W]`` -> LPIPS ``[N]``."""

    def __init__(self, path: str | Path, name: str = "nvidia-vgg16") -> None:
        super().__init__()
        self.name = name
        try:
            self.model = torch.jit.load(str(path), map_location="cpu").eval()
        except (RuntimeError, ValueError) as exc:
            raise CheckpointError(
                f"File {path} is not a TorchScript archive (expected NVIDIA's vgg16.pt): {exc}"
            ) from None
        self.weights_sha256 = {"vgg16.pt": sha256_file(path)}

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] -> LPIPS embeddings ``[N, F]``."""
        x255 = (as_rgb(images.to(torch.float32)) + 1) * 127.5  # the network expects [0, 255]
        return self.model(x255, resize_images=False, return_lpips=True)

    def forward(self, img_a: torch.Tensor, img_b: torch.Tensor) -> torch.Tensor:
        self.check_pair(img_a, img_b)
        return (self.embed(img_a) - self.embed(img_b)).square().sum(dim=1)

"""Perceptual distances for PPL: ``load_distance(name_or_callable, device=None)``.

Every distance is an ``nn.Module`` with ``forward(img_a, img_b) -> [N]`` on float32 images
``[N, C, H, W]`` in [-1, 1], a ``name`` (the name that loads it, written into every result), a
``description`` (what a reader must know beyond the name, or ``None``) and ``weights_sha256``.

Names:

- ``lpips-vgg16``: LPIPS v0.1 (lpips package linear weights) on torchvision's VGG16 ImageNet
  features (weights entry ``torchvision-vgg16``); the distance of the StyleGAN papers.
- ``lpips-alex``, ``lpips-squeeze``: the same on AlexNet / SqueezeNet 1.1.
- ``nvidia-vgg16``: NVIDIA's ``vgg16.pt`` TorchScript (weights entry ``nvidia-vgg16-lpips``), fed
  [0, 255] images with ``resize_images=False, return_lpips=True`` as stylegan2-ada-pytorch does.
- any name registered in :mod:`ganeval.registry` (kind ``"distance"``), e.g. the zoo's
  ``zoo:shapes-perceptual`` (LPIPS-style, trained on the shapes data, 32 px; not LPIPS-VGG16, so
  its numbers are not comparable with published PPL) or a third-party package's;
- any callable ``fn(img_a, img_b) -> [N]``: wrapped under ``callable:<qualname>`` (or the
  callable's own ``name`` attribute).

Weights come from :func:`ganeval.weights.resolve`; offline with a missing file, that raises one
error naming the file and where to place it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .. import registry
from ..devices import resolve_device
from ..errors import GanevalTypeError
from ._base import CallableDistance, Distance
from ._lpips import LPIPSDistance, lpips_with_random_backbone
from ._nvidia import NvidiaVGG16Distance

__all__ = [
    "CallableDistance",
    "Distance",
    "LPIPSDistance",
    "NvidiaVGG16Distance",
    "load_distance",
    "lpips_with_random_backbone",
]


def load_distance(
    name_or_callable: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | Distance,
    device: str | torch.device | None = None,
) -> Distance:
    """Return a ready (eval mode, no grad) distance on ``device`` (``None``: ``"auto"``).

    Args:
        name_or_callable: a registered distance name (``ganeval.registry.names("distance")``), a
            :class:`Distance` (returned as is, moved to ``device``), or a callable ``(img_a, img_b) -> [N]``
            on images in [-1, 1].
        device: ``"auto"`` | ``"cpu"`` | ``"cuda[:N]"``.

    Raises:
        UnknownNameError: unknown name (a GanevalValueError listing the registered names).
        WeightsNotFoundError: weights missing and not downloadable (offline), naming the file.
    """
    dev = resolve_device(device)
    obj: Any = name_or_callable
    if isinstance(obj, Distance):
        dist = obj
    elif isinstance(obj, str):
        made = registry.create("distance", obj)
        # a registered plain callable is recorded under its registry name, so results name what loads again
        dist = made if isinstance(made, Distance) else CallableDistance(made, name=obj)
    elif callable(obj):
        dist = CallableDistance(obj, name=getattr(obj, "name", None))
    else:
        raise GanevalTypeError(
            f"Argument `distance` must be a distance name ({', '.join(registry.names('distance'))}) or a callable "
            f"(img_a, img_b) -> [N], but got {type(obj).__name__}."
        )
    dist.requires_grad_(False)
    return dist.eval().to(dev)

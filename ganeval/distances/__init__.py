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
- ``zoo:shapes-perceptual``: the zoo's LPIPS-style distance trained on the shapes data (32 px;
  not LPIPS-VGG16, so its numbers are not comparable with published PPL).
- any callable ``fn(img_a, img_b) -> [N]``: wrapped under ``callable:<qualname>`` (or the
  callable's own ``name`` attribute).

Weights come from :func:`ganeval.weights.resolve`; offline with a missing file, that raises one
error naming the file and where to place it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .._validate import check_choice
from ..devices import resolve_device
from ..errors import GanevalTypeError
from ._base import CallableDistance, Distance
from ._lpips import LPIPS_NETS, LPIPSDistance, lpips_with_random_backbone
from ._nvidia import NvidiaVGG16Distance

__all__ = ["load_distance", "DISTANCE_NAMES", "Distance", "CallableDistance", "LPIPSDistance",
           "NvidiaVGG16Distance", "lpips_with_random_backbone"]

DISTANCE_NAMES: tuple[str, ...] = (*LPIPS_NETS, "nvidia-vgg16", "zoo:shapes-perceptual")


def _load_zoo(name: str) -> Distance:
    """A zoo distance through the zoo loader, adapted to the :class:`Distance` interface."""
    from ..zoo.perceptual import load_zoo_distance

    net = load_zoo_distance(name, device="cpu")
    # the name loads it again; the description ("... NOT LPIPS-VGG16") goes beside it into every result
    dist = CallableDistance(net, name=name)
    dist.description = getattr(net, "description", None)
    dist.weights_sha256 = dict(getattr(net, "weights_sha256", {}) or {})
    return dist


def load_distance(name_or_callable: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | Distance,
                  device: str | torch.device | None = None) -> Distance:
    """Return a ready (eval mode, no grad) distance on ``device`` (``None``: ``"auto"``).

    Args:
        name_or_callable: one of :data:`DISTANCE_NAMES`, a :class:`Distance` (returned as is,
            moved to ``device``), or a callable ``(img_a, img_b) -> [N]`` on images in [-1, 1].
        device: ``"auto"`` | ``"cpu"`` | ``"cuda[:N]"``.

    Raises:
        GanevalValueError: unknown name.
        WeightsNotFoundError: weights missing and not downloadable (offline), naming the file.
    """
    dev = resolve_device(device)
    obj: Any = name_or_callable
    if isinstance(obj, Distance):
        dist = obj
    elif isinstance(obj, str):
        check_choice("distance", obj, DISTANCE_NAMES)
        if obj in LPIPS_NETS:
            from ..weights import resolve

            net, entry = LPIPS_NETS[obj]
            dist = LPIPSDistance(net, name=obj)
            dist.load_backbone(resolve(entry))
        elif obj == "nvidia-vgg16":
            from ..weights import resolve

            dist = NvidiaVGG16Distance(resolve("nvidia-vgg16-lpips"))
        else:
            dist = _load_zoo(obj)
    elif callable(obj):
        dist = CallableDistance(obj, name=getattr(obj, "name", None))
    else:
        raise GanevalTypeError(
            f"Argument `distance` must be a distance name ({', '.join(DISTANCE_NAMES)}) or a callable "
            f"(img_a, img_b) -> [N], but got {type(obj).__name__}."
        )
    dist.requires_grad_(False)
    return dist.eval().to(dev)

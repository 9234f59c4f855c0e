"""Resize modes: how uint8 images reach the extractor's input size.

The resize filter alone moves FID by several points between libraries, so ganeval makes it a
named setting, ``resize`` (called ``protocol`` up to 0.1.0), recorded with every result:

- ``tf`` (default): TensorFlow 1.x bilinear, no half-pixel offset, no antialiasing — what the
  2015-12-05 Inception graph does inside itself and NVIDIA's TorchScript reproduces;
- ``pytorch-fid``: half-pixel bilinear (``F.interpolate(align_corners=False)``), as pytorch-fid;
- ``clean``: clean-fid's: PIL bicubic (antialiased) on each channel of the uint8 image as
  float32, clipped to [0, 255];
- ``torchmetrics``: antialiased bilinear (``F.interpolate(antialias=True)``), torchmetrics'
  default since its PR #3177.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .._validate import check_choice
from .inception import tf_bilinear_resize

__all__ = ["RESIZES", "prepare_batch"]

RESIZES: tuple[str, ...] = ("tf", "pytorch-fid", "clean", "torchmetrics")


def _pil_bicubic(images: torch.Tensor, size: int) -> torch.Tensor:
    from PIL import Image

    arr = images.permute(0, 2, 3, 1).cpu().numpy().astype(np.float32)
    out = np.empty((arr.shape[0], size, size, arr.shape[3]), np.float32)
    for i in range(arr.shape[0]):
        for c in range(arr.shape[3]):
            ch = Image.fromarray(arr[i, :, :, c], mode="F")
            out[i, :, :, c] = np.asarray(ch.resize((size, size), resample=Image.Resampling.BICUBIC))
    return torch.from_numpy(out.clip(0, 255)).permute(0, 3, 1, 2)


def prepare_batch(images: torch.Tensor, resize: str, size: int, device: torch.device | None = None) -> torch.Tensor:
    """uint8 ``[N, 3, H, W]`` -> float32 ``[N, 3, size, size]`` in [-1, 1] on ``device``.

    Images already at ``size`` pass through unchanged under every resize mode.
    """
    check_choice("resize", resize, RESIZES)
    device = device if device is not None else images.device
    if resize == "clean" and images.shape[-2:] != (size, size):
        x = _pil_bicubic(images, size).to(device)
    else:
        x = images.to(device).float()
        if x.shape[-2:] != (size, size):
            if resize == "tf":
                x = tf_bilinear_resize(x, size)
            elif resize == "pytorch-fid":
                x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
            else:
                x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return x / 127.5 - 1.0

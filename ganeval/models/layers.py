"""Building blocks of the StyleGAN (v1) generator, written from arXiv 1812.04948.

Every weight uses the *equalised learning rate*: parameters are stored at unit scale
(initialised N(0, 1/lr_mul)) and multiplied at run time by ``gain / sqrt(fan_in) * lr_mul``;
biases are multiplied by ``lr_mul``. Weights follow the PyTorch layout (``[out, in]`` for
dense layers, ``[out, in, kh, kw]`` for convolutions).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "LRELU_SLOPE",
    "pixel_norm",
    "instance_norm",
    "EqualLinear",
    "EqualConv2d",
    "Blur",
    "NoiseInjection",
    "AdaIN",
]

LRELU_SLOPE = 0.2
SQRT2 = math.sqrt(2.0)


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Normalise each row of ``x`` ``[N, D]`` to unit second moment: ``x * rsqrt(mean(x^2) + eps)``."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + eps)


def instance_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Per-sample, per-channel spatial normalisation of ``x`` ``[N, C, H, W]``.

    Subtracts the spatial mean, then multiplies by ``rsqrt(mean(x^2) + eps)`` (population
    variance, no affine parameters), as in the v1 reference.
    """
    x = x - x.mean(dim=(2, 3), keepdim=True)
    return x * torch.rsqrt(x.square().mean(dim=(2, 3), keepdim=True) + eps)


class EqualLinear(nn.Module):
    """Dense layer ``[N, in] -> [N, out]`` with equalised learning rate.

    ``y = x @ (W * gain / sqrt(in) * lr_mul).T + b * lr_mul``; ``W`` is stored as ``[out, in]``
    and initialised N(0, 1 / lr_mul), ``b`` initialised to ``bias_init / lr_mul`` so that the
    effective initial bias is ``bias_init``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        gain: float = 1.0,
        lr_mul: float = 1.0,
        bias: bool = True,
        bias_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_mul)) if bias else None
        self.weight_gain = gain / math.sqrt(in_features) * lr_mul
        self.bias_gain = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.weight_gain
        if self.bias is None:
            return x.matmul(w.t())
        b = self.bias * self.bias_gain if self.bias_gain != 1 else self.bias
        return torch.addmm(b.unsqueeze(0), x, w.t())

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, weight_gain={self.weight_gain:.4g}"


class EqualConv2d(nn.Module):
    """Square convolution with equalised learning rate (``fan_in = in * k * k``), 'same' padding.

    ``up=True`` doubles the resolution first: nearest-neighbour upsampling then the
    convolution, or, when ``fused=True``, one transposed convolution with stride 2 whose
    ``k+1`` kernel is the sum of the four one-pixel shifts of the scaled ``k`` kernel (the
    v1 "fused_scale" path, kept unflipped as in the reference so converted weights match; it
    equals nearest upsampling followed by the convolution with the spatially *flipped* kernel).
    The bias is optional because the v1 synthesis layer adds its bias after the noise.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        gain: float = SQRT2,
        bias: bool = False,
        up: bool = False,
        fused: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.kernel_size = int(in_channels), int(out_channels), int(kernel_size)
        self.up, self.fused = bool(up), bool(up and fused)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = gain / math.sqrt(in_channels * kernel_size * kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.weight_gain
        if self.fused:
            # pad the kernel by one pixel on each side and add its four one-pixel shifts: [O, I, k+1, k+1]
            w = F.pad(w, (1, 1, 1, 1))
            w = w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]
            return F.conv_transpose2d(x, w.transpose(0, 1), self.bias, stride=2, padding=(w.shape[-1] - 1) // 2)
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        return F.conv2d(x, w, self.bias, padding=self.kernel_size // 2)

    def extra_repr(self) -> str:
        return f"in={self.in_channels}, out={self.out_channels}, k={self.kernel_size}, up={self.up}, fused={self.fused}"


class Blur(nn.Module):
    """Depthwise ``[1, 2, 1] x [1, 2, 1] / 16`` low-pass filter with zero padding (size preserved).

    The filter is a non-persistent buffer: it follows ``.to(device)`` but is not saved.
    """

    kernel: torch.Tensor

    def __init__(self, channels: int) -> None:
        super().__init__()
        k = torch.tensor([1.0, 2.0, 1.0])
        k = torch.outer(k, k) / 16.0
        self.channels = int(channels)
        self.register_buffer("kernel", k.expand(channels, 1, 3, 3).contiguous(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.kernel.to(x.dtype), padding=1, groups=self.channels)


class NoiseInjection(nn.Module):
    """``x + noise * strength``: noise ``[N or 1, 1, H, W]`` broadcast over channels,
    ``strength`` ``[C]`` learned per channel (initialised to 0)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return x + noise.to(x.dtype) * self.weight.view(1, -1, 1, 1)


class AdaIN(nn.Module):
    """Adaptive instance normalisation with the v1 "+1" convention.

    ``y = instance_norm(x) * (ys + 1) + yb`` where ``[ys, yb] = A(w)`` is a learned affine
    map (equalised lr, gain 1) of the layer's ``w`` ``[N, w_dim]`` to ``2 * C`` values (first
    the C scales, then the C biases). Hence for every sample and channel the output has spatial
    mean ``yb`` and standard deviation ``|ys + 1|`` (population std, up to the 1e-8 epsilon).
    """

    def __init__(self, w_dim: int, channels: int) -> None:
        super().__init__()
        self.channels = int(channels)
        self.affine = EqualLinear(w_dim, 2 * channels, gain=1.0)

    def style(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``w`` ``[N, w_dim]`` -> ``(ys, yb)``, each ``[N, C]`` (``ys`` without the +1)."""
        s = self.affine(w)
        return s[:, : self.channels], s[:, self.channels :]

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        ys, yb = self.style(w)
        return torch.addcmul(yb[:, :, None, None], instance_norm(x), ys[:, :, None, None] + 1)

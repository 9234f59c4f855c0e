"""Small networks of the zoo: the shapes CNN trunk (classifier / perceptual) and the GAN discriminator.

All take images float32 ``[N, 3, 32, 32]`` in [-1, 1].
"""

from __future__ import annotations

import math
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ShapesNet", "Discriminator", "EqualConv2d", "EqualLinear"]


class ShapesNet(nn.Module):
    """A VGG-like CNN for 32x32 shapes: three conv stages, a feature layer, a linear head.

    Stage k (k = 0, 1, 2) runs two 3x3 convolutions with ``widths[k]`` channels at
    32 / 2**k px, then 2x average pooling; the 4x4 map is flattened into a ``feature_dim``
    feature layer (LeakyReLU) and a linear head with ``num_outputs`` values.
    """

    def __init__(self, num_outputs: int, widths: tuple[int, int, int] = (16, 32, 64), feature_dim: int = 128) -> None:
        super().__init__()
        self.init_kwargs: dict[str, Any] = {
            "num_outputs": int(num_outputs),
            "widths": list(widths),
            "feature_dim": int(feature_dim),
        }
        stages = []
        cin = 3
        for c in widths:
            stages.append(
                nn.Sequential(
                    nn.Conv2d(cin, c, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(c, c, 3, padding=1), nn.LeakyReLU(0.2)
                )
            )
            cin = c
        self.stages = nn.ModuleList(stages)
        self.fc = nn.Linear(widths[-1] * 16, feature_dim)
        self.head = nn.Linear(feature_dim, num_outputs)

    def stage_outputs(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Activations after each stage's second convolution: ``[N, widths[k], 32/2**k, 32/2**k]``."""
        outs = []
        x = images
        for k, stage in enumerate(self.stages):
            if k > 0:
                x = F.avg_pool2d(x, 2)
            x = stage(x)
            outs.append(x)
        return outs

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``[N, feature_dim]`` (after the LeakyReLU)."""
        x = F.avg_pool2d(self.stage_outputs(images)[-1], 2)
        return F.leaky_relu(self.fc(x.flatten(1)), 0.2)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``[N, 3, 32, 32]`` -> outputs ``[N, num_outputs]``."""
        return self.head(self.features(images))


class EqualLinear(nn.Module):
    """Linear layer with the equalised learning rate of StyleGAN (weights scaled at run time)."""

    def __init__(self, cin: int, cout: int, lr_mul: float = 1.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale, self.lr_mul = lr_mul / math.sqrt(cin), lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class EqualConv2d(nn.Module):
    """Conv2d (stride 1, 'same' padding) with the equalised learning rate."""

    def __init__(self, cin: int, cout: int, kernel: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale, self.padding = 1.0 / math.sqrt(cin * kernel * kernel), kernel // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class Discriminator(nn.Module):
    """A small StyleGAN-style D for 32x32 images: FromRGB, 3 x (conv, 2x pool, conv), minibatch stddev, conv, 2 dense.

    ``widths`` gives the channels at 32, 16, 8 and 4 px; the second convolution of each block
    runs after the pooling (half the cost of convolving first). Output: one logit per image ``[N]``.
    """

    def __init__(self, widths: tuple[int, int, int, int] = (16, 32, 64, 64), mbstd_group: int = 4) -> None:
        super().__init__()
        self.init_kwargs: dict[str, Any] = {"widths": list(widths), "mbstd_group": int(mbstd_group)}
        self.mbstd_group = mbstd_group
        self.from_rgb = EqualConv2d(3, widths[0], 1)
        self.blocks = nn.ModuleList(
            nn.ModuleList([EqualConv2d(widths[k], widths[k], 3), EqualConv2d(widths[k], widths[k + 1], 3)])
            for k in range(3)
        )
        self.conv4 = EqualConv2d(widths[3] + 1, widths[3], 3)
        self.fc = EqualLinear(widths[3] * 16, widths[3])
        self.out = EqualLinear(widths[3], 1)

    def _mbstd(self, x: torch.Tensor) -> torch.Tensor:
        """Append the mean over features of the per-group standard deviation as one extra channel."""
        n, c, h, w = x.shape
        g = math.gcd(self.mbstd_group, n)
        y = x.reshape(g, -1, c, h, w)
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # [n / g]
        y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``[N, 3, 32, 32]`` in [-1, 1] -> logits ``[N]`` (real > 0)."""
        x = F.leaky_relu(self.from_rgb(images), 0.2)
        for conv0, conv1 in cast("list[nn.ModuleList]", self.blocks):  # pairs of convs; ModuleList is not generic
            x = F.avg_pool2d(F.leaky_relu(conv0(x), 0.2), 2)
            x = F.leaky_relu(conv1(x), 0.2)
        x = F.leaky_relu(self.conv4(self._mbstd(x)), 0.2)
        x = F.leaky_relu(self.fc(x.flatten(1)), 0.2)
        return self.out(x).squeeze(1)

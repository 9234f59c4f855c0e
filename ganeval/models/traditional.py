"""The StyleGAN paper's *traditional* generator: z enters the synthesis network at its input layer.

Karras et al. 2019 (arXiv 1812.04948) compare the style-based generator with a traditional
one (their Figure 1a; "Traditional, 0 mapping layers" in their Table 4): the latent feeds
the first layer directly, there is no mapping network, no learned constant, no AdaIN styles
and no noise inputs, and every convolution is followed by pixelwise feature normalisation as
in Progressive GAN. ganeval's version (the baseline of ``zoo:shapes-traditional``) keeps the
synthesis widths, upsampling, blur, equalised learning rate and toRGB of
:class:`ganeval.models.stylegan.StyleGAN`, so the two differ only in how z reaches the images;
it does not grow progressively (neither does the zoo's style-based generator).

Architecture::

    z [N, z_dim] -> pixel norm -> "ws" [N, 1, z_dim] (num_ws = 1, w_dim = z_dim)
    synthesis: dense z -> [C, 4, 4] (+ bias, leaky ReLU 0.2, pixel norm)
      -> conv 3x3 at 4 px; then per resolution 8 ... R: nearest 2x + conv 3x3 + [1, 2, 1] blur,
         conv 3x3 (each + bias, leaky ReLU 0.2, pixel norm)
      -> toRGB (1x1 conv + bias, linear) -> images [N, img_channels, R, R], nominal [-1, 1].

There is no intermediate latent space: ``G.has_w_space`` is False, so the metrics refuse W,
and style mixing has no per-layer styles to mix. The "ws" tensor is the normalised z, which
keeps the generator protocol (``mapping`` then ``synthesis``) so Z-space metrics run unchanged;
truncation pulls it towards the mean of normalised z, which is 0.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._validate import check_positive_int
from .base import StyleGenerator, check_mapping_call, check_resolution, check_synthesis_call, truncate_ws
from .layers import LRELU_SLOPE, SQRT2, Blur, EqualConv2d, EqualLinear, pixel_norm
from .stylegan import _channels

__all__ = ["TraditionalGenerator"]


class InputLatent(nn.Module):
    """z ``[N, z_dim]`` -> pixel-normalised z as ws ``[N, 1, z_dim]``, with truncation towards 0.

    ``w_avg`` (zeros ``[z_dim]``) is the exact mean of normalised z, so it is a constant buffer.
    """

    w_avg: torch.Tensor

    def __init__(self, z_dim: int) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.register_buffer("w_avg", torch.zeros(z_dim))

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
    ) -> torch.Tensor:
        check_mapping_call(z, c, self.z_dim, 0, 1, truncation_psi, truncation_cutoff)
        ws = pixel_norm(z.to(torch.float32)).unsqueeze(1)
        return truncate_ws(ws, self.w_avg, truncation_psi, truncation_cutoff)


class _Conv(nn.Module):
    """conv 3x3 (optionally nearest 2x up + blur) -> + bias -> leaky ReLU -> pixel norm."""

    def __init__(self, cin: int, cout: int, up: bool) -> None:
        super().__init__()
        self.conv = EqualConv2d(cin, cout, 3, up=up)
        self.blur = Blur(cout) if up else None
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.blur is not None:
            x = self.blur(x)
        return pixel_norm(F.leaky_relu(x + self.bias.view(1, -1, 1, 1), LRELU_SLOPE))


class TraditionalSynthesis(nn.Module):
    """ws ``[N, 1, z_dim]`` -> images ``[N, img_channels, R, R]``; ``noise_mode`` is accepted and ignored."""

    def __init__(self, *, z_dim: int, img_resolution: int, img_channels: int, channels: Sequence[int]) -> None:
        super().__init__()
        self.w_dim, self.num_ws, self.img_resolution, self.img_channels = z_dim, 1, img_resolution, img_channels
        c0 = channels[0]
        # ProGAN's first dense layer: gain sqrt(2) / 4 so each of the 16 pixels gets unit-variance input.
        self.dense = EqualLinear(z_dim, c0 * 16, gain=SQRT2 / 4, bias=False)
        self.dense_bias = nn.Parameter(torch.zeros(c0))
        layers = [_Conv(c0, c0, up=False)]
        for cin, cout in itertools.pairwise(channels):
            layers += [_Conv(cin, cout, up=True), _Conv(cout, cout, up=False)]
        self.layers = nn.ModuleList(layers)
        self.torgb = EqualConv2d(channels[-1], img_channels, 1, gain=1.0, bias=True)

    @property
    def noise_resolutions(self) -> list[int]:
        """No noise inputs."""
        return []

    def forward(
        self, ws: torch.Tensor, noise_mode: str = "const", noise: Sequence[torch.Tensor | None] | None = None
    ) -> torch.Tensor:
        check_synthesis_call(ws, 1, self.w_dim, noise_mode, noise, [])
        x = self.dense(ws[:, 0].to(torch.float32)).view(ws.shape[0], -1, 4, 4)
        x = pixel_norm(F.leaky_relu(x + self.dense_bias.view(1, -1, 1, 1), LRELU_SLOPE))
        for layer in self.layers:
            x = layer(x)
        return self.torgb(x)


class TraditionalGenerator(StyleGenerator):
    """The traditional (input-latent) generator of the StyleGAN paper's comparisons; see the module docstring.

    Args mirror :class:`ganeval.models.stylegan.StyleGAN` (same channel formula), without the
    mapping and label options: z_dim, img_resolution (power of two, 8 to 1024), img_channels,
    fmap_base, fmap_decay, fmap_max.

    >>> G = TraditionalGenerator(z_dim=64, img_resolution=16, fmap_base=256, fmap_max=64)
    >>> G.num_ws, G.has_w_space, G(torch.randn(2, 64)).shape
    (1, False, torch.Size([2, 3, 16, 16]))
    """

    arch_name = "traditional"
    mapping: InputLatent
    synthesis: TraditionalSynthesis
    #: No mapping network: W-space metrics and style mixing do not apply.
    has_w_space = False

    def __init__(
        self,
        z_dim: int = 512,
        img_resolution: int = 1024,
        img_channels: int = 3,
        fmap_base: int = 8192,
        fmap_decay: float = 1.0,
        fmap_max: int = 512,
    ) -> None:
        super().__init__()
        check_resolution(img_resolution)
        check_positive_int("z_dim", z_dim)
        check_positive_int("img_channels", img_channels)
        check_positive_int("fmap_base", fmap_base)
        check_positive_int("fmap_max", fmap_max)
        self._set_dims(
            z_dim=z_dim,
            c_dim=0,
            w_dim=z_dim,
            num_ws=1,
            img_resolution=img_resolution,
            img_channels=img_channels,
            init_kwargs=dict(
                z_dim=z_dim,
                img_resolution=img_resolution,
                img_channels=img_channels,
                fmap_base=fmap_base,
                fmap_decay=float(fmap_decay),
                fmap_max=fmap_max,
            ),
        )
        self.channels = _channels(img_resolution, fmap_base, fmap_decay, fmap_max)
        self.mapping = InputLatent(z_dim)
        self.synthesis = TraditionalSynthesis(
            z_dim=z_dim, img_resolution=img_resolution, img_channels=img_channels, channels=self.channels
        )

    @property
    def ws_resolutions(self) -> list[int]:
        """The single latent acts at the 4 px input."""
        return [4]

    @property
    def w_avg(self) -> torch.Tensor:
        """Mean of the normalised z: zeros ``[z_dim]``."""
        return self.mapping.w_avg

    def update_w_avg(self, ws: torch.Tensor, beta: float = 0.995) -> None:
        """Training helper kept for the shared training loop: the mean is exactly 0, nothing to track."""
        del ws, beta

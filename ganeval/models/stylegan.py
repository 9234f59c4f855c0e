"""StyleGAN (v1) generator, written from the paper (arXiv 1812.04948) and the variable layout in
``docs/protocols.md`` section 4.2.

Architecture::

    z [N, z_dim] (+ label embedding [N, z_dim] concatenated when c_dim > 0)
      -> pixel norm -> mapping_layers x (dense, equalised lr x lr_mul, leaky ReLU 0.2)
      -> w [N, w_dim], broadcast to ws [N, num_ws, w_dim], num_ws = 2 * log2(resolution) - 2
    synthesis: learned constant [C, 4, 4]; layer k (acting at 4 * 2**(k // 2) px):
      [conv 3x3 (k > 0; upsampling on even k >= 2: nearest + conv, or a fused transposed conv
       when the output is >= 128 px; then the [1, 2, 1] blur)]
      -> + noise * per-channel strength -> + bias -> leaky ReLU 0.2 -> instance norm
      -> AdaIN style with the +1 convention: x * (ys + 1) + yb, (ys, yb) = A_k(ws[:, k])
    -> toRGB (1x1 conv + bias, linear) -> images [N, img_channels, R, R], nominal [-1, 1].

State-dict layout (PyTorch ``[out, in(, kh, kw)]`` weights; equalised-lr scales applied at
run time, so converted TF weights are copied unscaled):

=========================================  ==================================================
``mapping.embed.weight`` [z_dim, c_dim]     ``LabelConcat/weight`` transposed (c_dim > 0 only)
``mapping.fc{i}.weight`` / ``.bias``        ``G_mapping/Dense{i}/weight`` transposed / bias
``mapping.w_avg`` [w_dim] (buffer)          ``dlatent_avg``
``synthesis.const`` [C, 4, 4]               ``4x4/Const/const[0]``
``synthesis.layers.{k}.conv.weight``        ``Conv`` / ``Conv0_up`` / ``Conv1`` weight,
                                            HWIO -> OIHW via ``permute(3, 2, 0, 1)`` (k > 0)
``synthesis.layers.{k}.noise.weight`` [C]   ``.../Noise/weight``
``synthesis.layers.{k}.bias`` [C]           ``.../bias``
``synthesis.layers.{k}.adain.affine.*``     ``.../StyleMod/weight`` transposed / ``bias``
``synthesis.layers.{k}.noise_const``        ``noise{k}[0, 0]`` (buffer [H, W])
``synthesis.torgb.weight`` / ``.bias``      ``ToRGB_lod0/weight`` permuted / ``bias``
=========================================  ==================================================

Layer k's TF scope: k = 0 -> ``4x4/Const``, k = 1 -> ``4x4/Conv``, then for R = 2**r,
``RxR/Conv0_up`` is layer ``2r - 4`` and ``RxR/Conv1`` layer ``2r - 3``. The TF pickles also
hold ``ToRGB_lod1..`` for the lower resolutions of progressive growing; they never affect the
output of a finished network and are not kept (see :meth:`StyleGAN.official_num_params`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from .._validate import check_positive_int
from ..errors import GanevalTypeError
from .base import StyleGenerator, check_mapping_call, check_resolution, check_synthesis_call, truncate_ws
from .layers import LRELU_SLOPE, SQRT2, AdaIN, Blur, EqualConv2d, EqualLinear, NoiseInjection, pixel_norm

__all__ = ["StyleGAN", "MappingNetwork", "SynthesisNetwork", "SynthesisLayer"]


class MappingNetwork(nn.Module):
    """z ``[N, z_dim]`` (+ c ``[N, c_dim]``) -> ws ``[N, num_ws, w_dim]``, with truncation.

    Holds the buffer ``w_avg`` ``[w_dim]``, the running mean of w that truncation pulls toward.
    """

    w_avg: torch.Tensor

    def __init__(
        self,
        *,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        num_ws: int,
        num_layers: int = 8,
        hidden: int | None = None,
        lr_mul: float = 0.01,
    ) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws, self.num_layers = z_dim, c_dim, w_dim, num_ws, num_layers
        hidden = w_dim if hidden is None else hidden
        if c_dim > 0:
            # v1 "LabelConcat": a plain (not equalised) embedding, initialised N(0, 1)
            self.embed = nn.Linear(c_dim, z_dim, bias=False)
            nn.init.normal_(self.embed.weight)
        dims = [z_dim * (2 if c_dim > 0 else 1)] + [hidden] * (num_layers - 1) + [w_dim]
        for i in range(num_layers):
            setattr(self, f"fc{i}", EqualLinear(dims[i], dims[i + 1], gain=SQRT2, lr_mul=lr_mul))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
    ) -> torch.Tensor:
        """Map z to ws ``[N, num_ws, w_dim]``; truncation applies to layers ``< truncation_cutoff``."""
        c = check_mapping_call(z, c, self.z_dim, self.c_dim, self.num_ws, truncation_psi, truncation_cutoff)
        x = z.to(torch.float32)
        if c is not None:
            x = torch.cat([x, self.embed(c.to(torch.float32))], dim=1)
        x = pixel_norm(x)
        for i in range(self.num_layers):
            x = F.leaky_relu(getattr(self, f"fc{i}")(x), LRELU_SLOPE)
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)  # a copy, so callers may edit single layers in place
        return truncate_ws(ws, self.w_avg, truncation_psi, truncation_cutoff)

    @torch.no_grad()
    def update_w_avg(self, ws: torch.Tensor, beta: float = 0.995) -> None:
        """Training helper: ``w_avg <- lerp(mean_n ws[n, 0], w_avg, beta)`` (v1 dlatent_avg EMA)."""
        batch_avg = ws[:, 0].detach().to(self.w_avg.dtype).mean(dim=0)
        self.w_avg.copy_(batch_avg.lerp(self.w_avg, float(beta)))


class SynthesisLayer(nn.Module):
    """One v1 synthesis layer: [conv (+ blur)] -> noise -> bias -> lrelu -> instance norm -> AdaIN.

    Input ``[N, in_channels, H_in, W_in]`` (layer 0: the constant), output ``[N, channels, R, R]``.
    """

    noise_const: torch.Tensor

    def __init__(
        self, *, in_channels: int, channels: int, w_dim: int, resolution: int, conv: bool, up: bool, fused: bool
    ) -> None:
        super().__init__()
        self.resolution = int(resolution)
        self.conv = EqualConv2d(in_channels, channels, 3, up=up, fused=fused) if conv else None
        self.blur = Blur(channels) if up else None
        self.noise = NoiseInjection(channels)
        self.bias = nn.Parameter(torch.zeros(channels))
        self.adain = AdaIN(w_dim, channels)
        self.register_buffer("noise_const", torch.randn(resolution, resolution))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        if self.conv is not None:
            x = self.conv(x)
        if self.blur is not None:
            x = self.blur(x)
        if noise is not None:
            x = self.noise(x, noise)
        x = F.leaky_relu(x + self.bias.view(1, -1, 1, 1), LRELU_SLOPE)
        return self.adain(x, w)


class SynthesisNetwork(nn.Module):
    """ws ``[N, num_ws, w_dim]`` -> images ``[N, img_channels, R, R]`` float32, nominal [-1, 1].

    ``noise_mode``: ``"const"`` uses each layer's stored ``noise_const`` (deterministic),
    ``"random"`` draws fresh N(0, 1) noise per call and sample from torch's global generator (for
    reproducible draws pass ``noise=`` built by :func:`ganeval.models.control.make_noise`),
    ``"none"`` adds no noise. ``noise`` optionally gives a map per layer (``[N or 1, 1, H, W]``)
    or ``None`` for layers that follow ``noise_mode``.
    """

    def __init__(
        self, *, w_dim: int, img_resolution: int, img_channels: int, channels: Sequence[int], fused_scale: bool | str
    ) -> None:
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        log2 = int(math.log2(img_resolution))
        self.num_ws = 2 * log2 - 2
        self.const = nn.Parameter(torch.ones(channels[0], 4, 4))
        layers = []
        for k in range(self.num_ws):
            res = 4 * 2 ** (k // 2)
            up = k >= 2 and k % 2 == 0
            fused = res >= 128 if fused_scale == "auto" else bool(fused_scale)
            c_in, c_out = channels[max(k - 1, 0) // 2], channels[k // 2]
            layers.append(
                SynthesisLayer(
                    in_channels=c_in, channels=c_out, w_dim=w_dim, resolution=res, conv=k > 0, up=up, fused=fused
                )
            )
        self.layers = nn.ModuleList(layers)
        self.torgb = EqualConv2d(channels[-1], img_channels, 1, gain=1.0, bias=True)

    @property
    def noise_resolutions(self) -> list[int]:
        """Spatial size (px) of each layer's noise map, in layer order (one per ws index)."""
        return [layer.resolution for layer in self._layers]

    @property
    def _layers(self) -> list[SynthesisLayer]:
        return cast("list[SynthesisLayer]", list(self.layers))  # nn.ModuleList is not generic

    def forward(
        self, ws: torch.Tensor, noise_mode: str = "const", noise: Sequence[torch.Tensor | None] | None = None
    ) -> torch.Tensor:
        noise = check_synthesis_call(ws, self.num_ws, self.w_dim, noise_mode, noise, self.noise_resolutions)
        n = ws.shape[0]
        ws = ws.to(torch.float32)
        x = self.const.unsqueeze(0).expand(n, -1, -1, -1)
        for k, layer in enumerate(self._layers):
            nz = noise[k]
            if nz is None and noise_mode == "const":
                nz = layer.noise_const.view(1, 1, layer.resolution, layer.resolution)
            elif nz is None and noise_mode == "random":
                nz = torch.randn(n, 1, layer.resolution, layer.resolution, device=ws.device)
            x = layer(x, ws[:, k], nz)
        return self.torgb(x)


def _channels(resolution: int, fmap_base: int, fmap_decay: float, fmap_max: int) -> list[int]:
    """Channels of the blocks 4, 8, ..., resolution px: ``nf(r - 1) = min(fmap_base / 2**((r-1)*decay), fmap_max)``."""
    log2 = int(math.log2(resolution))
    return [max(1, min(int(fmap_base / 2.0 ** ((r - 1) * fmap_decay)), fmap_max)) for r in range(2, log2 + 1)]


class StyleGAN(StyleGenerator):
    """The StyleGAN (v1) generator (Karras et al. 2019, arXiv 1812.04948).

    The defaults reproduce the official 1024x1024 FFHQ/CelebA-HQ layout (26,219,627 trainable
    parameters in the official count, see :meth:`official_num_params`). Weights are initialised
    from torch's global generator (seed it with ``torch.manual_seed`` for reproducible inits).

    Args:
        z_dim: latent size. w_dim: intermediate latent size (W).
        c_dim: label size; > 0 makes it conditional (a label embedding of size z_dim is
            concatenated to z before the pixel norm).
        img_resolution: output size, a power of two from 8 to 1024. img_channels: 3 for RGB.
        mapping_layers: number of dense layers. mapping_fmaps: their width (default w_dim).
        mapping_lr_mul: learning-rate multiplier of the mapping network (0.01 as in the paper).
        fmap_base, fmap_decay, fmap_max: channels of the block at 2**r px are
            ``min(fmap_base / 2**((r - 1) * fmap_decay), fmap_max)``.
        fused_scale: ``"auto"`` (fused transposed-conv upsampling for outputs >= 128 px), True or False.

    >>> G = StyleGAN(z_dim=64, w_dim=64, img_resolution=16, fmap_base=256, fmap_max=64)
    >>> G.num_ws, G(torch.randn(2, 64)).shape
    (6, torch.Size([2, 3, 16, 16]))
    """

    mapping: MappingNetwork
    synthesis: SynthesisNetwork

    arch_name = "stylegan"

    def __init__(
        self,
        z_dim: int = 512,
        w_dim: int = 512,
        c_dim: int = 0,
        img_resolution: int = 1024,
        img_channels: int = 3,
        mapping_layers: int = 8,
        mapping_fmaps: int | None = None,
        mapping_lr_mul: float = 0.01,
        fmap_base: int = 8192,
        fmap_decay: float = 1.0,
        fmap_max: int = 512,
        fused_scale: bool | str = "auto",
    ) -> None:
        super().__init__()
        check_resolution(img_resolution)
        check_positive_int("z_dim", z_dim)
        check_positive_int("w_dim", w_dim)
        check_positive_int("c_dim", c_dim, minimum=0)
        check_positive_int("img_channels", img_channels)
        check_positive_int("mapping_layers", mapping_layers)
        if mapping_fmaps is not None:
            check_positive_int("mapping_fmaps", mapping_fmaps)
        check_positive_int("fmap_base", fmap_base)
        check_positive_int("fmap_max", fmap_max)
        if fused_scale not in ("auto", True, False):
            raise GanevalTypeError(f"Argument `fused_scale` must be 'auto', True or False, but got {fused_scale!r}.")
        num_ws = 2 * int(math.log2(img_resolution)) - 2
        self._set_dims(
            z_dim=z_dim,
            c_dim=c_dim,
            w_dim=w_dim,
            num_ws=num_ws,
            img_resolution=img_resolution,
            img_channels=img_channels,
            init_kwargs=dict(
                z_dim=z_dim,
                w_dim=w_dim,
                c_dim=c_dim,
                img_resolution=img_resolution,
                img_channels=img_channels,
                mapping_layers=mapping_layers,
                mapping_fmaps=mapping_fmaps,
                mapping_lr_mul=float(mapping_lr_mul),
                fmap_base=fmap_base,
                fmap_decay=float(fmap_decay),
                fmap_max=fmap_max,
                fused_scale=fused_scale,
            ),
        )
        self.channels = _channels(img_resolution, fmap_base, fmap_decay, fmap_max)
        self.mapping = MappingNetwork(
            z_dim=z_dim,
            c_dim=c_dim,
            w_dim=w_dim,
            num_ws=num_ws,
            num_layers=mapping_layers,
            hidden=mapping_fmaps,
            lr_mul=mapping_lr_mul,
        )
        self.synthesis = SynthesisNetwork(
            w_dim=w_dim,
            img_resolution=img_resolution,
            img_channels=img_channels,
            channels=self.channels,
            fused_scale=fused_scale,
        )

    @property
    def w_avg(self) -> torch.Tensor:
        """The tracked mean of w ``[w_dim]`` (a view of ``mapping.w_avg``)."""
        return self.mapping.w_avg

    def update_w_avg(self, ws: torch.Tensor, beta: float = 0.995) -> None:
        """Training helper; see :meth:`MappingNetwork.update_w_avg`."""
        self.mapping.update_w_avg(ws, beta)

    def official_num_params(self) -> int:
        """Trainable parameter count as the official TF network reports it.

        That count also includes the progressive-growing ``ToRGB_lod{L}`` layers of the lower
        resolutions (L >= 1: ``C_r * img_channels + img_channels`` each), which this module drops
        because they never affect a finished network's output. 26,219,627 for the defaults.
        """
        own = sum(p.numel() for p in self.parameters())
        return own + sum(c * self.img_channels + self.img_channels for c in self.channels[:-1])

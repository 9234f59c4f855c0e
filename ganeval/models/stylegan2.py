"""StyleGAN2 generator, written from the paper (Karras et al., arXiv 1912.04948) with the module
tree and state-dict key names of stylegan2-ada-pytorch (``docs/protocols.md``
sections 4.3 and 4.4), so that an ada ``G.state_dict()`` loads with ``strict=True``.

Architecture::

    z [N, z_dim] -> pixel norm (+ pixel-normed label embedding when c_dim > 0)
      -> mapping_layers x (dense, equalised lr x 0.01, leaky ReLU 0.2 with gain sqrt(2))
      -> w [N, w_dim], broadcast to ws [N, num_ws, w_dim], num_ws = 2 * log2(resolution) - 2
    synthesis, block b{R} for R = 4, 8, ..., resolution:
      b4: learned constant [C, 4, 4];  b{R > 4}: conv0 = modulated 3x3 conv with 2x upsampling
      (transposed conv, then the [1, 3, 3, 1] low-pass filter)
      conv1 = modulated 3x3 conv; every conv: + noise * scalar strength, + bias, leaky ReLU * sqrt(2)
      torgb = modulated 1x1 conv without demodulation, + bias; the image skip path sums the
      upsampled (same filter) previous image and this block's torgb output.

Modulated convolution: ``w' = W * s`` per sample and input channel, with style
``s = A(w)`` (affine bias initialised to 1, the "+1" convention); demodulation divides each
output channel by ``sqrt(sum(w'^2) + 1e-8)``. The 1/sqrt(fan_in) weight scale of the 3x3 convs
cancels under demodulation and is therefore not applied (as in stylegan2-ada-pytorch); the toRGB
layer scales its styles by 1/sqrt(in_channels). ws index use: ``b4.conv1`` takes ws[:, 0]; block
R > 4 takes ws[:, 2r-5] (conv0), ws[:, 2r-4] (conv1), ws[:, 2r-3] (torgb) with r = log2 R, so a
toRGB shares its w with the next block's conv0 (``b4.torgb`` takes ws[:, 1]).

All computations run in float32; ``conv_clamp`` (used by fp16-trained ada networks) clamps
the activations as the reference does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._validate import check_positive_int
from ..errors import GanevalValueError
from .base import StyleGenerator, check_mapping_call, check_resolution, check_synthesis_call, truncate_ws

__all__ = [
    "StyleGAN2",
    "MappingNetwork",
    "SynthesisNetwork",
    "SynthesisBlock",
    "SynthesisLayer",
    "ToRGBLayer",
    "FullyConnectedLayer",
    "stylegan2_channels",
]

LRELU_SLOPE = 0.2
SQRT2 = math.sqrt(2.0)


def _setup_filter(taps: Sequence[float]) -> torch.Tensor:
    """1-D taps -> normalised 2-D separable low-pass filter ``[k, k]`` summing to 1."""
    f = torch.as_tensor([float(t) for t in taps], dtype=torch.float32)
    f = torch.outer(f, f)
    return f / f.sum()


def _upfirdn2d(
    x: torch.Tensor, f: torch.Tensor, *, up: int = 1, pad: tuple[int, int, int, int] = (0, 0, 0, 0), gain: float = 1.0
) -> torch.Tensor:
    """Zero-insertion upsampling by ``up``, zero padding ``(x0, x1, y0, y1)``, then a depthwise FIR
    filter ``f`` ``[k, k]`` scaled by ``gain`` (``gain = up**2`` keeps the mean after upsampling)."""
    n, c, h, w = x.shape
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, list(pad))
    f = (f * gain).to(x.dtype).flip([0, 1])  # true convolution; the symmetric filters make it moot
    return F.conv2d(x, f[None, None].repeat(c, 1, 1, 1), groups=c)


def _bias_act(
    x: torch.Tensor, b: torch.Tensor, *, lrelu: bool, gain: float = 1.0, clamp: float | None = None
) -> torch.Tensor:
    """``x + b`` (b along dim 1), then leaky ReLU 0.2 (if ``lrelu``), times ``gain``, clamped to ±clamp."""
    x = x + b.reshape([-1 if i == 1 else 1 for i in range(x.ndim)])
    if lrelu:
        x = F.leaky_relu(x, LRELU_SLOPE)
    if gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return x


def _modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    *,
    demodulate: bool,
    up: bool = False,
    resample_filter: torch.Tensor | None = None,
) -> torch.Tensor:
    """Per-sample modulated convolution as one grouped convolution.

    x ``[N, I, H, W]``, weight ``[O, I, k, k]``, styles ``[N, I]`` -> ``[N, O, H', W']`` with
    ``H' = H`` (stride 1, 'same' padding) or ``2H`` (``up``: transposed conv stride 2, then the
    resample filter with padding 1 and gain 4).
    """
    n, i = styles.shape
    o, _, kh, kw = weight.shape
    w = weight.unsqueeze(0) * styles.reshape(n, 1, -1, 1, 1)  # [N, O, I, k, k]
    if demodulate:
        dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # [N, O]
        w = w * dcoefs.reshape(n, -1, 1, 1, 1)
    x = x.reshape(1, -1, *x.shape[2:])
    if up:
        # conv_transpose2d wants [groups * in, out, k, k]; the kernel is used unflipped
        wt = w.transpose(1, 2).reshape(n * i, o, kh, kw)
        x = F.conv_transpose2d(x, wt, stride=2, groups=n)
        assert resample_filter is not None, "up=True needs the resample filter"
        x = _upfirdn2d(x, resample_filter, pad=(1, 1, 1, 1), gain=4.0)
    else:
        x = F.conv2d(x, w.reshape(n * o, i, kh, kw), padding=kh // 2, groups=n)
    return x.reshape(n, -1, *x.shape[2:])


class FullyConnectedLayer(nn.Module):
    """Dense layer ``[N, in] -> [N, out]`` with equalised learning rate.

    Stored weight ``[out, in]`` (init N(0, 1/lr_multiplier)), applied as
    ``W * lr_multiplier / sqrt(in)``; bias applied as ``b * lr_multiplier``. ``lrelu=True`` adds
    leaky ReLU 0.2 with gain sqrt(2).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        lrelu: bool = False,
        lr_multiplier: float = 1.0,
        bias_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features, self.lrelu = int(in_features), int(out_features), bool(lrelu)
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init)))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.weight_gain
        b = self.bias * self.bias_gain if self.bias_gain != 1 else self.bias
        if not self.lrelu:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return _bias_act(x.matmul(w.t()), b, lrelu=True, gain=SQRT2)

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, lrelu={self.lrelu}"


def _pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


class MappingNetwork(nn.Module):
    """z ``[N, z_dim]`` (+ c ``[N, c_dim]``) -> ws ``[N, num_ws, w_dim]``, with truncation.

    Keys: ``fc{i}.weight|bias``, ``embed.weight|bias`` (c_dim > 0), buffer ``w_avg`` ``[w_dim]``.
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
        embed_features: int | None = None,
        layer_features: int | None = None,
        lr_multiplier: float = 0.01,
    ) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws, self.num_layers = z_dim, c_dim, w_dim, num_ws, num_layers
        embed_features = (w_dim if embed_features is None else embed_features) if c_dim > 0 else 0
        layer_features = w_dim if layer_features is None else layer_features
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        dims = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        for i in range(num_layers):
            setattr(self, f"fc{i}", FullyConnectedLayer(dims[i], dims[i + 1], lrelu=True, lr_multiplier=lr_multiplier))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
    ) -> torch.Tensor:
        """Map z to ws; truncation pulls layers ``< truncation_cutoff`` (all if None) toward ``w_avg``."""
        c = check_mapping_call(z, c, self.z_dim, self.c_dim, self.num_ws, truncation_psi, truncation_cutoff)
        x = _pixel_norm(z.to(torch.float32))
        if c is not None:
            x = torch.cat([x, _pixel_norm(self.embed(c.to(torch.float32)))], dim=1)
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        return truncate_ws(ws, self.w_avg, truncation_psi, truncation_cutoff)

    @torch.no_grad()
    def update_w_avg(self, ws: torch.Tensor, beta: float = 0.995) -> None:
        """Training helper: ``w_avg <- lerp(mean_n ws[n, 0], w_avg, beta)``."""
        self.w_avg.copy_(ws[:, 0].detach().to(self.w_avg.dtype).mean(dim=0).lerp(self.w_avg, float(beta)))


class SynthesisLayer(nn.Module):
    """Modulated 3x3 conv (optionally upsampling 2x) -> + noise * strength -> + bias -> lrelu * sqrt(2).

    ``[N, in, R/2 or R, .] -> [N, out, R, R]``. Keys: ``weight`` ``[out, in, 3, 3]``, ``bias``,
    ``affine.*`` (w -> style, bias init 1), ``noise_strength`` (scalar), buffers ``noise_const``
    ``[R, R]`` and ``resample_filter`` ``[4, 4]``.
    """

    noise_const: torch.Tensor
    resample_filter: torch.Tensor

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        w_dim: int,
        resolution: int,
        up: bool,
        resample_filter: torch.Tensor,
        conv_clamp: float | None,
    ) -> None:
        super().__init__()
        self.resolution, self.up, self.conv_clamp = int(resolution), bool(up), conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.register_buffer("resample_filter", resample_filter.clone())
        self.register_buffer("noise_const", torch.randn(resolution, resolution))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        """``noise``: the unit-scale noise map (``[N or 1, 1, R, R]`` or ``[R, R]``) or None for no noise."""
        x = _modulated_conv2d(
            x, self.weight, self.affine(w), demodulate=True, up=self.up, resample_filter=self.resample_filter
        )
        if noise is not None:
            x = x + noise * self.noise_strength
        return _bias_act(x, self.bias, lrelu=True, gain=SQRT2, clamp=self.conv_clamp)


class ToRGBLayer(nn.Module):
    """Modulated 1x1 conv without demodulation, + bias (linear): ``[N, in, R, R] -> [N, C_img, R, R]``."""

    def __init__(self, in_channels: int, out_channels: int, *, w_dim: int, conv_clamp: float | None) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = _modulated_conv2d(x, self.weight, styles, demodulate=False)
        return _bias_act(x, self.bias, lrelu=False, clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
    """One resolution R: [const | conv0 (up)] -> conv1 -> torgb, plus the upsampled image skip."""

    resample_filter: torch.Tensor

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        w_dim: int,
        resolution: int,
        img_channels: int,
        resample_filter: torch.Tensor,
        conv_clamp: float | None,
    ) -> None:
        super().__init__()
        self.in_channels, self.resolution = in_channels, resolution
        self.register_buffer("resample_filter", resample_filter.clone())
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(
                in_channels,
                out_channels,
                w_dim=w_dim,
                resolution=resolution,
                up=True,
                resample_filter=resample_filter,
                conv_clamp=conv_clamp,
            )
        self.conv1 = SynthesisLayer(
            out_channels,
            out_channels,
            w_dim=w_dim,
            resolution=resolution,
            up=False,
            resample_filter=resample_filter,
            conv_clamp=conv_clamp,
        )
        self.torgb = ToRGBLayer(out_channels, img_channels, w_dim=w_dim, conv_clamp=conv_clamp)
        self.num_conv = 1 if in_channels == 0 else 2

    @property
    def layers(self) -> list[SynthesisLayer]:
        return [self.conv1] if self.in_channels == 0 else [self.conv0, self.conv1]

    def forward(
        self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor, noise: Sequence[torch.Tensor | None]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """ws ``[N, num_conv + 1, w_dim]``; ``noise``: one (scaled-later) map or None per conv."""
        if self.in_channels == 0:
            x = self.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)
        for k, layer in enumerate(self.layers):
            x = layer(x, ws[:, k], noise[k])
        assert x is not None  # the const or the input, then at least one conv
        if img is not None:
            img = _upfirdn2d(img, self.resample_filter, up=2, pad=(2, 1, 2, 1), gain=4.0)
        y = self.torgb(x, ws[:, self.num_conv])
        return x, (y if img is None else img + y)


def stylegan2_channels(img_resolution: int, channel_base: int = 32768, channel_max: int = 512) -> list[int]:
    """Channels of blocks 4, 8, ..., img_resolution: ``min(channel_base // R, channel_max)``."""
    log2 = int(math.log2(img_resolution))
    return [min(channel_base // 2**r, channel_max) for r in range(2, log2 + 1)]


class SynthesisNetwork(nn.Module):
    """ws ``[N, num_ws, w_dim]`` -> images ``[N, img_channels, R, R]`` float32, nominal [-1, 1].

    ``noise_mode``: ``"const"`` uses each layer's stored ``noise_const`` (deterministic),
    ``"random"`` draws fresh N(0, 1) noise per call and sample from torch's global generator (for
    reproducible draws pass ``noise=`` built by :func:`ganeval.models.control.make_noise`),
    ``"none"`` adds no noise. ``noise`` optionally gives a unit-scale map per conv layer
    (``[N or 1, 1, H, W]``, scaled by that layer's learned strength) or ``None`` for layers that
    follow ``noise_mode``; layer order and sizes are :attr:`noise_resolutions`.
    """

    def __init__(
        self,
        *,
        w_dim: int,
        img_resolution: int,
        img_channels: int,
        channels: Sequence[int],
        resample_filter: Sequence[float],
        conv_clamp: float | None,
    ) -> None:
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        f = _setup_filter(resample_filter)
        self.block_resolutions = [2**r for r in range(2, int(math.log2(img_resolution)) + 1)]
        for idx, res in enumerate(self.block_resolutions):
            block = SynthesisBlock(
                channels[idx - 1] if idx > 0 else 0,
                channels[idx],
                w_dim=w_dim,
                resolution=res,
                img_channels=img_channels,
                resample_filter=f,
                conv_clamp=conv_clamp,
            )
            setattr(self, f"b{res}", block)
        self.num_ws = 2 * len(self.block_resolutions)  # one per conv, plus the last toRGB

    @property
    def blocks(self) -> list[SynthesisBlock]:
        return [getattr(self, f"b{res}") for res in self.block_resolutions]

    @property
    def noise_layers(self) -> list[SynthesisLayer]:
        """The conv layers in ws order (b4.conv1, b8.conv0, b8.conv1, ...); one noise input each."""
        return [layer for block in self.blocks for layer in block.layers]

    @property
    def noise_resolutions(self) -> list[int]:
        """Spatial size (px) of each conv layer's noise map, in layer order (num_ws - 1 entries)."""
        return [layer.resolution for layer in self.noise_layers]

    def forward(
        self, ws: torch.Tensor, noise_mode: str = "const", noise: Sequence[torch.Tensor | None] | None = None
    ) -> torch.Tensor:
        maps = check_synthesis_call(ws, self.num_ws, self.w_dim, noise_mode, noise, self.noise_resolutions)
        n = ws.shape[0]
        for k, layer in enumerate(self.noise_layers):
            if maps[k] is None and noise_mode == "const":
                maps[k] = layer.noise_const
            elif maps[k] is None and noise_mode == "random":
                maps[k] = torch.randn(n, 1, layer.resolution, layer.resolution, device=ws.device)
            elif (given := maps[k]) is not None:
                maps[k] = given.to(device=ws.device, dtype=torch.float32)
        ws = ws.to(torch.float32)
        x = img = None
        w_idx = k = 0
        for block in self.blocks:
            x, img = block(x, img, ws[:, w_idx : w_idx + block.num_conv + 1], maps[k : k + block.num_conv])
            w_idx += block.num_conv
            k += block.num_conv
        assert img is not None  # there is at least the 4 px block
        return img


class StyleGAN2(StyleGenerator):
    """The StyleGAN2 generator (config-f style: skip toRGB, no progressive growing).

    Module tree and parameter names are those of stylegan2-ada-pytorch's ``Generator``, so its
    state dicts load with ``load_state_dict(strict=True)``. Weights are initialised from torch's
    global generator (seed it with ``torch.manual_seed`` for reproducible inits).

    Args:
        z_dim, c_dim, w_dim: latent, label and intermediate latent sizes (c_dim 0: unconditional).
        img_resolution: a power of two from 8 to 1024. img_channels: 3 for RGB.
        mapping_layers: dense layers in the mapping network. mapping_lr_multiplier: 0.01 as in the paper.
        embed_features, layer_features: width of the label embedding and of the hidden mapping
            layers (default w_dim).
        channel_base, channel_max: block at R px has ``min(channel_base // R, channel_max)``
            channels (ada's convention; TF's fmap_base is half of channel_base).
        channels: explicit widths of the blocks 4, 8, ..., img_resolution, overriding the two above
            (for checkpoints whose widths follow another table, e.g. rosinality's).
        resample_filter: 1-D taps of the up-sampling low-pass filter.
        conv_clamp: clamp of every conv/toRGB output (ada's fp16 networks use 256), or None.

    >>> G = StyleGAN2(z_dim=32, w_dim=32, img_resolution=16, channel_base=512, channel_max=32)
    >>> G.num_ws, G(torch.randn(2, 32)).shape
    (6, torch.Size([2, 3, 16, 16]))
    """

    arch_name = "stylegan2"
    mapping: MappingNetwork
    synthesis: SynthesisNetwork

    def __init__(
        self,
        z_dim: int = 512,
        c_dim: int = 0,
        w_dim: int = 512,
        img_resolution: int = 1024,
        img_channels: int = 3,
        mapping_layers: int = 8,
        mapping_lr_multiplier: float = 0.01,
        embed_features: int | None = None,
        layer_features: int | None = None,
        channel_base: int = 32768,
        channel_max: int = 512,
        channels: Sequence[int] | None = None,
        resample_filter: Sequence[float] = (1, 3, 3, 1),
        conv_clamp: float | None = None,
    ) -> None:
        super().__init__()
        check_resolution(img_resolution)
        for name, value, minimum in (
            ("z_dim", z_dim, 1),
            ("c_dim", c_dim, 0),
            ("w_dim", w_dim, 1),
            ("img_channels", img_channels, 1),
            ("mapping_layers", mapping_layers, 1),
            ("channel_base", channel_base, 1),
            ("channel_max", channel_max, 1),
        ):
            check_positive_int(name, value, minimum=minimum)
        for name, width in (("embed_features", embed_features), ("layer_features", layer_features)):
            if width is not None:
                check_positive_int(name, width)
        num_blocks = int(math.log2(img_resolution)) - 1
        if channels is None:
            channels = stylegan2_channels(img_resolution, channel_base, channel_max)
        elif len(channels) != num_blocks or not all(isinstance(c, int) and c > 0 for c in channels):
            raise GanevalValueError(
                f"Argument `channels` must list {num_blocks} positive integers (blocks 4..{img_resolution} px), "
                f"but got {list(channels)!r}."
            )
        if conv_clamp is not None and not (isinstance(conv_clamp, (int, float)) and conv_clamp > 0):
            raise GanevalValueError(f"Argument `conv_clamp` must be None or a positive number, but got {conv_clamp!r}.")
        self.channels = [int(c) for c in channels]
        num_ws = 2 * num_blocks
        self._set_dims(
            z_dim=z_dim,
            c_dim=c_dim,
            w_dim=w_dim,
            num_ws=num_ws,
            img_resolution=img_resolution,
            img_channels=img_channels,
            init_kwargs=dict(
                z_dim=z_dim,
                c_dim=c_dim,
                w_dim=w_dim,
                img_resolution=img_resolution,
                img_channels=img_channels,
                mapping_layers=mapping_layers,
                mapping_lr_multiplier=float(mapping_lr_multiplier),
                embed_features=embed_features,
                layer_features=layer_features,
                channels=self.channels,
                resample_filter=[float(t) for t in resample_filter],
                conv_clamp=None if conv_clamp is None else float(conv_clamp),
            ),
        )
        self.mapping = MappingNetwork(
            z_dim=z_dim,
            c_dim=c_dim,
            w_dim=w_dim,
            num_ws=num_ws,
            num_layers=mapping_layers,
            embed_features=embed_features,
            layer_features=layer_features,
            lr_multiplier=mapping_lr_multiplier,
        )
        self.synthesis = SynthesisNetwork(
            w_dim=w_dim,
            img_resolution=img_resolution,
            img_channels=img_channels,
            channels=self.channels,
            resample_filter=resample_filter,
            conv_clamp=None if conv_clamp is None else float(conv_clamp),
        )

    @property
    def w_avg(self) -> torch.Tensor:
        """The tracked mean of w ``[w_dim]`` (a view of ``mapping.w_avg``)."""
        return self.mapping.w_avg

    def update_w_avg(self, ws: torch.Tensor, beta: float = 0.995) -> None:
        """Training helper; see :meth:`MappingNetwork.update_w_avg`."""
        self.mapping.update_w_avg(ws, beta)

    def rebuilt_buffer_names(self) -> list[str]:
        """State-dict keys that are fixed functions of the config (the resample filters), which
        converters from formats that do not store them may take from a freshly built module."""
        return [k for k in self.state_dict() if k.endswith("resample_filter")]

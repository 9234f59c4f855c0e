"""StyleGAN3 (alias-free) generator, written from the paper (Karras et al. 2021, "Alias-Free
Generative Adversarial Networks", arXiv 2106.12423), with the module tree and state-dict key
names of the official ``training.networks_stylegan3.Generator`` so that its ``G.state_dict()``
loads with ``strict=True``.

Architecture (paper section 3 and appendix F)::

    z -> mapping (as StyleGAN2, default 2 layers) -> ws [N, num_ws, w_dim], num_ws = num_layers + 2
    ws[:, 0] -> input: Fourier features. C fixed frequencies f_k (|f_k| <= bandwidth) and phases
        p_k, sampled on a grid of size x size points that covers size / sampling_rate units; the
        features sin(2 pi (f_k . (x, y) + p_k)) are mixed by a learned C x C matrix. A learned
        per-sample rotation + translation (from ws[:, 0]) and the user transform
        ``input.transform`` (a 3x3 matrix, the INVERSE of the wanted image transform) move the
        sampling grid; frequencies pushed out of band by the transform are faded out.
    ws[:, k], k = 1..num_layers+1 -> layer L{k-1}: modulated conv (weights normalised, styles
        normalised, demodulated, inputs divided by the sqrt of the stored magnitude EMA), then
        the filtered leaky ReLU: + bias, upsample by ``up`` (zero insertion + low-pass ``up_filter``),
        leaky ReLU 0.2 * sqrt(2), clamp, low-pass ``down_filter`` and keep every ``down``-th sample.
        The last layer is the linear 1x1 toRGB; the image is multiplied by ``output_scale``.

Layer schedule (paper appendix F.1): cutoffs f_c and minimum stopbands f_t grow geometrically
from ``first_cutoff`` / ``first_stopband`` to img_resolution / 2 (and its ``last_stopband_rel``
multiple) over the first ``num_layers - num_critical`` layers and then stay there (the last
``num_critical`` layers are critically sampled); sampling rate s = the power of two >= 2 f_t
(at most img_resolution); transition half-width f_h = max(f_t, s/2) - f_c; feature maps have
s + 2 * margin_size pixels (the last two layers exactly img_resolution). Config T uses 3x3
convolutions and separable Kaiser filters; config R uses 1x1 convolutions and radially
symmetric (jinc) downsampling filters in the non-critical layers.

The low-pass filters, magnitude EMAs, Fourier frequencies / phases and the transform are stored
in snapshots and are loaded from there; a fresh model designs its filters from the schedule
(Kaiser-windowed sinc / jinc, paper appendix C) so that it is usable before loading.
All computation runs in float32 (the official code switches high-resolution layers to fp16 on
CUDA; ganeval does not). StyleGAN3 has no noise inputs: ``noise_mode`` is accepted and ignored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validate import check_finite, check_positive_int, check_tensor_shape
from ..errors import GanevalValueError
from .base import StyleGenerator, check_resolution, check_synthesis_call
from .stylegan2 import FullyConnectedLayer, MappingNetwork

__all__ = [
    "StyleGAN3",
    "SynthesisInput",
    "SynthesisLayer",
    "SynthesisNetwork",
    "LayerSpec",
    "layer_schedule",
    "design_lowpass_filter",
    "filtered_lrelu",
    "make_transform",
]

LRELU_SLOPE = 0.2
SQRT2 = math.sqrt(2.0)


# ---------------------------------------------------------------------------------------------
# Layer schedule and filter design
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerSpec:
    """Static description of one synthesis layer (index ``idx``; the last one is the toRGB).

    Sizes are in pixels, sampling rates in samples per image unit, cutoffs and half-widths in
    cycles per unit.
    """

    idx: int
    is_torgb: bool
    is_critically_sampled: bool
    in_channels: int
    out_channels: int
    in_size: int
    out_size: int
    in_sampling_rate: int
    out_sampling_rate: int
    in_cutoff: float
    out_cutoff: float
    in_half_width: float
    out_half_width: float

    @property
    def name(self) -> str:
        """The official module name ``L{idx}_{out_size}_{out_channels}``."""
        return f"L{self.idx}_{self.out_size}_{self.out_channels}"


def layer_schedule(
    *,
    img_resolution: int,
    img_channels: int,
    channel_base: int,
    channel_max: int,
    num_layers: int,
    num_critical: int,
    first_cutoff: float,
    first_stopband: float,
    last_stopband_rel: float,
    margin_size: int,
) -> tuple[dict[str, Any], list[LayerSpec]]:
    """The per-layer cutoffs, stopbands, sampling rates, sizes and widths (paper appendix F.1).

    Returns ``(input_spec, layers)``: ``input_spec`` has ``channels``, ``size``, ``sampling_rate``
    and ``bandwidth`` of the Fourier-feature input; ``layers`` has ``num_layers + 1`` entries.
    Computed in float64 numpy so that rounding matches snapshots written with numpy.
    """
    last_cutoff = img_resolution / 2
    last_stopband = last_cutoff * last_stopband_rel
    # geometric progression over the non-critical layers, flat afterwards
    t = np.minimum(np.arange(num_layers + 1) / (num_layers - num_critical), 1)
    cutoffs = first_cutoff * (last_cutoff / first_cutoff) ** t
    stopbands = first_stopband * (last_stopband / first_stopband) ** t
    rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, img_resolution))))
    half_widths = np.maximum(stopbands, rates / 2) - cutoffs
    sizes = rates + margin_size * 2
    sizes[-2:] = img_resolution
    channels = np.rint(np.minimum((channel_base / 2) / cutoffs, channel_max))
    channels[-1] = img_channels
    layers = []
    for idx in range(num_layers + 1):
        prev = max(idx - 1, 0)
        layers.append(
            LayerSpec(
                idx=idx,
                is_torgb=idx == num_layers,
                is_critically_sampled=idx >= num_layers - num_critical,
                in_channels=int(channels[prev]),
                out_channels=int(channels[idx]),
                in_size=int(sizes[prev]),
                out_size=int(sizes[idx]),
                in_sampling_rate=int(rates[prev]),
                out_sampling_rate=int(rates[idx]),
                in_cutoff=float(cutoffs[prev]),
                out_cutoff=float(cutoffs[idx]),
                in_half_width=float(half_widths[prev]),
                out_half_width=float(half_widths[idx]),
            )
        )
    input_spec = dict(
        channels=int(channels[0]), size=int(sizes[0]), sampling_rate=float(rates[0]), bandwidth=float(cutoffs[0])
    )
    return input_spec, layers


def design_lowpass_filter(
    numtaps: int, cutoff: float, width: float, fs: float, radial: bool = False
) -> torch.Tensor | None:
    """A Kaiser-windowed low-pass FIR filter (paper appendix C.2), or None for one tap (identity).

    Separable: 1-D windowed sinc ``[numtaps]`` with cutoff ``cutoff`` and transition width
    ``width`` at sampling rate ``fs``, normalised to unit DC gain. Radial: 2-D windowed jinc
    ``[numtaps, numtaps]`` with the same Kaiser window along both axes, normalised to sum 1.
    Only used for fresh models; snapshots store their filters.
    """
    import scipy.signal
    import scipy.special

    if numtaps == 1:
        return None
    if not radial:
        taps = scipy.signal.firwin(numtaps=numtaps, cutoff=cutoff, width=width, fs=fs)
        return torch.as_tensor(taps, dtype=torch.float32)
    pos = (np.arange(numtaps) - (numtaps - 1) / 2) / fs
    r = np.hypot(*np.meshgrid(pos, pos))
    with np.errstate(divide="ignore", invalid="ignore"):
        jinc = scipy.special.j1(2 * np.pi * cutoff * r) / (np.pi * r)
    jinc[r == 0] = cutoff  # limit of J1(2 pi c r) / (pi r) at r = 0
    atten = scipy.signal.kaiser_atten(numtaps, width / (fs / 2))
    window = np.kaiser(numtaps, scipy.signal.kaiser_beta(atten))
    f = jinc * np.outer(window, window)
    return torch.as_tensor(f / f.sum(), dtype=torch.float32)


# ---------------------------------------------------------------------------------------------
# Ops
# ---------------------------------------------------------------------------------------------


def _fir(x: torch.Tensor, f: torch.Tensor | None, gain: float) -> torch.Tensor:
    """Depthwise 'valid' convolution of ``x`` ``[N, C, H, W]`` with ``f`` (1-D separable ``[k]``:
    along width then height; 2-D ``[k, k]``; None: only the gain)."""
    if f is None:
        return x * gain if gain != 1 else x
    c = x.shape[1]
    f = (f * gain ** (f.ndim / 2)).to(x.dtype).flip(list(range(f.ndim)))  # true convolution
    if f.ndim == 2:
        return F.conv2d(x, f[None, None].expand(c, 1, -1, -1), groups=c)
    x = F.conv2d(x, f[None, None, None, :].expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, f[None, None, :, None].expand(c, 1, -1, 1), groups=c)


def _pad_or_crop(x: torch.Tensor, pad: Sequence[int]) -> torch.Tensor:
    """Pad with zeros (positive entries) or crop (negative entries); ``pad = (x0, x1, y0, y1)``."""
    x0, x1, y0, y1 = (int(p) for p in pad)
    x = F.pad(x, [max(x0, 0), max(x1, 0), max(y0, 0), max(y1, 0)])
    return x[:, :, max(-y0, 0) : x.shape[2] - max(-y1, 0), max(-x0, 0) : x.shape[3] - max(-x1, 0)]


def filtered_lrelu(
    x: torch.Tensor,
    *,
    fu: torch.Tensor | None,
    fd: torch.Tensor | None,
    b: torch.Tensor,
    up: int,
    down: int,
    padding: Sequence[int],
    gain: float,
    slope: float,
    clamp: float | None,
) -> torch.Tensor:
    """The alias-free nonlinearity (paper section 3.2): ``x + b`` -> upsample ``up``x (zero
    insertion, pad/crop ``padding`` on the upsampled grid, FIR ``fu`` with gain up^2) ->
    leaky ReLU(slope) * gain -> clamp to ±clamp -> FIR ``fd`` -> keep every ``down``-th sample.

    x ``[N, C, H, W]`` -> ``[N, C, H', W']`` with ``H' = ceil((H up + pad_y - (|fu| - 1) - (|fd| - 1)) / down)``.
    """
    x = x + b.reshape(1, -1, 1, 1)
    n, c, h, w = x.shape
    if up > 1:
        x = F.pad(x.reshape(n, c, h, 1, w, 1), [0, up - 1, 0, 0, 0, up - 1]).reshape(n, c, h * up, w * up)
    x = _fir(_pad_or_crop(x, padding), fu, gain=float(up * up))
    if slope != 1:
        x = F.leaky_relu(x, slope)
    if gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    x = _fir(x, fd, gain=1.0)
    return x[:, :, ::down, ::down] if down > 1 else x


def _modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    *,
    demodulate: bool,
    input_gain: torch.Tensor,
    padding: int,
) -> torch.Tensor:
    """StyleGAN3's modulated convolution as one grouped convolution.

    x ``[N, I, H, W]``, weight ``[O, I, k, k]``, styles ``[N, I]``, input_gain scalar; padding
    ``k - 1`` gives the 'full' output ``[N, O, H + k - 1, W + k - 1]``. With demodulation the
    weight is first normalised to unit RMS per output channel and the styles to unit RMS over the
    whole style tensor (both cancel under demodulation but for the 1e-8 epsilon), as in the paper's
    fp16-safe formulation.
    """
    n, i = styles.shape
    o, _, kh, kw = weight.shape
    if demodulate:
        weight = weight * weight.square().mean(dim=[1, 2, 3], keepdim=True).rsqrt()
        styles = styles * styles.square().mean().rsqrt()
    w = weight.unsqueeze(0) * styles.reshape(n, 1, i, 1, 1)  # [N, O, I, k, k]
    if demodulate:
        w = w * (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt().reshape(n, o, 1, 1, 1)
    w = w * input_gain
    x = F.conv2d(x.reshape(1, n * i, *x.shape[2:]), w.reshape(n * o, i, kh, kw), padding=padding, groups=n)
    return x.reshape(n, o, *x.shape[2:])


def make_transform(translate: Sequence[float] = (0.0, 0.0), angle: float = 0.0) -> torch.Tensor:
    """The 3x3 image transform ``[[cos, sin, tx], [-sin, cos, ty], [0, 0, 1]]`` (angle in radians,
    translation in image units: 1 = the full image width).

    ``G.synthesis.input.transform`` holds the INVERSE of the wanted image transform, e.g.
    ``G.synthesis.input.transform.copy_(torch.linalg.inv(make_transform((0.1, 0), 0.3)))``.
    """
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor(
        [[c, s, float(translate[0])], [-s, c, float(translate[1])], [0.0, 0.0, 1.0]], dtype=torch.float32
    )


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------


class SynthesisInput(nn.Module):
    """Fourier-feature input: w ``[N, w_dim]`` -> ``[N, channels, size, size]``.

    Keys: ``weight`` ``[C, C]`` (feature mixing, scaled 1/sqrt(C)), ``affine.*`` (w -> (r_c, r_s,
    t_x, t_y), bias init (1, 0, 0, 0)), buffers ``transform`` ``[3, 3]`` (user inverse transform,
    identity by default), ``freqs`` ``[C, 2]`` (cycles per unit), ``phases`` ``[C]`` (cycles).
    """

    transform: torch.Tensor
    freqs: torch.Tensor
    phases: torch.Tensor

    def __init__(self, *, w_dim: int, channels: int, size: int, sampling_rate: float, bandwidth: float) -> None:
        super().__init__()
        self.w_dim, self.channels, self.size = int(w_dim), int(channels), int(size)
        self.sampling_rate, self.bandwidth = float(sampling_rate), float(bandwidth)
        # fresh init: frequencies uniform in the disc of radius `bandwidth`, phases uniform (cycles)
        radius = bandwidth * torch.rand(channels).sqrt()
        theta = torch.rand(channels) * (2 * math.pi)
        self.weight = nn.Parameter(torch.randn(channels, channels))
        self.affine = FullyConnectedLayer(w_dim, 4)
        with torch.no_grad():
            self.affine.weight.zero_()
            self.affine.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0]))
        self.register_buffer("transform", torch.eye(3))
        self.register_buffer("freqs", torch.stack([radius * theta.cos(), radius * theta.sin()], dim=1))
        self.register_buffer("phases", torch.rand(channels) - 0.5)

    def _grid(self, device: torch.device) -> torch.Tensor:
        """Sample positions ``[size, size, 2]`` (x, y) in image units: pixel centres spanning
        ``size / sampling_rate`` units around the origin."""
        half = 0.5 * self.size / self.sampling_rate
        theta = torch.tensor([[half, 0.0, 0.0], [0.0, half, 0.0]], device=device)
        return F.affine_grid(theta.unsqueeze(0), [1, 1, self.size, self.size], align_corners=False)[0]

    def forward(self, w: torch.Tensor, transform: torch.Tensor | None = None) -> torch.Tensor:
        """w ``[N, w_dim]``; ``transform``: per-sample user transforms ``[N, 3, 3]`` used instead of
        the ``transform`` buffer (same meaning: the inverse of the wanted image transform)."""
        n = w.shape[0]
        user = self.transform.unsqueeze(0) if transform is None else transform.to(w.device, torch.float32)
        t = self.affine(w)  # (r_c, r_s, t_x, t_y)
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        rot = torch.eye(3, device=w.device).repeat(n, 1, 1)  # inverse rotation of the image
        rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        shift = torch.eye(3, device=w.device).repeat(n, 1, 1)  # inverse translation of the image
        shift[:, 0, 2], shift[:, 1, 2] = -t[:, 2], -t[:, 3]
        m = rot @ shift @ user  # learned rotation, then translation, then the user's
        freqs = self.freqs.unsqueeze(0)
        phases = self.phases.unsqueeze(0) + (freqs @ m[:, :2, 2:]).squeeze(2)
        freqs = freqs @ m[:, :2, :2]  # [N, C, 2]
        # fade out frequencies the transform pushed between the bandwidth and the Nyquist limit
        amp = (1 - (freqs.norm(dim=2) - self.bandwidth) / (self.sampling_rate / 2 - self.bandwidth)).clamp(0, 1)
        grid = self._grid(w.device)  # [H, W, 2]
        x = (grid.reshape(1, -1, 1, 2) @ freqs.permute(0, 2, 1).unsqueeze(1)).reshape(n, self.size, self.size, -1)
        x = torch.sin((x + phases.reshape(n, 1, 1, -1)) * (2 * math.pi)) * amp.reshape(n, 1, 1, -1)
        x = x @ (self.weight / math.sqrt(self.channels)).t()
        return x.permute(0, 3, 1, 2)

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, size={self.size}, sampling_rate={self.sampling_rate:g}, "
            f"bandwidth={self.bandwidth:g}"
        )


class SynthesisLayer(nn.Module):
    """Modulated conv + filtered leaky ReLU (or the linear 1x1 toRGB): ``[N, I, in, in] -> [N, O, out, out]``.

    Keys: ``weight`` ``[O, I, k, k]``, ``bias`` ``[O]``, ``affine.*`` (bias init 1), buffers
    ``magnitude_ema`` (scalar: mean square of the layer input, tracked in training),
    ``up_filter`` / ``down_filter`` (absent when the factor is 1: 1-D ``[taps]`` separable, or 2-D
    ``[taps, taps]`` radial for the R config's non-critical downsampling).
    """

    magnitude_ema: torch.Tensor
    up_filter: torch.Tensor | None
    down_filter: torch.Tensor | None

    def __init__(
        self,
        spec: LayerSpec,
        *,
        w_dim: int,
        conv_kernel: int,
        filter_size: int,
        lrelu_upsampling: int,
        use_radial_filters: bool,
        conv_clamp: float | None,
    ) -> None:
        super().__init__()
        self.spec, self.conv_clamp = spec, conv_clamp
        self.is_torgb = spec.is_torgb
        self.conv_kernel = 1 if spec.is_torgb else int(conv_kernel)
        tmp_rate = max(spec.in_sampling_rate, spec.out_sampling_rate) * (1 if spec.is_torgb else lrelu_upsampling)
        self.up_factor = round(tmp_rate / spec.in_sampling_rate)
        self.down_factor = round(tmp_rate / spec.out_sampling_rate)
        if spec.in_sampling_rate * self.up_factor != tmp_rate or spec.out_sampling_rate * self.down_factor != tmp_rate:
            raise GanevalValueError(
                f"Argument `lrelu_upsampling` must make every layer's rate an integer multiple, "
                f"but got {lrelu_upsampling!r}."
            )
        self.up_taps = filter_size * self.up_factor if self.up_factor > 1 and not spec.is_torgb else 1
        self.down_taps = filter_size * self.down_factor if self.down_factor > 1 and not spec.is_torgb else 1
        self.down_radial = bool(use_radial_filters) and not spec.is_critically_sampled
        self.affine = FullyConnectedLayer(w_dim, spec.in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(spec.out_channels, spec.in_channels, self.conv_kernel, self.conv_kernel))
        self.bias = nn.Parameter(torch.zeros(spec.out_channels))
        self.register_buffer("magnitude_ema", torch.ones([]))
        self.register_buffer(
            "up_filter", design_lowpass_filter(self.up_taps, spec.in_cutoff, spec.in_half_width * 2, tmp_rate)
        )
        self.register_buffer(
            "down_filter",
            design_lowpass_filter(
                self.down_taps, spec.out_cutoff, spec.out_half_width * 2, tmp_rate, radial=self.down_radial
            ),
        )
        # pad the upsampled 'full' conv output so that the filtered, downsampled result has out_size
        # samples centred like the input's (symmetric interpretation of the sample grid)
        total = (spec.out_size - 1) * self.down_factor + 1
        total -= (spec.in_size + self.conv_kernel - 1) * self.up_factor
        total += self.up_taps + self.down_taps - 2
        lo = (total + self.up_factor) // 2
        self.padding = [lo, total - lo, lo, total - lo]

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)
        if self.is_torgb:
            styles = styles * (1 / math.sqrt(self.spec.in_channels * self.conv_kernel**2))
        x = _modulated_conv2d(
            x,
            self.weight,
            styles,
            demodulate=not self.is_torgb,
            input_gain=self.magnitude_ema.rsqrt(),
            padding=self.conv_kernel - 1,
        )
        return filtered_lrelu(
            x,
            fu=self.up_filter,
            fd=self.down_filter,
            b=self.bias,
            up=self.up_factor,
            down=self.down_factor,
            padding=self.padding,
            gain=1.0 if self.is_torgb else SQRT2,
            slope=1.0 if self.is_torgb else LRELU_SLOPE,
            clamp=self.conv_clamp,
        )

    def extra_repr(self) -> str:
        s = self.spec
        return (
            f"{s.in_channels}->{s.out_channels}, {s.in_size}->{s.out_size} px, rate {s.in_sampling_rate}->"
            f"{s.out_sampling_rate}, cutoff {s.in_cutoff:.4g}->{s.out_cutoff:.4g}, up={self.up_factor}, "
            f"down={self.down_factor}, k={self.conv_kernel}, radial={self.down_radial}, torgb={self.is_torgb}"
        )


class SynthesisNetwork(nn.Module):
    """ws ``[N, num_ws, w_dim]`` -> images ``[N, img_channels, R, R]`` float32, nominal [-1, 1].

    ws[:, 0] drives the Fourier input, ws[:, k] layer ``k - 1``. ``noise_mode`` is accepted for
    protocol compatibility; StyleGAN3 has no noise inputs, so every mode gives the same image.
    Submodules: ``input`` and the layers named ``L{idx}_{size}_{channels}`` (:attr:`layer_names`).
    """

    def __init__(
        self,
        *,
        w_dim: int,
        img_resolution: int,
        img_channels: int,
        channel_base: int,
        channel_max: int,
        num_layers: int,
        num_critical: int,
        first_cutoff: float,
        first_stopband: float,
        last_stopband_rel: float,
        margin_size: int,
        output_scale: float,
        conv_kernel: int,
        filter_size: int,
        lrelu_upsampling: int,
        use_radial_filters: bool,
        conv_clamp: float | None,
    ) -> None:
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.num_ws, self.output_scale = num_layers + 2, float(output_scale)
        input_spec, self.specs = layer_schedule(
            img_resolution=img_resolution,
            img_channels=img_channels,
            channel_base=channel_base,
            channel_max=channel_max,
            num_layers=num_layers,
            num_critical=num_critical,
            first_cutoff=first_cutoff,
            first_stopband=first_stopband,
            last_stopband_rel=last_stopband_rel,
            margin_size=margin_size,
        )
        self.input = SynthesisInput(w_dim=w_dim, **input_spec)
        self.layer_names = [spec.name for spec in self.specs]
        for spec in self.specs:
            setattr(
                self,
                spec.name,
                SynthesisLayer(
                    spec,
                    w_dim=w_dim,
                    conv_kernel=conv_kernel,
                    filter_size=filter_size,
                    lrelu_upsampling=lrelu_upsampling,
                    use_radial_filters=use_radial_filters,
                    conv_clamp=conv_clamp,
                ),
            )

    @property
    def layers(self) -> list[SynthesisLayer]:
        return [getattr(self, name) for name in self.layer_names]

    @property
    def noise_resolutions(self) -> list[int]:
        """StyleGAN3 has no noise layers."""
        return []

    def forward(
        self,
        ws: torch.Tensor,
        noise_mode: str = "const",
        noise: Sequence[torch.Tensor | None] | None = None,
        input_transform: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``input_transform``: optional per-sample ``[N, 3, 3]`` inverse image transforms that replace
        the ``input.transform`` buffer for this call (equivariance metrics draw one per sample)."""
        check_synthesis_call(ws, self.num_ws, self.w_dim, noise_mode, noise, [])
        if input_transform is not None:
            check_tensor_shape("input_transform", input_transform, [ws.shape[0], 3, 3])
            check_finite("input_transform", input_transform)
        per_layer = ws.to(torch.float32).unbind(dim=1)
        x = self.input(per_layer[0], input_transform)
        for layer, w in zip(self.layers, per_layer[1:]):
            x = layer(x, w)
        if self.output_scale != 1:
            x = x * self.output_scale
        return x


class StyleGAN3(StyleGenerator):
    """The StyleGAN3 generator (configs T and R).

    Module tree and parameter / buffer names are those of the official
    ``training.networks_stylegan3.Generator``, so its state dicts load with ``strict=True``.

    Args:
        z_dim, c_dim, w_dim, img_resolution (power of two, 8..1024), img_channels: as StyleGAN2.
        mapping_layers, mapping_lr_multiplier: the mapping network (2 layers, 0.01 in the paper).
        channel_base, channel_max: a layer with cutoff f_c has ``rint(min(channel_base / 2 / f_c,
            channel_max))`` channels (config R doubles both).
        num_layers, num_critical: synthesis layers without the toRGB (14), critically sampled ones (2).
        first_cutoff, first_stopband, last_stopband_rel: the filter schedule (2, 2**2.1, 2**0.3).
        margin_size: extra pixels on each side of the feature maps (10). output_scale: image gain (0.25).
        conv_kernel: 3 (config T) or 1 (config R). filter_size: taps per factor of up/down sampling (6).
        lrelu_upsampling: oversampling of the nonlinearity (2).
        use_radial_filters: radially symmetric downsampling filters in non-critical layers (config R).
        conv_clamp: clamp of the pre-filter activations (256) or None.

    >>> G = StyleGAN3(z_dim=16, w_dim=16, img_resolution=16, channel_base=256, channel_max=16, num_layers=4)
    >>> G.num_ws, G(torch.randn(2, 16)).shape
    (6, torch.Size([2, 3, 16, 16]))
    """

    arch_name = "stylegan3"
    mapping: MappingNetwork
    synthesis: SynthesisNetwork

    def __init__(
        self,
        z_dim: int = 512,
        c_dim: int = 0,
        w_dim: int = 512,
        img_resolution: int = 1024,
        img_channels: int = 3,
        mapping_layers: int = 2,
        mapping_lr_multiplier: float = 0.01,
        channel_base: int = 32768,
        channel_max: int = 512,
        num_layers: int = 14,
        num_critical: int = 2,
        first_cutoff: float = 2.0,
        first_stopband: float = 2**2.1,
        last_stopband_rel: float = 2**0.3,
        margin_size: int = 10,
        output_scale: float = 0.25,
        conv_kernel: int = 3,
        filter_size: int = 6,
        lrelu_upsampling: int = 2,
        use_radial_filters: bool = False,
        conv_clamp: float | None = 256.0,
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
            ("num_layers", num_layers, 1),
            ("num_critical", num_critical, 0),
            ("margin_size", margin_size, 0),
            ("conv_kernel", conv_kernel, 1),
            ("filter_size", filter_size, 1),
            ("lrelu_upsampling", lrelu_upsampling, 1),
        ):
            check_positive_int(name, value, minimum=minimum)
        if num_critical >= num_layers:
            raise GanevalValueError(
                f"Argument `num_critical` must be smaller than num_layers={num_layers}, but got {num_critical!r}."
            )
        for name, number in (
            ("first_cutoff", first_cutoff),
            ("first_stopband", first_stopband),
            ("last_stopband_rel", last_stopband_rel),
            ("output_scale", output_scale),
        ):
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not 0 < number < math.inf:
                raise GanevalValueError(f"Argument `{name}` must be a positive finite number, but got {number!r}.")
        if conv_clamp is not None and not (isinstance(conv_clamp, (int, float)) and conv_clamp > 0):
            raise GanevalValueError(f"Argument `conv_clamp` must be None or a positive number, but got {conv_clamp!r}.")
        conv_clamp = None if conv_clamp is None else float(conv_clamp)
        kwargs = dict(
            z_dim=z_dim,
            c_dim=c_dim,
            w_dim=w_dim,
            img_resolution=img_resolution,
            img_channels=img_channels,
            mapping_layers=mapping_layers,
            mapping_lr_multiplier=float(mapping_lr_multiplier),
            channel_base=channel_base,
            channel_max=channel_max,
            num_layers=num_layers,
            num_critical=num_critical,
            first_cutoff=float(first_cutoff),
            first_stopband=float(first_stopband),
            last_stopband_rel=float(last_stopband_rel),
            margin_size=margin_size,
            output_scale=float(output_scale),
            conv_kernel=conv_kernel,
            filter_size=filter_size,
            lrelu_upsampling=lrelu_upsampling,
            use_radial_filters=bool(use_radial_filters),
            conv_clamp=conv_clamp,
        )
        self._set_dims(
            z_dim=z_dim,
            c_dim=c_dim,
            w_dim=w_dim,
            num_ws=num_layers + 2,
            img_resolution=img_resolution,
            img_channels=img_channels,
            init_kwargs=kwargs,
        )
        self.synthesis = SynthesisNetwork(
            w_dim=w_dim,
            img_resolution=img_resolution,
            img_channels=img_channels,
            channel_base=channel_base,
            channel_max=channel_max,
            num_layers=num_layers,
            num_critical=num_critical,
            first_cutoff=float(first_cutoff),
            first_stopband=float(first_stopband),
            last_stopband_rel=float(last_stopband_rel),
            margin_size=margin_size,
            output_scale=float(output_scale),
            conv_kernel=conv_kernel,
            filter_size=filter_size,
            lrelu_upsampling=lrelu_upsampling,
            use_radial_filters=bool(use_radial_filters),
            conv_clamp=conv_clamp,
        )
        self.mapping = MappingNetwork(
            z_dim=z_dim,
            c_dim=c_dim,
            w_dim=w_dim,
            num_ws=num_layers + 2,
            num_layers=mapping_layers,
            embed_features=w_dim,
            layer_features=w_dim,
            lr_multiplier=mapping_lr_multiplier,
        )

    @property
    def config(self) -> str:
        """``"R"`` (1x1 convolutions, radial filters) or ``"T"`` (the translation-equivariant config)."""
        kw = self.init_kwargs
        return "R" if kw["conv_kernel"] == 1 and kw["use_radial_filters"] else "T"

    @property
    def w_avg(self) -> torch.Tensor:
        """The tracked mean of w ``[w_dim]`` (a view of ``mapping.w_avg``)."""
        return self.mapping.w_avg

    @property
    def ws_resolutions(self) -> list[int]:
        """The resolution (px) whose Nyquist limit equals the band limit each ws index acts at:
        ``2 * cutoff`` of the input, then of each layer's output (4 .. img_resolution). StyleGAN3's
        feature maps are oversampled, so this, not their pixel size, places a layer among the
        coarse / middle / fine groups."""
        specs = self.synthesis.specs
        return [round(2 * specs[0].in_cutoff)] + [round(2 * s.out_cutoff) for s in specs]

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary for ``ganeval info``: config, resolution, and per layer its size,
        channels, sampling rate, cutoff, half-width, up/down factors and filter taps / kind."""
        inp = self.synthesis.input
        layers = []
        for layer in self.synthesis.layers:
            s = layer.spec
            layers.append(
                dict(
                    name=s.name,
                    in_channels=s.in_channels,
                    out_channels=s.out_channels,
                    size=s.out_size,
                    sampling_rate=s.out_sampling_rate,
                    cutoff=round(s.out_cutoff, 6),
                    half_width=round(s.out_half_width, 6),
                    critically_sampled=s.is_critically_sampled,
                    torgb=s.is_torgb,
                    conv_kernel=layer.conv_kernel,
                    up=layer.up_factor,
                    down=layer.down_factor,
                    up_taps=layer.up_taps,
                    down_taps=layer.down_taps,
                    down_filter="radial" if layer.down_radial else ("separable" if layer.down_taps > 1 else "none"),
                )
            )
        return dict(
            arch="stylegan3",
            config=self.config,
            img_resolution=self.img_resolution,
            img_channels=self.img_channels,
            z_dim=self.z_dim,
            c_dim=self.c_dim,
            w_dim=self.w_dim,
            num_ws=self.num_ws,
            num_layers=len(layers) - 1,
            num_critical=self.init_kwargs["num_critical"],
            input=dict(channels=inp.channels, size=inp.size, sampling_rate=inp.sampling_rate, bandwidth=inp.bandwidth),
            transform_is_identity=bool(torch.equal(inp.transform.cpu(), torch.eye(3))),
            layers=layers,
        )

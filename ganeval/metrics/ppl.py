"""Perceptual path length (PPL), Karras et al. 2019 (arXiv 1812.04948, section 4.1).

Reproduces NVIDIA's procedure (NVlabs/stylegan ``metrics/perceptual_path_length.py``, its
StyleGAN2 / stylegan2-ada TF successors, and stylegan2-ada-pytorch; see
``metrics-and-formats.md`` sections 1 and 7), sample by sample:

1. z0, z1 ~ N(0, I); t ~ U[0, 1) (``sampling="full"``) or t = 0 (``"end"``; NVIDIA never uses
   t = 1); one uniformly random class label per pair for conditional generators.
2. Z: ``slerp`` (NVIDIA's unit-norm form) at t and t + eps, then the mapping network.
   W: map z0 and z1, then ``lerp`` every layer's w at t and t + eps. No truncation.
3. Synthesis of both images with ONE noise realisation shared by the pair.
4. Optional face crop (rows [3H/8, 7H/8), columns [2W/8, 6W/8)), box-downsampling by an
   integer factor when larger than 256 px, then ``distance(img_t, img_t+eps) / eps**2``.
5. Drop values below the 1st percentile (``method="lower"``) and above the 99th
   (``method="higher"``); PPL is the mean of the rest.

Deliberate deviation from the references: NVIDIA draws one noise realisation per GPU batch
(shared by every pair in it); ganeval draws one per pair from (seed, sample index), so every
result is identical for any batch size, device count or resume point. The expectation is the
same; only which noise meets which pair differs.

The two crop/downsample orders (``protocol``): ``"tf"`` (NVlabs/stylegan, stylegan2,
stylegan2-ada TF) takes the factor from the cropped height, so a cropped 1024 px image reaches
the distance at 256 px; ``"ada-pytorch"`` (stylegan2-ada-pytorch, stylegan3) takes it from the
full resolution (128 px for cropped 1024 and 512 px generators). They agree without crop and
at 256 px and below.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import _seeding
from .._validate import check_choice, check_positive_float, check_positive_int
from ..devices import resolve_device
from ..errors import GanevalTypeError, GanevalValueError, NonFiniteOutputError, UnsupportedGeneratorError
from ..results import MetricResult, collect_provenance

__all__ = [
    "ppl",
    "PPLResult",
    "PPLPreset",
    "PPL_PRESETS",
    "PROTOCOLS",
    "slerp",
    "crop_face",
    "box_downsample",
    "downsample_factor",
    "percentile_filter",
    "filtered_mean",
    "bootstrap_ci",
    "path_images",
]

log = logging.getLogger("ganeval")

PROTOCOLS: tuple[str, ...] = ("tf", "ada-pytorch")
SPACES: tuple[str, ...] = ("z", "w")
SAMPLINGS: tuple[str, ...] = ("full", "end")
INTERPOLATIONS: tuple[str, ...] = ("slerp", "lerp")
ON_NAN: tuple[str, ...] = ("stop", "skip")
MIN_SAMPLES = 100  # below this the 1 / 99 percentile filter is meaningless (at 100 it still keeps all)
_BOOTSTRAP = 1000  # bootstrap resamples of the confidence interval


@dataclass(frozen=True)
class PPLPreset:
    """One named PPL protocol: the parameters that define the number, and its reference.

    ``protocol`` is the default crop/downsample order; ``ppl(..., protocol="ada-pytorch")``
    switches a preset to stylegan2-ada-pytorch's order.
    """

    name: str
    space: str
    sampling: str
    crop: bool
    num_samples: int
    epsilon: float
    protocol: str
    reference: str


_SG2 = ("NVlabs/stylegan2 metrics/metric_defaults.py `{name}` (50,000 samples, eps 1e-4, {crop}); "
        "the same row as stylegan2-ada TF and stylegan2-ada-pytorch metric_main (use protocol='ada-pytorch' "
        "for that code's crop/downsample order). Published: {published}.")
_V1 = ("NVlabs/stylegan (v1) metrics/metric_base.py `{short}` (100,000 samples, eps 1e-4, face crop, TF order). "
       "Published: {published}.")

PPL_PRESETS: dict[str, PPLPreset] = {p.name: p for p in (
    PPLPreset("ppl_zfull", "z", "full", True, 50_000, 1e-4, "tf",
              _SG2.format(name="ppl_zfull", crop="face crop", published="StyleGAN2 README FFHQ config F 348.0 +- 3.8")),
    PPLPreset("ppl_wfull", "w", "full", True, 50_000, 1e-4, "tf",
              _SG2.format(name="ppl_wfull", crop="face crop", published="StyleGAN2 README FFHQ config F 126.9 +- 0.2")),
    PPLPreset("ppl_zend", "z", "end", True, 50_000, 1e-4, "tf",
              _SG2.format(name="ppl_zend", crop="face crop", published="StyleGAN2 README FFHQ config F 348.6 +- 3.0")),
    PPLPreset("ppl_wend", "w", "end", True, 50_000, 1e-4, "tf",
              _SG2.format(name="ppl_wend", crop="face crop", published="StyleGAN2 README FFHQ config F 129.4 +- 0.8")),
    PPLPreset("ppl2_wend", "w", "end", False, 50_000, 1e-4, "tf",
              _SG2.format(name="ppl2_wend", crop="no crop",
                          published="StyleGAN2 paper Table 1 / README FFHQ config F 145.0 +- 0.5")),
    PPLPreset("ppl_zfull_v1", "z", "full", True, 100_000, 1e-4, "tf",
              _V1.format(short="ppl_zfull", published="StyleGAN README FFHQ 664.8854")),
    PPLPreset("ppl_wfull_v1", "w", "full", True, 100_000, 1e-4, "tf",
              _V1.format(short="ppl_wfull", published="StyleGAN README FFHQ 233.3059 (paper Table 4: 234.0)")),
    PPLPreset("ppl_zend_v1", "z", "end", True, 100_000, 1e-4, "tf",
              _V1.format(short="ppl_zend", published="StyleGAN README FFHQ 666.1057")),
    PPLPreset("ppl_wend_v1", "w", "end", True, 100_000, 1e-4, "tf",
              _V1.format(short="ppl_wend", published="StyleGAN README FFHQ 197.2266 (paper Table 4: 195.9)")),
)}


@dataclass(frozen=True)
class PPLResult(MetricResult):
    """A PPL result (lower is better).

    Attributes (beyond :class:`~ganeval.results.MetricResult`):
        per_sample: float64 ``[n]``, every path length ``distance / eps**2`` in sample order
            (before filtering; NaN for pairs skipped by ``on_nan="skip"``).
        kept_mask: bool ``[n]``, True where the sample passed the 1 / 99 percentile filter
            (False for skipped pairs).
        t: float32 ``[n]``, the interpolation position of each sample (zeros for ``"end"``).
    """

    kept_mask: np.ndarray | None = field(default=None, repr=False, compare=False)
    t: np.ndarray | None = field(default=None, repr=False, compare=False)

    def per_sample_frame(self) -> Any:
        """pandas DataFrame, one row per sample: ``sample``, ``t``, ``path_length``, ``kept``."""
        import pandas as pd

        n = 0 if self.per_sample is None else len(self.per_sample)
        return pd.DataFrame({"sample": np.arange(n), "t": self.t, "path_length": self.per_sample,
                             "kept": self.kept_mask})

    def summary(self) -> str:
        """One line: value, 95 % CI, n, generator, distance, protocol."""
        c, p = self.config, self.provenance
        return (f"{self.metric} = {self.value:.4g}  (95% CI {self.ci_low:.4g} .. {self.ci_high:.4g}, n={self.num_samples}, "
                f"space={c.get('space')}, sampling={c.get('sampling')}, crop={c.get('crop')}; "
                f"generator={p.get('generator_source')}, distance={c.get('distance')}, protocol={c.get('protocol')})")


# --------------------------------------------------------------------------- pure maths


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """NVIDIA's spherical interpolation: unit-norm endpoints and a unit-norm result.

    ``a``, ``b``: ``[N, D]``; ``t``: ``[N]`` (any real; t = 0 gives ``a / |a|``). The angle
    between ``slerp(a, b, t)`` and ``slerp(a, b, t + e)`` is exactly ``e * angle(a, b)``. The
    input norms are discarded (harmless for generators that normalise z, as StyleGAN's
    mapping does). No epsilon guards, as in the reference.
    """
    a, b = _normalize(a), _normalize(b)
    d = (a * b).sum(dim=-1, keepdim=True)
    p = t.reshape(-1, 1).to(a.dtype) * torch.acos(d)
    c = _normalize(b - d * a)
    return _normalize(a * torch.cos(p) + c * torch.sin(p))


def _normalize(v: torch.Tensor) -> torch.Tensor:
    """``v / sqrt(sum(v * v))`` over the last axis, NVIDIA's form (not ``torch.norm``, whose reduction
    rounds differently: d / eps**2 amplifies last-bit differences of the two path points)."""
    return v / torch.sqrt((v * v).sum(dim=-1, keepdim=True))


def _lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``a + (b - a) * t`` (the TF reference's form) with ``t`` ``[N]`` broadcast over the rest."""
    return a + (b - a) * t.reshape(-1, *([1] * (a.ndim - 1))).to(a.dtype)


def crop_face(images: torch.Tensor) -> torch.Tensor:
    """NVIDIA's face crop of ``[N, C, H, W]``: rows [3H/8, 7H/8), columns [2W/8, 6W/8)."""
    ch, cw = images.shape[2] // 8, images.shape[3] // 8
    return images[:, :, 3 * ch:7 * ch, 2 * cw:6 * cw]


def box_downsample(images: torch.Tensor, factor: int) -> torch.Tensor:
    """Mean over non-overlapping ``factor x factor`` blocks of ``[N, C, H, W]`` (H, W divisible)."""
    if factor <= 1:
        return images
    n, c, h, w = images.shape
    return images.reshape(n, c, h // factor, factor, w // factor, factor).mean(dim=(3, 5))


def downsample_factor(full_resolution: int, cropped_height: int, protocol: str) -> int:
    """Integer box factor before the distance: from the cropped height (``"tf"``) or the full
    resolution (``"ada-pytorch"``), ``// 256``; 1 means no downsampling."""
    base = cropped_height if protocol == "tf" else full_resolution
    return max(1, base // 256)


def _percentile_ranks(n: int) -> tuple[int, int]:
    """Ranks (0-based, ascending) of numpy's 1st percentile ``"lower"`` and 99th ``"higher"``."""
    ranks = np.arange(n)
    return (int(np.percentile(ranks, 1, method="lower")), int(np.percentile(ranks, 99, method="higher")))


def percentile_filter(d: np.ndarray) -> np.ndarray:
    """Boolean mask keeping ``lo <= d <= hi``, lo = 1st percentile (``"lower"``), hi = 99th (``"higher"``)."""
    d = np.asarray(d)
    lo = np.percentile(d, 1, method="lower")
    hi = np.percentile(d, 99, method="higher")
    return (d >= lo) & (d <= hi)


def filtered_mean(d: np.ndarray) -> float:
    """PPL of per-sample path lengths ``d``: the mean of the values :func:`percentile_filter` keeps."""
    d = np.asarray(d, dtype=np.float64)
    return float(d[percentile_filter(d)].mean())


def bootstrap_ci(d: np.ndarray, *, seed: int, num_resamples: int = _BOOTSTRAP, level: float = 0.95) -> tuple[float, float]:
    """Percentile-bootstrap CI of :func:`filtered_mean` (the filter is re-applied per resample).

    Each resample draws ``n`` indices with replacement into the sorted values; with the counts
    per sorted position, the resample's 1st / 99th percentiles are order statistics found by a
    cumulative sum, so a resample costs O(n) without sorting. Deterministic in ``seed``.
    """
    ds = np.sort(np.asarray(d, dtype=np.float64))
    n = len(ds)
    r_lo, r_hi = _percentile_ranks(n)
    rng = np.random.default_rng([int(seed), _seeding.stream_id("ppl.bootstrap"), n])
    means = np.empty(num_resamples)
    chunk = max(1, (1 << 20) // n)  # ~8 MiB per int64 array
    for start in range(0, num_resamples, chunk):
        b = min(chunk, num_resamples - start)
        idx = rng.integers(0, n, size=(b, n))
        counts = np.bincount((idx + (np.arange(b) * n)[:, None]).ravel(), minlength=b * n).reshape(b, n)
        cum = counts.cumsum(axis=1)
        lo = ds[(cum <= r_lo).sum(axis=1)]
        hi = ds[(cum <= r_hi).sum(axis=1)]
        w = counts * ((ds >= lo[:, None]) & (ds <= hi[:, None]))
        means[start:start + b] = (w * ds).sum(axis=1) / w.sum(axis=1)
    alpha = (1 - level) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


# --------------------------------------------------------------------------- generator access


class _Renderer:
    """Calls a generator the way PPL needs: mapping without truncation, one noise per pair.

    ``mode`` is ``"per-pair"`` (ganeval generators: explicit ``noise=`` maps drawn from
    (seed, index)), ``"const"`` (foreign generators with ``mapping``/``synthesis`` but no
    ``noise=`` input: the generator's stored constant noise) or ``"forward"`` (Z space on a
    generator without a mapping network: ``G(z, c)``).
    """

    def __init__(self, G: Any, space: str, device: torch.device, seed: int) -> None:
        from ..models.base import StyleGenerator

        self.G, self.device, self.seed = G, device, seed
        self.has_mapping = self._probe_mapping()
        if space == "w" and not self.has_mapping:
            raise UnsupportedGeneratorError(
                f"Argument `space` is 'w', but the generator {type(G).__name__} has no mapping network "
                "(it only maps z to images); use space='z'."
            )
        res = getattr(getattr(G, "synthesis", None), "noise_resolutions", None)
        if not self.has_mapping:
            self.mode, self.noise_res = "forward", []
        elif isinstance(G, StyleGenerator) and res is not None:
            self.mode, self.noise_res = "per-pair", [int(r) for r in res]
        else:
            self.mode, self.noise_res = "const", []
        self.noise_sizes = [r * r for r in self.noise_res]
        self.noise_total = sum(self.noise_sizes)

    def _probe_mapping(self) -> bool:
        mapping = getattr(self.G, "mapping", None)
        if not callable(mapping) or not callable(getattr(self.G, "synthesis", None)):
            return False
        z = torch.zeros(1, self.G.z_dim, device=self.device)
        try:
            mapping(z, self.labels_onehot(torch.zeros(1, dtype=torch.int64)))
        except UnsupportedGeneratorError:
            return False
        return True

    def labels_onehot(self, labels: torch.Tensor) -> torch.Tensor | None:
        c_dim = int(getattr(self.G, "c_dim", 0) or 0)
        if c_dim == 0:
            return None
        return torch.nn.functional.one_hot(labels, c_dim).to(self.device, torch.float32)

    def labels(self, indices: np.ndarray) -> torch.Tensor | None:
        """One uniformly random class per pair (one-hot ``[B, c_dim]``), ``None`` if unconditional."""
        c_dim = int(getattr(self.G, "c_dim", 0) or 0)
        if c_dim == 0:
            return None
        return self.labels_onehot(_seeding.randint(self.seed, "ppl.c", indices, c_dim))

    def noise(self, indices: np.ndarray, halves: int = 2) -> list[torch.Tensor] | None:
        """Per-pair noise maps ``[halves * B, 1, r, r]`` per layer (pair halves stacked, so every
        image of a pair gets the same map); each pair's maps come from (seed, index)."""
        if self.mode != "per-pair":
            return None
        b = len(indices)
        flat = torch.empty(halves, b, self.noise_total, device=self.device)
        for row, i in enumerate(indices):  # one draw per pair covers all layers
            gen = _seeding.torch_generator(self.seed, "ppl.noise", int(i), self.device)
            torch.randn(self.noise_total, generator=gen, device=self.device, out=flat[0, row])
        flat[1:] = flat[0]
        # per-layer views [halves * B, 1, r, r] of the one buffer (no per-layer copies)
        return [m.reshape(halves * b, 1, r, r) for m, r in zip(flat.split(self.noise_sizes, dim=2), self.noise_res)]

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        return self.G.mapping(z, c, truncation_psi=1.0)

    def synthesis(self, ws: torch.Tensor, noise: list[torch.Tensor] | None) -> torch.Tensor:
        """Images for ws ``[N, ...]``; ``noise`` from :meth:`noise` with the same ``N`` (or None)."""
        if noise is not None:
            return self.G.synthesis(ws, noise_mode="const", noise=noise)
        return self.G.synthesis(ws, noise_mode="const")

    def from_z(self, z: torch.Tensor, c: torch.Tensor | None, noise: list[torch.Tensor] | None) -> torch.Tensor:
        if self.mode == "forward":
            return self.G(z, c)
        return self.synthesis(self.mapping(z, c), noise)


def _as_images(images: Any) -> torch.Tensor:
    """The generator's output as float32 ``[N, C, H, W]``; anything else raises."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        got = list(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise GanevalValueError(f"The generator must return images [N, C, H, W], but returned {got}.")
    return images.to(torch.float32)


def _check_range(images: torch.Tensor) -> None:
    """Refuse images that look like [0, 255] (checked on a process's first batch only)."""
    lo, hi = float(images.min()), float(images.max())
    if lo >= 0 and hi > 2:
        raise GanevalValueError(
            f"Generator images must be in [-1, 1], but the first batch spans [{lo:.3g}, {hi:.3g}], which looks "
            "like [0, 255]; wrap the generator so it returns x / 127.5 - 1."
        )


def _pair_finite(images: torch.Tensor, b: int) -> torch.Tensor:
    """float32 ``[b]`` on the images' device: 1 where both images of pair ``i`` are all finite.

    One reduction pass: a row sum is finite iff every value is, unless finite values overflow
    float32 (|sum| > 3.4e38, far outside [-1, 1] images); such rows are re-checked exactly.
    """
    rows = images.reshape(2, b, -1)
    ok = torch.isfinite(rows.sum(dim=2)).all(dim=0)
    return ok.to(torch.float32)


def _recheck_finite(images: torch.Tensor, b: int, ok: np.ndarray) -> np.ndarray:
    """Exact per-pair finiteness for the pairs the row-sum test flagged (rare path)."""
    flagged = np.flatnonzero(~ok)
    if len(flagged):
        sub = images.reshape(2, b, -1)[:, torch.from_numpy(flagged).to(images.device)]
        ok = ok.copy()
        ok[flagged] = torch.isfinite(sub).all(dim=2).all(dim=0).cpu().numpy()
    return ok


def _nonfinite_message(bad: np.ndarray, n: int, seed: int) -> str:
    """Names how many of the first ``n`` pairs had non-finite images, and the first indices."""
    return (f"The generator returned NaN or Inf for {len(bad)} of the {n} pairs with sample indices 0..{n - 1} "
            f"(seed {seed}; first bad sample indices: {bad[:5].tolist()}); use on_nan='skip' (CLI --on-nan skip) "
            "to drop them from the statistics.")


# --------------------------------------------------------------------------- the metric


def _resolve_preset(preset: str | None, given: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """The parameters: given values (``None`` = not given), else the preset's, else the defaults.

    With a preset, a given value that differs from the preset's raises: a run is never silently
    made under another protocol than the one asked for.
    """
    if preset is None:
        return {k: defaults[k] if given[k] is None else given[k] for k in defaults}
    check_choice("preset", preset, tuple(PPL_PRESETS))
    row = PPL_PRESETS[preset]
    out = {}
    for key in defaults:
        fixed = getattr(row, key)
        if given[key] is not None and given[key] != fixed:
            raise GanevalValueError(
                f"Argument `{key}` is {given[key]!r}, but preset {preset!r} fixes {key}={fixed!r}; drop one of them."
            )
        out[key] = fixed
    return out


def _checkpoints(min_samples: int, num_samples: int) -> list[int]:
    """Sample counts at which ``target_ci`` is tested: min_samples, then +10 % each, capped."""
    points, n = [], min_samples
    while n < num_samples:
        points.append(n)
        n = max(n + 1, math.ceil(n * 1.1))
    return [*points, num_samples]


def ppl(
    G: Any,
    *,
    space: str | None = None,
    sampling: str | None = None,
    num_samples: int | None = None,
    epsilon: float | None = None,
    crop: bool | None = None,
    distance: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = "lpips-vgg16",
    seed: int = 0,
    batch_size: int = 32,
    device: str | torch.device = "auto",
    protocol: str | None = None,
    preset: str | None = None,
    interpolation: str | None = None,
    target_ci: float | None = None,
    min_samples: int = 1_000,
    progress: bool | str | None = None,
    run_dir: Any = None,
    on_nan: str = "stop",
) -> PPLResult:
    """Perceptual path length of generator ``G`` in Z or W (lower is better).

    Args:
        G: a style-based generator (``z_dim``, ``c_dim``, ``img_resolution``, ``mapping``,
            ``synthesis``; see :mod:`ganeval.models.base`) returning images in [-1, 1]. A
            generator without a mapping network works for ``space="z"`` through ``G(z, c)``.
            ``G`` is moved to ``device`` in place (like ``nn.Module.to``).
        space: ``"z"`` (slerp, then mapping) or ``"w"`` (map, then lerp every layer's w);
            default ``"w"``.
        sampling: ``"full"`` (t ~ U[0, 1)) or ``"end"`` (t = 0, as NVIDIA's code does); default ``"end"``.
        num_samples: pairs to evaluate (>= 100; default 50,000); the maximum when ``target_ci`` is given.
        epsilon: step along the path, > 0 (default 1e-4, as in every reference).
        crop: NVIDIA's face crop (rows 3/8-7/8, columns 2/8-6/8) before the distance; default off.
        distance: a name of :func:`ganeval.load_distance` or a callable ``(a, b) -> [N]``.
        seed: every draw (z0, z1, t, labels, noise) derives from (seed, sample index).
        batch_size: pairs per forward pass; does not change the result.
        device: ``"auto"`` | ``"cpu"`` | ``"cuda[:N]"``.
        protocol: crop/downsample order, ``"tf"`` (default) or ``"ada-pytorch"``.
        preset: a name in :data:`PPL_PRESETS`; it fixes space, sampling, crop, num_samples and
            epsilon (arguments not given take the preset's value; a given value that differs
            from the preset's raises).
        interpolation: ``"slerp"`` (default in Z, NVIDIA) or ``"lerp"`` (Z only; W is always lerp).
        target_ci: stop once the 95 % CI half-width is below ``target_ci * value``, tested at
            ``min_samples`` and then every +10 % (so the count is independent of batch size).
        min_samples: the smallest count ``target_ci`` may stop at.
        progress: progress output, see :func:`ganeval.runtime.map_samples`.
        run_dir: folder for resumable chunks (see :func:`ganeval.runtime.map_samples`); the
            same call after a crash resumes from the completed samples.
        on_nan: pairs whose images hold NaN or Inf: ``"stop"`` raises
            :class:`~ganeval.errors.NonFiniteOutputError` after the first batch round that has
            any (naming how many and the first sample indices); ``"skip"`` drops them from the
            statistics, logs a warning and records ``num_nonfinite_skipped`` and
            ``first_nonfinite_indices`` in ``extra`` (their ``per_sample`` entries are NaN).
            Non-finite distances of finite images always raise.

    Returns:
        :class:`PPLResult` with the filtered mean, the std (ddof 1) of the kept values, a 95 %
        bootstrap CI (1000 resamples, filter re-applied), per-sample path lengths, kept mask,
        the resolved configuration and provenance. ``num_samples`` counts the pairs in the
        statistics (``extra["num_evaluated"]`` also counts skipped ones).

    Example:
        >>> import ganeval
        >>> G = ganeval.load_generator("zoo:shapes-stylegan")                # doctest: +SKIP
        >>> r = ganeval.ppl(G, space="w", num_samples=1000, distance="zoo:shapes-perceptual")  # doctest: +SKIP
        >>> print(r.summary())                                              # doctest: +SKIP
    """
    t_start = time.perf_counter()
    defaults = {"space": "w", "sampling": "end", "num_samples": 50_000, "epsilon": 1e-4, "crop": False}
    given = {"space": space, "sampling": sampling, "num_samples": num_samples, "epsilon": epsilon, "crop": crop}
    args = _resolve_preset(preset, given, defaults)
    space = check_choice("space", args["space"], SPACES)
    sampling = check_choice("sampling", args["sampling"], SAMPLINGS)
    num_samples = check_positive_int("num_samples", args["num_samples"], minimum=MIN_SAMPLES)
    eps = check_positive_float("epsilon", args["epsilon"])
    crop = bool(args["crop"])
    protocol = check_choice("protocol", protocol if protocol is not None else
                            (PPL_PRESETS[preset].protocol if preset else "tf"), PROTOCOLS)
    interpolation = check_choice("interpolation", interpolation or ("slerp" if space == "z" else "lerp"),
                                 INTERPOLATIONS)
    if space == "w" and interpolation != "lerp":
        raise GanevalValueError(f"Argument `interpolation` must be 'lerp' in W space, but got {interpolation!r}.")
    batch_size = check_positive_int("batch_size", batch_size)
    on_nan = check_choice("on_nan", on_nan, ON_NAN)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise GanevalTypeError(f"Argument `seed` must be an integer, but got {seed!r}.")
    if target_ci is not None:
        target_ci = check_positive_float("target_ci", target_ci)
        min_samples = min(check_positive_int("min_samples", min_samples, minimum=MIN_SAMPLES), num_samples)
    for attr in ("z_dim", "img_resolution"):
        if not isinstance(getattr(G, attr, None), int):
            raise GanevalTypeError(
                f"Argument `G` must be a generator with integer attributes z_dim and img_resolution "
                f"(see ganeval.models.base), but got {type(G).__name__} without `{attr}`."
            )

    from ..distances import load_distance

    dev = resolve_device(device)
    if isinstance(G, torch.nn.Module):
        G.to(dev)
    dist = load_distance(distance, device=dev)
    render = _Renderer(G, space, dev, int(seed))
    res = int(G.img_resolution)
    cropped = res // 2 if crop else res
    factor = downsample_factor(res, cropped, protocol)
    first = [True]
    interp = slerp if interpolation == "slerp" else _lerp

    def fn(indices: np.ndarray) -> dict[str, np.ndarray]:
        b = len(indices)
        # z0 and z1 stacked [2B, z_dim] on the host, one transfer; t stays on the host for the output
        z = torch.cat([_seeding.normal(seed, "ppl.z0", indices, [G.z_dim]),
                       _seeding.normal(seed, "ppl.z1", indices, [G.z_dim])]).to(dev)
        t_host = (_seeding.uniform(seed, "ppl.t", indices).to(torch.float32) if sampling == "full"
                  else torch.zeros(b, dtype=torch.float32))
        t = t_host.to(dev)
        c = render.labels(indices)
        c2 = None if c is None else torch.cat([c, c])
        noise = render.noise(indices)
        with torch.inference_mode():
            z0, z1 = z[:b], z[b:]
            if space == "z":
                images = render.from_z(torch.cat([interp(z0, z1, t), interp(z0, z1, t + eps)]), c2, noise)
            else:
                try:
                    w = render.mapping(z, c2)  # both endpoints in one call
                except UnsupportedGeneratorError as exc:
                    raise UnsupportedGeneratorError(
                        f"Argument `space` is 'w', but the generator {type(G).__name__} cannot map z to w ({exc}); "
                        "use space='z'."
                    ) from None
                w0, w1 = w[:b], w[b:]
                images = render.synthesis(torch.cat([_lerp(w0, w1, t), _lerp(w0, w1, t + eps)]), noise)
            images = _as_images(images)
            if first[0]:
                _check_range(images)
                first[0] = False
            finite = _pair_finite(images, b)
            full = images
            if crop:
                images = crop_face(images)
            images = box_downsample(images, factor)
            d = dist.pairs(images).to(torch.float32)  # both halves through the network in one pass
            # one device-to-host transfer per batch: distances and the per-pair finite flags
            host = torch.stack([d.reshape(-1), finite]).cpu().numpy()
        ok = host[1] > 0
        if not ok.all():
            ok = _recheck_finite(full, b, ok)
        # fp32 network output; the division by eps**2 in fp64 keeps the last bits of d
        return {"path_length": host[0].astype(np.float64) / (eps * eps), "t": t_host.numpy(), "finite": ok}

    config: dict[str, Any] = {
        "space": space, "sampling": sampling, "num_samples": num_samples, "epsilon": eps, "crop": crop,
        "protocol": protocol, "interpolation": interpolation, "distance": dist.name, "seed": int(seed),
        "noise": render.mode, "distance_input_px": cropped // factor, "downsample_factor": factor,
        "truncation_psi": 1.0, "preset": preset, "target_ci": target_ci,
        "min_samples": min_samples if target_ci is not None else None,
    }
    nan_stop: list[bool] = []

    def check_nonfinite(gathered: dict[str, np.ndarray]) -> bool:
        """Stop the loop at the first round with non-finite images (on_nan='stop') or distances."""
        ok, d = gathered["finite"], gathered["path_length"]
        if (on_nan == "stop" and not ok.all()) or not np.isfinite(d[ok]).all():
            nan_stop.append(True)
            return True
        return False

    stop_at: list[int] = []
    stop_when: Callable[[dict[str, np.ndarray]], bool] = check_nonfinite
    if target_ci is not None:
        pending = _checkpoints(min_samples, num_samples)

        def stop_on_ci(gathered: dict[str, np.ndarray]) -> bool:
            if check_nonfinite(gathered):
                return True
            d, ok = gathered["path_length"], gathered["finite"]
            while pending and pending[0] <= len(d):
                n = pending.pop(0)
                dv = d[:n][ok[:n]]
                if len(dv) < MIN_SAMPLES:
                    continue
                lo, hi = bootstrap_ci(dv, seed=seed)
                if (hi - lo) / 2 < target_ci * filtered_mean(dv):
                    stop_at.append(n)
                    return True
            return False

        stop_when = stop_on_ci

    from ..runtime import map_samples

    # on_nan is left out of the run-folder hash: it does not change any per-sample value
    run_config = {"metric": "ppl", "chunk_format": 2, **config, "device_type": dev.type,
                  "generator": getattr(G, "provenance", {}).get("sha256")}
    out = map_samples(fn, num_samples, batch_size=batch_size, desc=f"ppl {space}{sampling}", progress=progress,
                      stop_when=stop_when, min_samples=min_samples if target_ci is not None else 0,
                      run_dir=run_dir, config=run_config)
    n = stop_at[0] if stop_at else len(out["path_length"])
    d_all, t, ok = out["path_length"][:n], out["t"][:n], out["finite"][:n].astype(bool)
    bad = np.flatnonzero(~ok)
    if len(bad) and on_nan == "stop":
        raise NonFiniteOutputError(_nonfinite_message(bad, n, int(seed)))
    dist_bad = np.flatnonzero(ok & ~np.isfinite(d_all))
    if len(dist_bad):
        raise NonFiniteOutputError(
            f"Distance `{dist.name}` returned NaN or Inf for {len(dist_bad)} pairs of finite images (seed {seed}; "
            f"first sample indices: {dist_bad[:5].tolist()})."
        )
    if len(bad):
        log.warning("ppl: skipped %d of %d samples whose images were NaN or Inf (seed %d; first sample indices: %s)",
                    len(bad), n, int(seed), bad[:5].tolist())
    d = d_all[ok]
    if len(d) < MIN_SAMPLES:
        raise NonFiniteOutputError(
            f"Only {len(d)} of the {n} pairs had finite images ({len(bad)} skipped; seed {seed}; first bad sample "
            f"indices: {bad[:5].tolist()}); at least {MIN_SAMPLES} are needed for the statistics."
        )
    kept = np.zeros(n, dtype=bool)
    kept[ok] = percentile_filter(d)
    per_sample = np.where(ok, d_all, np.nan)
    value = float(d_all[kept].mean())
    ci_low, ci_high = bootstrap_ci(d, seed=seed)
    gprov = dict(getattr(G, "provenance", {}) or {})
    weights = {f"distance.{k}": v for k, v in dist.weights_sha256.items()}
    if gprov.get("sha256"):
        weights["generator"] = gprov["sha256"]
    provenance = collect_provenance(
        device=dev, seed=int(seed), weights=weights, wall_time=time.perf_counter() - t_start,
        generator_source=gprov.get("source", type(G).__name__), generator=gprov, batch_size=batch_size,
        resumed=getattr(out, "resumed", 0), oom_retries=getattr(out, "oom_retries", 0),
    )
    extra = {"num_kept": int(kept.sum()), "lo": float(d_all[kept].min()), "hi": float(d_all[kept].max()),
             "num_evaluated": int(n), "num_nonfinite_skipped": int(len(bad)),
             "first_nonfinite_indices": bad[:5].tolist(),
             "target_ci_met": (bool(stop_at) or (target_ci is not None and
                                                 (ci_high - ci_low) / 2 < target_ci * value)) if target_ci else None,
             "reference": PPL_PRESETS[preset].reference if preset else None,
             "comparable_with_published": bool(preset) and dist.name in ("lpips-vgg16", "nvidia-vgg16")}
    return PPLResult(metric=preset or "ppl", value=value, std=float(d_all[kept].std(ddof=1)), ci_low=ci_low,
                     ci_high=ci_high, num_samples=int(len(d)), higher_is_better=False, per_sample=per_sample,
                     config={**config, "on_nan": on_nan}, provenance=provenance, extra=extra, kept_mask=kept, t=t)


def path_images(G: Any, *, space: str, indices: Sequence[int], steps: int = 7, seed: int = 0,
                device: str | torch.device = "auto") -> torch.Tensor:
    """Images along the PPL paths of pairs ``indices`` (same z0, z1, labels and noise as :func:`ppl`).

    Returns float32 ``[P, steps, C, H, W]`` in [-1, 1] at t = 0, 1/(steps-1), ..., 1 (slerp in
    Z, per-layer lerp in W).
    """
    space = check_choice("space", space, SPACES)
    steps = check_positive_int("steps", steps, minimum=2)
    dev = resolve_device(device)
    if isinstance(G, torch.nn.Module):
        G.to(dev)
    render = _Renderer(G, space, dev, int(seed))
    idx = np.asarray(list(indices), dtype=np.int64)
    p = len(idx)
    z0 = _seeding.normal(seed, "ppl.z0", idx, [G.z_dim]).to(dev)
    z1 = _seeding.normal(seed, "ppl.z1", idx, [G.z_dim]).to(dev)
    ts = torch.linspace(0, 1, steps, device=dev)
    c, noise = render.labels(idx), render.noise(idx, halves=1)
    rows = []
    with torch.inference_mode():
        if space == "w":  # the endpoints' w once; every step lerps between them
            w = render.mapping(torch.cat([z0, z1]), None if c is None else torch.cat([c, c]))
        for k in range(steps):
            t = ts[k].expand(p)
            if space == "z":
                img = render.from_z(slerp(z0, z1, t), c, noise)
            else:
                img = render.synthesis(_lerp(w[:p], w[p:], t), noise)
            rows.append(img.to(torch.float32))
    return torch.stack(rows, dim=1)

"""Perceptual path length (PPL), Karras et al. 2019 (arXiv 1812.04948, section 4.1).

Reproduces NVIDIA's procedure (NVlabs/stylegan ``metrics/perceptual_path_length.py``, its
StyleGAN2 / stylegan2-ada TF successors, and stylegan2-ada-pytorch; see
``docs/numerics.md`` for the numerics), sample by sample:

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
(shared by every pair in it); ganeval draws one per pair from (seed, sample index). With the
networks always run on fixed, index-aligned chunks of pairs (:mod:`._ppl_paths`), every result
is bit-identical for any batch size, process count or resume point on the same hardware, and
agrees within the measured float32 noise floor across hardware (``docs/numerics.md``). The
expectation is the same; only which noise meets which pair differs. ``method="jvp"`` computes
the eps -> 0 limit of the finite difference exactly (forward-mode AD).

The two downsampling rules (``downsample``): ``"tf"`` (NVlabs/stylegan, stylegan2,
stylegan2-ada TF) takes the factor from the cropped height, so a cropped 1024 px image reaches
the distance at 256 px; ``"ada-pytorch"`` (stylegan2-ada-pytorch, stylegan3) takes it from the
full resolution (128 px for cropped 1024 and 512 px generators). They agree without crop and
at 256 px and below. (Called ``protocol`` up to 0.1.0; see :mod:`ganeval._renamed`.)
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import _seeding
from .._validate import check_choice, check_positive_float, check_positive_int
from ..devices import full_fp32, resolve_device
from ..errors import GanevalTypeError, GanevalValueError, NonFiniteOutputError
from ..results import MetricResult, collect_provenance
from ._ppl_paths import (
    METHODS,
    PathSampler,
    Renderer,
    box_downsample,
    crop_face,
    downsample_factor,
    lerp,
    slerp,
)

__all__ = [
    "ppl",
    "PPLResult",
    "PPLPreset",
    "PPL_PRESETS",
    "DOWNSAMPLES",
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

DOWNSAMPLES: tuple[str, ...] = ("tf", "ada-pytorch")
DEFAULT_NUM_SAMPLES = 50_000  # the published count (every StyleGAN2 row)
SPACES: tuple[str, ...] = ("z", "w")
SAMPLINGS: tuple[str, ...] = ("full", "end")
INTERPOLATIONS: tuple[str, ...] = ("slerp", "lerp")
ON_NAN: tuple[str, ...] = ("stop", "skip")
MIN_SAMPLES = 100  # below this the 1 / 99 percentile filter is meaningless (at 100 it still keeps all)
MAX_SAMPLES = 100_000_000  # a sane upper bound (the references use 50,000 and 100,000)
DEFAULT_CHUNK = 16  # pairs per forward pass (fixed: per-sample values do not depend on the batch size)
MAX_CHUNK = 4096
EPSILON_RANGE = (1e-5, 1.0)
_BOOTSTRAP = 1000  # bootstrap resamples of the confidence interval


@dataclass(frozen=True)
class PPLPreset:
    """One named PPL protocol: the parameters that define the number, and its reference.

    ``downsample`` is the default downsampling rule; ``ppl(..., downsample="ada-pytorch")``
    switches a preset to stylegan2-ada-pytorch's rule.
    """

    name: str
    space: str
    sampling: str
    crop: bool
    num_samples: int
    epsilon: float
    downsample: str
    reference: str
    method: str = "fd"  # every published number is a finite difference


_SG2 = (
    "NVlabs/stylegan2 metrics/metric_defaults.py `{name}` (50,000 samples, eps 1e-4, {crop}); "
    "the same row as stylegan2-ada TF and stylegan2-ada-pytorch metric_main (use downsample='ada-pytorch' "
    "for that code's downsampling rule). Published: {published}."
)
_V1 = (
    "NVlabs/stylegan (v1) metrics/metric_base.py `{short}` (100,000 samples, eps 1e-4, face crop, TF order). "
    "Published: {published}."
)

PPL_PRESETS: dict[str, PPLPreset] = {
    p.name: p
    for p in (
        PPLPreset(
            "ppl_zfull",
            "z",
            "full",
            True,
            50_000,
            1e-4,
            "tf",
            _SG2.format(name="ppl_zfull", crop="face crop", published="StyleGAN2 README FFHQ config F 348.0 +- 3.8"),
        ),
        PPLPreset(
            "ppl_wfull",
            "w",
            "full",
            True,
            50_000,
            1e-4,
            "tf",
            _SG2.format(name="ppl_wfull", crop="face crop", published="StyleGAN2 README FFHQ config F 126.9 +- 0.2"),
        ),
        PPLPreset(
            "ppl_zend",
            "z",
            "end",
            True,
            50_000,
            1e-4,
            "tf",
            _SG2.format(name="ppl_zend", crop="face crop", published="StyleGAN2 README FFHQ config F 348.6 +- 3.0"),
        ),
        PPLPreset(
            "ppl_wend",
            "w",
            "end",
            True,
            50_000,
            1e-4,
            "tf",
            _SG2.format(name="ppl_wend", crop="face crop", published="StyleGAN2 README FFHQ config F 129.4 +- 0.8"),
        ),
        PPLPreset(
            "ppl2_wend",
            "w",
            "end",
            False,
            50_000,
            1e-4,
            "tf",
            _SG2.format(
                name="ppl2_wend",
                crop="no crop",
                published="StyleGAN2 paper Table 1 / README FFHQ config F 145.0 +- 0.5",
            ),
        ),
        PPLPreset(
            "ppl_zfull_v1",
            "z",
            "full",
            True,
            100_000,
            1e-4,
            "tf",
            _V1.format(short="ppl_zfull", published="StyleGAN README FFHQ 664.8854"),
        ),
        PPLPreset(
            "ppl_wfull_v1",
            "w",
            "full",
            True,
            100_000,
            1e-4,
            "tf",
            _V1.format(short="ppl_wfull", published="StyleGAN README FFHQ 233.3059 (paper Table 4: 234.0)"),
        ),
        PPLPreset(
            "ppl_zend_v1",
            "z",
            "end",
            True,
            100_000,
            1e-4,
            "tf",
            _V1.format(short="ppl_zend", published="StyleGAN README FFHQ 666.1057"),
        ),
        PPLPreset(
            "ppl_wend_v1",
            "w",
            "end",
            True,
            100_000,
            1e-4,
            "tf",
            _V1.format(short="ppl_wend", published="StyleGAN README FFHQ 197.2266 (paper Table 4: 195.9)"),
        ),
    )
}


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
        return pd.DataFrame(
            {"sample": np.arange(n), "t": self.t, "path_length": self.per_sample, "kept": self.kept_mask}
        )

    def summary(self) -> str:
        """One line: value, 95 % CI, n, generator, distance (with its description), downsampling rule."""
        from .._names import display_name

        c, p = self.config, self.provenance
        return (
            f"{self.metric} = {self.value:.4g}  (95% CI {self.ci_low:.4g} .. {self.ci_high:.4g}, n={self.num_samples}, "
            f"space={c.get('space')}, sampling={c.get('sampling')}, crop={c.get('crop')}; "
            f"generator={p.get('generator_source')}, distance={display_name(c, 'distance')}, "
            f"downsample={c.get('downsample')})"
        )


# --------------------------------------------------------------------------- statistics


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


def bootstrap_ci(
    d: np.ndarray, *, seed: int, num_resamples: int = _BOOTSTRAP, level: float = 0.95
) -> tuple[float, float]:
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
        means[start : start + b] = (w * ds).sum(axis=1) / w.sum(axis=1)
    alpha = (1 - level) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class _Plan:
    """Every resolved parameter of one PPL run (validated; see :func:`ppl`)."""

    space: str
    sampling: str
    num_samples: int
    eps: float
    crop: bool
    downsample: str
    interpolation: str
    method: str
    chunk_size: int
    batch_size: int
    seed: int
    on_nan: str
    preset: str | None
    target_ci: float | None
    min_samples: int | None


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


def _check_epsilon(eps: Any) -> float:
    """A step that float32 resolves: ``t + eps`` near t = 1 is exact to 1 % for eps >= 1e-5."""
    eps = check_positive_float("epsilon", eps)
    if not EPSILON_RANGE[0] <= eps <= EPSILON_RANGE[1]:
        raise GanevalValueError(
            f"Argument `epsilon` must be in [{EPSILON_RANGE[0]:g}, {EPSILON_RANGE[1]:g}] (the path runs over "
            f"t in [0, 1]; float32 cannot resolve smaller steps), but got {eps!r}."
        )
    return eps


def _check_seed(seed: Any) -> int:
    message = f"Argument `seed` must be a non-negative integer, but got {seed!r}."
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise GanevalTypeError(message)
    if seed < 0:
        raise GanevalValueError(message)
    return int(seed)


def _plan(
    preset: str | None,
    given: dict[str, Any],
    downsample: str | None,
    interpolation: str | None,
    chunk_size: Any,
    batch_size: Any,
    seed: Any,
    on_nan: str,
    target_ci: float | None,
    min_samples: Any,
) -> _Plan:
    """Resolve the preset and validate every argument (one error naming the argument)."""
    defaults = {
        "space": "w",
        "sampling": "end",
        "num_samples": DEFAULT_NUM_SAMPLES,
        "epsilon": 1e-4,
        "crop": False,
        "method": "fd",
    }
    args = _resolve_preset(preset, given, defaults)
    space = check_choice("space", args["space"], SPACES)
    num_samples = check_positive_int("num_samples", args["num_samples"], minimum=MIN_SAMPLES)
    if num_samples > MAX_SAMPLES:
        raise GanevalValueError(f"Argument `num_samples` must be at most {MAX_SAMPLES:,}, but got {num_samples}.")
    interpolation = check_choice(
        "interpolation", interpolation or ("slerp" if space == "z" else "lerp"), INTERPOLATIONS
    )
    if space == "w" and interpolation != "lerp":
        raise GanevalValueError(f"Argument `interpolation` must be 'lerp' in W space, but got {interpolation!r}.")
    chunk = check_positive_int("chunk_size", chunk_size)
    if chunk > MAX_CHUNK:
        raise GanevalValueError(f"Argument `chunk_size` must be at most {MAX_CHUNK}, but got {chunk}.")
    batch = check_positive_int("batch_size", batch_size)
    min_n = None
    if target_ci is not None:
        target_ci = check_positive_float("target_ci", target_ci)
        min_n = min(check_positive_int("min_samples", min_samples, minimum=MIN_SAMPLES), num_samples)
    return _Plan(
        space=space,
        sampling=check_choice("sampling", args["sampling"], SAMPLINGS),
        num_samples=num_samples,
        eps=_check_epsilon(args["epsilon"]),
        crop=bool(args["crop"]),
        downsample=check_choice(
            "downsample",
            downsample if downsample is not None else (PPL_PRESETS[preset].downsample if preset else "tf"),
            DOWNSAMPLES,
        ),
        interpolation=interpolation,
        method=check_choice("method", args["method"], METHODS),
        chunk_size=chunk,
        # the batch only groups chunks: a multiple of the chunk size
        batch_size=-(-batch // chunk) * chunk,
        seed=_check_seed(seed),
        on_nan=check_choice("on_nan", on_nan, ON_NAN),
        preset=preset,
        target_ci=target_ci,
        min_samples=min_n,
    )


# --------------------------------------------------------------------------- stopping and statistics


def _checkpoints(min_samples: int, num_samples: int) -> list[int]:
    """Sample counts at which ``target_ci`` is tested: min_samples, then +10 % each, capped."""
    points, n = [], min_samples
    while n < num_samples:
        points.append(n)
        n = max(n + 1, math.ceil(n * 1.1))
    return [*points, num_samples]


class _Monitor:
    """``stop_when`` for :func:`ganeval.runtime.map_samples`: ends the loop at the first round with
    non-finite images (``on_nan="stop"``) or distances, or once ``target_ci`` is met at one of
    the batch-independent checkpoints (then ``stop_at`` holds that sample count)."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        # min_samples is set exactly when target_ci is
        self.pending = _checkpoints(plan.min_samples, plan.num_samples) if plan.min_samples is not None else []
        self.stop_at: int | None = None

    def __call__(self, gathered: Mapping[str, np.ndarray]) -> bool:
        ok, d = gathered["finite"], gathered["path_length"]
        if (self.plan.on_nan == "stop" and not ok.all()) or not np.isfinite(d[ok]).all():
            return True
        while self.pending and self.pending[0] <= len(d):
            n = self.pending.pop(0)
            dv = d[:n][ok[:n]]
            if len(dv) < MIN_SAMPLES:
                continue
            lo, hi = bootstrap_ci(dv, seed=self.plan.seed)
            if (hi - lo) / 2 < self.plan.target_ci * filtered_mean(dv):  # type: ignore[operator]
                self.stop_at = n
                return True
        return False


def _checked_lengths(
    out: Mapping[str, np.ndarray], n: int, plan: _Plan, dist_name: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``n`` samples' path lengths, t and finite flags; raises on what cannot be a PPL."""
    d_all, t, ok = out["path_length"][:n], out["t"][:n], out["finite"][:n].astype(bool)
    bad = np.flatnonzero(~ok)
    if len(bad) and plan.on_nan == "stop":
        raise NonFiniteOutputError(_nonfinite_message(bad, n, plan.seed))
    wrong = np.flatnonzero(ok & ~(np.isfinite(d_all) & (d_all >= 0)))
    if len(wrong):
        raise NonFiniteOutputError(
            f"Distance `{dist_name}` returned NaN, Inf or negative values for {len(wrong)} pairs of finite images "
            f"(seed {plan.seed}; first sample indices: {wrong[:5].tolist()}); a distance must be finite and >= 0."
        )
    if len(bad):
        log.warning(
            "ppl: skipped %d of %d samples whose images were NaN or Inf (seed %d; first sample indices: %s)",
            len(bad),
            n,
            plan.seed,
            bad[:5].tolist(),
        )
    if ok.sum() < MIN_SAMPLES:
        raise NonFiniteOutputError(
            f"Only {int(ok.sum())} of the {n} pairs had finite images ({len(bad)} skipped; seed {plan.seed}; first "
            f"bad sample indices: {bad[:5].tolist()}); at least {MIN_SAMPLES} are needed for the statistics."
        )
    return d_all, t, ok


def _nonfinite_message(bad: np.ndarray, n: int, seed: int) -> str:
    """Names how many of the first ``n`` pairs had non-finite images, and the first indices."""
    return (
        f"The generator returned NaN or Inf for {len(bad)} of the {n} pairs with sample indices 0..{n - 1} "
        f"(seed {seed}; first bad sample indices: {bad[:5].tolist()}); use on_nan='skip' (CLI --on-nan skip) "
        "to drop them from the statistics."
    )


# --------------------------------------------------------------------------- the metric


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
    downsample: str | None = None,
    preset: str | None = None,
    interpolation: str | None = None,
    method: str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    target_ci: float | None = None,
    min_samples: int = 1_000,
    progress: bool | str | None = None,
    run_dir: Any = None,
    on_nan: str = "stop",
    protocol: str | None = None,
) -> PPLResult:
    """Perceptual path length of generator ``G`` in Z or W (lower is better).

    Args:
        G: a style-based generator (``z_dim``, ``c_dim``, ``img_resolution``, ``mapping``,
            ``synthesis``; see :mod:`ganeval.models.base`) returning images in [-1, 1]. A
            generator without a mapping network works for ``space="z"`` through ``G(z, c)``.
            ``G`` is moved to ``device`` in place (like ``nn.Module.to``). A registry name or
            checkpoint path loads the generator (:func:`ganeval.loaders.resolve_generator`).
        space: ``"z"`` (slerp, then mapping) or ``"w"`` (map, then lerp every layer's w);
            default ``"w"``.
        sampling: ``"full"`` (t ~ U[0, 1)) or ``"end"`` (t = 0, as NVIDIA's code does); default ``"end"``.
        num_samples: pairs to evaluate (100 to 10^8; default 50,000); the maximum when ``target_ci`` is given.
        epsilon: step along the path, in [1e-5, 1] (default 1e-4, as in every reference).
        crop: NVIDIA's face crop (rows 3/8-7/8, columns 2/8-6/8) before the distance; default off.
        distance: a name of :func:`ganeval.load_distance` or a callable ``(a, b) -> [N]``.
        seed: every draw (z0, z1, t, labels, noise) derives from (seed, sample index).
        batch_size: pairs per call of the sample loop, rounded up to a multiple of ``chunk_size``;
            does not change the result.
        device: ``"auto"`` | ``"cpu"`` | ``"cuda[:N]"``.
        downsample: which resolution the box-downsampling factor is taken from: ``"tf"``
            (default; the cropped height, as NVIDIA's TF code) or ``"ada-pytorch"`` (the full
            resolution, as stylegan2-ada-pytorch); they differ only for crops above 256 px.
        preset: a name in :data:`PPL_PRESETS`; it fixes space, sampling, crop, num_samples,
            epsilon and method (arguments not given take the preset's value; a given value that
            differs from the preset's raises).
        interpolation: ``"slerp"`` (default in Z, NVIDIA) or ``"lerp"`` (Z only; W is always lerp).
        method: ``"fd"`` (default and every preset: NVIDIA's finite difference
            ``d(G(t), G(t + eps)) / eps**2``) or ``"jvp"`` (its exact limit as eps -> 0 by
            forward-mode AD, free of the finite difference's float32 cancellation; see
            :mod:`ganeval.metrics._ppl_paths`). ``epsilon`` is unused with ``"jvp"``.
        chunk_size: pairs per forward pass, 1 to 4096 (default 16). The networks always run on
            the index-aligned chunks ``[k C, (k + 1) C)``, so per-sample values are identical for
            any batch size, process count and resume point on the same hardware; it is part of
            the recorded configuration (other sizes round differently, within the noise floor).
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
            Non-finite or negative distances of finite images always raise.
        protocol: the old name of ``downsample`` (deprecated; removed in the next release).

    Returns:
        :class:`PPLResult` with the filtered mean, the std (ddof 1) of the kept values, a 95 %
        bootstrap CI (1000 resamples, filter re-applied), per-sample path lengths, kept mask,
        the resolved configuration and provenance (including ``precision``: the forwards run in
        true float32 with TF32 off). ``num_samples`` counts the pairs in the statistics
        (``extra["num_evaluated"]`` also counts skipped ones).

    Example:
        >>> import ganeval
        >>> G = ganeval.load_generator("zoo:shapes-stylegan")                # doctest: +SKIP
        >>> r = ganeval.ppl(G, space="w", num_samples=1000, distance="zoo:shapes-perceptual")  # doctest: +SKIP
        >>> print(r.summary())                                              # doctest: +SKIP
    """
    t_start = time.perf_counter()
    given = {
        "space": space,
        "sampling": sampling,
        "num_samples": num_samples,
        "epsilon": epsilon,
        "crop": crop,
        "method": method,
    }
    from .._renamed import renamed_argument

    downsample = renamed_argument("ppl", "protocol", "downsample", protocol, downsample, None)
    plan = _plan(preset, given, downsample, interpolation, chunk_size, batch_size, seed, on_nan, target_ci, min_samples)
    from ..distances import load_distance
    from ..loaders import resolve_generator

    dev = resolve_device(device)
    G = resolve_generator(G, dev)
    if isinstance(G, torch.nn.Module):
        G.to(dev)
    dist = load_distance(distance, device=dev)
    sampler, config = _sampler(G, dist, plan, dev)
    monitor = _Monitor(plan)
    try:
        if plan.method == "jvp":
            with full_fp32():  # the sample loop sets this itself for every call; the probe runs outside it
                _probe_jvp(sampler, dist.name)
        out = _run(sampler, plan, config, monitor, dev, G, progress, run_dir)
    except torch.cuda.OutOfMemoryError:
        # the sample loop halves the batch down to one chunk; a chunk is the unit of the values
        raise GanevalValueError(
            f"Argument `chunk_size` is {plan.chunk_size}, but one chunk of pairs does not fit in GPU memory; "
            f"rerun with chunk_size={max(1, plan.chunk_size // 2)} (CLI --chunk-size; per-sample values then "
            "differ within the float32 noise floor, see docs/numerics.md)."
        ) from None
    n = monitor.stop_at or len(out["path_length"])
    d_all, t, ok = _checked_lengths(out, n, plan, dist.name)
    return _result(
        G,
        dist,
        plan,
        {**config, **_input_names(G, distance, dist)},
        d_all,
        t,
        ok,
        monitor,
        out,
        dev,
        time.perf_counter() - t_start,
    )


def _input_names(G: Any, distance: Any, dist: Any) -> dict[str, Any]:
    """The names that load the generator and the distance again, and the distance's description."""
    from .._names import description_of, generator_name, loadable_name

    name = loadable_name(distance, dist)
    return {"generator": generator_name(G), "distance": name, "distance_description": description_of(dist, name)}


def _sampler(G: Any, dist: Any, plan: _Plan, dev: torch.device) -> tuple[PathSampler, dict[str, Any]]:
    """The per-chunk sampler and the configuration that defines its per-sample values."""
    render = Renderer(G, plan.space, dev, plan.seed)
    res = int(G.img_resolution)
    cropped = res // 2 if plan.crop else res
    factor = downsample_factor(res, cropped, plan.downsample)
    sampler = PathSampler(
        G,
        render,
        dist,
        space=plan.space,
        sampling=plan.sampling,
        interpolation=plan.interpolation,
        eps=plan.eps,
        crop=plan.crop,
        factor=factor,
        method=plan.method,
        chunk_size=plan.chunk_size,
        seed=plan.seed,
    )
    config: dict[str, Any] = {
        "space": plan.space,
        "sampling": plan.sampling,
        "num_samples": plan.num_samples,
        "epsilon": plan.eps if plan.method == "fd" else None,
        "crop": plan.crop,
        "downsample": plan.downsample,
        "interpolation": plan.interpolation,
        "method": plan.method,
        "chunk_size": plan.chunk_size,
        "distance": dist.name,
        "seed": plan.seed,
        "noise": render.mode,
        "distance_input_px": cropped // factor,
        "downsample_factor": factor,
        "truncation_psi": 1.0,
        "preset": plan.preset,
        "target_ci": plan.target_ci,
        "min_samples": plan.min_samples,
    }
    return sampler, config


def _probe_jvp(sampler: PathSampler, dist_name: str) -> None:
    """Check on the first chunk that ``method="jvp"`` applies: it runs, and it agrees with the
    finite difference (a distance that is not locally quadratic, e.g. an L1 or unsquared L2
    distance, has no eps -> 0 limit: its finite difference grows like 1 / eps)."""
    idx = np.arange(sampler.chunk, dtype=np.int64)
    try:
        exact = sampler.run_chunk(idx)
    except (RuntimeError, NotImplementedError, TypeError) as exc:
        raise GanevalValueError(
            f"Argument `method` is 'jvp', but forward-mode AD fails through the generator or distance `{dist_name}` "
            f"({str(exc).splitlines()[0][:200]}); use method='fd'."
        ) from None
    sampler.method = "fd"
    try:
        fd = sampler.run_chunk(idx)
    finally:
        sampler.method = "jvp"
    both = exact["finite"] & fd["finite"] & np.isfinite(exact["path_length"]) & np.isfinite(fd["path_length"])
    a, b = exact["path_length"][both], fd["path_length"][both]
    ratio = np.median((b + 1e-30) / (a + 1e-30)) if len(a) else 1.0
    if not 0.8 <= ratio <= 1.25:
        raise GanevalValueError(
            f"Argument `method` is 'jvp', but distance `{dist_name}` is not locally quadratic along the paths "
            f"(finite difference / exact limit = {ratio:.3g} on the first {sampler.chunk} pairs); its path length "
            "has no eps -> 0 limit. Use method='fd'."
        )


def _run(
    sampler: PathSampler,
    plan: _Plan,
    config: dict[str, Any],
    monitor: _Monitor,
    dev: torch.device,
    G: Any,
    progress: Any,
    run_dir: Any,
) -> Any:
    from ..runtime import map_samples

    # on_nan is left out of the run-folder hash: it does not change any per-sample value
    run_config = {
        "metric": "ppl",
        "chunk_format": 3,
        **config,
        "device_type": dev.type,
        "generator": getattr(G, "provenance", {}).get("sha256"),
    }
    return map_samples(
        sampler,
        plan.num_samples,
        batch_size=plan.batch_size,
        desc=f"ppl {plan.space}{plan.sampling}",
        progress=progress,
        stop_when=monitor,
        min_samples=plan.min_samples or 0,
        run_dir=run_dir,
        config=run_config,
        batch_multiple=plan.chunk_size,
    )


def _result(
    G: Any,
    dist: Any,
    plan: _Plan,
    config: dict[str, Any],
    d_all: np.ndarray,
    t: np.ndarray,
    ok: np.ndarray,
    monitor: _Monitor,
    out: Any,
    dev: torch.device,
    wall: float,
) -> PPLResult:
    """Statistics (1/99 filter, mean, std, bootstrap CI) and provenance of the checked samples."""
    n, d = len(d_all), d_all[ok]
    bad = np.flatnonzero(~ok)
    kept = np.zeros(n, dtype=bool)
    kept[ok] = percentile_filter(d)
    value = float(d_all[kept].mean())
    ci_low, ci_high = bootstrap_ci(d, seed=plan.seed)
    gprov = dict(getattr(G, "provenance", {}) or {})
    weights = {f"distance.{k}": v for k, v in dist.weights_sha256.items()}
    if gprov.get("sha256"):
        weights["generator"] = gprov["sha256"]
    provenance = collect_provenance(
        device=dev,
        seed=plan.seed,
        weights=weights,
        wall_time=wall,
        generator_source=gprov.get("source", type(G).__name__),
        generator=gprov,
        batch_size=plan.batch_size,
        resumed=getattr(out, "resumed", 0),
        oom_retries=getattr(out, "oom_retries", 0),
    )
    met = monitor.stop_at is not None or (
        plan.target_ci is not None and (ci_high - ci_low) / 2 < plan.target_ci * value
    )
    extra = {
        "num_kept": int(kept.sum()),
        "lo": float(d_all[kept].min()),
        "hi": float(d_all[kept].max()),
        "num_evaluated": int(n),
        "num_nonfinite_skipped": len(bad),
        "first_nonfinite_indices": bad[:5].tolist(),
        "target_ci_met": met if plan.target_ci is not None else None,
        "reference": PPL_PRESETS[plan.preset].reference if plan.preset else None,
        "comparable_with_published": bool(plan.preset) and dist.name in ("lpips-vgg16", "nvidia-vgg16"),
    }
    return PPLResult(
        metric=plan.preset or "ppl",
        value=value,
        std=float(d_all[kept].std(ddof=1)),
        ci_low=ci_low,
        ci_high=ci_high,
        num_samples=len(d),
        higher_is_better=False,
        per_sample=np.where(ok, d_all, np.nan),
        config={**config, "on_nan": plan.on_nan},
        provenance=provenance,
        extra=extra,
        kept_mask=kept,
        t=t,
    )


def path_images(
    G: Any, *, space: str, indices: Sequence[int], steps: int = 7, seed: int = 0, device: str | torch.device = "auto"
) -> torch.Tensor:
    """Images along the PPL paths of pairs ``indices`` (same z0, z1, labels and noise as :func:`ppl`).

    Returns float32 ``[P, steps, C, H, W]`` in [-1, 1] at t = 0, 1/(steps-1), ..., 1 (slerp in
    Z, per-layer lerp in W).
    """
    space = check_choice("space", space, SPACES)
    steps = check_positive_int("steps", steps, minimum=2)
    dev = resolve_device(device)
    if isinstance(G, torch.nn.Module):
        G.to(dev)
    render = Renderer(G, space, dev, int(seed))
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
                img = render.synthesis(lerp(w[:p], w[p:], t), noise)
            rows.append(img.to(torch.float32))
    return torch.stack(rows, dim=1)

"""FID, KID and precision/recall between generated and real images, from one feature pass.

References (NVlabs/stylegan2-ada-pytorch ``metrics/``, read for meaning): FID on the 2048-d
pool features of the 2015-12-05 Inception, generator samples quantised to uint8, no
truncation, all real images; KID with the cubic polynomial kernel ``(x.y / d + 1)^3`` over 100
random subsets of 1000; precision/recall with k-NN manifolds (k = 3). Differences, all recorded
in each result's ``config``: every random draw is seeded (generator samples, per-sample noise,
KID subsets); the covariance is the unbiased one (``N - 1``, as pytorch-fid and StyleGAN v1;
NVIDIA's torch code divides by N, negligible at 50k); the resize filter is a named setting
(``resize``, called ``protocol`` up to 0.1.0); the
Fréchet step is the eigenvalue form of :mod:`.frechet`; precision/recall use float32 distances
(NVIDIA casts features to float16) on the chosen extractor's features (NVIDIA uses VGG16).
The Inception score (NVIDIA's ``is50k``) uses the FID Inception's logits without the output
bias, 10 splits, ``exp(mean KL(p(y|x) || p(y)))`` per split, mean and std over splits.

>>> import ganeval
>>> r = ganeval.fid("zoo:shapes-stylegan", "zoo:shapes", extractor="zoo:shapes-classifier",
...                 num_samples=2000)                           # doctest: +SKIP
>>> r.metric                                                      # doctest: +SKIP
'FD_shapes'
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from .._validate import check_choice, check_positive_int
from ..errors import GanevalTypeError, GanevalValueError
from ..features.resize import RESIZES
from ..results import MetricResult, collect_provenance
from .frechet import frechet_details, warn_small_sample

__all__ = [
    "fid",
    "kid",
    "precision_recall",
    "inception_score",
    "evaluate",
    "FIDResult",
    "KIDResult",
    "PRResult",
    "ISResult",
    "kid_from_features",
    "precision_recall_from_features",
    "inception_score_from_logits",
    "inception_score_splits",
]


@dataclass(frozen=True)
class FIDResult(MetricResult):
    """Fréchet distance result; ``metric`` is ``"FID"`` only for the FID Inception, else e.g. ``"FD_shapes"``.

    ``extra`` holds ``mean_term``, ``trace_term``, ``rank_generated``, ``rank_real``,
    ``num_clipped_eigenvalues`` and the input reports; ``ci_low``/``ci_high`` come from the
    bootstrap when requested.
    """


@dataclass(frozen=True)
class KIDResult(MetricResult):
    """Kernel distance result: ``value`` is the mean over subsets, ``std`` their spread, ``per_sample`` per subset."""


@dataclass(frozen=True)
class PRResult(MetricResult):
    """Precision (``value``) and recall (``extra["recall"]``) of k-NN manifolds."""

    @property
    def precision(self) -> float:
        return self.value

    @property
    def recall(self) -> float:
        return float(self.extra["recall"])


@dataclass(frozen=True)
class ISResult(MetricResult):
    """Inception score: ``value`` is the mean over splits, ``std`` their spread, ``per_sample`` one score per split."""


MAX_SAMPLES = 100_000_000  # 2000x the references' 50k; beyond it a count is a typo, not an evaluation

# ------------------------------------------------------------------------------------------- formulas


def inception_score_splits(logits: np.ndarray, *, splits: int = 10) -> np.ndarray:
    """Inception score of each of ``splits`` consecutive splits of class logits ``[N, K]``; float64 ``[splits]``.

    Split ``i`` holds rows ``i*N//splits`` to ``(i+1)*N//splits``; its score is
    ``exp(mean_x KL(p(y|x) || p(y)))`` with ``p(y|x) = softmax(logits)`` and ``p(y)`` the mean of
    ``p(y|x)`` over the split. float64 throughout, log-probabilities by a stable log-softmax, so
    large logits neither overflow nor give ``0 * log 0``. Each score lies in [1, K].
    """
    from scipy.special import logsumexp

    x = np.asarray(logits, np.float64)
    if x.ndim != 2 or x.shape[1] < 1:
        raise GanevalValueError(f"Argument `logits` must have shape [N, K] with K >= 1, but got {list(x.shape)}.")
    check_positive_int("splits", splits)
    if len(x) < splits:
        raise GanevalValueError(f"Argument `logits` must have at least `splits`={splits} rows, but got {len(x)}.")
    if not np.isfinite(x).all():
        raise GanevalValueError(
            f"Argument `logits` must be finite, but got {int((~np.isfinite(x)).sum())} non-finite values."
        )
    log_p = x - logsumexp(x, axis=1, keepdims=True)
    n = len(x)
    scores = np.empty(splits, np.float64)
    for i in range(splits):
        part = log_p[i * n // splits : (i + 1) * n // splits]
        log_marginal = logsumexp(part, axis=0) - np.log(len(part))  # log of the split's mean p(y|x)
        kl = (np.exp(part) * (part - log_marginal)).sum(axis=1)
        scores[i] = np.exp(kl.mean())
    return scores


def inception_score_from_logits(logits: np.ndarray, *, splits: int = 10) -> tuple[float, float]:
    """Inception score of class logits ``[N, K]``: mean and population std over ``splits`` splits.

    See :func:`inception_score_splits` for the per-split score (NVIDIA's ``is50k`` formula).
    """
    scores = inception_score_splits(logits, splits=splits)
    return float(scores.mean()), float(scores.std())


def kid_from_features(
    gen: np.ndarray, real: np.ndarray, *, num_subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> np.ndarray:
    """Unbiased MMD^2 with the kernel ``(x.y / d + 1)^3`` on random subsets; one value per subset.

    Subsets of size ``m = min(len(gen), len(real), subset_size)`` are drawn without replacement
    from a generator seeded by ``seed``. Returns float64 ``[num_subsets]``; KID is their mean.
    """
    from .. import _seeding

    check_positive_int("num_subsets", num_subsets)
    check_positive_int("subset_size", subset_size, minimum=2)
    g, r = np.asarray(gen, np.float64), np.asarray(real, np.float64)
    if g.ndim != 2 or r.ndim != 2 or g.shape[1] != r.shape[1] or g.shape[1] == 0:
        raise GanevalValueError(
            f"Arguments `gen` and `real` must be features [N, F] of one width F >= 1, but got "
            f"{list(g.shape)} and {list(r.shape)}."
        )
    d = g.shape[1]
    m = min(len(g), len(r), subset_size)
    if m < 2:
        raise GanevalValueError(f"KID needs at least 2 samples per set, but got {len(g)} generated and {len(r)} real.")
    rng = np.random.default_rng([int(seed), _seeding.stream_id("kid")])
    out = np.empty(num_subsets, np.float64)
    for s in range(num_subsets):
        x = g[rng.choice(len(g), m, replace=False)]
        y = r[rng.choice(len(r), m, replace=False)]
        kxx = (x @ x.T / d + 1) ** 3
        kyy = (y @ y.T / d + 1) ** 3
        kxy = (x @ y.T / d + 1) ** 3
        within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m - 1)
        out[s] = (within - 2.0 * kxy.sum() / m) / m
    return out


def _radii(manifold: torch.Tensor, k: int, batch: int) -> torch.Tensor:
    # (k + 1)-th smallest distance: the smallest is the point itself (0).
    parts = [
        torch.cdist(manifold[i : i + batch], manifold).kthvalue(k + 1, dim=1).values
        for i in range(0, len(manifold), batch)
    ]
    return torch.cat(parts)


def _coverage(manifold: torch.Tensor, radii: torch.Tensor, probes: torch.Tensor, batch: int) -> np.ndarray:
    inside = torch.zeros(len(probes), dtype=torch.bool)
    for i in range(0, len(probes), batch):
        p = probes[i : i + batch]
        hit = torch.zeros(len(p), dtype=torch.bool)
        for j in range(0, len(manifold), batch):  # column batches bound the distance matrix
            d = torch.cdist(p, manifold[j : j + batch])
            hit |= (d <= radii[j : j + batch][None]).any(dim=1)
        inside[i : i + batch] = hit
    return inside.numpy()


def precision_recall_from_features(
    gen: np.ndarray, real: np.ndarray, *, k: int = 3, batch_size: int = 10_000
) -> tuple[float, float]:
    """Precision (generated inside the real manifold) and recall (real inside the generated one).

    A probe is inside a manifold when its distance to some manifold point is at most that
    point's distance to its k-th nearest neighbour in the manifold.
    """
    k = check_positive_int("k", k)  # k = 0 makes every radius the point's distance to itself: 0
    batch_size = check_positive_int("batch_size", batch_size)
    g = torch.as_tensor(np.asarray(gen, np.float32))
    r = torch.as_tensor(np.asarray(real, np.float32))
    if g.ndim != 2 or r.ndim != 2 or g.shape[1] != r.shape[1] or g.shape[1] == 0:
        raise GanevalValueError(
            f"Arguments `gen` and `real` must be features [N, F] of one width F >= 1, but got "
            f"{list(g.shape)} and {list(r.shape)}."
        )
    if min(len(g), len(r)) <= k:
        raise GanevalValueError(
            f"Precision/recall with k={k} needs more than {k} samples per set, "
            f"but got {len(g)} generated and {len(r)} real."
        )
    precision = float(_coverage(r, _radii(r, k, batch_size), g, batch_size).mean())
    recall = float(_coverage(g, _radii(g, k, batch_size), r, batch_size).mean())
    return precision, recall


# ------------------------------------------------------------------------------------------- API layer

_DISTRIBUTION_METRICS = ("fid", "kid", "pr")


def evaluate(
    generator_or_source: Any,
    real: Any,
    *,
    metrics: tuple[str, ...] | list[str] = ("fid",),
    num_samples: int = 50_000,
    num_real: int | None = None,
    extractor: Any = "inception-v3-fid",
    resize: str = "tf",
    seed: int = 0,
    batch_size: int = 64,
    device: Any = "auto",
    cache: bool = True,
    cache_dir: str | Path | None = None,
    bootstrap: int = 0,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    pr_k: int = 3,
    strict: bool = False,
    on_nan: str = "stop",
    progress: Any = None,
    protocol: str | None = None,
) -> list[MetricResult]:
    """Several distribution metrics from one feature pass; see :func:`fid` for the arguments.

    Args:
        metrics: any of ``"fid"``, ``"kid"``, ``"pr"``, in the order the results are returned.
        on_nan: generator output holding NaN/Inf: ``"stop"`` raises at the first such batch
            (count and first sample indices); ``"skip"`` leaves those samples out and counts them
            in the input report (``skipped``).
        protocol: the old name of ``resize`` (deprecated; removed in the next release).
    """
    from .._renamed import renamed_argument
    from ..devices import resolve_device
    from ..features import load_extractor
    from ..features.extract import extract_features, source_statistics
    from ..features.sources import GeneratorSource, ImageSet, open_source
    from ..features.stats import FeatureStatistics

    t0 = time.time()
    resize = renamed_argument("evaluate", "protocol", "resize", protocol, resize, "tf")
    if (
        isinstance(metrics, str)
        or not isinstance(metrics, (list, tuple))
        or not metrics
        or not all(isinstance(m, str) for m in metrics)
    ):
        raise GanevalValueError(
            f"Argument `metrics` must be a non-empty list of 'fid', 'kid', 'pr', but got {metrics!r}."
        )
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
        raise GanevalTypeError(
            f"Argument `cache_dir` must be a folder path or None, but got {type(cache_dir).__name__}."
        )
    metrics = [m.strip().lower() for m in metrics]
    for m in metrics:
        if m not in _DISTRIBUTION_METRICS:
            raise GanevalValueError(f"Argument `metrics` must contain only 'fid', 'kid', 'pr', but got {m!r}.")
    num_samples = check_positive_int("num_samples", num_samples, minimum=2, maximum=MAX_SAMPLES)
    batch_size = check_positive_int("batch_size", batch_size)
    seed = check_positive_int("seed", seed, minimum=0)
    check_choice("resize", resize, RESIZES)
    bootstrap = check_positive_int("bootstrap", bootstrap, minimum=0, maximum=100_000)
    if num_real is not None:
        num_real = check_positive_int("num_real", num_real, minimum=2, maximum=MAX_SAMPLES)
    if "pr" in metrics:
        pr_k = check_positive_int("pr_k", pr_k)
    if "kid" in metrics:
        kid_subsets = check_positive_int("kid_subsets", kid_subsets)
        kid_subset_size = check_positive_int("kid_subset_size", kid_subset_size, minimum=2)
    dev = resolve_device(device)
    check_choice("on_nan", on_nan, ("stop", "skip"))
    # the sources before the extractor: a wrong generator source fails the same way in every metric
    gen_src = open_source(generator_or_source, role="generated", num_samples=num_samples, seed=seed, device=dev)
    if isinstance(gen_src, GeneratorSource):
        gen_src.on_nan = on_nan
    real_src = open_source(real, role="real", num_samples=num_samples if num_real is None else num_real, device=dev)
    ext = load_extractor(extractor, device=dev)
    if isinstance(gen_src, FeatureStatistics):
        raise GanevalValueError("Argument `generator_or_source` must be images or a generator, not a statistics file.")
    needs_real_features = any(m in ("kid", "pr") for m in metrics)
    if needs_real_features and isinstance(real_src, FeatureStatistics):
        raise GanevalValueError("KID and precision/recall need real images, but `real` is a statistics file.")
    keep_gen = needs_real_features or bootstrap > 0
    common = dict(resize=resize, batch_size=batch_size, device=dev, strict=strict, progress=progress)
    gen_feats = None
    if keep_gen:
        gen_feats, gen_stats, gen_rep = extract_features(
            gen_src, ext, num_items=num_samples, desc="generated", **common
        )
    else:
        gen_stats, gen_rep = source_statistics(
            gen_src, ext, num_items=num_samples, cache=False, desc="generated", **common
        )
    real_feats = None
    if isinstance(real_src, FeatureStatistics):
        real_stats, real_rep = real_src, None
    elif needs_real_features:
        real_feats, real_stats, real_rep = extract_features(real_src, ext, num_items=num_real, desc="real", **common)
    else:
        real_stats, real_rep = source_statistics(
            real_src, ext, num_items=num_real, cache=cache, cache_dir=cache_dir, desc="real", **common
        )
    if real_stats.dim != gen_stats.dim:
        raise GanevalValueError(
            f"The real statistics are {real_stats.dim}-d but extractor {ext.name!r} gives {gen_stats.dim}-d features; "
            "they were computed with another extractor."
        )
    config = {
        "resize": resize,
        "extractor": ext.name,
        "extractor_sha256": getattr(ext, "weights_sha256", None),
        "feature_dim": gen_stats.dim,
        "num_generated": gen_stats.num_items,
        "num_real": real_stats.num_items,
        "seed": seed,
        "on_nan": on_nan,
        "truncation_psi": 1.0,
        "quantization": "uint8 (x*127.5+128, clamp, truncate)",
        "generated": gen_src.describe() if isinstance(gen_src, ImageSet) else str(generator_or_source),
        "real": real_src.describe() if isinstance(real_src, ImageSet) else real_stats.meta,
        "batch_size": batch_size,
        "generator": _source_name(generator_or_source),
        "real_source": _source_name(real),
        "num_samples": num_samples,
        "num_real_requested": num_real,
        "strict": strict,
        **_extractor_names(extractor, ext),
    }
    reports = {"generated_input": gen_rep.to_dict(), "real_input": real_rep.to_dict() if real_rep else None}
    prov_common: dict[str, Any] = {
        "weights": {ext.name: getattr(ext, "weights_sha256", None) or "unknown"},
        "generator_source": config["generated"].get("spec") if isinstance(config["generated"], dict) else None,
    }
    results: list[MetricResult] = []
    metric_name = getattr(ext, "metric_name", "FID")
    for m in metrics:
        if m == "fid":
            results.append(
                _fid_result(
                    gen_stats,
                    real_stats,
                    gen_feats,
                    metric_name,
                    bootstrap,
                    seed,
                    config,
                    reports,
                    dev,
                    t0,
                    prov_common,
                )
            )
        elif m == "kid":
            assert gen_feats is not None and real_feats is not None  # kept when KID or PR is asked for
            vals = kid_from_features(
                gen_feats, real_feats, num_subsets=kid_subsets, subset_size=kid_subset_size, seed=seed
            )
            kname = "KID" if metric_name == "FID" else "KD" + metric_name[2:]
            results.append(
                KIDResult(
                    metric=kname,
                    value=float(vals.mean()),
                    std=float(vals.std()),
                    num_samples=len(gen_feats),
                    higher_is_better=False,
                    per_sample=vals,
                    config={
                        **config,
                        "kernel": "(x.y/d + 1)^3",
                        "num_subsets": kid_subsets,
                        "subset_size": min(len(gen_feats), len(real_feats), kid_subset_size),
                    },
                    provenance=collect_provenance(device=dev, seed=seed, wall_time=time.time() - t0, **prov_common),
                    extra=dict(reports),
                )
            )
        else:
            assert gen_feats is not None and real_feats is not None  # kept when KID or PR is asked for
            p, r = precision_recall_from_features(gen_feats, real_feats, k=pr_k)
            results.append(
                PRResult(
                    metric="precision",
                    value=p,
                    num_samples=len(gen_feats),
                    higher_is_better=True,
                    config={
                        **config,
                        "k": pr_k,
                        "feature_distance": "L2, float32",
                    },  # not a `distance` name: none loads it
                    provenance=collect_provenance(device=dev, seed=seed, wall_time=time.time() - t0, **prov_common),
                    extra={"recall": r, **reports},
                )
            )
    return results


def _source_name(arg: Any) -> str | None:
    """The name that opens ``arg`` (generator, image set, statistics; a name, path or object) again."""
    from .._names import generator_name, loadable_name

    if isinstance(arg, (str, os.PathLike)):
        return loadable_name(arg)
    if isinstance(arg, torch.nn.Module):
        return generator_name(arg)
    spec = getattr(arg, "spec", None) or (getattr(arg, "meta", None) or {}).get("file")
    return loadable_name(str(spec)) if spec else None


def _extractor_names(extractor: Any, ext: Any) -> dict[str, Any]:
    """``extractor``: the name that loads it again (overriding its display name); ``extractor_description``."""
    from .._names import description_of, loadable_name

    name = loadable_name(extractor, ext)
    return {"extractor": name, "extractor_description": description_of(ext, name)}


def _fid_result(
    gen_stats: Any,
    real_stats: Any,
    gen_feats: np.ndarray | None,
    metric_name: str,
    bootstrap: int,
    seed: int,
    config: dict[str, Any],
    reports: dict[str, Any],
    dev: torch.device,
    t0: float,
    prov_common: dict[str, Any],
) -> FIDResult:
    from .. import _seeding

    for what, st in (("generated", gen_stats), ("real", real_stats)):
        if st.num_items:
            warn_small_sample(st.num_items, st.dim, f"{metric_name} ({what} images)")
    det = frechet_details(gen_stats.mu, gen_stats.sigma, real_stats.mu, real_stats.sigma)
    ci_low = ci_high = std = None
    boot = None
    if bootstrap > 0 and gen_feats is not None:
        rng = np.random.default_rng([int(seed), _seeding.stream_id("bootstrap")])
        boot = np.empty(bootstrap)
        f64 = gen_feats.astype(np.float64)
        for b in range(bootstrap):
            x = f64[rng.integers(0, len(f64), len(f64))]
            boot[b] = frechet_details(x.mean(0), np.cov(x, rowvar=False), real_stats.mu, real_stats.sigma).value
        ci_low, ci_high = (float(v) for v in np.percentile(boot, [2.5, 97.5]))
        std = float(boot.std(ddof=1)) if bootstrap > 1 else None
    return FIDResult(
        metric=metric_name,
        value=det.value,
        std=std,
        ci_low=ci_low,
        ci_high=ci_high,
        num_samples=gen_stats.num_items,
        higher_is_better=False,
        per_sample=boot,
        config={
            **config,
            "covariance": "unbiased (N-1)" if gen_stats.ddof == 1 else "population (N)",
            "real_covariance_ddof": real_stats.ddof,
            "sqrt_method": "eigvalsh of S1^(1/2) S2 S1^(1/2), float64",
            "bootstrap": bootstrap,
        },
        provenance=collect_provenance(device=dev, seed=seed, wall_time=time.time() - t0, **prov_common),
        extra={
            "mean_term": det.mean_term,
            "trace_term": det.trace_term,
            "rank_generated": det.rank1,
            "rank_real": det.rank2,
            "num_clipped_eigenvalues": det.num_clipped,
            "most_negative_eigenvalue": det.most_negative,
            **reports,
        },
    )


def fid(
    generator_or_source: Any,
    real: Any,
    *,
    num_samples: int = 50_000,
    num_real: int | None = None,
    extractor: Any = "inception-v3-fid",
    resize: str = "tf",
    seed: int = 0,
    batch_size: int = 64,
    device: Any = "auto",
    cache: bool = True,
    cache_dir: str | Path | None = None,
    bootstrap: int = 0,
    strict: bool = False,
    on_nan: str = "stop",
    progress: Any = None,
    protocol: str | None = None,
) -> FIDResult:
    """Fréchet distance between generated and real image features (FID with the FID Inception).

    Args:
        generator_or_source: a loaded generator, a registry name (``zoo:shapes-stylegan``) or
            generator checkpoint (:func:`ganeval.loaders.resolve_generator`), or generated images:
            a folder, zip or ``.npy``/``.npz`` of uint8 images.
        real: folder, zip, ``.npy``/``.npz`` images, ``zoo:shapes[:N]``, or statistics (``.npz``
            with ``mu``/``sigma``, NVIDIA ``.pkl``).
        num_samples: generator samples (finite sets: at most this many, in order).
        num_real: real images used (default all; ``zoo:shapes``: ``num_samples`` renders).
        extractor: extractor name or module (see :func:`ganeval.load_extractor`).
        resize: how images reach the extractor's input size: ``"tf"`` | ``"pytorch-fid"`` |
            ``"clean"`` | ``"torchmetrics"`` (see :mod:`ganeval.features.resize`).
        seed: seed of every generator draw (z, labels, noise) and of the bootstrap.
        batch_size: images per forward pass (does not change the result).
        device: ``"auto"`` | ``"cpu"`` | ``"cuda[:N]"``.
        cache: read/write the real set's statistics in the content-keyed cache.
        cache_dir: cache folder (default ``<cache root>/stats``).
        bootstrap: resamples of the generated set for a 95 % CI (0: none).
        strict: raise on an unreadable image instead of skipping it.
        on_nan: non-finite generator output: ``"stop"`` (raise) or ``"skip"`` (leave out, counted).
        progress: progress display mode (see :func:`ganeval.runtime.map_samples`).
        protocol: the old name of ``resize`` (deprecated; removed in the next release).

    Returns:
        :class:`FIDResult` (lower is better).
    """
    from .._renamed import renamed_argument

    resize = renamed_argument("fid", "protocol", "resize", protocol, resize, "tf")
    return cast(
        FIDResult,
        evaluate(
            generator_or_source,
            real,
            metrics=("fid",),
            num_samples=num_samples,
            num_real=num_real,
            extractor=extractor,
            resize=resize,
            seed=seed,
            batch_size=batch_size,
            device=device,
            cache=cache,
            cache_dir=cache_dir,
            bootstrap=bootstrap,
            strict=strict,
            on_nan=on_nan,
            progress=progress,
        )[0],
    )


def kid(
    generator_or_source: Any,
    real: Any,
    *,
    num_samples: int = 50_000,
    num_real: int | None = None,
    extractor: Any = "inception-v3-fid",
    resize: str = "tf",
    seed: int = 0,
    batch_size: int = 64,
    device: Any = "auto",
    num_subsets: int = 100,
    subset_size: int = 1000,
    strict: bool = False,
    on_nan: str = "stop",
    progress: Any = None,
    protocol: str | None = None,
) -> KIDResult:
    """Kernel Inception distance (unbiased MMD^2, cubic polynomial kernel, seeded subsets).

    Arguments as :func:`fid`, plus ``num_subsets`` (100) and ``subset_size`` (1000) as the reference.
    """
    from .._renamed import renamed_argument

    resize = renamed_argument("kid", "protocol", "resize", protocol, resize, "tf")
    return cast(
        KIDResult,
        evaluate(
            generator_or_source,
            real,
            metrics=("kid",),
            num_samples=num_samples,
            num_real=num_real,
            extractor=extractor,
            resize=resize,
            seed=seed,
            batch_size=batch_size,
            device=device,
            kid_subsets=num_subsets,
            kid_subset_size=subset_size,
            strict=strict,
            on_nan=on_nan,
            progress=progress,
        )[0],
    )


def precision_recall(
    generator_or_source: Any,
    real: Any,
    *,
    num_samples: int = 50_000,
    num_real: int | None = None,
    extractor: Any = "inception-v3-fid",
    resize: str = "tf",
    seed: int = 0,
    batch_size: int = 64,
    device: Any = "auto",
    k: int = 3,
    strict: bool = False,
    on_nan: str = "stop",
    progress: Any = None,
    protocol: str | None = None,
) -> PRResult:
    """Precision and recall of k-NN manifolds (k = 3) in feature space. Arguments as :func:`fid`."""
    from .._renamed import renamed_argument

    resize = renamed_argument("precision_recall", "protocol", "resize", protocol, resize, "tf")
    return cast(
        PRResult,
        evaluate(
            generator_or_source,
            real,
            metrics=("pr",),
            num_samples=num_samples,
            num_real=num_real,
            extractor=extractor,
            resize=resize,
            seed=seed,
            batch_size=batch_size,
            device=device,
            pr_k=k,
            strict=strict,
            on_nan=on_nan,
            progress=progress,
        )[0],
    )


class _InceptionLogits(torch.nn.Module):
    """The FID Inception's class logits without the output bias ``[N, 1008]``, as an extractor.

    Lets :func:`~ganeval.features.extract.extract_features` (the shared sample loop, resize
    modes and input checks) produce logits instead of pool features.
    """

    def __init__(self, inception: Any) -> None:  # the FID Inception: `logits`, `fc` (checked by the caller)
        super().__init__()
        self.inception = inception
        self.name = inception.name
        self.feature_dim = int(inception.fc.out_features)
        self.input_resolution = inception.input_resolution
        self.weights_sha256 = getattr(inception, "weights_sha256", None)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.inception.logits(images, no_output_bias=True)


def inception_score(
    generator_or_source: Any,
    *,
    num_samples: int = 50_000,
    splits: int = 10,
    extractor: Any = "inception-v3-fid",
    resize: str = "tf",
    seed: int = 0,
    batch_size: int = 64,
    device: Any = "auto",
    strict: bool = False,
    on_nan: str = "stop",
    progress: Any = None,
    protocol: str | None = None,
) -> ISResult:
    """Inception score of generated images (NVIDIA's ``is50k``: 50k samples, 10 splits).

    Logits of the FID Inception without the output bias, softmax, and per split
    ``exp(mean KL(p(y|x) || p(y)))``; the value is the mean over splits, ``std`` their
    population std. No real images are involved.

    Args:
        generator_or_source: as :func:`fid` (generator, registry name, folder, zip, ``.npy``/``.npz``).
        num_samples: generator samples (finite sets: at most this many, in order).
        splits: consecutive splits of the samples (at most the number of samples).
        extractor: the FID Inception: ``"inception-v3-fid"`` (``:pytorch-fid`` / ``:nvidia``) or a
            :class:`~ganeval.features.inception.FIDInceptionV3` module; only it has the 1008 class logits.
        resize, seed, batch_size, device, strict, on_nan, progress, protocol: as :func:`fid`.

    Returns:
        :class:`ISResult` (higher is better, in [1, 1008]).

    Raises:
        WeightsNotFoundError: the Inception weights are missing (the message names the file and folder).
    """
    from .._renamed import renamed_argument
    from ..devices import resolve_device
    from ..features import load_extractor
    from ..features.extract import extract_features
    from ..features.sources import GeneratorSource, ImageSet, open_source
    from ..features.stats import FeatureStatistics

    t0 = time.time()
    resize = renamed_argument("inception_score", "protocol", "resize", protocol, resize, "tf")
    num_samples = check_positive_int("num_samples", num_samples, minimum=2, maximum=MAX_SAMPLES)
    splits = check_positive_int("splits", splits)
    batch_size = check_positive_int("batch_size", batch_size)
    seed = check_positive_int("seed", seed, minimum=0)
    check_choice("on_nan", on_nan, ("stop", "skip"))
    dev = resolve_device(device)
    src = open_source(generator_or_source, role="generated", num_samples=num_samples, seed=seed, device=dev)
    inception = load_extractor(extractor, device=dev)
    if not callable(getattr(inception, "logits", None)) or not hasattr(inception, "fc"):
        raise GanevalValueError(
            f"Argument `extractor` must be the FID Inception (class logits are needed), "
            f"but got {getattr(inception, 'name', extractor)!r}."
        )
    if isinstance(src, FeatureStatistics):
        raise GanevalValueError("Argument `generator_or_source` must be images or a generator, not a statistics file.")
    if isinstance(src, GeneratorSource):
        src.on_nan = on_nan
    ext = _InceptionLogits(inception)
    logits, _, report = extract_features(
        src,
        ext,
        resize=resize,
        num_items=num_samples,
        batch_size=batch_size,
        device=dev,
        strict=strict,
        progress=progress,
        desc="generated",
    )
    scores = inception_score_splits(logits, splits=splits)
    generated = src.describe() if isinstance(src, ImageSet) else str(generator_or_source)
    config = {
        "splits": splits,
        "resize": resize,
        "extractor": ext.name,
        "extractor_sha256": ext.weights_sha256,
        "output_bias": False,
        "num_generated": len(logits),
        "seed": seed,
        "on_nan": on_nan,
        "truncation_psi": 1.0,
        "quantization": "uint8 (x*127.5+128, clamp, truncate)",
        "generated": generated,
        "batch_size": batch_size,
        "generator": _source_name(generator_or_source),
        "num_samples": num_samples,
        "strict": strict,
        **_extractor_names(extractor, inception),
    }
    return ISResult(
        metric="is",
        value=float(scores.mean()),
        std=float(scores.std()),
        num_samples=len(logits),
        higher_is_better=True,
        per_sample=scores,
        config=config,
        provenance=collect_provenance(
            device=dev,
            seed=seed,
            wall_time=time.time() - t0,
            weights={ext.name: ext.weights_sha256 or "unknown"},
            generator_source=generated.get("spec") if isinstance(generated, dict) else None,
        ),
        extra={"generated_input": report.to_dict()},
    )

"""Image set -> features -> statistics, through the shared sample loop, with the statistics cache.

The per-batch work is a pure function of the sample indices (see :mod:`ganeval.runtime`), so
features do not depend on the batch size. Statistics are streamed: features are processed in
chunks of :data:`CHUNK` samples and folded into float64 moments, so memory does not grow with N.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from .._validate import check_positive_int
from ..errors import GanevalError, GanevalValueError, OutputError
from .resize import RESIZES, prepare_batch
from .sources import FolderSource, GeneratorSource, ImageSet, ZipSource
from .stats import MAX_FEATURE_DIM, FeatureStatistics, StreamingMoments, cache_key, cache_path

__all__ = ["ExtractionReport", "extract_features", "source_statistics", "CHUNK"]

CHUNK = 8192
_MODES = ["", "skipped", "L", "RGBA", "P", "LA", "I;16", "CMYK", "other"]


@dataclass
class ExtractionReport:
    """What happened to an image set: counts of used, skipped and converted images.

    Attributes:
        num_requested: images asked for.
        num_used: images that produced features.
        skipped: names (or indices) of unreadable images, at most 20.
        num_skipped: all unreadable images.
        converted: original mode -> count of images converted to RGB (``"L"``, ``"RGBA"``, ...).
        cache: ``"hit"``, ``"written"`` or ``"off"`` (statistics only).
    """

    num_requested: int = 0
    num_used: int = 0
    skipped: list[str] = field(default_factory=list)
    num_skipped: int = 0
    converted: dict[str, int] = field(default_factory=dict)
    cache: str = "off"
    cache_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _feature_dim(extractor: nn.Module, device: torch.device) -> int:
    """The extractor's feature width: its ``feature_dim``, else that of one probe forward."""
    declared = getattr(extractor, "feature_dim", None)
    if declared is None:
        r = getattr(extractor, "input_resolution", None) or 32
        r = check_positive_int("extractor.input_resolution", r, maximum=4096)
        with torch.inference_mode():
            out = extractor(torch.zeros(1, 3, r, r, device=device))
        if not isinstance(out, torch.Tensor) or out.ndim != 2:
            raise GanevalValueError(
                f"The extractor must return features [N, F], but returned "
                f"{list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}."
            )
        declared = out.shape[1]
    return check_positive_int("extractor.feature_dim", declared, maximum=MAX_FEATURE_DIM)


def _features(extractor: nn.Module, x: torch.Tensor, dim: int) -> np.ndarray:
    """The extractor's features of ``x`` as float32 ``[B, dim]``; refuse any other shape."""
    out = extractor(x)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (len(x), dim):
        got = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise GanevalValueError(
            f"The extractor must return features [{len(x)}, {dim}] for {len(x)} images, but "
            f"returned {got} (its feature width must not change between batches)."
        )
    return out.float().cpu().numpy()


def _make_fn(
    source: ImageSet, extractor: nn.Module, resize: str, device: torch.device, strict: bool, dim: int, offset: int
) -> Any:
    size = getattr(extractor, "input_resolution", None)

    def fn(indices: np.ndarray) -> dict[str, np.ndarray]:
        idx = indices + offset
        if isinstance(source, GeneratorSource):  # stays on the device: no uint8 round trip through the CPU
            q, finite = source.generate_checked(idx)
            ok = finite.tolist()
            batch_images = [img if good else None for img, good in zip(q, ok)]
            notes = ["" if good else "non-finite generator output" for good in ok]
        else:
            loaded = source.load(idx)
            batch_images, notes = loaded.images, loaded.notes
        feats = np.full((len(idx), dim), np.nan, np.float32)
        modes = np.zeros(len(idx), np.int8)
        groups: dict[tuple[int, ...], list[int]] = {}
        for j, img in enumerate(batch_images):
            if img is None:
                if strict:
                    raise GanevalValueError(
                        f"Image {int(idx[j])} is unreadable ({notes[j]}); remove it or drop --strict."
                    )
                modes[j] = 1
                continue
            modes[j] = _MODES.index(notes[j]) if notes[j] in _MODES else len(_MODES) - 1
            groups.setdefault(tuple(img.shape), []).append(j)
        with torch.inference_mode():
            for shape, rows in groups.items():  # images of one size are batched together
                if shape[0] != 3:
                    raise GanevalValueError(
                        f"Images must have 3 channels after conversion, but got shape {list(shape)}."
                    )
                x = torch.stack([cast(torch.Tensor, batch_images[j]) for j in rows])  # rows hold readable images
                target = int(size) if size else shape[-1]
                x = prepare_batch(x, resize, target, device=device)
                feats[rows] = _features(extractor, x, dim)
        return {"features": feats, "mode": modes}

    return fn


def _report_from(source: ImageSet, modes: np.ndarray, offset: int, report: ExtractionReport) -> None:
    for j in np.flatnonzero(modes == 1):
        report.num_skipped += 1
        if len(report.skipped) < 20:
            i = offset + int(j)
            name = (
                str(source.files[i])
                if isinstance(source, FolderSource)
                else source.names[i]
                if isinstance(source, ZipSource)
                else f"#{i}"
            )
            report.skipped.append(name)
    counts = Counter(_MODES[int(m)] for m in modes if m >= 2)
    for k, v in counts.items():
        report.converted[k] = report.converted.get(k, 0) + v


def _run(
    source: ImageSet,
    extractor: nn.Module,
    *,
    resize: str,
    num_items: int | None,
    batch_size: int,
    device: torch.device,
    strict: bool,
    progress: Any,
    keep: bool,
    desc: str,
):
    from ..runtime import map_samples

    if resize not in RESIZES:
        raise GanevalValueError(
            f"Argument `resize` must be one of {', '.join(map(repr, RESIZES))}, but got {resize!r}."
        )
    total = len(source) if num_items is None else min(int(num_items), len(source))
    if total < 2:
        raise GanevalValueError(f"At least 2 images are needed, but {source.spec!r} provides {total}.")
    dim = _feature_dim(extractor, device)
    report = ExtractionReport(num_requested=total)
    moments = StreamingMoments(dim)
    kept: list[np.ndarray] = []
    for offset in range(0, total, CHUNK):
        n = min(CHUNK, total - offset)
        fn = _make_fn(source, extractor, resize, device, strict, dim, offset)
        label = desc if total <= CHUNK else f"{desc} {offset // CHUNK + 1}/{-(-total // CHUNK)}"
        out = map_samples(fn, n, batch_size=batch_size, desc=label, progress=progress)
        feats, modes = out["features"], out["mode"]
        _report_from(source, modes, offset, report)
        good = feats[modes != 1]
        moments.update(good)
        if keep:
            kept.append(good)
    report.num_used = moments.n
    if moments.n < 2:
        raise GanevalValueError(
            f"At least 2 readable images are needed, but {source.spec!r} gave {moments.n} "
            f"({report.num_skipped} unreadable, e.g. {report.skipped[:3]})."
        )
    return moments, (np.concatenate(kept) if keep else None), report


def extract_features(
    source: ImageSet,
    extractor: nn.Module,
    *,
    resize: str = "tf",
    num_items: int | None = None,
    batch_size: int = 64,
    device: torch.device | None = None,
    strict: bool = False,
    progress: Any = None,
    desc: str = "features",
) -> tuple[np.ndarray, FeatureStatistics, ExtractionReport]:
    """All features ``[N, F]`` float32 of a source, their statistics and the report."""
    dev = device or torch.device("cpu")
    moments, feats, report = _run(
        source,
        extractor,
        resize=resize,
        num_items=num_items,
        batch_size=batch_size,
        device=dev,
        strict=strict,
        progress=progress,
        keep=True,
        desc=desc,
    )
    stats = moments.finalize(meta=_meta(source, extractor, resize, report))
    return feats, stats, report


def _meta(source: ImageSet, extractor: nn.Module, resize: str, report: ExtractionReport) -> dict[str, Any]:
    return {
        "source": source.describe(),
        "extractor": extractor.name,
        "extractor_sha256": getattr(extractor, "weights_sha256", None),
        "resize": resize,
        "num_skipped": report.num_skipped,
        "converted": report.converted,
        "covariance": "unbiased (N-1)",
    }


def _read_cache(path: Path) -> FeatureStatistics | None:
    """The cached statistics at ``path``, or None when absent or failing verification (warned, then
    recomputed and overwritten by the caller)."""
    if not path.exists():
        return None
    try:
        stats = FeatureStatistics.load(path)
        if stats.meta.get("cache_key") != path.stem or "content_sha256" not in stats.meta:
            raise GanevalValueError("its recorded cache key or checksum is missing or differs from its name")
        if (
            stats.num_items < 2
            or not isinstance(stats.meta.get("num_skipped", 0), int)
            or not isinstance(stats.meta.get("converted", {}), dict)
        ):
            raise GanevalValueError("its record of the images used is invalid")
    except GanevalError as exc:
        warnings.warn(
            f"The cached statistics {path} are corrupt ({exc}); they are recomputed and replaced.", stacklevel=3
        )
        return None
    return stats


def source_statistics(
    source: ImageSet,
    extractor: nn.Module,
    *,
    resize: str = "tf",
    num_items: int | None = None,
    batch_size: int = 64,
    device: torch.device | None = None,
    strict: bool = False,
    progress: Any = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    desc: str = "statistics",
) -> tuple[FeatureStatistics, ExtractionReport]:
    """Streamed statistics of a source, read from / written to the content-keyed cache.

    The cache key covers the image set's content hash, the extractor's name and weight hash,
    the resize mode and the number of images (see :func:`~ganeval.features.stats.cache_key`);
    sets without a content identity (generators without a weight hash) are not cached.
    """
    dev = device or torch.device("cpu")
    total = len(source) if num_items is None else min(int(num_items), len(source))
    path = None
    if cache:
        try:
            content = source.content_hash()
        except GanevalValueError:
            content = None
        if content is not None:
            key = cache_key(
                content_hash=content,
                extractor=str(extractor.name),
                weights_sha256=getattr(extractor, "weights_sha256", None),
                resize=resize,
                num_items=total,
            )
            path = cache_path(key, cache_dir)
            stats = _read_cache(path)
            if stats is not None:
                rep = ExtractionReport(
                    num_requested=total,
                    num_used=stats.num_items,
                    cache="hit",
                    cache_file=str(path),
                    num_skipped=int(stats.meta.get("num_skipped", 0)),
                    converted=dict(stats.meta.get("converted", {})),
                )
                return stats, rep
    moments, _, report = _run(
        source,
        extractor,
        resize=resize,
        num_items=total,
        batch_size=batch_size,
        device=dev,
        strict=strict,
        progress=progress,
        keep=False,
        desc=desc,
    )
    stats = moments.finalize(meta=_meta(source, extractor, resize, report))
    if path is not None:
        stats.meta["cache_key"] = path.stem
        try:
            stats.save(path)
            report.cache, report.cache_file = "written", str(path)
        except OutputError as exc:  # the statistics are right; only the cache could not keep them
            warnings.warn(f"Statistics cache not written: {exc}", stacklevel=2)
    return stats, report

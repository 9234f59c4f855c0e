"""``ganeval fid | kid | pr | stats``: distribution metrics and reference statistics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ._options import (
    device_option,
    on_nan_option,
    progress_mode,
    progress_options,
    renamed_option,
    seed_option,
    take_renamed,
)

__all__ = ["fid_command", "kid_command", "pr_command", "stats_command"]

_ZOO_DEFAULT_EXTRACTOR = "zoo:shapes-classifier"
_MAX_SAMPLES = 100_000_000  # as ganeval.metrics.fid.MAX_SAMPLES (not imported: --help stays fast)
_RESIZES = ("tf", "pytorch-fid", "clean", "torchmetrics")  # as ganeval.features.resize.RESIZES


def _default_extractor(real: str, extractor: str | None) -> str:
    # The zoo data only makes sense with the zoo classifier's features (offline, tiny); any other
    # real set gets the FID Inception, whose missing weights produce a message naming the file.
    if extractor:
        return extractor
    return _ZOO_DEFAULT_EXTRACTOR if real.startswith("zoo:") else "inception-v3-fid"


def _common(f: Any) -> Any:
    opts: list[Callable[[Any], Any]] = [
        click.option(
            "--generator",
            "-g",
            default="zoo:shapes-stylegan",
            show_default=True,
            help="Generator (registry name or file) or generated images (folder, zip, .npy/.npz).",
        ),
        click.option(
            "--real",
            "-r",
            default="zoo:shapes",
            show_default=True,
            help="Real images: folder, zip, .npy/.npz, zoo:shapes[:N], or statistics (.npz mu/sigma, .pkl).",
        ),
        click.option(
            "--samples",
            "-n",
            type=click.IntRange(min=2, max=_MAX_SAMPLES),
            default=50_000,
            show_default=True,
            help="Generated samples.",
        ),
        click.option(
            "--num-real",
            type=click.IntRange(min=2, max=_MAX_SAMPLES),
            default=None,
            help="Real images used (default: all; zoo:shapes: --samples).",
        ),
        click.option(
            "--extractor",
            "-e",
            default=None,
            help="Feature extractor (default: inception-v3-fid; zoo:shapes-classifier for zoo data).",
        ),
        click.option(
            "--resize",
            type=click.Choice(_RESIZES),
            default="tf",
            show_default=True,
            help="How images reach the extractor's input size (recorded with the result).",
        ),
        renamed_option("protocol", _RESIZES),
        click.option(
            "--batch-size", type=click.IntRange(min=1), default=64, show_default=True, help="Images per forward pass."
        ),
        click.option("--strict", is_flag=True, help="Fail on an unreadable image instead of skipping it."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write cached real statistics."),
        click.option(
            "--out",
            "-o",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Folder to append metric-<name>.jsonl to.",
        ),
        click.option("--json", "json_only", is_flag=True, help="Print only the JSON lines."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return progress_options(seed_option(device_option(on_nan_option(f))))


def _run(
    metrics: list[str],
    *,
    generator: str,
    real: str,
    samples: int,
    num_real: int | None,
    extractor: str | None,
    resize: str,
    renamed_protocol: str | None,
    batch_size: int,
    strict: bool,
    no_cache: bool,
    out: Path | None,
    json_only: bool,
    device: str,
    seed: int,
    quiet: bool,
    log_json: bool,
    on_nan: str,
    bootstrap: int = 0,
    is_splits: int = 10,
    **extra: Any,
) -> None:
    from .. import distributed
    from .._io import append_line, check_writable_dir
    from ..errors import GanevalValueError
    from ..metrics.fid import evaluate, inception_score

    resize = take_renamed("protocol", "resize", renamed_protocol, resize, "tf")
    if out is not None:
        check_writable_dir(out)  # fail before the work, not after
    metrics = [m.strip().lower() for m in metrics]
    if not metrics:
        raise GanevalValueError("Option `--metrics` must list at least one of fid, kid, pr, is, but got none.")
    if len(set(metrics)) != len(metrics):
        raise GanevalValueError(f"Option `--metrics` must not repeat a metric, but got {metrics}.")
    for m in metrics:
        if m not in ("fid", "kid", "pr", "is"):
            raise GanevalValueError(f"Option `--metrics` must list only fid, kid, pr, is, but got {m!r}.")
    distribution = [m for m in metrics if m != "is"]
    by_metric: dict[str, Any] = {}
    if distribution:
        results = evaluate(
            generator,
            real,
            metrics=distribution,
            num_samples=samples,
            num_real=num_real,
            extractor=_default_extractor(real, extractor),
            resize=resize,
            seed=seed,
            batch_size=batch_size,
            device=device,
            cache=not no_cache,
            bootstrap=bootstrap,
            strict=strict,
            on_nan=on_nan,
            progress=progress_mode(quiet, log_json),
            **extra,
        )
        by_metric.update(zip(distribution, results))
    if "is" in metrics:  # generated images only; always the FID Inception's logits (or the Inception named)
        by_metric["is"] = inception_score(
            generator,
            num_samples=samples,
            splits=is_splits,
            extractor=extractor or "inception-v3-fid",
            resize=resize,
            seed=seed,
            batch_size=batch_size,
            device=device,
            strict=strict,
            on_nan=on_nan,
            progress=progress_mode(quiet, log_json),
        )
    results = [by_metric[m] for m in metrics]
    if not distributed.is_main():  # under torchrun only rank 0 prints and writes
        return
    if out is not None:
        for r in results:
            append_line(out / f"metric-{r.metric.lower()}.jsonl", r.to_json_line(include_per_sample=True))
    if not json_only:
        c = results[0].config
        parts = []
        for r in results:
            parts.append(
                f"{r.metric} {r.value:.4f}" + (f" (recall {r.extra['recall']:.4f})" if r.metric == "precision" else "")
            )
        vs_real = f" vs {c['num_real']} real" if "num_real" in c else ""
        click.echo(
            f"{', '.join(parts)}  [{c['num_generated']} generated{vs_real}, "
            f"extractor {c['extractor']}, resize {c['resize']}, seed {seed}]"
        )
        rows = [("metric", "value", "std", "ci95")]
        for r in results:
            ci = f"[{r.ci_low:.4f}, {r.ci_high:.4f}]" if r.ci_low is not None else "-"
            rows.append((r.metric, f"{r.value:.6g}", "-" if r.std is None else f"{r.std:.4g}", ci))
            if r.metric == "precision":
                rows.append(("recall", f"{r.extra['recall']:.6g}", "-", "-"))
            if "rank_generated" in r.extra:
                rows.append(
                    ("  covariance rank (gen / real)", f"{r.extra['rank_generated']} / {r.extra['rank_real']}", "", "")
                )
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    for r in results:
        click.echo(r.to_json_line())


@click.command("fid")
@_common
@click.option(
    "--metrics",
    "-m",
    default="fid",
    show_default=True,
    help="Comma list of fid, kid, pr, is (the Inception score needs no real images).",
)
@click.option(
    "--bootstrap", type=click.IntRange(min=0), default=0, show_default=True, help="Bootstrap resamples for a 95% CI."
)
@click.option(
    "--is-splits", type=click.IntRange(min=1), default=10, show_default=True, help="Splits of the Inception score."
)
def fid_command(metrics: str, **kw: Any) -> None:
    """Fréchet distance between generated and real images (FID with the FID Inception)."""
    _run([m for m in metrics.split(",") if m.strip()], **kw)


@click.command("kid")
@_common
@click.option("--subsets", type=click.IntRange(min=1), default=100, show_default=True, help="Random subsets.")
@click.option("--subset-size", type=click.IntRange(min=2), default=1000, show_default=True, help="Samples per subset.")
def kid_command(subsets: int, subset_size: int, **kw: Any) -> None:
    """Kernel Inception distance (unbiased, cubic polynomial kernel, seeded subsets)."""
    _run(["kid"], kid_subsets=subsets, kid_subset_size=subset_size, **kw)


@click.command("pr")
@_common
@click.option(
    "--k", "k", type=click.IntRange(min=1), default=3, show_default=True, help="Nearest neighbours of the manifolds."
)
def pr_command(k: int, **kw: Any) -> None:
    """Precision and recall of k-NN feature manifolds."""
    _run(["pr"], pr_k=k, **kw)


@click.command("stats")
@click.argument("source")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Statistics file to write (.npz, pytorch-fid layout).",
)
@click.option(
    "--samples",
    "-n",
    type=click.IntRange(min=2, max=_MAX_SAMPLES),
    default=50_000,
    show_default=True,
    help="Samples of a generator / zoo:shapes; image sets use all images up to this many.",
)
@click.option("--extractor", "-e", default=None, help="Feature extractor (default as `ganeval fid`).")
@click.option(
    "--resize",
    type=click.Choice(_RESIZES),
    default="tf",
    show_default=True,
    help="How images reach the extractor's input size.",
)
@renamed_option("protocol", _RESIZES)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--strict", is_flag=True, help="Fail on an unreadable image instead of skipping it.")
@click.option("--force", is_flag=True, help="Overwrite an existing --output file.")
@device_option
@seed_option
@progress_options
def stats_command(
    source: str,
    output: Path,
    samples: int,
    extractor: str | None,
    resize: str,
    renamed_protocol: str | None,
    batch_size: int,
    strict: bool,
    force: bool,
    device: str,
    seed: int,
    quiet: bool,
    log_json: bool,
) -> None:
    """Compute the feature statistics (mu, sigma) of SOURCE and save them to an .npz."""
    import json

    from .._io import check_output_file
    from ..devices import resolve_device
    from ..errors import GanevalValueError
    from ..features import load_extractor
    from ..features.extract import source_statistics
    from ..features.sources import open_source
    from ..features.stats import FeatureStatistics

    resize = take_renamed("protocol", "resize", renamed_protocol, resize, "tf")
    check_output_file(output, (".npz",), "--output")  # fail before the work, not after
    if output.exists() and not force:
        raise GanevalValueError(
            f"Option `--output` names an existing file {str(output)!r}; choose another name or "
            "pass --force to overwrite it."
        )
    dev = resolve_device(device)
    ext = load_extractor(_default_extractor(source, extractor), device=dev)
    src = open_source(source, role="generated", num_samples=samples, seed=seed, device=dev)
    if isinstance(src, FeatureStatistics):
        raise GanevalValueError(f"Argument `source` is already a statistics file: {source!r}.")
    stats, report = source_statistics(
        src,
        ext,
        resize=resize,
        num_items=samples,
        batch_size=batch_size,
        device=dev,
        strict=strict,
        progress=progress_mode(quiet, log_json),
        cache=False,
    )
    from .. import distributed

    if not distributed.is_main():
        return
    stats.save(output)
    click.echo(
        f"Wrote {output}: {stats.num_items} images, {stats.dim}-d {ext.name} features, resize {resize}, "
        f"{report.num_skipped} skipped, converted {report.converted or 'none'}."
    )
    click.echo(json.dumps({"output": str(output), "num_items": stats.num_items, "meta": stats.meta}, default=str))

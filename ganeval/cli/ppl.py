"""``ganeval ppl``: perceptual path length of a generator, with its CI, table, CSV and plots."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import click

from .._io import append_text, atomic_write, check_writable_dir
from ._options import (
    device_option,
    note_sample_default,
    on_nan_option,
    progress_mode,
    progress_options,
    renamed_option,
    seed_option,
    take_renamed,
)

#: the embedded default when no --generator is given
DEFAULT_GENERATOR = "zoo:shapes-stylegan"
DEFAULT_ZOO_DISTANCE = "zoo:shapes-perceptual"
#: default --samples without a preset: `make demo` (W, 32 px zoo generator, zoo distance) takes about
#: a minute on 2 CPU cores; presets keep the published counts (50,000 / 100,000)
DEFAULT_SAMPLES = 2_000


def _note(text: str) -> None:
    from ..distributed import is_main

    if is_main():
        click.echo(f"Note: {text}", err=True)


def _run_dir(out: Path, space: str, identity: dict[str, Any]) -> Path:
    """``OUT/.run-<space>-<hash12>``: one resumable run folder per distinct PPL run (same command, same folder)."""
    from ..runtime import config_hash

    return out / f".run-{space}-{config_hash({**identity, 'space': space})[:12]}"


def _tag(identity: dict[str, Any]) -> str:
    """Eight hex digits naming a run's outputs: another configuration never overwrites them."""
    from ..runtime import config_hash

    return config_hash(identity)[:8]


def _table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)


def _rows(r: Any) -> list[tuple[str, str]]:
    c, e = r.config, r.extra
    return [
        ("ppl", f"{r.value:.6g}"),
        ("95% CI (bootstrap)", f"{r.ci_low:.6g} .. {r.ci_high:.6g}"),
        ("std of kept", f"{r.std:.6g}"),
        ("samples / kept", f"{r.num_samples} / {e['num_kept']}"),
        ("kept range", f"{e['lo']:.6g} .. {e['hi']:.6g}"),
        ("space / sampling", f"{c['space']} / {c['sampling']} ({c['interpolation']})"),
        ("crop / distance input", f"{c['crop']} / {c['distance_input_px']} px"),
        ("method / epsilon", f"{c['method']} / {c['epsilon']:g}" if c["epsilon"] is not None else c["method"]),
        ("chunk size", str(c["chunk_size"])),
        ("noise", c["noise"]),
        ("wall time", r.provenance.get("wall_time_str", "?")),
    ]


@click.command(name="ppl")
@click.option(
    "--space",
    type=click.Choice(["z", "w", "both"]),
    default=None,
    help="Latent space of the paths (both: Z and W, plotted together) [default: w, or the preset's].",
)
@click.option(
    "--sampling",
    type=click.Choice(["full", "end"]),
    default=None,
    help="full: t ~ U[0, 1); end: t = 0 (as NVIDIA's code) [default: end, or the preset's].",
)
@click.option(
    "--preset",
    default=None,
    help="Named protocol, e.g. ppl_wend, ppl2_wend, ppl_zfull_v1 (fixes space, sampling, crop, samples, epsilon).",
)
@click.option(
    "--samples",
    type=int,
    default=None,
    help=f"Pairs to evaluate [default: the preset's count, else {DEFAULT_SAMPLES}].",
)
@click.option("--epsilon", type=float, default=None, help="Step along the path [default: 1e-4, or the preset's].")
@click.option(
    "--crop/--no-crop", default=None, help="NVIDIA's face crop before the distance [default: no crop, or the preset's]."
)
@click.option(
    "--distance",
    default=None,
    help="lpips-vgg16 | lpips-alex | lpips-squeeze | nvidia-vgg16 | "
    f"zoo:shapes-perceptual [default: lpips-vgg16; {DEFAULT_ZOO_DISTANCE} with a zoo generator].",
)
@click.option("--generator", default=None, help=f"Checkpoint path or registry name [default: {DEFAULT_GENERATOR}].")
@seed_option
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    help="Pairs per forward pass (does not change the result).",
)
@device_option
@click.option(
    "--target-ci", type=float, default=None, help="Stop once the 95% CI half-width is below this fraction of the value."
)
@click.option(
    "--min-samples", type=int, default=1000, show_default=True, help="Fewest samples --target-ci may stop at."
)
@click.option(
    "--downsample",
    type=click.Choice(["tf", "ada-pytorch"]),
    default=None,
    help="Box-downsampling factor from the cropped height (tf, NVIDIA's TF code) or the full resolution "
    "(ada-pytorch) [default: tf, or the preset's].",
)
@renamed_option("protocol", ("tf", "ada-pytorch"))
@click.option(
    "--method",
    type=click.Choice(["fd", "jvp"]),
    default=None,
    help="fd: NVIDIA's finite difference (default, every preset); jvp: its exact eps -> 0 limit by "
    "forward-mode AD, without float32 cancellation.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1, max=4096),
    default=16,
    show_default=True,
    help="Pairs per forward pass; fixed, so per-sample values do not depend on --batch-size or the "
    "number of processes (recorded in the config).",
)
@on_nan_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for results.jsonl (appended), per-sample CSV and plots; completed samples are kept in "
    "OUT/.run-*/, so rerunning the same command resumes an interrupted run.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON line(s) instead of the summary and table.")
@progress_options
def command(
    space: str | None,
    sampling: str | None,
    preset: str | None,
    samples: int | None,
    epsilon: float | None,
    crop: bool | None,
    distance: str | None,
    generator: str | None,
    seed: int,
    batch_size: int,
    device: str,
    target_ci: float | None,
    min_samples: int,
    downsample: str | None,
    renamed_protocol: str | None,
    method: str | None,
    chunk_size: int,
    on_nan: str,
    out_dir: str | None,
    as_json: bool,
    quiet: bool,
    log_json: bool,
) -> None:
    """Perceptual path length (Karras et al. 2019) in Z or W, with a 95 % bootstrap CI.

    With --out, completed samples are saved as they finish (OUT/.run-<space>-<hash>/); after a
    crash or Ctrl-C, rerunning the same command resumes where it stopped and gives exactly the
    result of an uninterrupted run. Under torchrun only rank 0 prints and writes.
    """
    from ..distributed import is_main
    from ..metrics.ppl import DEFAULT_NUM_SAMPLES, PPL_PRESETS, ppl
    from ._generator import load

    progress = progress_mode(quiet, log_json)
    downsample = take_renamed("protocol", "downsample", renamed_protocol, downsample, None)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:  # fail before any work, not after hours of it
        check_writable_dir(out)
    if generator is None:
        generator = DEFAULT_GENERATOR
        _note(f"no --generator given: running on the embedded default {DEFAULT_GENERATOR} (32 px shapes StyleGAN).")
    if distance is None and str(generator).startswith("zoo:"):  # the zoo's generators draw the zoo's 32 px shapes
        distance = DEFAULT_ZOO_DISTANCE
        _note(
            f"distance {DEFAULT_ZOO_DISTANCE}: the zoo's shapes-trained perceptual network, NOT LPIPS-VGG16; "
            "its numbers are not comparable with published PPL."
        )
    distance = distance or "lpips-vgg16"
    if samples is None and preset is None:
        note_sample_default("--samples", DEFAULT_SAMPLES, "ganeval.ppl()", DEFAULT_NUM_SAMPLES)
    G = load(generator, device)
    if space == "both" and preset is not None:
        raise click.UsageError("--space both cannot be combined with --preset (a preset fixes the space).")
    # a preset fixes what is not given; a given value that contradicts it is refused by ppl()
    preset_space = PPL_PRESETS[preset].space if preset in PPL_PRESETS else None
    spaces = ["z", "w"] if space == "both" else [space or preset_space or "w"]
    kwargs: dict[str, Any] = {
        "sampling": sampling,
        "epsilon": epsilon,
        "crop": crop,
        "distance": distance,
        "seed": seed,
        "batch_size": batch_size,
        "device": device,
        "preset": preset,
        "downsample": downsample,
        "target_ci": target_ci,
        "min_samples": min_samples,
        "progress": progress,
        "on_nan": on_nan,
        "method": method,
        "chunk_size": chunk_size,
        "num_samples": samples if samples is not None or preset else DEFAULT_SAMPLES,
    }
    # everything that changes the per-sample values names the run folders and the output files
    identity = {
        "generator": generator,
        "sha256": getattr(G, "provenance", {}).get("sha256"),
        **{k: v for k, v in kwargs.items() if k not in ("batch_size", "progress", "on_nan")},
    }
    results = []
    for s in spaces:
        run_dir = _run_dir(out, s, identity) if out is not None else None
        results.append(ppl(G, space=s, run_dir=run_dir, **kwargs))
    if not is_main():
        return
    for r in results:
        skipped = r.extra.get("num_nonfinite_skipped", 0)
        if skipped:
            _note(
                f"skipped {skipped} of {r.extra['num_evaluated']} pairs with NaN/Inf images "
                f"(first sample indices: {r.extra['first_nonfinite_indices']})."
            )
        if as_json:
            click.echo(r.to_json_line())
        else:
            click.echo(r.summary())
            click.echo(_table(_rows(r)))
    if out is not None:
        _write_outputs(out, results, G, seed, device, quiet=as_json, tag=_tag({**identity, "spaces": spaces}))


def _write_outputs(out: Path, results: list[Any], G: Any, seed: int, device: str, quiet: bool, tag: str) -> None:
    """results.jsonl (appended), one per-sample CSV per result, and the two PNG plots.

    The CSVs and plots carry ``tag`` (a hash of the run's configuration) in their names, so a run
    with another seed, distance or generator in the same folder adds files instead of replacing
    the first run's; the same command again rewrites the same files with the same content.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plots.ppl import plot_interpolation_strips, plot_path_lengths

    out.mkdir(parents=True, exist_ok=True)
    written = [out / "results.jsonl"]
    append_text(out / "results.jsonl", "".join(r.to_json_line(include_per_sample=True) + "\n" for r in results))
    for r in results:
        c = r.config
        csv = out / f"{r.metric}-{c['space']}{c['sampling']}-{tag}-distances.csv"
        atomic_write(csv, functools.partial(r.per_sample_frame().to_csv, index=False))
        written.append(csv)
    for name, fig in (
        (f"ppl-{tag}-distribution.png", plot_path_lengths(results)),
        (f"ppl-{tag}-interpolation.png", plot_interpolation_strips(G, seed=seed, device=device)),
    ):
        atomic_write(out / name, functools.partial(fig.savefig, dpi=120, format="png"))
        plt.close(fig)
        written.append(out / name)
    if not quiet:
        click.echo("Wrote " + ", ".join(str(p) for p in written))
    else:
        print("Wrote " + ", ".join(str(p) for p in written), file=sys.stderr)

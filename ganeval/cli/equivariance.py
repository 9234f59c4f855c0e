"""``ganeval eq``: the StyleGAN3 equivariance metrics EQ-T, EQ-T_frac and EQ-R of a generator."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import click

from .._io import append_text, atomic_write, check_writable_dir
from ._options import device_option, note_sample_default, progress_mode, progress_options, seed_option

#: default --samples without a preset (the presets keep the paper's 50,000)
DEFAULT_SAMPLES = 1_000
KIND_CHOICES = ("eqt_int", "eqt_frac", "eqr", "all")


def _run_dir(out: Path, kind: str, identity: dict[str, Any]) -> Path:
    """``OUT/.run-<kind>-<hash12>``: one resumable folder per distinct run."""
    from ..runtime import config_hash

    return out / f".run-{kind}-{config_hash({**identity, 'kind': kind})[:12]}"


def _table(results: list[Any]) -> str:
    rows = [("metric", "PSNR dB", "95% CI", "samples")]
    rows += [(r.metric, f"{r.value:.3f}", f"{r.ci_low:.3f} .. {r.ci_high:.3f}", str(r.num_samples)) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows)


@click.command(name="eq")
@click.option("--generator", required=True, help="Checkpoint path or registry name of a StyleGAN3 generator.")
@click.option(
    "--kind",
    type=click.Choice(KIND_CHOICES),
    default=None,
    help="eqt_int | eqt_frac | eqr | all [default: all, or the preset's].",
)
@click.option(
    "--preset",
    type=click.Choice(["eqt50k_int", "eqt50k_frac", "eqr50k"]),
    default=None,
    help="The paper's protocols (50,000 samples each).",
)
@click.option(
    "--samples", type=int, default=None, help=f"Samples per metric [default: the preset's, else {DEFAULT_SAMPLES}]."
)
@click.option("--translate-max", type=float, default=None, help="Largest translation per axis, image widths [0.125].")
@click.option("--rotate-max", type=float, default=None, help="Largest rotation as a fraction of pi [1].")
@seed_option
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Samples per forward pass (does not change the result).",
)
@device_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for results.jsonl (appended), per-sample CSVs and figures; completed samples are kept "
    "in OUT/.run-*/, so rerunning the same command resumes.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of the table.")
@progress_options
def command(
    generator: str,
    kind: str | None,
    preset: str | None,
    samples: int | None,
    translate_max: float | None,
    rotate_max: float | None,
    seed: int,
    batch_size: int,
    device: str,
    out_dir: str | None,
    as_json: bool,
    quiet: bool,
    log_json: bool,
) -> None:
    """Equivariance to translation and rotation (StyleGAN3 paper): PSNR in dB, higher is better.

    The generator must have an input transform (StyleGAN3); StyleGAN2 and v1 generators are refused.
    """
    from ..distributed import is_main
    from ..metrics.equivariance import DEFAULT_NUM_SAMPLES, EQ_PRESETS, equivariance
    from ._generator import load

    progress = progress_mode(quiet, log_json)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        check_writable_dir(out)
    if preset is not None and kind not in (None, EQ_PRESETS[preset].kind):
        raise click.UsageError(f"--kind {kind} contradicts --preset {preset} (it measures {EQ_PRESETS[preset].kind}).")
    kinds = (
        [EQ_PRESETS[preset].kind] if preset else (["eqt_int", "eqt_frac", "eqr"] if kind in (None, "all") else [kind])
    )
    if samples is None and preset is None:
        note_sample_default("--samples", DEFAULT_SAMPLES, "ganeval.equivariance()", DEFAULT_NUM_SAMPLES)
    G = load(generator, device)
    kwargs: dict[str, Any] = {
        "num_samples": samples if samples is not None or preset else DEFAULT_SAMPLES,
        "translate_max": translate_max,
        "rotate_max": rotate_max,
        "seed": seed,
        "batch_size": batch_size,
        "device": device,
        "preset": preset,
        "progress": progress,
    }
    results = []
    for k in kinds:
        run_dir = None
        if out is not None:
            identity = {
                "generator": generator,
                "sha256": getattr(G, "provenance", {}).get("sha256"),
                **{key: v for key, v in kwargs.items() if key not in ("batch_size", "progress")},
            }
            run_dir = _run_dir(out, k, identity)
        results.append(equivariance(G, kind=None if preset else k, run_dir=run_dir, **kwargs))
    if not is_main():
        return
    if as_json:
        for r in results:
            click.echo(r.to_json_line())
    else:
        for r in results:
            click.echo(r.summary())
        click.echo(_table(results))
    if out is not None:
        _write_outputs(out, results, G, seed, device, quiet=as_json)


def _write_outputs(out: Path, results: list[Any], G: Any, seed: int, device: str, quiet: bool) -> None:
    """results.jsonl (appended), a per-sample CSV per metric, the PSNR histogram and image strips."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..metrics.equivariance import example_images
    from ..plots.equivariance import plot_equivariance_strips, plot_psnr

    written = [out / "results.jsonl"]
    append_text(out / "results.jsonl", "".join(r.to_json_line(include_per_sample=True) + "\n" for r in results))
    figures = [("eq-psnr.png", plot_psnr(results))]
    for r in results:
        csv = out / f"{r.metric}-samples.csv"
        atomic_write(csv, functools.partial(r.per_sample_frame().to_csv, index=False))
        written.append(csv)
        c = r.config
        ex = example_images(
            G,
            kind=c["kind"],
            indices=[0, 1, 2, 3],
            seed=seed,
            translate_max=c["translate_max"],
            rotate_max=c["rotate_max"],
            device=device,
        )
        figures.append((f"{r.metric}-strips.png", plot_equivariance_strips(ex, title=r.metric)))
    for name, fig in figures:
        atomic_write(out / name, functools.partial(fig.savefig, dpi=110, format="png"))
        plt.close(fig)
        written.append(out / name)
    msg = "Wrote " + ", ".join(str(p) for p in written)
    click.echo(msg) if not quiet else print(msg, file=sys.stderr)

"""``ganeval separability``: linear separability of Z and W (SVM + conditional entropy).

With no generator and no classifier named it runs on the embedded default
(``zoo:shapes-stylegan`` + ``zoo:shapes-classifier``) with 20,000 samples, keeping 10,000
per attribute, which finishes in a few minutes on a laptop CPU (a note says so); naming either
one switches the defaults to the reference's 200,000 / 100,000, the library's defaults.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import click

from ..errors import GanevalValueError
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

DEFAULT_GENERATOR = "zoo:shapes-stylegan"
DEFAULT_CLASSIFIER = "zoo:shapes-classifier"
ZOO_SAMPLES, ZOO_KEEP = 20_000, 10_000
#: ganeval.separability()'s defaults (the reference's counts), used when a generator or classifier is named
LIBRARY_DEFAULTS = {"num_samples": 200_000, "num_keep": 100_000}


_PER_RUN_FILES = ("attributes.csv", "entropy.png")  # overwritten by a rerun; result.jsonl is appended to


@click.command("separability")
@click.option("--generator", default=None, help=f"Generator path or registry name (default: {DEFAULT_GENERATOR}).")
@click.option(
    "--classifier",
    default=None,
    help=f"zoo:shapes-classifier | celebahq | celebahq-classifier-NN-<attr> | TF pickle path "
    f"(default: {DEFAULT_CLASSIFIER}).",
)
@click.option("--spaces", default="z,w", show_default=True, help="Comma-separated latent spaces: z, w.")
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=None,
    help=f"Images to generate (default {ZOO_SAMPLES} on the zoo, else 200000).",
)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=None,
    help=f"Most confident samples kept per attribute (default {ZOO_KEEP} on the zoo, else 100000).",
)
@click.option(
    "--split",
    type=click.Choice(["stylegan", "heldout"]),
    default="stylegan",
    show_default=True,
    help="stylegan: fit and score on the same points (reference); heldout: score on unseen points.",
)
@renamed_option("protocol", ("stylegan", "heldout"))
@click.option(
    "--solver",
    type=click.Choice(["fast", "liblinear-dual", "liblinear-primal"]),
    default="fast",
    show_default=True,
    help="SVM solver; liblinear-dual = the reference's LinearSVC settings (slow).",
)
@click.option(
    "--preset",
    type=click.Choice(["ls_stylegan", "ls_heldout"]),
    default=None,
    help="Named protocol: fixes samples, keep, split and solver.",
)
@click.option("--w-layer", type=int, default=-1, show_default=True, help="Layer of W+ used as the W space.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Sample cache folder (default: <ganeval cache root>/separability).",
)
@click.option("--no-cache", is_flag=True, help="Keep no latents/logits on disk.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write result.jsonl, attributes.csv and entropy.png here.",
)
@click.option(
    "--force", is_flag=True, help="Overwrite attributes.csv / entropy.png of a run of another configuration in --out."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line instead of the table.")
@click.option(
    "--export-boundaries",
    "boundaries_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write InterFaceGAN boundaries DIR/<space>/boundary_<attr>.npy (unit SVM normals).",
)
@on_nan_option
@device_option
@seed_option
@progress_options
def command(
    generator: str | None,
    classifier: str | None,
    spaces: str,
    samples: int | None,
    keep: int | None,
    split: str,
    renamed_protocol: str | None,
    solver: str,
    preset: str | None,
    w_layer: int,
    batch_size: int,
    cache_dir: str | None,
    no_cache: bool,
    out_dir: str | None,
    force: bool,
    as_json: bool,
    boundaries_dir: str | None,
    on_nan: Literal["stop", "skip"],
    device: str,
    seed: int,
    quiet: bool,
    log_json: bool,
) -> None:
    """Linear separability of Z and W (StyleGAN paper, section 4.2); lower is better."""
    from .. import distributed
    from .._io import OutputClaim, append_line, atomic_write, check_writable_dir
    from ..classifiers import load_classifier
    from ..metrics.separability import SEPARABILITY_PRESETS, export_boundaries, separability
    from ..runtime import config_hash
    from ._generator import load

    split = take_renamed("protocol", "split", renamed_protocol, split, "stylegan")
    claim = None
    if out_dir is not None:
        check_writable_dir(out_dir)  # fail before hours of work, not after
        identity = {
            k: v
            for k, v in click.get_current_context().params.items()
            if k
            not in (
                "out_dir",
                "force",
                "device",
                "quiet",
                "log_json",
                "as_json",
                "boundaries_dir",
                "cache_dir",
                "no_cache",
                "renamed_protocol",
            )
        } | {"split": split}
        claim = OutputClaim(out_dir, list(_PER_RUN_FILES), config_hash(identity), force)
        claim.check()
    zoo = generator is None and classifier is None
    if zoo:
        click.echo(
            f"No generator or classifier named: using the embedded default {DEFAULT_GENERATOR} with "
            f"{DEFAULT_CLASSIFIER} ({samples or ZOO_SAMPLES} samples, keeping {keep or ZOO_KEEP}).",
            err=True,
        )
        if preset is None:
            for option, value, cli_default, name in (
                ("--samples", samples, ZOO_SAMPLES, "num_samples"),
                ("--keep", keep, ZOO_KEEP, "num_keep"),
            ):
                if value is None:
                    note_sample_default(option, cli_default, f"ganeval.separability() ({name})", LIBRARY_DEFAULTS[name])
    space_list: tuple[Any, ...] = tuple(s.strip() for s in spaces.split(",") if s.strip())
    params: dict[str, Any] = {
        "num_samples": samples or (ZOO_SAMPLES if zoo else LIBRARY_DEFAULTS["num_samples"]),
        "num_keep": keep or (ZOO_KEEP if zoo else LIBRARY_DEFAULTS["num_keep"]),
        "split": split,
        "solver": solver,
    }
    if preset is not None:
        if samples is not None or keep is not None:
            raise GanevalValueError(
                f"Option `--preset` fixes --samples and --keep; omit them, but got --samples {samples} --keep {keep}."
            )
        fixed = SEPARABILITY_PRESETS[preset]
        ctx = click.get_current_context()
        given = {
            k for k in ("split", "solver") if ctx.get_parameter_source(k) is click.core.ParameterSource.COMMANDLINE
        }
        if renamed_protocol is not None:
            given.add("split")
        clash = [f"--{k} {params[k]}" for k in ("split", "solver") if k in given and params[k] != fixed[k]]
        if clash:
            raise GanevalValueError(
                f"Option `--preset {preset}` fixes split={fixed['split']!r} and "
                f"solver={fixed['solver']!r}; omit {', '.join(clash)}."
            )
        params.update(fixed)
    G = load(generator or DEFAULT_GENERATOR, device)
    clf = load_classifier(classifier or DEFAULT_CLASSIFIER, device=device)
    result = separability(
        G,
        clf,
        spaces=space_list,
        seed=seed,
        batch_size=batch_size,
        device=device,
        w_layer=w_layer,
        cache_dir=False if no_cache else cache_dir,
        on_nan=on_nan,
        progress=progress_mode(quiet, log_json),
        **params,
    )
    if not distributed.is_main():  # under torchrun only rank 0 prints and writes
        return
    if as_json:
        click.echo(result.to_json_line())
    else:
        cols = ["attribute", "space", "entropy_bits", "svm_train_acc", "heldout_acc", "class_balance", "kept", "status"]
        click.echo(result.table[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        for space, score in result.scores().items():
            n = result.extra[f"num_scored_{space}"]
            click.echo(f"{result.metric} {space}: {score:.4f} ({n} of {len(clf.attribute_names)} attributes scored)")
    if out_dir is not None:
        from ..plots.separability import plot_separability

        out = Path(out_dir)
        append_line(out / "result.jsonl", result.to_json_line(include_per_sample=True))
        csv = result.table.to_csv(index=False).encode("utf-8")
        atomic_write(out / "attributes.csv", lambda tmp: Path(tmp).write_bytes(csv))
        fig = plot_separability(result)
        atomic_write(out / "entropy.png", lambda tmp: fig.savefig(tmp, format="png", dpi=120))
        assert claim is not None  # made above when out_dir is given
        claim.record()
        click.echo(f"Wrote {out / 'result.jsonl'}, {out / 'attributes.csv'}, {out / 'entropy.png'}", err=True)
    if boundaries_dir is not None:
        import re

        ident = config_hash({"result": result.config, "generator": generator, "classifier": classifier})
        claims = [
            OutputClaim(
                Path(boundaries_dir) / s,
                [f"boundary_{re.sub(r'[^A-Za-z0-9_.-]', '_', a)}.npy" for a in result.normals[s]],
                ident,
                force,
            )
            for s in result.normals
        ]
        for claim_b in claims:  # all checked before any is written
            claim_b.check()
        written = {s: len(export_boundaries(result, Path(boundaries_dir) / s, space=s)) for s in result.normals}
        for claim_b in claims:
            claim_b.record()
        click.echo(f"Wrote boundaries under {boundaries_dir}: " + json.dumps(written), err=True)

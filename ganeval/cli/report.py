"""``ganeval report CONFIG [--out DIR] [--force] [--device D]`` and ``ganeval report --from results.jsonl``."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import device_option

__all__ = ["command"]


@click.command("report")
@click.argument("config", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: the config's `out`, else reports/<name>/).",
)
@click.option("--force", is_flag=True, help="Recompute every metric and figure, even those already in results.jsonl.")
@click.option(
    "--from",
    "from_results",
    type=click.Path(path_type=Path),
    default=None,
    help="Re-render index.html and the CSVs from this results.jsonl without running anything.",
)
@device_option
@click.pass_context
def command(
    ctx: click.Context, config: Path | None, out_dir: Path | None, force: bool, from_results: Path | None, device: str
) -> None:
    """Evaluate the generators and metrics of CONFIG (TOML) and write an HTML report.

    Writes index.html, results.jsonl, one CSV per table and the figures; prints the path of
    index.html. Cells already computed with the same configuration are reused. Exits with 1
    when any generator, metric or figure failed (the report is still written, with the failure
    shown in its cell and in the failures section).
    """
    from ..errors import GanevalValueError
    from ..report import load_config, render_report, run_report

    if from_results is not None:
        if config is not None or force:
            raise GanevalValueError("Option `--from` re-renders existing results; it takes no CONFIG and no --force.")
        rendered = render_report(from_results, out_dir=out_dir)
    else:
        if config is None:
            raise GanevalValueError(
                "Argument `CONFIG` is required (a TOML file), unless --from results.jsonl is given."
            )
        cfg = load_config(config)
        # the config's device applies unless --device was given explicitly
        dev = device if ctx.get_parameter_source("device") != click.core.ParameterSource.DEFAULT else None
        outcome = run_report(cfg, out_dir=out_dir, force=force, device=dev, log=lambda m: click.echo(m, err=True))
        click.echo(f"{outcome.num_computed} cell(s) computed, {outcome.num_reused} reused", err=True)
        rendered = render_report(outcome.results_path)
    click.echo(str(rendered.index))
    if rendered.num_failures:
        click.echo(f"{rendered.num_failures} failure(s); see the Failures section of {rendered.index}", err=True)
        ctx.exit(1)

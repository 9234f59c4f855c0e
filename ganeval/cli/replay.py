"""``ganeval replay RESULTS.jsonl [--index N] [--metric NAME] [--rtol R] [--device D] [--out FILE [--force]]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import GanevalValueError, OutputError
from ._options import FiniteFloat, device_option, progress_mode, progress_options

__all__ = ["command"]


@click.command("replay")
@click.argument("results_file", metavar="RESULTS", type=click.Path(dir_okay=True))
@click.option(
    "--index",
    "indices",
    type=click.IntRange(min=0),
    multiple=True,
    help="Replay only the result at this position (0-based, in file order); repeatable.",
)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    help="Replay only results of this metric name (e.g. ppl, ppl_wend, FD_shapes); repeatable.",
)
@click.option(
    "--rtol",
    type=FiniteFloat(0.0, 0.5),
    default=0.0,
    show_default=True,
    help="Relative tolerance of every compared number. 0 = bit-identical, what docs/numerics.md "
    "guarantees for a rerun on the same machine and thread count; across machines use the measured "
    "noise floor (1e-3 for a PPL).",
)
@device_option
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the replayed results here as JSON lines (with per-sample data).",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@progress_options
def command(
    results_file: str,
    indices: tuple[int, ...],
    metrics: tuple[str, ...],
    rtol: float,
    device: str,
    out_file: str | None,
    force: bool,
    quiet: bool,
    log_json: bool,
) -> None:
    """Re-run every recorded result of RESULTS from its config and say whether it reproduces.

    Prints one line per result. Exit status 0: every replayed result reproduces; 1: at least
    one does not (the line says which numbers differ); 2: bad input (missing file, a line that
    is not a result, a config naming something that does not load).
    """
    from .._io import atomic_write, check_output_file
    from .._replay import compare, prepare
    from ..results import load_results

    progress = progress_mode(quiet, log_json)
    out = _check_out(Path(out_file), force, check_output_file) if out_file is not None else None
    results = load_results(results_file)
    chosen = _select(results, indices, metrics, results_file)
    loaded: dict[Any, Any] = {}
    runs = []  # every named input loads before any metric runs: a bad name costs no compute
    for i in chosen:
        try:
            runs.append((i, *prepare(results[i], device=device, progress=progress, loaded=loaded)))
        except GanevalValueError as exc:
            raise GanevalValueError(f"result [{i}] of {results_file}: {exc}") from None
    outcomes = []
    for i, run, notes in runs:
        outcome = compare(results[i], run(), rtol=rtol, notes=tuple(notes))
        outcomes.append(outcome)
        click.echo(f"[{i}] {outcome.summary()}")
    failed = sum(not o.reproduced for o in outcomes)
    click.echo(
        f"{len(outcomes) - failed} of {len(outcomes)} reproduce"
        f"{' exactly' if rtol == 0 else f' within relative tolerance {rtol:g}'}.",
        err=True,
    )
    if out is not None:
        text = "".join(o.replayed.to_json_line(include_per_sample=True) + "\n" for o in outcomes)
        atomic_write(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        click.echo(f"Wrote {out}", err=True)
    if failed:
        raise click.exceptions.Exit(1)


def _check_out(out: Path, force: bool, check_output_file: Any) -> Path:
    """The --out file, checked before any work: writable, and not overwritten without --force."""
    if out.exists() and not force:
        raise OutputError(f"Option `--out` names {str(out)!r}, which exists; choose another file or pass --force.")
    return check_output_file(out, (".jsonl",))


def _select(results: list[Any], indices: tuple[int, ...], metrics: tuple[str, ...], where: str) -> list[int]:
    """Positions of the results to replay: all, or those --index and --metric name (both: both must hold)."""
    if not results:
        raise GanevalValueError(f"{where} holds no results; nothing to replay.")
    for i in indices:
        if i >= len(results):
            raise GanevalValueError(
                f"Option `--index` is {i}, but {where} holds {len(results)} results (indices 0..{len(results) - 1})."
            )
    names = sorted({r.metric for r in results})
    for m in metrics:
        if m not in names:
            raise GanevalValueError(f"Option `--metric` is {m!r}, but {where} holds only {', '.join(names)}.")
    chosen = [
        i
        for i in range(len(results))
        if (not indices or i in indices) and (not metrics or results[i].metric in metrics)
    ]
    if not chosen:
        raise GanevalValueError("Options `--index` and `--metric` select no result together; drop one of them.")
    return chosen

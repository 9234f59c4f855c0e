"""Options shared by every subcommand, so they read and behave the same everywhere."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

__all__ = [
    "device_option",
    "seed_option",
    "on_nan_option",
    "progress_options",
    "progress_mode",
    "parse_seeds",
    "renamed_option",
    "take_renamed",
    "note_sample_default",
    "FiniteFloat",
    "MAX_SEEDS",
    "IMAGE_SUFFIXES",
]

MAX_SEEDS = 4096  # images in one grid; more is a typo (0-100000000), not a figure
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


class FiniteFloat(click.ParamType):
    """A float in ``[lo, hi]``: refuses ``nan``, ``inf`` and out-of-range values with a usage error."""

    name = "float"

    def __init__(self, lo: float, hi: float) -> None:
        self.lo, self.hi = lo, hi

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            v = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number.", param, ctx)
        if not (math.isfinite(v) and self.lo <= v <= self.hi):
            self.fail(f"{value!r} is not a finite number in [{self.lo:g}, {self.hi:g}].", param, ctx)
        return v


def device_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--device", default="auto", show_default=True, help="auto | cpu | cuda | cuda:N (auto: CUDA when available)."
    )(f)


def seed_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--seed",
        type=click.IntRange(min=0, max=2**63 - 1),
        default=0,
        show_default=True,
        help="Seed from which every random draw is derived.",
    )(f)


def on_nan_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--on-nan stop|skip``: what a metric does with NaN/Inf generator output."""
    return click.option(
        "--on-nan",
        type=click.Choice(["stop", "skip"]),
        default="stop",
        show_default=True,
        help="Samples with NaN/Inf generator output: stop with an error, or skip them; both "
        "report how many and the first sample indices.",
    )(f)


def progress_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--quiet`` and ``--log-json``; turn them into a mode with :func:`progress_mode`."""
    f = click.option("--log-json", is_flag=True, help="Progress as JSON lines on stderr (machine logs).")(f)
    return click.option("--quiet", "-q", is_flag=True, help="No progress output.")(f)


def progress_mode(quiet: bool, log_json: bool) -> str:
    """The :func:`ganeval.runtime.map_samples` progress mode for the CLI flags."""
    if quiet and log_json:
        raise click.UsageError("--quiet and --log-json exclude each other.")
    return "quiet" if quiet else "json" if log_json else "auto"


def parse_seeds(spec: str) -> list[int]:
    """Parse ``"0-15"``, ``"1,2,3"`` or ``"0-3,10"`` into a list of ints."""
    out: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part[1:]:
            a, b = part.split("-", 1) if not part.startswith("-") else part[1:].split("-", 1)
            lo, hi = int(a), int(b)
            if hi < lo:
                raise click.BadParameter(f"range {part!r} is empty (end before start).")
            if hi - lo + 1 + len(out) > MAX_SEEDS:
                raise click.BadParameter(f"{spec!r} names more than {MAX_SEEDS} seeds.")
            out.extend(range(lo, hi + 1))
        else:
            out.append(int(part))
        if len(out) > MAX_SEEDS:
            raise click.BadParameter(f"{spec!r} names more than {MAX_SEEDS} seeds.")
    if not out:
        raise click.BadParameter(f"no seeds in {spec!r}; expected e.g. 0-15 or 1,2,3.")
    return out


def renamed_option(old: str, choices: tuple[str, ...]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The hidden option ``--<old>`` (parameter ``renamed_<old>``), kept for one release after its rename
    (see :mod:`ganeval._renamed`); :func:`take_renamed` moves its value to the new option."""
    return click.option(f"--{old}", f"renamed_{old}", type=click.Choice(choices), default=None, hidden=True)


def take_renamed(old: str, new: str, old_value: str | None, new_value: Any, default: Any) -> Any:
    """The new option's value, taking the old option's with a one-line warning; both given and different raise."""
    if old_value is None:
        return new_value
    if new_value not in (None, default) and new_value != old_value:
        from ..errors import GanevalValueError

        raise GanevalValueError(
            f"Options `--{old}` (the old name of `--{new}`) and `--{new}` disagree: {old_value!r} vs "
            f"{new_value!r}; pass only --{new} {old_value}."
        )
    click.echo(f"Warning: option --{old} is renamed --{new}; --{old} will be removed in the next release.", err=True)
    return old_value


def note_sample_default(option: str, cli_default: int, function: str, library_default: int) -> None:
    """One ``Note:`` line (rank 0 only) when the CLI's default count differs from the library function's."""
    from ..distributed import is_main

    if cli_default != library_default and is_main():
        click.echo(
            f"Note: {option} defaults to {cli_default:,} here but {function} defaults to {library_default:,}; "
            f"pass {option} {library_default} for the library's count.",
            err=True,
        )

"""``ganeval weights list|fetch|verify|path``: inspect and fill the weights cache."""

from __future__ import annotations

import click

from ..errors import ChecksumError, WeightsNotFoundError

__all__ = ["command"]

_cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Cache root (default: $GANEVAL_HOME, else ~/.cache/ganeval).",
)


def _human(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


@click.group("weights")
def command() -> None:
    """List, fetch, verify and locate registered weights."""


@command.command("list")
@click.option("--kind", default=None, help="Only entries of this kind (generator, lpips, backbone, inception, ...).")
@_cache_dir_option
def list_command(kind: str | None, cache_dir: str | None) -> None:
    """Table of every registered entry: name, kind, cached?, size, licence."""
    from .. import weights
    from ..weights._registry import _package_copy

    rows = []
    for entry in weights.list_entries(kind):
        path = weights.local_path(entry.name, cache_dir=cache_dir)
        if entry.is_zoo:
            cached = "packaged" if path.is_file() else "MISSING"
        elif path.is_file():
            cached = "yes"
        else:
            # e.g. the lpips pip package ships the LPIPS linear weights: resolve uses that copy
            copy = _package_copy(entry)
            cached, path = ("package", copy) if copy is not None else ("no", path)
        size = path.stat().st_size if path.is_file() else entry.size
        rows.append((entry.name, entry.kind, cached, _human(size), entry.licence))
    header = ("name", "kind", "cached", "size", "licence")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row[:4], widths)) + "  " + row[4])


@command.command("fetch")
@click.argument("name")
@click.option("--offline", is_flag=True, default=None, help="Never use the network (also GANEVAL_OFFLINE=1).")
@_cache_dir_option
def fetch_command(name: str, offline: bool | None, cache_dir: str | None) -> None:
    """Download NAME into the cache if needed, verify it and print its path."""
    from .. import weights

    click.echo(str(weights.resolve(name, cache_dir=cache_dir, offline=offline or None)))


@command.command("verify")
@click.argument("name", required=False)
@_cache_dir_option
def verify_command(name: str | None, cache_dir: str | None) -> None:
    """Re-hash NAME's file, or without NAME every cached and packaged file."""
    from .. import weights

    if name is not None:
        result = weights.verify(name, cache_dir=cache_dir)
        if result.status == "missing":
            raise WeightsNotFoundError(f"Weights `{name}` are not available locally: {result.path} does not exist.")
        if result.status == "mismatch":
            raise ChecksumError(result.message)
        click.echo(f"ok  {result.name}  {result.sha256}  {result.path}")
        return
    bad = []
    checked = 0
    for entry in weights.list_entries():
        result = weights.verify(entry.name, cache_dir=cache_dir)
        if result.status == "missing":
            continue
        checked += 1
        if result.ok:
            click.echo(f"ok        {result.name}  {result.sha256}  {result.path}")
        else:
            bad.append(result.name)
            click.echo(f"MISMATCH  {result.name}  {result.message}")
    click.echo(f"{checked} file(s) checked, {len(bad)} mismatch(es).", err=True)
    if bad:
        raise ChecksumError(f"{len(bad)} weights file(s) failed verification: {', '.join(bad)}.")


@command.command("path")
@click.argument("name")
@_cache_dir_option
def path_command(name: str, cache_dir: str | None) -> None:
    """Print where NAME's file is, or where to put it (nothing is downloaded or hashed)."""
    from .. import weights

    entry = weights.get_entry(name)
    path = weights.local_path(name, cache_dir=cache_dir)
    click.echo(str(path))
    if not path.is_file():
        source = entry.urls[0] if entry.urls else "the file"
        click.echo(f"(not present: download {source} and save it at this path)", err=True)

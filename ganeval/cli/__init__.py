"""The ``ganeval`` command line: a thin layer over the library.

Each subcommand lives in its own module ``ganeval/cli/<name>.py`` exposing ``command`` and is
imported only when used, so ``ganeval --help`` stays fast. Every :class:`GanevalError` is
printed as one line on stderr and exits with status 2.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from ..errors import GanevalError

# subcommand -> (module, one-line help shown by `ganeval --help`)
_COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("ganeval.cli.info", "Describe a generator: architecture, sizes, parameters, provenance."),
    "sample": ("ganeval.cli.sample", "Render an uncurated sample grid."),
    "mix": ("ganeval.cli.mix", "Render a style-mixing grid."),
    "ppl": ("ganeval.cli.ppl", "Perceptual path length in Z or W."),
    "separability": ("ganeval.cli.separability", "Linear separability of Z and W (SVM + conditional entropy)."),
    "fid": ("ganeval.cli.fid", "Fréchet distance (FID); with --metrics also KID, precision/recall, IS."),
    "kid": ("ganeval.cli.fid", "Kernel Inception distance."),
    "pr": ("ganeval.cli.fid", "Precision and recall (k-NN manifolds)."),
    "stats": ("ganeval.cli.fid", "Compute and save feature statistics of an image set."),
    "weights": ("ganeval.cli.weights", "List, fetch, verify and locate registered weights."),
    "report": ("ganeval.cli.report", "Evaluate several generators and write an HTML report."),
    "replay": ("ganeval.cli.replay", "Re-run recorded results (results.jsonl) and check that they reproduce."),
    "eq": (
        "ganeval.cli.equivariance",
        "Equivariance to translation / rotation (EQ-T, EQ-T_frac, EQ-R) of StyleGAN3 generators.",
    ),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _COMMANDS:
            return None
        module = importlib.import_module(_COMMANDS[name][0])
        cmd = getattr(module, f"{name}_command", None) or module.command
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GanevalError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)
        except (EOFError, RecursionError, MemoryError) as exc:
            # inputs that end early, nest without bound or ask for more memory than there is: one
            # line, not click's bare "Aborted!" (EOFError) or a traceback
            what = (
                "an input ended early (truncated file?)"
                if isinstance(exc, EOFError)
                else "an input is nested too deeply to be a valid file"
                if isinstance(exc, RecursionError)
                else "not enough memory (an input asks for more than the machine has)"
            )
            click.echo(f"Error: {what}: {exc or type(exc).__name__}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt as exc:  # RunInterrupted says what was kept and how to resume
            click.echo(f"Interrupted: {exc}" if str(exc) else "Interrupted.", err=True)
            ctx.exit(130)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ganeval")
def main() -> None:
    """ganeval: evaluate and explain StyleGAN-family latent spaces.

    Under torchrun (``torchrun --nproc_per_node=K -m ganeval ppl ...``) every metric shards its
    samples across the processes; only rank 0 prints and writes files.
    """
    import logging
    import warnings

    from .. import distributed

    logging.basicConfig(level=logging.INFO, format="%(levelname_title)s: %(message)s", stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_title_level)
    warnings.showwarning = _show_warning
    distributed.init_from_env()


def _title_level(record: Any) -> bool:
    """Log lines read ``Warning: ...`` / ``Info: ...`` like the CLI's ``Error: ...`` and ``Note: ...``."""
    record.levelname_title = record.levelname.title()
    return True


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Python warnings reach CLI users as one ``Warning: ...`` line, without the source line."""
    print(f"Warning: {message}", file=sys.stderr if file is None else file)


def run(args: list[str] | None = None) -> int:
    """Run the CLI in-process (for tests); returns the exit code."""
    try:
        # click >= 8.2 returns the exit code of ctx.exit(n) instead of raising Exit
        rv = main.main(args=args, standalone_mode=False)
        if isinstance(rv, int):
            return rv
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

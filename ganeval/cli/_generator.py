"""Helpers shared by the generator commands (``info``, ``sample``, ``mix``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click
import torch

from .. import _seeding
from ..errors import GanevalValueError
from ._options import MAX_SEEDS, parse_seeds

if TYPE_CHECKING:
    from ..models.base import StyleGenerator

__all__ = ["Z_STREAM", "load", "seeds_arg", "latents", "labels", "parameter_count", "save_image_atomic"]

#: the stream of ``ganeval._seeding`` that the image of seed s is drawn from (sample index s)
Z_STREAM = "z"


def load(source: str, device: str | torch.device) -> StyleGenerator:
    """Load a generator by path or registry name on ``device`` (``auto`` | ``cpu`` | ``cuda[:N]``), through the
    resolver every metric uses (the same error for the same mistake)."""
    from ..devices import resolve_device
    from ..loaders import resolve_generator

    # the commands call the generator protocol; StyleGenerator is the type their helpers are annotated with
    return cast("StyleGenerator", resolve_generator(source, resolve_device(device), argument="source"))


def seeds_arg(name: str, spec: str) -> list[int]:
    """Parse a seed list (``0-15``, ``1,2,3``) or raise a one-line :class:`GanevalValueError`."""
    try:
        seeds = parse_seeds(spec)
    except (click.BadParameter, ValueError) as exc:
        why = f" ({exc.message})" if isinstance(exc, click.BadParameter) else ""
        raise GanevalValueError(
            f"Option `{name}` must be a list of at most {MAX_SEEDS} non-negative seeds such as 0-15 or 1,2,3, "
            f"but got {spec!r}{why}."
        ) from None
    if any(s < 0 or s >= 2**63 for s in seeds):
        raise GanevalValueError(f"Option `{name}` must hold seeds in [0, 2^63), but got {spec!r}.")
    return seeds


def latents(G: Any, seed: int, seeds: Sequence[int], device: torch.device) -> torch.Tensor:
    """z ``[len(seeds), z_dim]``: row n is sample index ``seeds[n]`` of stream "z" under ``seed``."""
    return _seeding.normal(seed, Z_STREAM, list(seeds), [G.z_dim]).to(device)


def labels(G: Any, class_index: int | None, batch: int, device: torch.device) -> torch.Tensor | None:
    """One-hot labels ``[batch, c_dim]`` for a conditional generator, else ``None``."""
    c_dim = int(getattr(G, "c_dim", 0))
    if c_dim == 0:
        if class_index is not None:
            raise GanevalValueError(
                f"Option `--class` must be omitted for an unconditional generator, but got {class_index}."
            )
        return None
    if class_index is None or not 0 <= class_index < c_dim:
        raise GanevalValueError(
            f"Option `--class` must be an integer from 0 to {c_dim - 1} for this conditional generator, "
            f"but got {class_index}."
        )
    c = torch.zeros(batch, c_dim, device=device)
    c[:, class_index] = 1
    return c


def parameter_count(G: torch.nn.Module) -> int:
    """Number of parameters (trainable weights; buffers such as noise maps and w_avg excluded)."""
    return int(sum(p.numel() for p in G.parameters()))


def save_image_atomic(image: Any, path: Path) -> Path:
    """Write a PIL image to ``path`` all at once (temporary file + rename): a kill never leaves a
    truncated file where a valid one was; the file gets the umask's mode."""
    from .._io import atomic_write

    atomic_write(path, lambda tmp: image.save(tmp))
    return path

"""``ganeval sample GENERATOR --seeds 0-15 --truncation 0.7 --out grid.png``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
import torch

from ._generator import labels, latents, load, save_image_atomic, seeds_arg
from ._options import IMAGE_SUFFIXES, MAX_SEEDS, FiniteFloat, device_option, seed_option

if TYPE_CHECKING:
    from ..models.base import StyleGenerator

__all__ = ["command", "render"]


def render(
    G: StyleGenerator,
    seeds: list[int],
    *,
    seed: int,
    truncation: float,
    noise_mode: str,
    class_index: int | None,
    batch_size: int,
    device: torch.device,
) -> torch.Tensor:
    """Images ``[len(seeds), C, H, W]`` in [-1, 1] on the CPU; image n is sample ``seeds[n]``.

    ``noise_mode="random"`` draws each image's noise from ``(seed, "noise/k", seeds[n])``, so an
    image does not depend on the batch it was rendered in.
    """
    from ..models.control import make_noise

    out = []
    for start in range(0, len(seeds), batch_size):
        part = seeds[start : start + batch_size]
        z = latents(G, seed, part, device)
        c = labels(G, class_index, len(part), device)
        with torch.no_grad():
            if noise_mode == "random":
                ws = G.mapping(z, c, truncation_psi=truncation)
                noise = make_noise(G, len(part), "random", seed=seed, device=device, indices=part)
                img = G.synthesis(ws, noise_mode="const", noise=noise)
            else:
                img = G(z, c, truncation_psi=truncation, noise_mode=noise_mode)
        out.append(img.float().cpu())
    return torch.cat(out)


@click.command("sample")
@click.argument("generator")
@click.option("--seeds", default="0-15", show_default=True, help="Sample indices, e.g. 0-15 or 1,2,3.")
@click.option(
    "--truncation", type=FiniteFloat(-100.0, 100.0), default=1.0, show_default=True, help="Truncation psi (1: none)."
)
@click.option("--noise-mode", type=click.Choice(["const", "random", "none"]), default="const", show_default=True)
@click.option("--class", "class_index", type=int, default=None, help="Class index (conditional generators).")
@click.option(
    "--ncols", type=click.IntRange(min=1, max=MAX_SEEDS), default=None, help="Grid columns (default: square)."
)
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default="grid.png", show_default=True)
@device_option
@seed_option
def command(
    generator: str,
    seeds: str,
    truncation: float,
    noise_mode: str,
    class_index: int | None,
    ncols: int | None,
    batch_size: int,
    out_path: str,
    device: str,
    seed: int,
) -> None:
    """Render an uncurated grid from GENERATOR; prints the path written.

    The latent of seed s is sample index s of stream "z" under --seed (ganeval's counter-based
    seeding), so a seed's image is the same in every grid.
    """
    from .._io import check_output_file
    from ..devices import resolve_device
    from ..viz.grid import image_grid

    seed_list = seeds_arg("--seeds", seeds)
    check_output_file(out_path, IMAGE_SUFFIXES)  # before loading and rendering
    dev = resolve_device(device)
    G = load(generator, dev)
    images = render(
        G,
        seed_list,
        seed=seed,
        truncation=truncation,
        noise_mode=noise_mode,
        class_index=class_index,
        batch_size=batch_size,
        device=dev,
    )
    path = save_image_atomic(image_grid(images, ncols=ncols), Path(out_path))
    click.echo(str(path))

"""``ganeval mix GENERATOR --rows 1,2,3 --cols 4,5 --layers coarse --out mix.png``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
import torch

from ._generator import labels, latents, load, save_image_atomic, seeds_arg
from ._options import IMAGE_SUFFIXES, FiniteFloat, device_option, seed_option

if TYPE_CHECKING:
    from ..models.base import StyleGenerator

__all__ = ["command", "render_mix"]


def render_mix(
    G: StyleGenerator,
    rows: list[int],
    cols: list[int],
    layers: str,
    *,
    seed: int,
    truncation: float,
    class_index: int | None,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Style mixing as in the StyleGAN paper's figure 3.

    Cell (i, j) takes the styles of column source ``cols[j]`` at ``layers`` and those of row
    source ``rows[i]`` elsewhere. Returns ``(row_images [R], col_images [K], cells [R*K])``,
    each ``[*, C, H, W]`` in [-1, 1] on the CPU; noise is the generator's constant noise.
    """
    from ..models.control import crossover

    seeds = rows + cols
    z = latents(G, seed, seeds, device)
    c = labels(G, class_index, len(seeds), device)
    with torch.no_grad():
        ws = G.mapping(z, c, truncation_psi=truncation)
        ws_rows, ws_cols = ws[: len(rows)], ws[len(rows) :]
        r, k = len(rows), len(cols)
        mixed = crossover(ws_rows.repeat_interleave(k, dim=0), ws_cols.repeat(r, 1, 1), layers, G=G)
        images = G.synthesis(torch.cat([ws, mixed]), noise_mode="const").float().cpu()
    return images[:r], images[r : r + k], images[r + k :]


@click.command("mix")
@click.argument("generator")
@click.option("--rows", default="1,2,3", show_default=True, help="Row sources (seeds): keep their other styles.")
@click.option("--cols", default="4,5", show_default=True, help="Column sources (seeds): give the chosen layers.")
@click.option(
    "--layers", default="coarse", show_default=True, help="coarse | middle | fine | A-B (inclusive ws indices) | 1,3,5."
)
@click.option(
    "--truncation", type=FiniteFloat(-100.0, 100.0), default=1.0, show_default=True, help="Truncation psi (1: none)."
)
@click.option("--class", "class_index", type=int, default=None, help="Class index (conditional generators).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default="mix.png", show_default=True)
@device_option
@seed_option
def command(
    generator: str,
    rows: str,
    cols: str,
    layers: str,
    truncation: float,
    class_index: int | None,
    out_path: str,
    device: str,
    seed: int,
) -> None:
    """Render a style-mixing grid from GENERATOR; prints the path written.

    The top row shows the column sources, the left column the row sources; each cell copies the
    column source's styles at --layers into the row source.
    """
    from .._io import check_output_file
    from ..devices import resolve_device
    from ..models.control import resolve_layers, ws_resolutions
    from ..viz.grid import labelled_grid, mixing_grid

    row_seeds, col_seeds = seeds_arg("--rows", rows), seeds_arg("--cols", cols)
    check_output_file(out_path, IMAGE_SUFFIXES)  # before loading and rendering
    dev = resolve_device(device)
    G = load(generator, dev)
    resolve_layers(layers, ws_resolutions(G), name="--layers")  # refuse bad input before any work
    row_imgs, col_imgs, cells = render_mix(
        G, row_seeds, col_seeds, layers, seed=seed, truncation=truncation, class_index=class_index, device=dev
    )
    grid = mixing_grid(row_imgs, col_imgs, cells)
    grid = labelled_grid(
        grid,
        cell_size=G.img_resolution,
        row_labels=["", *map(str, row_seeds)],
        col_labels=["", *map(str, col_seeds)],
        title=f"layers {layers} from columns",
    )
    path = save_image_atomic(grid, Path(out_path))
    click.echo(str(path))

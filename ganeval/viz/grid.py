"""Image grids: generator output (float32 NCHW in [-1, 1]) -> 8-bit PIL images.

>>> import torch
>>> img = image_grid(torch.zeros(6, 3, 8, 8), ncols=3, padding=1)
>>> img.size  # (width, height): 3 * 8 + 4 * 1, 2 * 8 + 3 * 1
(28, 19)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .._validate import check_tensor_shape
from ..errors import GanevalValueError

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["to_uint8", "image_grid", "mixing_grid", "labelled_grid", "save_image"]


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Images ``[N, C, H, W]`` (C = 1 or 3) in nominal [-1, 1] -> uint8 ``[N, H, W, C]``.

    Maps -1 -> 0 and 1 -> 255 (``round((x + 1) * 127.5)``), clipping values outside the range.
    """
    check_tensor_shape("images", images, [None, None, None, None])
    if images.shape[1] not in (1, 3):
        raise GanevalValueError(f"Argument `images` must have 1 or 3 channels, but got shape {list(images.shape)}.")
    x = images.detach().to("cpu", torch.float32)
    x = torch.nan_to_num(x, nan=-1.0)  # a NaN pixel renders black instead of breaking the grid
    x = ((x + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def _tile(cells: np.ndarray, ncols: int, padding: int, background: int) -> np.ndarray:
    """uint8 ``[N, H, W, C]`` -> uint8 ``[rows*H + pad, ncols*W + pad, C]``, row-major."""
    n, h, w, c = cells.shape
    nrows = -(-n // ncols)
    out = np.full((nrows * (h + padding) + padding, ncols * (w + padding) + padding, c), background, np.uint8)
    for i in range(n):
        r, q = divmod(i, ncols)
        y, x = padding + r * (h + padding), padding + q * (w + padding)
        out[y : y + h, x : x + w] = cells[i]
    return out


def _pil(array: np.ndarray) -> Image.Image:
    from PIL import Image

    return Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)


def image_grid(images: torch.Tensor, ncols: int | None = None, padding: int = 0, background: int = 255) -> Image.Image:
    """Tile ``[N, C, H, W]`` images in [-1, 1] row-major into one PIL image.

    ``ncols`` defaults to ``ceil(sqrt(N))``; ``padding`` pixels of grey level ``background``
    separate the cells and frame the grid.
    """
    cells = to_uint8(images)
    ncols = int(np.ceil(np.sqrt(len(cells)))) if ncols is None else int(ncols)
    if ncols < 1:
        raise GanevalValueError(f"Argument `ncols` must be an integer >= 1, but got {ncols}.")
    return _pil(_tile(cells, ncols, padding, background))


def mixing_grid(
    row_images: torch.Tensor, col_images: torch.Tensor, mixed: torch.Tensor, padding: int = 0, background: int = 255
) -> Image.Image:
    """The StyleGAN paper's style-mixing figure.

    Args:
        row_images: ``[R, C, H, W]``, shown down the left column (one per row).
        col_images: ``[K, C, H, W]``, shown along the top row (one per column).
        mixed: ``[R * K, C, H, W]`` (row-major) or ``[R, K, C, H, W]``: cell (i, j).

    Returns:
        a PIL image of ``(R + 1) x (K + 1)`` cells with a blank top-left corner.
    """
    r, k = row_images.shape[0], col_images.shape[0]
    if mixed.ndim == 5:
        check_tensor_shape("mixed", mixed, [r, k, *row_images.shape[1:]])
        mixed = mixed.reshape(r * k, *mixed.shape[2:])
    check_tensor_shape("mixed", mixed, [r * k, *row_images.shape[1:]])
    check_tensor_shape("col_images", col_images, [k, *row_images.shape[1:]])
    blank = torch.full_like(row_images[:1], float(background) / 127.5 - 1.0)
    rows = [torch.cat([blank, col_images])]
    rows += [torch.cat([row_images[i : i + 1], mixed[i * k : (i + 1) * k]]) for i in range(r)]
    return image_grid(torch.cat(rows), ncols=k + 1, padding=padding, background=background)


def labelled_grid(
    grid: Image.Image,
    *,
    cell_size: int,
    padding: int = 0,
    row_labels: Sequence[str] = (),
    col_labels: Sequence[str] = (),
    title: str | None = None,
    margin: int = 14,
    background: int = 255,
) -> Image.Image:
    """Add text labels to the left of each row and above each column of a grid, and a title line.

    ``cell_size`` is the side of one cell in pixels (without padding). Labels are drawn with
    PIL's built-in font in black; an empty sequence (or no title) leaves that margin out.
    """
    from PIL import Image, ImageDraw

    left = margin * 4 if row_labels else 0
    head = margin if title else 0
    top = head + (margin if col_labels else 0)
    title_width = int(ImageDraw.Draw(Image.new("L", (1, 1))).textlength(title)) + 4 if title else 0
    out = Image.new(
        grid.mode,
        (max(grid.width + left, title_width), grid.height + top),
        background if grid.mode == "L" else (background,) * 3,
    )
    out.paste(grid, (left, top))
    draw = ImageDraw.Draw(out)
    fill = 0 if grid.mode == "L" else (0, 0, 0)
    step = cell_size + padding
    for i, text in enumerate(row_labels):
        draw.text((2, top + padding + i * step + cell_size // 2 - 5), str(text), fill=fill)
    for j, text in enumerate(col_labels):
        draw.text((left + padding + j * step + 2, head + 1), str(text), fill=fill)
    if title:
        draw.text((2, 1), title, fill=fill)
    return out


def save_image(image: Image.Image, path: str | os.PathLike[str]) -> Path:
    """Save ``image`` (format from the suffix, e.g. .png), creating the parent folder; returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    image.save(p)
    return p

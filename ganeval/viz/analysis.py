"""The StyleGAN paper's analysis figures (arXiv 1812.04948, figures 3-5 and the interpolation
videos) for any ganeval generator, as uint8 images with a one-line caption each.

- :func:`sample_grid`: uncurated samples.
- :func:`style_mixing_grid`: sources A on the rows, sources B on the columns; each block of rows
  copies B's coarse, middle or fine styles into A (paper figure 3).
- :func:`stochastic_variation`: one latent, several noise realisations, and the per-pixel
  standard deviation over many realisations (figure 4).
- :func:`noise_scope`: noise in all layers, in none, in the fine layers only, in the coarse
  layers only (figure 5).
- :func:`interpolation_strips`: a Z path (spherical) and a W path (linear) between the same endpoints.

Every latent comes from :mod:`ganeval._seeding`: image ``i`` of a figure uses
``z = normal(seed, "z", [i])``, and every random noise map comes from
:func:`ganeval.models.control.make_noise` with the same ``seed``, so a caption's seed and
indices reproduce the figure. Tiles larger than ``max_tile`` px are box-downsampled to keep
the PNGs small (the caption says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import _seeding
from ..errors import GanevalValueError, UnsupportedGeneratorError

__all__ = [
    "AnalysisFigure",
    "sample_grid",
    "style_mixing_grid",
    "stochastic_variation",
    "noise_scope",
    "interpolation_strips",
    "analysis_figures",
    "slerp",
]

_PAD = 2  # px between tiles
_GAP = 6  # px between blocks of rows
_BG = 255  # white background


@dataclass(frozen=True)
class AnalysisFigure:
    """One figure: ``image`` uint8 ``[H, W, 3]``, a short ``title`` and a one-line ``caption``
    saying what it shows and how it was made (seeds, indices, truncation, noise)."""

    name: str
    title: str
    caption: str
    image: np.ndarray

    def to_pil(self) -> Any:
        from PIL import Image

        return Image.fromarray(self.image, mode="RGB")

    def save(self, path: str | Path) -> Path:
        """Write the image as an optimised PNG; returns the path."""
        path = Path(path)
        self.to_pil().save(path, format="PNG", optimize=True)
        return path


# ----------------------------------------------------------------------------- helpers


def _device(G: Any) -> torch.device:
    p = next(iter(G.parameters()), None) if isinstance(G, torch.nn.Module) else None
    return p.device if p is not None else torch.device("cpu")


def _has_w(G: Any) -> bool:
    """Whether G has per-layer styles from a mapping network (not Z-only, not the traditional generator)."""
    return (
        hasattr(G, "mapping")
        and hasattr(G, "synthesis")
        and getattr(G, "num_ws", 0) > 0
        and getattr(G, "has_w_space", True)
    )


def _require_w(G: Any, what: str) -> None:
    if not _has_w(G):
        raise UnsupportedGeneratorError(
            f"Argument `G` must have a mapping and a synthesis network for the {what}, but "
            f"{type(G).__name__} has only a Z space."
        )


def _z(G: Any, seed: int, indices: Sequence[int]) -> torch.Tensor:
    return _seeding.normal(seed, "z", list(indices), (G.z_dim,)).to(_device(G))


def _labels(G: Any, n: int) -> torch.Tensor | None:
    # conditional generators: class 0 for every image (stated in the caption)
    if getattr(G, "c_dim", 0) == 0:
        return None
    c = torch.zeros(n, G.c_dim, device=_device(G))
    c[:, 0] = 1
    return c


def _ws(G: Any, z: torch.Tensor, psi: float) -> torch.Tensor:
    return G.mapping(z, _labels(G, z.shape[0]), truncation_psi=psi)


def _to_tiles(images: torch.Tensor, max_tile: int) -> list[np.ndarray]:
    """Images ``[N, C, H, W]`` in [-1, 1] -> N uint8 ``[h, w, 3]`` (box-downsampled to <= max_tile)."""
    from .grid import to_uint8

    x = images.detach().float().cpu()
    factor = 1
    while x.shape[-1] // factor > max_tile and x.shape[-1] % (factor * 2) == 0:
        factor *= 2
    if factor > 1:
        x = torch.nn.functional.avg_pool2d(x, factor)
    tiles = to_uint8(x[:, :3] if x.shape[1] >= 3 else x[:, :1])
    return list(np.repeat(tiles, 3, axis=-1) if tiles.shape[-1] == 1 else tiles)


def _tile(rows: Sequence[Sequence[np.ndarray | None]], gaps_after: Sequence[int] = ()) -> np.ndarray:
    """Lay out rows of equal-size tiles (None = blank) with padding; extra gap after the listed rows."""
    h, w = next(t for row in rows for t in row if t is not None).shape[:2]
    ncol = max(len(r) for r in rows)
    height = len(rows) * (h + _PAD) + _PAD + _GAP * len(gaps_after)
    canvas = np.full((height, ncol * (w + _PAD) + _PAD, 3), _BG, np.uint8)
    y = _PAD
    for i, row in enumerate(rows):
        for j, t in enumerate(row):
            if t is not None:
                x = _PAD + j * (w + _PAD)
                canvas[y : y + h, x : x + w] = t
        y += h + _PAD + (_GAP if i in gaps_after else 0)
    return canvas


def _with_col_labels(canvas: np.ndarray, tile: int, labels: Sequence[str]) -> np.ndarray:
    from PIL import Image

    from .grid import labelled_grid

    if tile < 6 * max(len(t) for t in labels) + 2:
        return canvas  # PIL's built-in font needs ~6 px per character; the caption names the columns
    out = labelled_grid(Image.fromarray(canvas), cell_size=tile, padding=_PAD, col_labels=labels, background=_BG)
    return np.asarray(out.convert("RGB"))


def _psi_text(psi: float) -> str:
    return "no truncation (psi = 1)" if psi == 1 else f"truncation psi = {psi:g}"


def _tile_note(G: Any, max_tile: int) -> str:
    return f"; tiles box-downsampled to {max_tile} px" if G.img_resolution > max_tile else ""


def _px(lo: int, hi: int) -> str:
    return f"{lo} px" if lo == hi else f"{lo}-{hi} px"


def _span(indices: Sequence[int]) -> str:
    idx = list(indices)
    return (
        f"{idx[0]}-{idx[-1]}" if idx == list(range(idx[0], idx[-1] + 1)) and len(idx) > 1 else ",".join(map(str, idx))
    )


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation of directions with linearly interpolated norms.

    ``a``, ``b``: ``[N, D]``; ``t``: ``[N]`` in [0, 1]. Returns ``[N, D]`` equal to ``a`` at
    t = 0 and ``b`` at t = 1 (unlike PPL's unit-norm slerp, so the strip's ends are the
    W strip's ends exactly).
    """
    na, nb = a.norm(dim=1, keepdim=True), b.norm(dim=1, keepdim=True)
    ua, ub = a / na, b / nb
    cos = (ua * ub).sum(1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.acos(cos)
    t = t[:, None].to(a.dtype)
    so = torch.sin(omega)
    # nearly parallel directions: the formula degenerates to a linear blend
    safe = so.abs() > 1e-6
    wa = torch.where(safe, torch.sin((1 - t) * omega) / so.where(safe, torch.ones_like(so)), 1 - t)
    wb = torch.where(safe, torch.sin(t * omega) / so.where(safe, torch.ones_like(so)), t)
    direction = wa * ua + wb * ub
    direction = direction / direction.norm(dim=1, keepdim=True)
    return direction * (na + (nb - na) * t)


# ----------------------------------------------------------------------------- figures


@torch.no_grad()
def sample_grid(
    G: Any,
    *,
    seed: int = 0,
    indices: Sequence[int] = range(16),
    truncation_psi: float = 1.0,
    columns: int | None = None,
    max_tile: int = 128,
) -> AnalysisFigure:
    """Uncurated samples: image ``k`` from ``z = normal(seed, "z", [indices[k]])``, const noise."""
    indices = list(indices)
    if not indices:
        raise GanevalValueError("Argument `indices` must hold at least one sample index, but got [].")
    z = _z(G, seed, indices)
    imgs = G.synthesis(_ws(G, z, truncation_psi), noise_mode="const") if hasattr(G, "mapping") else G(z)
    tiles = _to_tiles(imgs, max_tile)
    cols = columns or int(np.ceil(np.sqrt(len(tiles))))
    rows = [tiles[i : i + cols] for i in range(0, len(tiles), cols)]
    psi = _psi_text(truncation_psi) if hasattr(G, "mapping") else "Z-only generator"
    caption = (
        f"{len(tiles)} uncurated samples, row by row: z from seed {seed}, indices {_span(indices)}; "
        f"{psi}; stored (const) noise{_tile_note(G, max_tile)}."
    )
    return AnalysisFigure("samples", "Uncurated samples", caption, _tile(rows))


@torch.no_grad()
def style_mixing_grid(
    G: Any,
    *,
    seed: int = 0,
    row_indices: Sequence[int] = range(100, 103),
    col_indices: Sequence[int] = range(200, 204),
    truncation_psi: float = 1.0,
    max_tile: int = 128,
) -> AnalysisFigure:
    """Style mixing: row 0 holds sources B (columns), column 0 sources A (rows); cell (A, B) is A
    with B's styles at the layers of one group; one block of rows per non-empty group
    (coarse, middle, fine, top to bottom)."""
    from ..models.control import crossover, layer_groups

    _require_w(G, "style-mixing grid")
    rows_i, cols_i = list(row_indices), list(col_indices)
    ws_a = _ws(G, _z(G, seed, rows_i), truncation_psi)
    ws_b = _ws(G, _z(G, seed, cols_i), truncation_psi)
    tiles_a = _to_tiles(G.synthesis(ws_a, noise_mode="const"), max_tile)
    tiles_b = _to_tiles(G.synthesis(ws_b, noise_mode="const"), max_tile)
    groups = layer_groups(G)
    used = [(name, idx) for name, idx in groups.items() if idx]
    rows: list[list[np.ndarray | None]] = [[None, *tiles_b]]
    gaps = [0]
    nb = len(cols_i)
    for _, idx in used:
        # every (A, B) pair of this group in one batch: A repeated over columns, B tiled over rows
        a = ws_a.repeat_interleave(nb, dim=0)
        b = ws_b.repeat(len(rows_i), 1, 1)
        mixed = _to_tiles(G.synthesis(crossover(a, b, idx, G=G), noise_mode="const"), max_tile)
        for r in range(len(rows_i)):
            rows.append([tiles_a[r], *mixed[r * nb : (r + 1) * nb]])
        gaps.append(len(rows) - 1)
    res = G.ws_resolutions if hasattr(G, "ws_resolutions") else None
    blocks = "; ".join(
        f"{name} (ws {_span(idx)}" + (f", {_px(res[idx[0]], res[idx[-1]])})" if res else ")") for name, idx in used
    )
    missing = [name for name, idx in groups.items() if not idx]
    note = f"; no {' or '.join(missing)} layers at {G.img_resolution} px" if missing else ""
    caption = (
        f"Style mixing: sources B on the top row (z from seed {seed}, indices {_span(cols_i)}), sources A in "
        f"the left column (indices {_span(rows_i)}); each block copies B's styles into A at: {blocks}{note}; "
        f"{_psi_text(truncation_psi)}; const noise{_tile_note(G, max_tile)}."
    )
    return AnalysisFigure(
        "style_mixing", "Style mixing (coarse / middle / fine)", caption, _tile(rows, gaps_after=gaps[:-1])
    )


def _noise_maps(
    G: Any, n: int, seed: int, indices: Sequence[int], layers: Sequence[int] | None
) -> list[torch.Tensor | None]:
    """Random noise (stream of ``seed``, rows = ``indices``) at ``layers`` (None: all), zero elsewhere."""
    from ..models.control import make_noise

    zero = make_noise(G, n, "zero")
    rand = make_noise(G, n, "random", seed=seed, layers=None if layers is None else list(layers), indices=indices)
    return [r if r is not None else z for r, z in zip(rand, zero)]


@torch.no_grad()
def stochastic_variation(
    G: Any,
    *,
    seed: int = 0,
    indices: Sequence[int] = range(300, 302),
    num_shown: int = 4,
    num_std: int = 32,
    truncation_psi: float = 1.0,
    max_tile: int = 128,
) -> AnalysisFigure:
    """One row per latent: ``num_shown`` noise realisations, then the per-pixel standard deviation
    over ``num_std`` realisations (mean over colour channels, scaled so the largest value is white)."""
    _require_w(G, "stochastic-variation figure")
    if num_std < max(2, num_shown):
        raise GanevalValueError(
            f"Argument `num_std` must be >= max(2, num_shown) = {max(2, num_shown)}, but got {num_std}."
        )
    rows, maxima = [], []
    for i in indices:
        ws = _ws(G, _z(G, seed, [i]), truncation_psi).expand(num_std, -1, -1)
        real = range(i * num_std, (i + 1) * num_std)
        imgs = G.synthesis(ws, noise_mode="const", noise=_noise_maps(G, num_std, seed, real, None)).float().cpu()
        std = imgs.std(dim=0).mean(dim=0)  # [H, W], image units ([-1, 1] scale)
        maxima.append(float(std.max()))
        rows.append((imgs[:num_shown], std))
    top = max(maxima) or 1.0
    out = []
    for imgs, std in rows:
        gray = (std / top * 2 - 1)[None, None].expand(1, 3, -1, -1)
        out.append([*_to_tiles(imgs, max_tile), *_to_tiles(gray, max_tile)])
    caption = (
        f"Stochastic variation: each row is one latent (z from seed {seed}, indices {_span(list(indices))}, "
        f"{_psi_text(truncation_psi)}) with {num_shown} random noise realisations (noise seed {seed}); "
        f"last column: per-pixel standard deviation over {num_std} realisations, "
        + (
            f"white = {top:.3g} (image units, range [-1, 1])"
            if max(maxima) > 0
            else "zero everywhere (this generator's noise strengths are 0)"
        )
        + f"{_tile_note(G, max_tile)}."
    )
    labels = [f"#{k + 1}" for k in range(num_shown)] + ["std"]
    return AnalysisFigure(
        "stochastic_variation",
        "Stochastic variation",
        caption,
        _with_col_labels(_tile(out), out[0][0].shape[0], labels),
    )


def _noise_split(G: Any) -> tuple[list[int], list[int], int]:
    """Noise layer indices (coarse, fine) and the split resolution: the paper's 32 px (coarse
    4-32 px, fine 64 px and above) when the generator reaches 64 px, else a quarter of its resolution."""
    res = [int(r) for r in G.synthesis.noise_resolutions]
    split = 32 if G.img_resolution >= 64 else max(4, G.img_resolution // 4)
    return [k for k, r in enumerate(res) if r <= split], [k for k, r in enumerate(res) if r > split], split


@torch.no_grad()
def noise_scope(
    G: Any, *, seed: int = 0, indices: Sequence[int] = range(400, 403), truncation_psi: float = 1.0, max_tile: int = 128
) -> AnalysisFigure:
    """Columns: random noise in all layers, no noise, noise in the fine layers only, noise in the
    coarse layers only (paper figure 5); one row per latent, the same noise maps in every column."""
    _require_w(G, "noise-scope figure")
    idx = list(indices)
    coarse, fine, split = _noise_split(G)
    ws = _ws(G, _z(G, seed, idx), truncation_psi)
    cols = []
    for layers in (None, [], fine, coarse):
        noise = _noise_maps(G, len(idx), seed, idx, layers)
        cols.append(_to_tiles(G.synthesis(ws, noise_mode="const", noise=noise), max_tile))
    rows = [[c[r] for c in cols] for r in range(len(idx))]
    caption = (
        f"Noise scope, columns: noise in all layers; no noise; noise only in fine layers (> {split} px); "
        f"noise only in coarse layers (<= {split} px). Rows: z from seed {seed}, indices {_span(idx)}, "
        f"{_psi_text(truncation_psi)}; random noise from seed {seed}{_tile_note(G, max_tile)}."
    )
    return AnalysisFigure(
        "noise_scope",
        "Coarse-only vs fine-only noise",
        caption,
        _with_col_labels(_tile(rows), rows[0][0].shape[0], ["all", "none", "fine", "coarse"]),
    )


@torch.no_grad()
def interpolation_strips(
    G: Any,
    *,
    seed: int = 0,
    pairs: Sequence[tuple[int, int]] = ((500, 501),),
    steps: int = 8,
    truncation_psi: float = 1.0,
    max_tile: int = 128,
) -> AnalysisFigure:
    """For each pair of latents, two rows between the same endpoints: Z (slerp, then mapping) and
    W (mapping, then lerp of every layer's w). Const noise."""
    _require_w(G, "interpolation strips")
    if steps < 2:
        raise GanevalValueError(f"Argument `steps` must be an integer >= 2, but got {steps}.")
    t = torch.linspace(0, 1, steps, device=_device(G))
    rows, gaps = [], []
    for a, b in pairs:
        z = _z(G, seed, [a, b])
        z_path = slerp(z[:1].expand(steps, -1), z[1:].expand(steps, -1), t)
        img_z = G.synthesis(_ws(G, z_path, truncation_psi), noise_mode="const")
        ws = _ws(G, z, truncation_psi)
        w_path = ws[:1] + (ws[1:] - ws[:1]) * t[:, None, None]
        img_w = G.synthesis(w_path, noise_mode="const")
        rows += [_to_tiles(img_z, max_tile), _to_tiles(img_w, max_tile)]
        gaps.append(len(rows) - 1)
    names = ", ".join(f"({a}, {b})" for a, b in pairs)
    caption = (
        f"Interpolation, {steps} steps per row; each pair of rows: Z path (slerp of z, norm interpolated "
        f"linearly), then W path (lerp of w); endpoints z from seed {seed}, index pairs {names}; "
        f"{_psi_text(truncation_psi)}; const noise{_tile_note(G, max_tile)}."
    )
    return AnalysisFigure(
        "interpolation", "Interpolation in Z (slerp) and W (lerp)", caption, _tile(rows, gaps_after=gaps[:-1])
    )


def analysis_figures(
    G: Any,
    *,
    seed: int = 0,
    truncation_psi: float = 0.7,
    grid: int = 16,
    mixing_rows: int = 3,
    mixing_cols: int = 4,
    noise_realisations: int = 4,
    std_realisations: int = 32,
    interpolation_steps: int = 8,
    interpolation_pairs: int = 2,
    max_tile: int = 128,
) -> list[AnalysisFigure]:
    """All five figures with disjoint sample indices (a generator without W, such as a Z-only or the
    traditional one, gets the sample grid only: it has no styles to mix and no noise inputs).

    Indices: grid ``0..grid-1``, mixing rows from 1000, columns from 2000, stochastic variation
    from 3000, noise scope from 4000, interpolation pairs from 5000.
    """
    figs = [sample_grid(G, seed=seed, indices=range(grid), truncation_psi=truncation_psi, max_tile=max_tile)]
    if not _has_w(G):
        return figs
    figs.append(
        style_mixing_grid(
            G,
            seed=seed,
            row_indices=range(1000, 1000 + mixing_rows),
            col_indices=range(2000, 2000 + mixing_cols),
            truncation_psi=truncation_psi,
            max_tile=max_tile,
        )
    )
    figs.append(
        stochastic_variation(
            G,
            seed=seed,
            indices=range(3000, 3002),
            num_shown=noise_realisations,
            num_std=max(std_realisations, noise_realisations, 2),
            truncation_psi=truncation_psi,
            max_tile=max_tile,
        )
    )
    figs.append(noise_scope(G, seed=seed, indices=range(4000, 4003), truncation_psi=truncation_psi, max_tile=max_tile))
    figs.append(
        interpolation_strips(
            G,
            seed=seed,
            pairs=[(5000 + 2 * k, 5001 + 2 * k) for k in range(interpolation_pairs)],
            steps=interpolation_steps,
            truncation_psi=truncation_psi,
            max_tile=max_tile,
        )
    )
    return figs

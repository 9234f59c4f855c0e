"""Procedural "shapes" dataset: 32x32 RGB renders with exact binary attributes.

Every image is a pure function of ``(seed, index)``: the scene parameters come from a
counter-based hash (splitmix64) of ``(seed, index, k)``, so an image never depends on the
batch it is rendered in, and no data files exist. Rendering is vectorised torch code
(anti-aliased signed distances), several thousand images per second on one CPU core.

Resolution is 32x32 (not 64x64) so that a zoo GAN trains in one to two hours on one core of a
2-core CPU and the classifier in minutes; every attribute is still unambiguous at 32 px.

A scene: a background (flat or vertical gradient), one main object (circle/ellipse or
square/rectangle, filled with a saturated colour, optionally striped and/or with an inner
outline), and optionally a small round dot in the opposite corner.

Attributes (index: name — definition; measured frequency over 100k renders, seed 0):

====  ======================  ===============================================================  =====
 idx  name                    definition                                                        freq
====  ======================  ===============================================================  =====
  0   square                  main object is a square/rectangle (else a circle/ellipse)         0.50
  1   large                   object half-height in [8.5, 10.5] px (else [4, 6] px)             0.40
  2   wide                    object half-width is 1.5x its half-height (else equal)            0.30
  3   left                    object centre x < 16 (offset from the centre >= 2.5 px)           0.50
  4   upper                   object centre y < 16 (offset from the centre >= 2.5 px)           0.48
  5   warm                    fill hue red..yellow (else cyan..blue)                            0.50
  6   dark_background         background brightness (top row) in [0.05, 0.25] (else [0.65, 0.9]) 0.50
  7   outline                 2-px inner border in the colour opposite to the background tone   0.42
  8   striped                 fill has horizontal dark stripes (period 4 px)                    0.30
  9   gradient_background     background brightness ramps by 0.35 from top to bottom             0.35
 10   second_object           a small dot (radius 2.5 px) in the opposite corner (rare)         0.11
====  ======================  ===============================================================  =====

Correlations (deliberate, in the spirit of CelebA): an outline is likely on squares (0.65)
and unlikely on circles (0.20); large objects sit low more often (P(upper | large) = 0.30 vs
0.60 otherwise); warm objects are more often on light backgrounds (P(dark | warm) = 0.35 vs
0.65); the dot is likelier next to small objects (0.15 vs 0.05). The frequencies above are
re-measured by :func:`attribute_frequencies` and listed in ``pretrained/README.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .._validate import check_positive_int
from ..errors import GanevalTypeError

__all__ = ["ATTRIBUTES", "RESOLUTION", "render", "render_params", "attribute_frequencies", "uniforms"]

ATTRIBUTES: list[str] = [
    "square",
    "large",
    "wide",
    "left",
    "upper",
    "warm",
    "dark_background",
    "outline",
    "striped",
    "gradient_background",
    "second_object",
]
RESOLUTION = 32
_NUM_UNIFORMS = 24
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def uniforms(indices: Sequence[int] | np.ndarray, seed: int, count: int = _NUM_UNIFORMS) -> np.ndarray:
    """Counter-based U[0, 1) draws: float64 ``[len(indices), count]``, row i depends only on (seed, indices[i])."""
    idx = np.asarray(indices, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        key = _splitmix64(np.full(1, np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)) ^ np.uint64(0x5EED5EED))
        h = _splitmix64(idx[:, None] * np.uint64(0xD1B54A32D192ED03) ^ key)
        h = _splitmix64(h + np.arange(count, dtype=np.uint64)[None, :] * np.uint64(0x8CB92BA72F3D8DD7))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _check_indices(indices: Sequence[int] | np.ndarray) -> np.ndarray:
    arr = np.asarray(indices)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise GanevalTypeError(
            f"Argument `indices` must be a 1-D sequence of integers, but got {arr.dtype} {list(arr.shape)}."
        )
    return arr.astype(np.int64)


def render_params(indices: Sequence[int] | np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Scene parameters and labels for each index (float64/bool arrays of length N).

    Keys: the attribute names (bool), plus ``cx, cy`` (centre, px), ``rx, ry`` (half extents, px),
    ``hue, sat, val`` (fill, HSV in [0, 1]), ``bg_val, bg_hue, bg_sat`` (background).
    """
    idx = _check_indices(indices)
    u = uniforms(idx, seed).T  # [K, N]
    p: dict[str, np.ndarray] = {}
    p["square"] = u[0] < 0.5
    p["large"] = u[1] < 0.4
    p["wide"] = u[2] < 0.3
    p["left"] = u[3] < 0.5
    p["upper"] = u[4] < np.where(p["large"], 0.3, 0.6)
    p["warm"] = u[5] < 0.5
    p["dark_background"] = u[6] < np.where(p["warm"], 0.35, 0.65)
    p["outline"] = u[7] < np.where(p["square"], 0.65, 0.2)
    p["striped"] = u[8] < 0.3
    p["gradient_background"] = u[9] < 0.35
    p["second_object"] = u[10] < np.where(p["large"], 0.05, 0.15)

    ry = np.where(p["large"], 8.5 + 2.0 * u[11], 4.0 + 2.0 * u[11])
    rx = np.where(p["wide"], 1.5 * ry, ry)
    # Centre offsets: small objects range further from the middle than large ones.
    max_off = np.where(p["large"], 5.0, 9.0)
    dx = 2.5 + (max_off - 2.5) * u[12]
    dy = 2.5 + (max_off - 2.5) * u[13]
    p["cx"] = 16.0 + np.where(p["left"], -dx, dx)
    p["cy"] = 16.0 + np.where(p["upper"], -dy, dy)
    p["rx"], p["ry"] = rx, ry
    p["hue"] = np.where(p["warm"], -0.03 + 0.17 * u[14], 0.47 + 0.2 * u[14]) % 1.0
    p["sat"] = 0.75 + 0.25 * u[15]
    p["val"] = 0.8 + 0.2 * u[16]
    p["bg_val"] = np.where(p["dark_background"], 0.05 + 0.2 * u[17], 0.65 + 0.25 * u[17])
    p["bg_hue"] = u[18]
    p["bg_sat"] = 0.2 * u[19]
    return p


def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """HSV in [0, 1] (any broadcastable shapes) -> RGB stacked on a new dim 0."""
    k = torch.tensor([5.0, 3.0, 1.0], dtype=h.dtype).view(3, *([1] * h.dim()))
    kk = (k + h.unsqueeze(0) * 6.0) % 6.0
    return v - v * s * torch.clamp(torch.minimum(kk, 4.0 - kk), 0.0, 1.0)


def render(indices: Sequence[int] | np.ndarray, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Render images and their exact labels.

    Args:
        indices: 1-D integers (any values, any order); image i depends only on (seed, indices[i]).
        seed: dataset seed.

    Returns:
        images: float32 ``[N, 3, 32, 32]`` in [-1, 1];
        labels: bool ``[N, len(ATTRIBUTES)]`` in the order of :data:`ATTRIBUTES`.
    """
    idx = _check_indices(indices)
    # Chunks keep the working set in cache; every operation is per image, so chunking changes nothing.
    parts = [_render_chunk(idx[i : i + 256], seed) for i in range(0, len(idx), 256)] or [_render_chunk(idx, seed)]
    return torch.cat([a for a, _ in parts]), torch.cat([b for _, b in parts])


def _render_chunk(idx: np.ndarray, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    p = render_params(idx, seed)
    n = len(p["square"])
    f = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)).view(n, 1, 1) for k, v in p.items()}
    r = RESOLUTION
    ys = (torch.arange(r, dtype=torch.float32) + 0.5).view(1, r, 1)
    xs = (torch.arange(r, dtype=torch.float32) + 0.5).view(1, 1, r)

    # Background: tinted grey; a gradient moves brightness by 0.35 towards mid-grey going down.
    direction = torch.where(f["dark_background"] > 0, 1.0, -1.0)
    ramp = f["gradient_background"] * direction * 0.35 * (ys - 0.5) / (r - 1)
    bg_v = (f["bg_val"] + ramp).expand(n, r, r)
    image = _hsv_to_rgb(f["bg_hue"].expand(n, r, r), f["bg_sat"].expand(n, r, r), bg_v)  # [3, N, r, r]

    # Contrast colour for outline and dot: white on dark backgrounds, near-black on light ones.
    contrast = torch.where(f["dark_background"] > 0, 0.95, 0.05)

    # Main object: signed distance in px (negative inside); coverage = clamp(0.5 - sd).
    dx, dy = xs - f["cx"], ys - f["cy"]
    sd_box = torch.maximum(dx.abs() - f["rx"], dy.abs() - f["ry"])
    sd_ell = (torch.sqrt((dx / f["rx"]) ** 2 + (dy / f["ry"]) ** 2) - 1.0) * f["ry"]
    sd = torch.where(f["square"] > 0, sd_box, sd_ell)
    cover = torch.clamp(0.5 - sd, 0.0, 1.0)
    inner = torch.clamp(0.5 - (sd + 2.0), 0.0, 1.0)
    ring = (cover - inner) * f["outline"]

    fill = _hsv_to_rgb(f["hue"], f["sat"], f["val"])  # [3, N, 1, 1]
    stripe = ((torch.floor((ys - f["cy"] + 64.0) / 2.0) % 2.0) * f["striped"]).expand(n, r, r)
    fill = fill * (1.0 - 0.55 * stripe)
    image = image * (1.0 - cover) + fill * (cover - ring) + contrast * ring

    # Second object: a dot in the corner opposite to the main object, drawn on top.
    ox = torch.where(f["cx"] < 16.0, 27.0, 5.0)
    oy = torch.where(f["cy"] < 16.0, 27.0, 5.0)
    sd_dot = torch.sqrt((xs - ox) ** 2 + (ys - oy) ** 2) - 2.5
    dot = torch.clamp(0.5 - sd_dot, 0.0, 1.0) * f["second_object"]
    image = image * (1.0 - dot) + contrast * dot

    images = (image.permute(1, 0, 2, 3).clamp(0.0, 1.0) * 2.0 - 1.0).to(torch.float32).contiguous()
    labels = torch.from_numpy(np.stack([p[a] for a in ATTRIBUTES], axis=1))
    return images, labels


def attribute_frequencies(num: int = 100_000, seed: int = 0) -> dict[str, float]:
    """Fraction of positives per attribute over indices ``0..num-1`` (labels only, no rendering)."""
    check_positive_int("num", num)
    p = render_params(np.arange(num), seed)
    return {a: float(np.mean(p[a])) for a in ATTRIBUTES}

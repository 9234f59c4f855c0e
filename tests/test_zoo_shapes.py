"""The procedural shapes dataset: determinism, batch independence, exact labels, documented frequencies."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganeval.errors import GanevalTypeError
from ganeval.zoo import shapes

pytestmark = pytest.mark.usefixtures("one_thread")


def test_render_shapes_range_and_dtype():
    images, labels = shapes.render(np.arange(16), seed=0)
    assert images.shape == (16, 3, 32, 32) and images.dtype == torch.float32
    assert labels.shape == (16, len(shapes.ATTRIBUTES)) and labels.dtype == torch.bool
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert len(shapes.ATTRIBUTES) >= 10 and len(set(shapes.ATTRIBUTES)) == len(shapes.ATTRIBUTES)


def test_render_deterministic_per_seed_and_index():
    a, la = shapes.render(np.arange(100, 140), seed=7)
    b, lb = shapes.render(np.arange(100, 140), seed=7)
    assert torch.equal(a, b) and torch.equal(la, lb)
    c, _ = shapes.render(np.arange(100, 140), seed=8)
    assert (a - c).abs().amax(dim=(1, 2, 3)).min() > 0  # every image changes with the seed


def test_render_independent_of_batch_composition():
    idx = np.arange(0, 600)
    full, full_l = shapes.render(idx, seed=3)  # crosses the internal 256-image chunks
    rng = np.random.default_rng(0)
    pick = rng.permutation(600)[:37]
    part, part_l = shapes.render(np.concatenate([pick, [10**9]]), seed=3)
    assert torch.equal(part[:-1], full[pick]) and torch.equal(part_l[:-1], full_l[pick])
    single, _ = shapes.render([int(pick[5])], seed=3)
    assert torch.equal(single[0], full[pick[5]])


def test_labels_match_scene_geometry():
    """Exact ground truth: position/size labels follow the rendered geometry."""
    idx = np.arange(2000)
    p = shapes.render_params(idx, seed=1)
    np.testing.assert_array_equal(p["left"], p["cx"] < 16)
    np.testing.assert_array_equal(p["upper"], p["cy"] < 16)
    np.testing.assert_array_equal(p["large"], p["ry"] >= 8.5)
    assert np.all(np.abs(p["cx"] - 16) >= 2.5) and np.all(np.abs(p["cy"] - 16) >= 2.5)
    np.testing.assert_allclose(np.where(p["wide"], p["rx"] / p["ry"], 1.0), np.where(p["wide"], 1.5, 1.0))
    # the pixel at the object's centre shows the fill (outline and dot never reach it); background pixels do not
    images, _labels = shapes.render(idx[:200], seed=1)
    cx, cy = p["cx"][:200].astype(int), p["cy"][:200].astype(int)
    centre = images[np.arange(200), :, cy, cx]
    corner_far = images[np.arange(200), :, np.where(p["upper"][:200], 31, 0), np.where(p["left"][:200], 31, 0)]
    assert ((centre - corner_far).abs().sum(1) > 0.05).float().mean() > 0.95


def test_dark_background_label_matches_pixels():
    idx = np.arange(500)
    images, labels = shapes.render(idx, seed=2)
    p = shapes.render_params(idx, seed=2)
    # row 0 at the column away from the object is pure background: the ramp is 0 there, no object or dot reaches it
    col = torch.from_numpy(np.where(p["left"], 31, 0))
    top = (images[torch.arange(500), :, 0, col] * 0.5 + 0.5).max(dim=1).values  # HSV value of the background
    dark = labels[:, shapes.ATTRIBUTES.index("dark_background")]
    assert torch.all(top[dark] <= 0.25 + 1e-4) and torch.all(top[~dark] >= 0.65 - 1e-4)
    np.testing.assert_allclose(top.numpy(), p["bg_val"], atol=2e-3)


def test_documented_frequencies_and_rare_attribute():
    freq = shapes.attribute_frequencies(100_000, seed=0)
    documented = {
        "square": 0.50,
        "large": 0.40,
        "wide": 0.30,
        "left": 0.50,
        "upper": 0.48,
        "warm": 0.50,
        "dark_background": 0.50,
        "outline": 0.42,
        "striped": 0.30,
        "gradient_background": 0.35,
        "second_object": 0.11,
    }
    assert set(freq) == set(documented)
    for name, value in documented.items():
        assert abs(freq[name] - value) < 0.01, name
    assert min(freq.values()) < 0.15
    # documented correlations: outline | square, upper | large
    p = shapes.render_params(np.arange(100_000), seed=0)
    assert abs(p["outline"][p["square"]].mean() - 0.65) < 0.01 and abs(p["outline"][~p["square"]].mean() - 0.2) < 0.01
    assert abs(p["upper"][p["large"]].mean() - 0.3) < 0.01 and abs(p["upper"][~p["large"]].mean() - 0.6) < 0.01


def test_uniforms_are_uniform_and_row_independent():
    u = shapes.uniforms(np.arange(20_000), seed=5)
    assert u.shape == (20_000, 24) and u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    c = np.corrcoef(u[:, :6].T)
    assert np.abs(c - np.eye(6)).max() < 0.03


def test_bad_indices():
    with pytest.raises(GanevalTypeError, match="Argument `indices` must be a 1-D sequence of integers"):
        shapes.render(np.zeros((2, 2), dtype=int))
    with pytest.raises(GanevalTypeError, match="indices"):
        shapes.render([0.5, 1.5])

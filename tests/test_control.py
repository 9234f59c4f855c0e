"""Style mixing, layer groups, noise control and the z-only adapter."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganeval.errors import GanevalValueError, UnsupportedGeneratorError
from ganeval.models.adapter import ZOnlyGenerator
from ganeval.models.control import crossover, layer_groups, make_noise, mix_styles, resolve_layers
from ganeval.models.stylegan import StyleGAN


def small_v1(resolution: int = 16) -> StyleGAN:
    torch.manual_seed(0)
    G = StyleGAN(z_dim=32, w_dim=24, img_resolution=resolution, fmap_base=128, fmap_max=32)
    with torch.no_grad():
        for layer in G.synthesis.layers:
            layer.noise.weight.normal_()
    return G.eval()


def small_v2(resolution: int = 16):
    mod = pytest.importorskip("ganeval.models.stylegan2")
    torch.manual_seed(0)
    G = mod.StyleGAN2(z_dim=32, w_dim=24, img_resolution=resolution, channel_base=256, channel_max=32)
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.5)
    return G.eval()


GENERATORS = [small_v1, small_v2]


def test_layer_groups_follow_resolutions():
    assert layer_groups(small_v1(64)) == {"coarse": [0, 1, 2, 3], "middle": [4, 5, 6, 7], "fine": [8, 9]}
    G = StyleGAN(z_dim=8, w_dim=8, img_resolution=1024, fmap_base=64, fmap_max=8)
    groups = layer_groups(G)
    assert (
        groups["coarse"] == [0, 1, 2, 3] and groups["middle"] == [4, 5, 6, 7] and groups["fine"] == list(range(8, 18))
    )


def test_mix_styles_picks_each_layer_from_its_source():
    a, b, c = (torch.full((2, 4, 3), float(v)) for v in (1, 2, 3))
    mixed = mix_styles([a, b, c[:1]], [0, 2, 1, 0])
    assert mixed.shape == (2, 4, 3)
    assert mixed[:, :, 0].tolist() == [[1, 3, 2, 1]] * 2
    with pytest.raises(
        GanevalValueError, match=r"`layer_source` must hold 4 source indices from 0 to 1, but got \[0, 5, 0, 0\]"
    ):
        mix_styles([a, b], [0, 5, 0, 0])
    with pytest.raises(GanevalValueError, match=r"ws_sources\[1\]"):
        mix_styles([a, torch.zeros(2, 3, 3)], [0, 1, 0, 0])


@pytest.mark.parametrize("make", GENERATORS)
def test_crossover_layer_specs(make):
    G = make()
    ws = G.mapping(torch.randn(2, 32))
    a, b = ws[:1], ws[1:]
    groups = layer_groups(G)
    for spec, chosen in [
        ("coarse", groups["coarse"]),
        ("middle", groups["middle"]),
        ("1-2", [1, 2]),
        ([0, 5], [0, 5]),
        ("0,3-4", [0, 3, 4]),
    ]:
        mixed = crossover(a, b, spec, G=G)
        for k in range(G.num_ws):
            assert torch.equal(mixed[0, k], (b if k in chosen else a)[0, k]), (spec, k)
    with pytest.raises(
        GanevalValueError, match=r"Argument `layers` must hold layer indices from 0 to 5, but got \[9\]"
    ):
        crossover(a, b, "9", G=G)
    with pytest.raises(GanevalValueError, match="'coarse', 'middle', 'fine'"):
        crossover(a, b, "sideways", G=G)


def test_crossover_changes_only_chosen_layers_effects():
    G = small_v1()
    ws = G.mapping(torch.randn(2, 32))
    fine_only = crossover(ws[:1], ws[1:], "4-5", G=G)
    outs = []
    hooks = [layer.register_forward_hook(lambda m, i, o: outs.append(o)) for layer in G.synthesis.layers]
    G.synthesis(ws[:1])
    G.synthesis(fine_only)
    for h in hooks:
        h.remove()
    n = G.num_ws
    assert all(torch.equal(outs[k], outs[n + k]) for k in range(4))


@pytest.mark.parametrize("make", GENERATORS)
def test_make_noise_modes(make):
    G = make()
    res = G.synthesis.noise_resolutions
    ws = G.mapping(torch.randn(3, 32))
    const = make_noise(G, 3, "const")
    assert [m.shape for m in const] == [(3, 1, r, r) for r in res]
    assert torch.equal(G.synthesis(ws, noise_mode="random", noise=const), G.synthesis(ws, noise_mode="const"))
    zero = make_noise(G, 3, "zero")
    assert (G.synthesis(ws, noise_mode="random", noise=zero) - G.synthesis(ws, noise_mode="none")).abs().max() < 1e-6
    r1 = make_noise(G, 3, "random", seed=5)
    assert torch.equal(G.synthesis(ws, noise=r1), G.synthesis(ws, noise=make_noise(G, 3, "random", seed=5)))
    assert not torch.allclose(G.synthesis(ws, noise=r1), G.synthesis(ws, noise=make_noise(G, 3, "random", seed=6)))
    assert not torch.allclose(G.synthesis(ws, noise=r1), G.synthesis(ws, noise_mode="const"))


def test_random_noise_depends_only_on_seed_layer_and_index():
    G = small_v1()
    full = make_noise(G, 4, "random", seed=1)
    part = make_noise(G, 2, "random", seed=1, indices=[3, 1])
    for k in range(G.num_ws):
        assert torch.equal(part[k][0], full[k][3]) and torch.equal(part[k][1], full[k][1])
    # resampling a subset of layers gives those layers the same maps as resampling all
    sub = make_noise(G, 4, "random", seed=1, layers="middle")
    assert [m is None for m in sub] == [True] * 4 + [False] * 2
    assert torch.equal(sub[4], full[4])
    assert not torch.equal(full[0][0], full[0][1])
    assert abs(float(torch.cat([m.flatten() for m in full]).std()) - 1) < 0.1


def test_resampling_only_fine_noise_leaves_coarse_layers_fixed():
    G = small_v1()
    ws = G.mapping(torch.randn(1, 32)).expand(2, -1, -1)
    noise = make_noise(G, 2, "random", seed=0, layers="4-5")  # other layers: const
    outs = []
    hooks = [layer.register_forward_hook(lambda m, i, o: outs.append(o)) for layer in G.synthesis.layers]
    img = G.synthesis(ws, noise_mode="const", noise=noise)
    for h in hooks:
        h.remove()
    assert torch.equal(outs[3][0], outs[3][1])  # up to 8 px: identical for both samples
    assert not torch.allclose(img[0], img[1])  # only the resampled fine noise differs


def test_resolve_layers_and_make_noise_errors():
    assert resolve_layers("fine", [4, 4, 8, 8, 16, 16, 32, 32, 64, 64]) == [8, 9]
    assert resolve_layers(3, [4] * 5) == [3]
    G = small_v1()
    with pytest.raises(
        GanevalValueError, match=r"Argument `mode` must be one of 'const', 'random', 'zero', but got 'none'"
    ):
        make_noise(G, 2, "none")
    with pytest.raises(GanevalValueError, match="Argument `indices` must hold 2 sample indices, but got 3"):
        make_noise(G, 2, "random", indices=[0, 1, 2])


def test_z_only_adapter_has_no_w_space():
    net = nn.Sequential(nn.Linear(8, 3 * 4 * 4), nn.Tanh(), nn.Unflatten(1, (3, 4, 4)))
    G = ZOnlyGenerator(net, z_dim=8, img_resolution=4)
    z = torch.randn(5, 8)
    assert torch.equal(G(z), net(z))
    for call in (
        lambda: G.mapping(z),
        lambda: G.synthesis(torch.zeros(5, 1, 8)),
        lambda: layer_groups(G),
        lambda: make_noise(G, 1, "random"),
        lambda: G(z, truncation_psi=0.7),
    ):
        with pytest.raises(UnsupportedGeneratorError, match=r"W space|noise"):
            call()
    with pytest.raises(GanevalValueError, match=r"Argument `z` must have shape \[\*, 8\], but got \[5, 7\]"):
        G(torch.randn(5, 7))
    bad = ZOnlyGenerator(net, z_dim=8, img_resolution=8)
    with pytest.raises(GanevalValueError, match=r"\[5, 3, 8, 8\], but got \[5, 3, 4, 4\]"):
        bad(z)

"""StyleGAN2 reproduces the stylegan2-ada-pytorch reference outputs (fixture), plus its invariants."""

from __future__ import annotations

import pytest
import torch
from conftest import fixture_path
from safetensors.torch import load_file

from ganeval.errors import GanevalValueError
from ganeval.models.stylegan2 import StyleGAN2

ATOL_IMG = 1e-4  # measured: <= 4.8e-6 (images span about +-7); ws are bit-exact


def _ada_config() -> dict:
    return dict(z_dim=64, w_dim=64, img_resolution=32, mapping_layers=2, channel_base=2048, channel_max=64)


@pytest.fixture(scope="module")
def ada():
    sd = load_file(fixture_path("stylegan2-ada", "weights.safetensors"))
    io = load_file(fixture_path("stylegan2-ada", "io.safetensors"))
    G = StyleGAN2(**_ada_config()).eval()
    assert set(G.state_dict()) == set(sd)  # key sets identical, so strict loading is exact
    G.load_state_dict(sd, strict=True)
    return G, io


@torch.no_grad()
def test_ada_parity(ada):
    G, io = ada
    torch.testing.assert_close(G.mapping(io["z"]), io["ws"], rtol=0, atol=1e-6)
    torch.testing.assert_close(G.mapping(io["z2"]), io["ws2"], rtol=0, atol=1e-6)
    torch.testing.assert_close(G.mapping(io["z"], truncation_psi=0.7), io["ws_trunc"], rtol=0, atol=1e-6)
    outputs = {
        "img_const": G.synthesis(io["ws"], noise_mode="const"),
        "img_none": G.synthesis(io["ws"], noise_mode="none"),
        "img_trunc_const": G(io["z"], truncation_psi=0.7, noise_mode="const"),
        "img_mix_const": G.synthesis(io["ws_mix"], noise_mode="const"),
    }
    for key, out in outputs.items():
        torch.testing.assert_close(out, io[key], rtol=0, atol=ATOL_IMG, msg=lambda m, k=key: f"{k}: {m}")
    # the mixing input is what the API would build: layers 4.. from the second latent
    ws_mix = G.mapping(io["z"]).clone()
    ws_mix[:, 4:] = G.mapping(io["z2"])[:, 4:]
    torch.testing.assert_close(ws_mix, io["ws_mix"], rtol=0, atol=1e-6)


@torch.no_grad()
def test_explicit_noise_equals_modes(ada):
    G, io = ada
    ws = io["ws"][:2]
    const = [layer.noise_const[None, None] for layer in G.synthesis.noise_layers]
    assert G.synthesis.noise_resolutions == [4, 8, 8, 16, 16, 32, 32]
    assert torch.equal(G.synthesis(ws, noise=const), G.synthesis(ws, noise_mode="const"))
    zeros = [torch.zeros(1, 1, r, r) for r in G.synthesis.noise_resolutions]
    torch.testing.assert_close(G.synthesis(ws, noise=zeros, noise_mode="random"), G.synthesis(ws, noise_mode="none"))
    a, b = G.synthesis(ws, noise_mode="random"), G.synthesis(ws, noise_mode="random")
    assert not torch.equal(a, b)


@torch.no_grad()
def test_truncation_and_cutoff(ada):
    G, io = ada
    ws = G.mapping(io["z"], truncation_psi=0.0)
    assert torch.equal(ws, G.w_avg.expand_as(ws))
    ws = G.mapping(io["z"], truncation_psi=0.0, truncation_cutoff=3)
    assert torch.equal(ws[:, :3], G.w_avg.expand(8, 3, 64)) and torch.equal(ws[:, 3:], io["ws"][:, 3:])


@pytest.mark.parametrize("res", [8, 16, 64])
def test_resolutions_and_conditional(res):
    torch.manual_seed(0)
    G = StyleGAN2(
        z_dim=16, c_dim=3, w_dim=16, img_resolution=res, mapping_layers=2, channel_base=64 * res, channel_max=16
    ).eval()
    assert G.num_ws == 2 * (res.bit_length() - 1) - 2 and len(G.synthesis.noise_resolutions) == G.num_ws - 1
    c = torch.eye(3)[[0, 2]]
    z = torch.randn(2, 16)
    with torch.no_grad():
        img = G(z, c)
        other = G(z, torch.eye(3)[[1, 1]])
    assert img.shape == (2, 3, res, res) and img.dtype == torch.float32 and torch.isfinite(img).all()
    assert not torch.allclose(other, img)  # the label reaches the image
    assert set(G.state_dict()) >= {"mapping.embed.weight", "mapping.embed.bias"}


def test_bad_inputs():
    G = StyleGAN2(z_dim=8, w_dim=8, img_resolution=8, mapping_layers=1, channel_base=64, channel_max=8)
    with pytest.raises(GanevalValueError, match=r"`z` must have shape \[\*, 8\], but got \[2, 7\]"):
        G(torch.zeros(2, 7))
    with pytest.raises(GanevalValueError, match="`z` must be finite"):
        G(torch.full((1, 8), float("nan")))
    with pytest.raises(GanevalValueError, match=r"`ws` must have shape \[\*, 4, 8\]"):
        G.synthesis(torch.zeros(1, 3, 8))
    with pytest.raises(GanevalValueError, match="`ws` must be finite"):
        G.synthesis(torch.full((1, 4, 8), float("nan")))
    with pytest.raises(GanevalValueError, match="`noise` must be a list of 3"):
        G.synthesis(torch.zeros(1, 4, 8), noise=[None])
    with pytest.raises(GanevalValueError, match="`noise_mode`"):
        G.synthesis(torch.zeros(1, 4, 8), noise_mode="zero")
    with pytest.raises(GanevalValueError, match="`c` must be None"):
        G(torch.zeros(1, 8), torch.zeros(1, 2))
    for bad in (48, 4, 2048):
        with pytest.raises(GanevalValueError, match="`img_resolution` must be a power of two"):
            StyleGAN2(img_resolution=bad)
    with pytest.raises(GanevalValueError, match="`channels` must list 2"):
        StyleGAN2(img_resolution=8, channels=[8])

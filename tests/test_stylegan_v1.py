"""StyleGAN v1: layout, shapes, AdaIN, layer causality, noise, truncation, equalised lr, bad input."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from ganeval.errors import GanevalError, GanevalValueError
from ganeval.models.layers import AdaIN, Blur, EqualConv2d, EqualLinear, instance_norm, pixel_norm
from ganeval.models.stylegan import StyleGAN


def small(resolution: int = 16, c_dim: int = 0, seed: int = 0, **kw) -> StyleGAN:
    torch.manual_seed(seed)
    G = StyleGAN(z_dim=32, w_dim=24, c_dim=c_dim, img_resolution=resolution, fmap_base=128, fmap_max=32, **kw)
    # non-zero noise strengths and a non-zero w_avg, so noise and truncation are visible
    with torch.no_grad():
        for layer in G.synthesis.layers:
            layer.noise.weight.normal_()
        G.mapping.w_avg.normal_()
    return G.eval()


def stylegan2_or_skip(resolution: int = 16):
    mod = pytest.importorskip("ganeval.models.stylegan2")
    torch.manual_seed(0)
    return mod.StyleGAN2(z_dim=32, w_dim=24, img_resolution=resolution, channel_base=256, channel_max=32).eval()


# --- official layout ----------------------------------------------------------------------------


def test_official_1024_layout_and_parameter_count():
    G = StyleGAN()
    assert G.num_ws == 18 and G.z_dim == 512 and G.w_dim == 512
    assert G.channels == [512, 512, 512, 512, 256, 128, 64, 32, 16]
    # the count printed by the official v1 README for Gs (includes ToRGB_lod1..8)
    assert G.official_num_params() == 26_219_627
    sd = G.state_dict()
    assert sd["synthesis.const"].shape == (512, 4, 4)
    assert sd["mapping.fc0.weight"].shape == (512, 512) and sd["mapping.w_avg"].shape == (512,)
    assert sd["synthesis.layers.1.conv.weight"].shape == (512, 512, 3, 3)  # 4x4/Conv
    assert sd["synthesis.layers.8.conv.weight"].shape == (256, 512, 3, 3)  # 64x64/Conv0_up
    assert sd["synthesis.layers.17.adain.affine.weight"].shape == (32, 512)  # 1024x1024/Conv1/StyleMod
    assert sd["synthesis.layers.17.noise_const"].shape == (1024, 1024)
    assert sd["synthesis.torgb.weight"].shape == (3, 16, 1, 1)
    fused = [layer.conv.fused for layer in G.synthesis.layers if layer.conv is not None and layer.conv.up]
    assert fused == [False, False, False, False, True, True, True, True]  # 8..64 nearest, 128..1024 fused
    assert G.synthesis.noise_resolutions == [4 * 2 ** (k // 2) for k in range(18)]


@pytest.mark.parametrize("resolution", [8, 16, 32])
@pytest.mark.parametrize("c_dim", [0, 3])
def test_shapes_and_dtypes(resolution, c_dim):
    G = small(resolution, c_dim)
    n = 3
    z = torch.randn(n, 32)
    c = F.one_hot(torch.tensor([0, 1, 2]), 3).float() if c_dim else None
    ws = G.mapping(z, c)
    assert G.num_ws == 2 * int(math.log2(resolution)) - 2
    assert ws.shape == (n, G.num_ws, 24) and ws.dtype == torch.float32
    for mode in ("const", "random", "none"):
        img = G.synthesis(ws, noise_mode=mode)
        assert img.shape == (n, 3, resolution, resolution) and img.dtype == torch.float32
        assert torch.isfinite(img).all()
    assert torch.equal(G(z, c), G.synthesis(ws))
    assert G.ws_resolutions == G.synthesis.noise_resolutions


def test_stylegan2_shapes_when_available():
    G = stylegan2_or_skip()
    ws = G.mapping(torch.randn(2, 32))
    assert ws.shape == (2, G.num_ws, 24)
    for mode in ("const", "random", "none"):
        assert G.synthesis(ws, noise_mode=mode).shape == (2, 3, 16, 16)


def test_label_changes_output_and_batch_independence():
    G = small(16, c_dim=3)
    z = torch.randn(4, 32)
    c = F.one_hot(torch.tensor([0, 1, 2, 0]), 3).float()
    ws = G.mapping(z, c)
    assert not torch.allclose(ws[0], G.mapping(z[:1], c[1:2])[0])
    # every sample's image depends only on its own inputs
    full = G(z, c)
    single = torch.cat([G(z[i : i + 1], c[i : i + 1]) for i in range(4)])
    assert (full - single).abs().max() < 1e-5


def test_mapping_matches_hand_computation():
    G = small(8)
    z = torch.randn(2, 32)
    x = z / torch.sqrt((z**2).mean(1, keepdim=True) + 1e-8)
    for i in range(8):
        fc = getattr(G.mapping, f"fc{i}")
        w = fc.weight * (math.sqrt(2) / math.sqrt(fc.in_features) * 0.01)
        x = F.leaky_relu(x @ w.T + fc.bias * 0.01, 0.2)
    ws = G.mapping(z)
    assert (ws - x[:, None]).abs().max() < 1e-5
    assert torch.equal(ws[:, 0], ws[:, -1])


# --- layers -----------------------------------------------------------------------------------------


def test_adain_statistics_on_constructed_input():
    torch.manual_seed(1)
    C = 5
    adain = AdaIN(w_dim=7, channels=C)
    x = torch.randn(3, C, 8, 8) * torch.rand(1, C, 1, 1) * 4 + torch.randn(1, C, 1, 1) * 3
    w = torch.randn(3, 7)
    ys, yb = adain.style(w)
    y = adain(x, w)
    assert (y.mean(dim=(2, 3)) - yb).abs().max() < 1e-5
    assert (y.std(dim=(2, 3), unbiased=False) - (ys + 1).abs()).abs().max() < 1e-4
    # with a hand-set affine the style is exactly the bias: scale 1 + 0.5, bias -2
    with torch.no_grad():
        adain.affine.weight.zero_()
        adain.affine.bias.copy_(torch.cat([torch.full((C,), 0.5), torch.full((C,), -2.0)]))
    y = adain(x, w)
    assert (y.mean(dim=(2, 3)) + 2.0).abs().max() < 1e-5
    assert (y.std(dim=(2, 3), unbiased=False) - 1.5).abs().max() < 1e-4


def test_norms():
    x = torch.randn(4, 6, 5, 5) * 3 + 2
    y = instance_norm(x)
    assert y.mean(dim=(2, 3)).abs().max() < 1e-5
    assert (y.var(dim=(2, 3), unbiased=False) - 1).abs().max() < 1e-4
    z = pixel_norm(torch.randn(4, 9) * 5)
    assert (z.square().mean(1) - 1).abs().max() < 1e-5


def test_equalised_lr_scales():
    lin = EqualLinear(6, 4, gain=2.0, lr_mul=0.1)
    x = torch.randn(3, 6)
    ref = x @ (lin.weight * 2.0 / math.sqrt(6) * 0.1).T + lin.bias * 0.1
    assert (lin(x) - ref).abs().max() < 1e-6
    conv = EqualConv2d(3, 4, 3, bias=True)
    x = torch.randn(2, 3, 6, 6)
    ref = F.conv2d(x, conv.weight * math.sqrt(2) / math.sqrt(27), conv.bias, padding=1)
    assert (conv(x) - ref).abs().max() < 1e-6


def test_fused_upsampling_equals_nearest_conv_with_flipped_kernel():
    torch.manual_seed(2)
    fused = EqualConv2d(4, 5, 3, up=True, fused=True)
    plain = EqualConv2d(4, 5, 3, up=True, fused=False)
    with torch.no_grad():
        plain.weight.copy_(fused.weight.flip(2, 3))
    x = torch.randn(2, 4, 8, 8)
    assert fused(x).shape == (2, 5, 16, 16)
    assert (fused(x) - plain(x)).abs().max() < 1e-5


def test_blur_kernel():
    blur = Blur(2)
    assert torch.allclose(blur.kernel[0, 0], torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16)
    y = blur(torch.ones(1, 2, 6, 6))
    assert torch.allclose(y[..., 1:-1, 1:-1], torch.ones(1, 2, 4, 4))
    assert "kernel" not in blur.state_dict()


# --- causality, noise, truncation ---------------------------------------------------------------


def _layer_outputs(G, ws, **kw):
    outs = []
    hooks = [layer.register_forward_hook(lambda m, i, o: outs.append(o.clone())) for layer in G.synthesis.layers]
    try:
        img = G.synthesis(ws, **kw)
    finally:
        for h in hooks:
            h.remove()
    return outs, img


@pytest.mark.parametrize("changed", [0, 3, 5])
def test_changing_one_layer_w_leaves_earlier_layers_untouched(changed):
    G = small(16)
    ws = G.mapping(torch.randn(2, 32))
    ws2 = ws.clone()
    ws2[:, changed] = torch.randn(2, 24)
    before, img = _layer_outputs(G, ws)
    after, img2 = _layer_outputs(G, ws2)
    for k in range(changed):
        assert torch.equal(before[k], after[k])
    assert not torch.allclose(before[changed], after[changed])
    assert not torch.allclose(img, img2)


def test_noise_modes():
    G = small(16)
    ws = G.mapping(torch.randn(2, 32))
    const = G.synthesis(ws, noise_mode="const")
    assert torch.equal(const, G.synthesis(ws, noise_mode="const"))
    r1, r2 = G.synthesis(ws, noise_mode="random"), G.synthesis(ws, noise_mode="random")
    assert not torch.allclose(r1, r2)
    none = G.synthesis(ws, noise_mode="none")
    assert torch.equal(none, G.synthesis(ws, noise_mode="none"))
    assert not torch.allclose(none, const)
    # "none" is exactly the network with zero noise strengths
    with torch.no_grad():
        for layer in G.synthesis.layers:
            layer.noise.weight.zero_()
    assert (G.synthesis(ws, noise_mode="random") - none).abs().max() < 1e-6


def test_explicit_noise_list_and_validation():
    G = small(16)
    ws = G.mapping(torch.randn(2, 32))
    consts = [layer.noise_const[None, None] for layer in G.synthesis.layers]
    assert torch.equal(G.synthesis(ws, noise_mode="random", noise=consts), G.synthesis(ws, noise_mode="const"))
    bad = list(consts)
    bad[2] = torch.zeros(1, 1, 4, 4)
    with pytest.raises(GanevalValueError, match=r"noise\[2\].*\[\*, 1, 8, 8\].*\[1, 1, 4, 4\]"):
        G.synthesis(ws, noise=bad)
    with pytest.raises(GanevalValueError, match="noise"):
        G.synthesis(ws, noise=consts[:3])


def test_truncation_psi_zero_and_cutoff():
    G = small(16)
    z = torch.randn(3, 32)
    plain = G.mapping(z)
    ws0 = G.mapping(z, truncation_psi=0.0)
    assert torch.equal(ws0, G.w_avg.expand_as(ws0))
    cut = G.mapping(z, truncation_psi=0.0, truncation_cutoff=2)
    assert torch.equal(cut[:, :2], G.w_avg.expand(3, 2, -1))
    assert torch.equal(cut[:, 2:], plain[:, 2:])
    half = G.mapping(z, truncation_psi=0.5)
    assert (half - (G.w_avg + 0.5 * (plain - G.w_avg))).abs().max() < 1e-6


def test_update_w_avg_and_gradients():
    G = small(8)
    G.mapping.w_avg.zero_()
    ws = G.mapping(torch.randn(4, 32))
    G.update_w_avg(ws, beta=0.9)
    assert (G.w_avg - 0.1 * ws[:, 0].mean(0)).abs().max() < 1e-6
    G.train()
    loss = G(torch.randn(2, 32), noise_mode="random").square().mean()
    loss.backward()
    assert all(p.grad is not None for p in G.parameters())


# --- bad input --------------------------------------------------------------------------------------


def test_bad_input_errors():
    G = small(16)
    with pytest.raises(GanevalValueError, match=r"Argument `z` must have shape \[\*, 32\], but got \[2, 31\]"):
        G.mapping(torch.randn(2, 31))
    with pytest.raises(GanevalValueError, match=r"Argument `ws` must have shape \[\*, 6, 24\], but got \[2, 5, 24\]"):
        G.synthesis(torch.randn(2, 5, 24))
    z = torch.randn(3, 32)
    z[1, 4] = float("nan")
    with pytest.raises(GanevalValueError, match=r"Argument `z` must be finite.*\[1\]"):
        G(z)
    ws = torch.randn(2, 6, 24)
    ws[0, 0, 0] = float("inf")
    with pytest.raises(GanevalValueError, match="Argument `ws` must be finite"):
        G.synthesis(ws)
    with pytest.raises(GanevalValueError, match=r"`img_resolution` must be a power of two from 8 to 1024, but got 24"):
        StyleGAN(img_resolution=24)
    with pytest.raises(GanevalValueError, match="img_resolution"):
        StyleGAN(img_resolution=2048)
    with pytest.raises(GanevalValueError, match=r"`noise_mode` must be one of 'const', 'random', 'none', but got 'x'"):
        G.synthesis(torch.randn(1, 6, 24), noise_mode="x")
    with pytest.raises(GanevalValueError, match="truncation_cutoff"):
        G.mapping(torch.randn(1, 32), truncation_psi=0.5, truncation_cutoff=9)
    with pytest.raises(GanevalValueError, match="Argument `c` must be a tensor of shape \\[N, 3\\]"):
        small(8, c_dim=3).mapping(torch.randn(1, 32))
    with pytest.raises(GanevalValueError, match="Argument `c` must be None"):
        G.mapping(torch.randn(1, 32), torch.ones(1, 2))
    from ganeval.devices import resolve_device

    with pytest.raises(
        GanevalValueError, match=r"Argument `device` must be 'auto', 'cpu' or 'cuda\[:N\]', but got 'tpu'"
    ):
        resolve_device("tpu")
    with pytest.raises(GanevalError):
        G.mapping([[0.0] * 32])

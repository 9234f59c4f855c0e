"""StyleGAN v1 TF pickles: a pickle written in the documented TF layout (section 4.2 of the
reference: names, [in, out] dense and HWIO conv layouts, unscaled weights) from a ganeval v1
generator loads back into an identical generator."""

from __future__ import annotations

import re

import pytest
import torch
from _loaders_util import v1_tf_variables, write_tf_pickle

from ganeval.errors import CheckpointError
from ganeval.loaders import load_generator
from ganeval.models.stylegan import StyleGAN


def _random_v1(**kwargs) -> StyleGAN:
    torch.manual_seed(0)
    G = StyleGAN(**kwargs).eval()
    with torch.no_grad():  # non-trivial noise strengths, biases and w_avg so every tensor matters
        for p in G.parameters():
            p.add_(0.1 * torch.randn_like(p))
        G.mapping.w_avg.normal_()
    return G


def _static_kwargs(G: StyleGAN, **extra) -> dict:
    kw = G.init_kwargs
    out = dict(
        num_channels=kw["img_channels"],
        resolution=kw["img_resolution"],
        label_size=kw["c_dim"],
        latent_size=kw["z_dim"],
        dlatent_size=kw["w_dim"],
        mapping_layers=kw["mapping_layers"],
        mapping_fmaps=kw["mapping_fmaps"],
        fmap_base=kw["fmap_base"],
        fmap_max=kw["fmap_max"],
    )
    out.update(extra)
    return out


@pytest.mark.parametrize(
    "kwargs, extra",
    [
        (
            dict(z_dim=32, w_dim=32, img_resolution=32, mapping_layers=3, mapping_fmaps=32, fmap_base=256, fmap_max=32),
            {},
        ),
        (
            dict(
                z_dim=16,
                w_dim=16,
                c_dim=3,
                img_resolution=16,
                mapping_layers=2,
                mapping_fmaps=16,
                fmap_base=64,
                fmap_max=16,
                fused_scale=True,
            ),
            {"fused_scale": True, "truncation_psi": 0.7, "structure": "auto"},
        ),
    ],
)
def test_v1_tf_pickle_round_trip(tmp_path, kwargs, extra):
    G0 = _random_v1(**kwargs)
    own, mapping, synth = v1_tf_variables(G0)
    path = write_tf_pickle(
        tmp_path / "karras2019stylegan-test.pkl",
        own,
        mapping,
        synth,
        _static_kwargs(G0, **extra),
        version=3,
        synth_func="G_synthesis",
    )
    G = load_generator(path)
    assert G.arch_name == "stylegan" and G.provenance["format"] == "nvidia-tf-pickle"
    assert G.provenance["tf_version"] == 3
    for k, v in G0.state_dict().items():
        assert torch.equal(G.state_dict()[k], v), k
    z = torch.randn(4, G0.z_dim, generator=torch.Generator().manual_seed(1))
    c = torch.eye(G0.c_dim)[[0, 1, 2, 0]] if G0.c_dim else None
    with torch.no_grad():
        assert torch.equal(
            G(z, c, truncation_psi=0.5, truncation_cutoff=2), G0(z, c, truncation_psi=0.5, truncation_cutoff=2)
        )
        assert torch.equal(G(z, c, noise_mode="none"), G0(z, c, noise_mode="none"))


def test_v1_full_1024_parameter_count():
    """The official Gs 'Total' of the v1 README: trainable TF variables of the 1024 layout."""
    G = StyleGAN()
    _, mapping, synth = v1_tf_variables(G)
    trainable = [v for name, v in mapping + synth if not name.startswith("noise")]
    assert sum(v.size for v in trainable) == 26_219_627
    assert G.official_num_params() == 26_219_627


def test_v1_unsupported_static_kwarg(tmp_path):
    G0 = _random_v1(z_dim=8, w_dim=8, img_resolution=8, mapping_layers=1, mapping_fmaps=8, fmap_base=32, fmap_max=8)
    own, mapping, synth = v1_tf_variables(G0)
    for extra, needle in (
        ({"use_pixel_norm": True}, "`use_pixel_norm` must be False"),
        ({"blur_filter": [1, 3, 3, 1]}, "`blur_filter` must be [1, 2, 1]"),
        ({"some_new_option": 3}, "kwarg `some_new_option` (= 3) is not supported"),
    ):
        path = write_tf_pickle(
            tmp_path / "v1.pkl", own, mapping, synth, _static_kwargs(G0, **extra), version=3, synth_func="G_synthesis"
        )
        with pytest.raises(CheckpointError, match=re.escape(needle)):
            load_generator(path)

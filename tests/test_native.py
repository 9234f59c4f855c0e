"""Native checkpoint format: bit-exact round trip, checksum, strict keys, atomic writes."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

import ganeval
from ganeval.errors import CheckpointError, ChecksumError, UnsupportedGeneratorError
from ganeval.models.adapter import ZOnlyGenerator
from ganeval.models.native import load_native, native_paths, save_generator
from ganeval.models.stylegan import StyleGAN


def v1(c_dim: int = 0) -> StyleGAN:
    torch.manual_seed(0)
    G = StyleGAN(z_dim=16, w_dim=16, c_dim=c_dim, img_resolution=16, fmap_base=64, fmap_max=16)
    with torch.no_grad():
        for p in G.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        G.mapping.w_avg.normal_()
    return G.eval()


def v2():
    mod = pytest.importorskip("ganeval.models.stylegan2")
    torch.manual_seed(0)
    G = mod.StyleGAN2(z_dim=16, w_dim=16, img_resolution=16, channel_base=128, channel_max=16)
    G.mapping.w_avg.normal_()
    return G.eval()


@pytest.mark.parametrize("make", [v1, lambda: v1(c_dim=2), v2])
def test_round_trip_is_bit_exact(make, tmp_path):
    G = make()
    G.provenance = {"source": "unit-test", "format": "in-memory", "sha256": None}
    weights = save_generator(G, tmp_path / "gen")
    assert weights == tmp_path / "gen.safetensors" and (tmp_path / "gen.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gen.json", "gen.safetensors"]  # no temp files left
    for path in (weights, tmp_path / "gen.json", tmp_path / "gen", tmp_path):
        H = load_native(path)
        assert type(H) is type(G) and H.init_kwargs == G.init_kwargs
        a, b = G.state_dict(), H.state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        assert not H.training and not any(p.requires_grad for p in H.parameters())
    z = torch.randn(3, 16)
    c = torch.eye(2)[[0, 1, 0]] if G.c_dim else None
    assert torch.equal(G(z, c, truncation_psi=0.7), H(z, c, truncation_psi=0.7))
    assert H.provenance["format"] == "native" and H.provenance["saved"]["source"] == "unit-test"
    config = json.loads((tmp_path / "gen.json").read_text())
    assert config["arch_name"] == G.arch_name and config["format"] == "ganeval-native"
    assert torch.equal(torch.tensor(config["w_avg"], dtype=torch.float32), G.mapping.w_avg)
    assert config["sha256"] == H.provenance["sha256"]
    assert config["num_params"] == sum(p.numel() for p in G.parameters())


def test_public_save_generator_is_native(tmp_path):
    G = v1()
    ganeval.save_generator(G, tmp_path / "g.safetensors")
    assert load_file(str(tmp_path / "g.safetensors")).keys() == G.state_dict().keys()


def test_corrupted_weights_fail_checksum(tmp_path):
    weights = save_generator(v1(), tmp_path / "g")
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="sha256"):
        load_native(weights)


def _rewrite(tmp_path, state):
    """Replace the weights of tmp_path/g and fix the recorded sha256 (a consistent but wrong pair)."""
    from ganeval.weights import sha256_file

    save_file(state, str(tmp_path / "g.safetensors"))
    config = json.loads((tmp_path / "g.json").read_text())
    config["sha256"] = sha256_file(tmp_path / "g.safetensors")
    (tmp_path / "g.json").write_text(json.dumps(config))


def test_strict_keys_and_shapes(tmp_path):
    G = v1()
    save_generator(G, tmp_path / "g")
    state = {k: v.clone().contiguous() for k, v in G.state_dict().items()}
    extra = dict(state, **{"synthesis.extra": torch.zeros(1)})
    _rewrite(tmp_path, extra)
    with pytest.raises(CheckpointError, match=r"0 are missing .* 1 are unexpected .*synthesis.extra"):
        load_native(tmp_path / "g")
    missing = {k: v for k, v in state.items() if k != "synthesis.torgb.bias"}
    _rewrite(tmp_path, missing)
    with pytest.raises(CheckpointError, match=r"1 are missing \(first: \['synthesis.torgb.bias'\]\)"):
        load_native(tmp_path / "g")
    reshaped = dict(state, **{"synthesis.torgb.bias": torch.zeros(4)})
    _rewrite(tmp_path, reshaped)
    with pytest.raises(
        CheckpointError, match=r"1 tensor\(s\) have mismatched shapes.*synthesis.torgb.bias expected \[3\] found \[4\]"
    ):
        load_native(tmp_path / "g")


def test_bad_configs(tmp_path):
    save_generator(v1(), tmp_path / "g")
    config = json.loads((tmp_path / "g.json").read_text())
    (tmp_path / "g.json").write_text(json.dumps(dict(config, arch_name="biggan")))
    with pytest.raises(
        CheckpointError,
        match=r"`arch_name` must be one of \['stylegan', 'stylegan2', 'stylegan3', 'traditional'\].*'biggan'",
    ):
        load_native(tmp_path / "g")
    (tmp_path / "g.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not readable JSON"):
        load_native(tmp_path / "g")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_native(tmp_path / "missing.safetensors")
    (tmp_path / "g.json").write_text(json.dumps(dict(config, w_avg=[0.0] * 16)))
    with pytest.raises(CheckpointError, match="w_avg"):
        load_native(tmp_path / "g")
    (tmp_path / "h.json").write_text(json.dumps(config))
    (tmp_path / "h.safetensors").write_bytes(b"")
    with pytest.raises(CheckpointError, match="exactly one"):
        native_paths(tmp_path)


def test_unsupported_generators_and_devices(tmp_path):
    G = ZOnlyGenerator(torch.nn.Identity(), z_dim=4, img_resolution=4)
    with pytest.raises(UnsupportedGeneratorError, match="z-only"):
        save_generator(G, tmp_path / "z")
    save_generator(v1(), tmp_path / "g")
    with pytest.raises(ganeval.GanevalValueError, match="Argument `device`"):
        load_native(tmp_path / "g", device="tpu")
    assert next(load_native(tmp_path / "g", device="cpu").parameters()).device.type == "cpu"

"""Every supported checkpoint format, loaded through load_generator, reproduces the reference
outputs of the official implementations (fixtures in ../shared/fixtures).

Measured max abs errors (images span about +-7; 2 threads): ws/latents 0.0 (rosinality truncated
latents 2.4e-7: torch.lerp vs a + psi * (b - a)); images <= 4.8e-6 for the ada weights, the TF
pickle and the ada torch pickle, <= 6.7e-6 for both rosinality checkpoints.
"""

from __future__ import annotations

import pickle

import pytest
import torch
from _loaders_util import nvidia_modules, persistent_records
from conftest import fixture_path
from safetensors.torch import load_file

from ganeval.loaders import detect_format, load_generator

ATOL_IMG = 1e-4
ATOL_W = 1e-6


def _check_ada_io(G, io) -> None:
    with torch.no_grad():
        torch.testing.assert_close(G.mapping(io["z"]), io["ws"], rtol=0, atol=ATOL_W)
        torch.testing.assert_close(G.mapping(io["z"], truncation_psi=0.7), io["ws_trunc"], rtol=0, atol=ATOL_W)
        ws_mix = G.mapping(io["z"]).clone()
        ws_mix[:, 4:] = G.mapping(io["z2"])[:, 4:]
        torch.testing.assert_close(ws_mix, io["ws_mix"], rtol=0, atol=ATOL_W)
        for key, out in {
            "img_const": G.synthesis(io["ws"], noise_mode="const"),
            "img_none": G.synthesis(io["ws"], noise_mode="none"),
            "img_trunc_const": G(io["z"], truncation_psi=0.7, noise_mode="const"),
            "img_mix_const": G.synthesis(io["ws_mix"], noise_mode="const"),
        }.items():
            torch.testing.assert_close(out, io[key], rtol=0, atol=ATOL_IMG, msg=lambda m, k=key: f"{k}: {m}")


@pytest.fixture(scope="module")
def ada_io():
    return load_file(fixture_path("stylegan2-ada", "io.safetensors"))


def test_ada_state_dict_direct(ada_io):
    path = fixture_path("stylegan2-ada", "weights.safetensors")
    G = load_generator(path)
    assert G.provenance["format"] == "stylegan2-state-dict" and len(G.provenance["sha256"]) == 64
    assert G.arch_name == "stylegan2" and G.num_ws == 8 and G.channels == [64, 64, 64, 64]
    assert not G.training and not any(p.requires_grad for p in G.parameters())
    _check_ada_io(G, ada_io)


def test_tf_stylegan2_pickle(ada_io):
    path = fixture_path("stylegan2-tf", "network-snapshot.pkl")
    assert detect_format(path) == "nvidia-tf-pickle"
    G = load_generator(path)
    assert G.provenance["format"] == "nvidia-tf-pickle" and G.provenance["tf_version"] == 4
    assert G.provenance["network"] == "Gs"
    # the TF pickle holds exactly the ada weights: the state dicts agree bit for bit
    ada = load_file(fixture_path("stylegan2-ada", "weights.safetensors"))
    for k, v in G.state_dict().items():
        assert torch.equal(v, ada[k]), k
    _check_ada_io(G, ada_io)


def test_ada_torch_pickle(tmp_path, ada_io):
    """An ada-style network pickle (persistence records, EasyDict kwargs, plain-pickled tensors)."""
    ref = load_generator(fixture_path("stylegan2-ada", "weights.safetensors"))
    with nvidia_modules() as (_, EasyDict, reconstruct):
        kwargs = EasyDict(
            z_dim=64,
            c_dim=0,
            w_dim=64,
            img_resolution=32,
            img_channels=3,
            mapping_kwargs=EasyDict(num_layers=2),
            synthesis_kwargs=EasyDict(channel_base=2048, channel_max=64, num_fp16_res=0, conv_clamp=None),
        )
        G_ema = persistent_records(ref, reconstruct, "training.networks.Generator", kwargs)
        D = persistent_records(torch.nn.Linear(2, 2), reconstruct, "training.networks.Discriminator", EasyDict())
        data = dict(G=G_ema, D=D, G_ema=G_ema, augment_pipe=None, training_set_kwargs=EasyDict(resolution=32))
        path = tmp_path / "network-snapshot-000000.pkl"
        path.write_bytes(pickle.dumps(data, protocol=4))
    G = load_generator(path)
    assert G.provenance["format"] == "nvidia-torch-pickle"
    assert G.provenance["class_name"] == "training.networks.Generator" and G.provenance["network"] == "G_ema"
    _check_ada_io(G, ada_io)


@pytest.mark.parametrize(
    "folder, filename", [("rosinality", "checkpoint.pt"), ("rosinality-fullwidth", "checkpoint.pt.xz")]
)
def test_rosinality(folder, filename):
    G = load_generator(fixture_path(folder, filename))
    io = load_file(fixture_path(folder, "io.safetensors"))
    if folder == "rosinality-fullwidth":  # 512 channels: half the samples keep the test file under a minute
        io = {k: v if k == "latent_avg" else v[:4] for k, v in io.items()}
    assert G.provenance["format"] == "rosinality"
    assert G.provenance.get("compression") == ("xz" if filename.endswith(".xz") else None)
    width = 64 if folder == "rosinality" else 512
    assert G.channels == [width] * 4 and G.num_ws == 8 and G.w_dim == 64
    torch.testing.assert_close(G.w_avg, io["latent_avg"], rtol=0, atol=0)
    with torch.no_grad():
        # rosinality's `styles` is one w per sample; its `latents` are the broadcast, truncated ws
        ws = G.mapping(io["z"])
        torch.testing.assert_close(ws[:, 0], io["styles"], rtol=0, atol=ATOL_W)
        torch.testing.assert_close(ws, io["latents"], rtol=0, atol=ATOL_W)
        torch.testing.assert_close(G.synthesis(ws, noise_mode="const"), io["img"], rtol=0, atol=ATOL_IMG)
        ws_t = G.mapping(io["z"], truncation_psi=0.7)
        torch.testing.assert_close(ws_t, io["latents_trunc"], rtol=0, atol=ATOL_W)
        torch.testing.assert_close(G.synthesis(ws_t), io["img_trunc"], rtol=0, atol=ATOL_IMG)
        ws_mix = ws.clone()
        ws_mix[:, 4:] = G.mapping(io["z2"])[:, 4:]  # inject_index=4
        torch.testing.assert_close(ws_mix, io["latents_mix"], rtol=0, atol=ATOL_W)
        torch.testing.assert_close(G.synthesis(ws_mix), io["img_mix"], rtol=0, atol=ATOL_IMG)


def test_rosinality_training_checkpoint_without_latent_avg(tmp_path):
    """Training checkpoints hold g, d, g_ema and optimiser states but no latent_avg."""
    ckpt = torch.load(fixture_path("rosinality", "checkpoint.pt"), weights_only=True)
    io = load_file(fixture_path("rosinality", "io.safetensors"))
    path = tmp_path / "000100.pt"
    torch.save(
        {
            "g": ckpt["g_ema"],
            "d": {"convs.0.0.weight": torch.zeros(1)},
            "g_ema": ckpt["g_ema"],
            "g_optim": {"state": {}, "param_groups": []},
            "ada_aug_p": 0.0,
        },
        path,
    )
    G = load_generator(path)
    assert G.provenance["network"] == "g_ema" and "mean_latent(4096), seed 123" in G.provenance["w_avg"]
    with torch.no_grad():
        torch.testing.assert_close(G.synthesis(G.mapping(io["z"])), io["img"], rtol=0, atol=ATOL_IMG)
        # mean_latent(4096) from seed 123: close to the stored mean over 1000 other z
        assert (G.w_avg - io["latent_avg"]).abs().max() < 0.1


def test_native_round_trip(tmp_path, ada_io):
    from ganeval.models.native import save_generator

    G0 = load_generator(fixture_path("stylegan2-ada", "weights.safetensors"))
    save_generator(G0, tmp_path / "ada")
    for src in (tmp_path / "ada.safetensors", tmp_path / "ada.json", tmp_path):
        G = load_generator(src)
        assert G.provenance["format"] == "native"
        assert G.provenance["saved"]["format"] == "stylegan2-state-dict"
    _check_ada_io(G, ada_io)


def test_registry_name(tmp_home, ada_io):
    """A registry name resolves through ganeval.weights (cache under GANEVAL_HOME, offline)."""
    import shutil

    from ganeval import weights
    from ganeval.weights import WeightsEntry

    src = fixture_path("stylegan2-tf", "network-snapshot.pkl")
    sha = weights.sha256_file(src)
    entry = WeightsEntry(
        name="test-stylegan2-tf-tiny",
        kind="generator",
        filename="test-stylegan2-tf-tiny.pkl",
        urls=("https://example.invalid/tiny.pkl",),
        sha256=sha,
        format="nvidia-tf-pickle",
    )
    weights.register(entry)
    try:
        cached = weights.weights_dir() / entry.filename
        cached.parent.mkdir(parents=True)
        shutil.copyfile(src, cached)
        G = load_generator("test-stylegan2-tf-tiny")
        assert G.provenance["registry"] == "test-stylegan2-tf-tiny" and G.provenance["sha256"] == sha
        assert G.provenance["source"] == "test-stylegan2-tf-tiny" and G.provenance["format"] == "nvidia-tf-pickle"
        _check_ada_io(G, ada_io)
    finally:
        weights.unregister(entry.name)

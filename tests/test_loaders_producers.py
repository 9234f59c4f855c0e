"""Checkpoints in the layouts their producers write load and reproduce the producers' outputs.

Numeric data: tests/fixtures/{ada-*,rosinality-*}/ (written by NVIDIA's and rosinality's own code
through tools/fixtures/; provenance in tests/fixtures/README-loaders-torch.md). The checkpoints
themselves are rebuilt here in the producers' exact layouts (tests/_producer_layout.py) because
real snapshots embed third-party source. Extra cross-checks read ../shared/fixtures.

Tolerances (tests/fixtures/README-loaders-torch.md): w / latents 1e-6 relative, images
2e-5 x max|img|.
"""

from __future__ import annotations

import argparse
import gzip
import json
import pathlib

import pytest
import torch
from _producer_layout import FIXTURES, NUMPY_PATHS, ada_snapshot_bytes, config, records, rosinality_checkpoint
from click.testing import CliRunner
from conftest import fixture_path
from safetensors.torch import load_file

from ganeval import load_generator
from ganeval.errors import CheckpointError

ADA = sorted(p.name for p in FIXTURES.glob("ada-*") if (p / "weights.safetensors").exists())
ROSINALITY = sorted(p.name for p in FIXTURES.glob("rosinality-*"))
W_RTOL, IMG_RTOL = 1e-6, 2e-5
# each producer config once, the NumPy 1.x and 2.x scalar paths alternating (every protocol x path below)
ADA_CASES = [(name, NUMPY_PATHS[i % 2]) for i, name in enumerate(ADA)]
pytestmark = pytest.mark.usefixtures("one_thread")


def close_w(got: torch.Tensor, want: torch.Tensor) -> None:
    torch.testing.assert_close(got, want, rtol=0, atol=W_RTOL * float(want.abs().max()))


def close_img(got: torch.Tensor, want: torch.Tensor) -> None:
    torch.testing.assert_close(got, want, rtol=0, atol=IMG_RTOL * float(want.abs().max()))


def check_ada_outputs(G, io: dict[str, torch.Tensor]) -> None:
    """Every recorded output of the producer's G_ema, at the stated tolerances."""
    c = io.get("c")
    with torch.no_grad():
        close_w(G.mapping(io["z"], c), io["ws"])
        close_w(G.mapping(io["z"], c, truncation_psi=0.7), io["ws_trunc"])
        close_w(G.mapping(io["z"], c, truncation_psi=0.5, truncation_cutoff=4), io["ws_trunc_cut"])
        close_img(G.synthesis(io["ws"], noise_mode="const"), io["img_const"])
        close_img(G.synthesis(io["ws"], noise_mode="none"), io["img_none"])
        close_img(G(io["z"], c, truncation_psi=0.7, noise_mode="const"), io["img_trunc_const"])
        close_img(G.synthesis(io["ws_mix"], noise_mode="const"), io["img_mix_const"])


def test_fixture_matrix_is_complete():
    """The vendored matrix covers what issue 12 asks of the torch producers."""
    cfgs = [config(n)["matrix_entry"] for n in ADA]
    assert {c["res"] for c in cfgs} >= {32, 64, 128, 256} and {c["ch"] for c in cfgs} == {1, 3}
    assert {c["c_dim"] > 0 for c in cfgs} == {True, False} and {c["map"] for c in cfgs} == {2, 8}
    assert {c["protocol"] for c in cfgs} == {3, 4, 5} and {c["fp16"] > 0 for c in cfgs} == {True, False}
    assert {c["flavor"] for c in cfgs} == {"ada", "sg3"}
    assert all(config(n)["max_abs_G_minus_G_ema"] > 0 for n in ADA)
    assert {config(n)["layout"] for n in ROSINALITY} == {"train", "convert", "state"}


@pytest.mark.parametrize("name,numpy_path", ADA_CASES)
def test_ada_snapshot_layout_reproduces_producer(tmp_path, name, numpy_path):
    cfg = config(name)
    path = tmp_path / "network-snapshot-000000.pkl"
    path.write_bytes(ada_snapshot_bytes(name, protocol=cfg["pickle_protocol"], numpy_path=numpy_path))
    G = load_generator(path)
    prov = G.provenance
    assert prov["network"] == "G_ema" and prov["class_name"] == "Generator"
    assert prov["pickle_protocol"] == cfg["pickle_protocol"]
    assert prov["numpy_writer"].startswith("NumPy < 2" if numpy_path == "numpy.core.multiarray" else "NumPy >= 2")
    assert prov["producer"] == (
        "stylegan3 repository" if cfg["matrix_entry"]["flavor"] == "sg3" else "stylegan2-ada-pytorch"
    )
    assert f"num_fp16_res={cfg['matrix_entry']['fp16']}" in prov["precision"] and "float32" in prov["precision"]
    check_ada_outputs(G, load_file(str(FIXTURES / name / "io.safetensors")))


@pytest.mark.parametrize("protocol,numpy_path", [(3, NUMPY_PATHS[1]), (4, NUMPY_PATHS[0]), (5, NUMPY_PATHS[0])])
def test_ada_snapshot_every_protocol(tmp_path, protocol, numpy_path):
    path = tmp_path / "snap.pkl"
    path.write_bytes(ada_snapshot_bytes("ada-r64-gray-cond", protocol=protocol, numpy_path=numpy_path))
    G = load_generator(path)
    assert G.provenance["pickle_protocol"] == protocol and G.c_dim == 5
    check_ada_outputs(G, load_file(str(FIXTURES / "ada-r64-gray-cond" / "io.safetensors")))


def test_stylegan3_snapshot_is_recognised_and_its_values_checked(tmp_path):
    """A StyleGAN3 (alias-free) snapshot's record tree, as NVIDIA's code pickled it, with random
    values: routed to the StyleGAN3 builder, whose checks refuse an impossible magnitude EMA (a mean
    square) by name. (Producer parity of StyleGAN3 snapshots: tests/test_stylegan3_parity.py.)"""
    path = tmp_path / "stylegan3-t.pkl"
    path.write_bytes(ada_snapshot_bytes("ada-sg3-alias-free-r16", protocol=4))
    with pytest.raises(
        CheckpointError, match=r"tensor `synthesis\.L\d+_\d+_\d+\.magnitude_ema` must be positive"
    ) as info:
        load_generator(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_module_src_contradicting_structure_is_refused(tmp_path):
    tree = records("ada-r32-rgb")
    path = tmp_path / "snap.pkl"
    data = ada_snapshot_bytes("ada-r32-rgb", protocol=4, tree=tree)
    # the placeholder source text of training/networks.py is replaced by one declaring StyleGAN3 classes
    placeholder = b"# training/networks.py: source not stored\n"
    fake = b"class SynthesisInput: pass  # padding!!!!!!!!\n"[: len(placeholder)]
    assert data.count(placeholder) == 1 and len(fake) == len(placeholder)
    path.write_bytes(data.replace(placeholder, fake))
    with pytest.raises(CheckpointError, match="module_src text defines a stylegan3"):
        load_generator(path)


def test_g_is_used_only_without_g_ema(tmp_path):
    """With G_ema present its weights are used (G differs by 0.5 everywhere)."""
    tree = records("ada-r32-rgb")
    io = load_file(str(FIXTURES / "ada-r32-rgb" / "io.safetensors"))
    path = tmp_path / "snap.pkl"
    path.write_bytes(ada_snapshot_bytes("ada-r32-rgb", protocol=4, tree=tree))
    with torch.no_grad():
        assert load_generator(path).mapping(io["z"]).sub(io["ws"]).abs().max() == 0
    del tree["G_ema"]
    path.write_bytes(ada_snapshot_bytes("ada-r32-rgb", protocol=4, tree=tree))
    G = load_generator(path)
    assert G.provenance["network"] == "G"
    with torch.no_grad():
        assert G.mapping(io["z"]).sub(io["ws"]).abs().max() > 1e-3


@pytest.mark.parametrize("name", ROSINALITY)
def test_rosinality_layouts_reproduce_producer(tmp_path, name):
    cfg = config(name)
    path = rosinality_checkpoint(name, tmp_path / f"{name}.pt")
    io = load_file(str(FIXTURES / name / "io.safetensors"))
    G = load_generator(path)
    prov = G.provenance
    assert (
        prov["layout"]
        == {"train": "train.py checkpoint", "convert": "convert_weight.py output", "state": "generator state dict"}[
            cfg["layout"]
        ]
    )
    with torch.no_grad():
        if "latent_avg" in io:
            assert prov["w_avg"] == "stored latent_avg"
            close_w(G.mapping.w_avg, io["latent_avg"])
        else:
            assert prov["w_avg"].startswith("computed: mean_latent(4096), seed 123")
            # rosinality's torch.manual_seed(123); mean_latent(4096), reproduced without global RNG
            close_w(G.mapping.w_avg, io["latent_avg_4096"][0])
        close_w(G.mapping(io["z"])[:, 0], io["styles"])
        ws = G.mapping(io["z"])
        close_w(ws, io["latents"])
        close_img(G.synthesis(ws, noise_mode="const"), io["img"])
        close_img(G.synthesis(ws, noise_mode="none"), io["img_zero_noise"])
        close_w(G.mapping(io["z"], truncation_psi=0.7), io["latents_trunc"])
        close_img(G.synthesis(io["latents_trunc"], noise_mode="const"), io["img_trunc"])
        k = cfg["matrix_entry"]["inject"]
        mix = torch.cat([ws[:, :k], G.mapping(io["z2"])[:, k:]], dim=1)
        close_w(mix, io["latents_mix"])
        close_img(G.synthesis(mix, noise_mode="const"), io["img_mix"])


def test_mean_latent_leaves_global_rng_alone(tmp_path):
    path = rosinality_checkpoint("rosinality-state-r128", tmp_path / "g.pt")
    torch.manual_seed(77)
    want = torch.rand(3)
    torch.manual_seed(77)
    load_generator(path)
    assert torch.equal(torch.rand(3), want)


def test_train_checkpoint_allows_only_namespace(tmp_path):
    """args must be train.py's Namespace; any other class is refused without running it."""
    path = rosinality_checkpoint("rosinality-train-r32", tmp_path / "ok.pt")
    obj = torch.load(path, weights_only=False)
    assert isinstance(obj["args"], argparse.Namespace)
    obj["args"] = pathlib.PurePosixPath("/data/lmdb")  # picklable, harmless, but not what train.py stores
    torch.save(obj, path)
    with pytest.raises(CheckpointError, match="PurePosixPath") as info:
        load_generator(path)
    assert "weights_only=False" not in str(info.value) and str(path) in str(info.value)


def test_info_names_producer(tmp_path):
    from ganeval.cli import main as cli

    snap = tmp_path / "network-snapshot-000100.pkl"
    snap.write_bytes(ada_snapshot_bytes("ada-r32-rgb", protocol=4))
    out = CliRunner().invoke(cli, ["info", str(snap)])
    assert out.exit_code == 0, out.output
    assert "stylegan2-ada-pytorch snapshot, G_ema, protocol 4" in out.output
    ckpt = rosinality_checkpoint("rosinality-train-r32", tmp_path / "010000.pt")
    out = CliRunner().invoke(cli, ["info", str(ckpt)])
    assert out.exit_code == 0, out.output
    assert "rosinality train.py checkpoint (g_ema; latent_avg computed: mean_latent(4096), seed 123)" in out.output


# ---- cross-checks on files the producers wrote themselves (../shared/fixtures) ----


def test_shared_official_ada_snapshot():
    G = load_generator(fixture_path("stylegan2-ada", "official-snapshot-nosource.pkl"))
    assert G.provenance["producer"] == "stylegan2-ada-pytorch" and G.provenance["network"] == "G_ema"
    io = load_file(str(fixture_path("stylegan2-ada", "io.safetensors")))
    with torch.no_grad():
        close_w(G.mapping(io["z"]), io["ws"])
        close_w(G.mapping(io["z"], truncation_psi=0.7), io["ws_trunc"])
        close_img(G.synthesis(io["ws"], noise_mode="const"), io["img_const"])
        close_img(G.synthesis(io["ws"], noise_mode="none"), io["img_none"])
        close_img(G(io["z"], truncation_psi=0.7, noise_mode="const"), io["img_trunc_const"])
        close_img(G.synthesis(io["ws_mix"], noise_mode="const"), io["img_mix_const"])


def test_shared_rosinality_train_checkpoint():
    G = load_generator(fixture_path("rosinality-train", "checkpoint.pt"))
    io = load_file(str(fixture_path("rosinality-train", "io.safetensors")))
    assert G.provenance["layout"] == "train.py checkpoint"
    with torch.no_grad():
        close_w(G.mapping.w_avg, io["latent_avg_4096"][0])
        ws = G.mapping(io["z"])
        close_w(ws, io["latents"])
        close_img(G.synthesis(ws, noise_mode="const"), io["img"])
        close_w(G.mapping(io["z"], truncation_psi=0.7), io["latents_trunc"])
        close_img(G.synthesis(io["latents_trunc"], noise_mode="const"), io["img_trunc"])
        close_img(G.synthesis(io["latents_mix"], noise_mode="const"), io["img_mix"])


def test_vendored_records_hold_no_source_text():
    """Clean room: the vendored record trees carry class names and data, never module source."""
    for p in FIXTURES.glob("ada-*/records.json.gz"):
        text = gzip.decompress(p.read_bytes()).decode()
        assert "module_src" not in text and "import " not in text and "def " not in text
        json.loads(text)


def test_legacy_py_converted_snapshot_kwargs(tmp_path):
    """stylegan2-ada-pytorch's legacy.py (TF -> PyTorch conversion) writes every mapping/synthesis
    kwarg explicitly, EasyDicts included (seen in a file it converted); such snapshots load too."""
    tree = records("ada-r32-rgb")
    state = dict(tree["G_ema"]["record"]["state"]["dict"])
    kwargs = dict(state["_init_kwargs"]["dict"])
    kwargs["mapping_kwargs"] = {
        "EasyDict": [
            ["num_layers", 2],
            ["embed_features", None],
            ["layer_features", 32],
            ["activation", "lrelu"],
            ["lr_multiplier", 0.01],
            ["w_avg_beta", 0.995],
        ]
    }
    synthesis = dict(kwargs["synthesis_kwargs"]["EasyDict"])
    synthesis.update(architecture="skip", resample_filter=[1, 3, 3, 1], use_noise=True, activation="lrelu")
    kwargs["synthesis_kwargs"] = {"EasyDict": [[k, v] for k, v in synthesis.items()]}
    for item in tree["G_ema"]["record"]["state"]["dict"]:
        if item[0] == "_init_kwargs":
            item[1] = {"dict": [[k, v] for k, v in kwargs.items()]}
    path = tmp_path / "converted.pkl"
    path.write_bytes(ada_snapshot_bytes("ada-r32-rgb", protocol=4, tree=tree))
    check_ada_outputs(load_generator(path), load_file(str(FIXTURES / "ada-r32-rgb" / "io.safetensors")))

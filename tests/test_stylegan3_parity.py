"""StyleGAN3 reproduces the official NVlabs/stylegan3 outputs (vendored fixtures), plus builder checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ganeval.errors import CheckpointError
from ganeval.loaders.stylegan3_torch import build_stylegan3, is_stylegan3_state, stylegan3_kwargs
from ganeval.models.stylegan3 import StyleGAN3

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CONFIGS = ["stylegan3-t", "stylegan3-r", "stylegan3-t64"]
IMG_REL = 2e-5  # images within 2e-5 x max|img| (shared/fixtures/README.md); measured <= 6.4e-6
TRANSFORMS = ["translate", "translate_frac", "rotate", "rotate_translate"]


def _load(name: str) -> tuple[dict, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    folder = FIXTURES / name
    cfg = json.loads((folder / "config.json").read_text())
    return cfg, load_file(str(folder / "weights.safetensors")), load_file(str(folder / "io.safetensors"))


@pytest.fixture(scope="module", params=CONFIGS)
def official(request, one_thread):
    cfg, state, io = _load(request.param)
    return request.param, build_stylegan3(cfg["init_kwargs"], state, f"{request.param}/weights.safetensors"), io


def _assert_img(out: torch.Tensor, ref: torch.Tensor, what: str) -> None:
    err = float((out - ref).abs().max())
    assert err <= IMG_REL * float(ref.abs().max()), (
        f"{what}: max abs diff {err:.3g}, max|img| {float(ref.abs().max()):.3g}"
    )


@torch.no_grad()
def test_mapping_exact(official):
    _, G, io = official
    c = io.get("c")
    torch.testing.assert_close(G.mapping(io["z"], c), io["ws"], rtol=1e-6, atol=0)
    torch.testing.assert_close(G.mapping(io["z"], c, truncation_psi=0.7), io["ws_trunc"], rtol=1e-6, atol=0)
    torch.testing.assert_close(
        G.mapping(io["z"], c, truncation_psi=0.5, truncation_cutoff=3), io["ws_trunc_cut"], rtol=1e-6, atol=0
    )


@torch.no_grad()
def test_images(official):
    name, G, io = official
    img = G.synthesis(io["ws"], noise_mode="const")
    for key in ("img", "img_random", "img_none"):
        _assert_img(img, io[key], f"{name} {key}")
    assert torch.equal(G.synthesis(io["ws"], noise_mode="random"), img)  # no noise inputs
    _assert_img(G(io["z"], io.get("c"), truncation_psi=0.7), io["img_trunc"], f"{name} img_trunc")


@torch.no_grad()
def test_images_under_input_transform(official):
    name, G, io = official
    transform = G.synthesis.input.transform
    try:
        for key in TRANSFORMS:
            transform.copy_(io[f"transform_{key}"])
            out = G.synthesis(io["ws"])
            _assert_img(out, io[f"img_{key}"], f"{name} img_{key}")
            assert float((out - io["img"]).abs().max()) > 0.05 * float(io["img"].abs().max())  # it did move
    finally:
        transform.copy_(torch.eye(3))


def test_fresh_filters_match_official_design():
    """A fresh model designs the same Kaiser / jinc filters as the official code (before perturbation)."""
    for name in CONFIGS:
        cfg, _, io = _load(name)
        fresh = StyleGAN3(**stylegan3_kwargs(cfg["init_kwargs"], name)).state_dict()
        designed = {k[len("designed.") :]: v for k, v in io.items() if k.startswith("designed.")}
        assert designed and set(designed) == {k for k in fresh if k.endswith("_filter")}
        for key, ref in designed.items():
            torch.testing.assert_close(fresh[key], ref, rtol=0, atol=1e-7, msg=lambda m, k=key, n=name: f"{n} {k}: {m}")


def test_vendored_filters_are_read_not_recomputed(official):
    _, G, _ = official
    name = official[0]
    _, state, _ = _load(name)
    for key, value in G.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_full_size_official_shapes():
    """Layer names and every tensor shape of full-size official T-1024, R-1024 and T-256 generators."""
    table = json.loads((FIXTURES / "stylegan3-shapes.json").read_text())
    for name, entry in table.items():
        with torch.device("meta"):
            G = StyleGAN3(**stylegan3_kwargs(entry["init_kwargs"], name))
        got = {k: list(v.shape) for k, v in G.state_dict().items()}
        assert list(got) == list(entry["shapes"]), name
        assert got == entry["shapes"], name
        assert G.config == ("R" if "-r-" in name else "T")


def test_describe(official):
    name, G, _ = official
    info = G.describe()
    assert info["config"] == ("R" if name == "stylegan3-r" else "T")
    assert len(info["layers"]) == G.num_ws - 1 and info["layers"][-1]["torgb"]
    assert sum(layer["critically_sampled"] for layer in info["layers"]) == 3  # num_critical + the toRGB
    kinds = {layer["down_filter"] for layer in info["layers"][:-3]}
    assert kinds == ({"radial"} if name == "stylegan3-r" else {"separable"})
    json.dumps(info)
    res = G.ws_resolutions  # 2 x the band limit: 4 px at the input, the image resolution at the end
    assert len(res) == G.num_ws and res[0] == 4 and res[-1] == G.img_resolution and res == sorted(res)


def test_is_stylegan3_state():
    _, state, _ = _load("stylegan3-t")
    assert is_stylegan3_state(state)
    assert not is_stylegan3_state({"synthesis.b4.const": torch.zeros(1)})


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda kw, st: st.pop("synthesis.L2_36_16.down_filter"), "missing"),
        (lambda kw, st: st.update({"synthesis.L2_36_16.extra": torch.zeros(1)}), "unexpected"),
        (lambda kw, st: st.update({"synthesis.input.freqs": torch.zeros(3, 2)}), "mismatched shapes"),
        (lambda kw, st: st.update({"synthesis.L0_36_16.magnitude_ema": torch.tensor(0.0)}), "positive"),
        (lambda kw, st: st["synthesis.L1_36_16.weight"].view(-1).__setitem__(0, float("nan")), "finite"),
        (lambda kw, st: kw.update(architecture="skip"), "not supported"),
        (lambda kw, st: kw.update(num_layers=10_000), r"\[1, 64\]"),
        (lambda kw, st: kw.update(img_resolution=48), "power of two"),
        (lambda kw, st: kw.pop("w_dim"), "w_dim"),
        (lambda kw, st: kw.update(use_radial_filters="yes"), "bool"),
        (lambda kw, st: kw.update(channel_max=8), "missing"),
    ],
)
def test_builder_errors(change, match):
    cfg, state, _ = _load("stylegan3-t")
    kwargs = json.loads(json.dumps(cfg["init_kwargs"]))
    change(kwargs, state)
    with pytest.raises(CheckpointError, match=match) as info:
        build_stylegan3(kwargs, state, "bad.pkl")
    assert str(info.value).startswith("bad.pkl: ") and "\n" not in str(info.value)


@torch.no_grad()
def test_native_round_trip(tmp_path):
    """A StyleGAN3 saved in ganeval's native format loads back with the same images."""
    from ganeval.models.native import load_native, save_generator

    cfg, state, io = _load("stylegan3-r")
    G = build_stylegan3(cfg["init_kwargs"], state, "stylegan3-r")
    save_generator(G, tmp_path / "g")
    G2 = load_native(tmp_path / "g.safetensors")
    assert isinstance(G2, StyleGAN3) and G2.config == "R"
    assert torch.equal(G2.synthesis(io["ws"][:2]), G.synthesis(io["ws"][:2]))


def test_persistence_pickle_layout(tmp_path, capsys):
    """A stylegan3-repo snapshot layout (bare class names, `module_src` text, EasyDict kwargs), written
    here with stand-in globals from the vendored weights, reads back through the safe unpickler and
    rebuilds through build_stylegan3 with the official images."""
    import pickle
    from collections import OrderedDict

    from _loaders_util import nvidia_modules

    from ganeval.loaders.safe_pickle import safe_load

    cfg, state, io = _load("stylegan3-r")
    G = build_stylegan3(cfg["init_kwargs"], state, "stylegan3-r")
    with nvidia_modules() as (_, EasyDict, reconstruct):

        class Rec:
            def __init__(self, meta):
                self.meta = meta

            def __reduce__(self):
                return (reconstruct, (self.meta,))

        def record(m: torch.nn.Module, cls: str, kwargs: dict) -> Rec:
            st = {
                "training": False,
                "_parameters": OrderedDict(
                    (k, torch.nn.Parameter(v.detach().clone(), requires_grad=False)) for k, v in m._parameters.items()
                ),
                "_buffers": OrderedDict((k, None if v is None else v.detach().clone()) for k, v in m._buffers.items()),
                "_modules": OrderedDict((k, record(c, type(c).__name__, {})) for k, c in m._modules.items()),
                "_init_args": (),
                "_init_kwargs": kwargs,
            }
            return Rec(
                dict(
                    type="class",
                    version=6,
                    class_name=cls,
                    state=st,
                    module_src="raise SystemExit('networks_stylegan3.py stand-in: must not run')",
                )
            )

        kwargs = EasyDict(cfg["init_kwargs"])
        kwargs["mapping_kwargs"] = EasyDict(kwargs["mapping_kwargs"])
        g = record(G, "Generator", kwargs)
        path = tmp_path / "network-snapshot-000000.pkl"
        path.write_bytes(
            pickle.dumps(dict(G=g, D=None, G_ema=g, augment_pipe=None, training_set_kwargs=None), protocol=4)
        )
    rec = safe_load(path)["G_ema"]
    assert rec.class_name == "Generator"
    G2 = build_stylegan3(rec.init_kwargs, rec.tensors(), path.name)
    with torch.no_grad():
        _assert_img(G2.synthesis(io["ws"]), io["img"], "pickle round trip")
    # and end to end: format detection, family from the record tree, provenance
    from ganeval import load_generator

    G3 = load_generator(path)
    assert type(G3).__name__ == "StyleGAN3" and G3.provenance["producer"] == "stylegan3 repository"
    assert G3.provenance["network"] == "G_ema" and G3.provenance["format"] == "nvidia-torch-pickle"
    with torch.no_grad():
        _assert_img(G3.synthesis(io["ws"]), io["img"], "load_generator")
    import json

    from ganeval.cli import run

    assert run(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["architecture"]["config"] == G3.config and info["producer"].startswith("stylegan3 repository snapshot")
    assert len(info["architecture"]["layers"]) == info["architecture"]["num_layers"] + 1

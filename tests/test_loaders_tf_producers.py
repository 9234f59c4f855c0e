"""NVIDIA TensorFlow pickles as NVlabs/stylegan and NVlabs/stylegan2 write them load and reproduce
the producers' own outputs.

The data in ``tests/fixtures/tf-*`` was recorded by ``tools/fixtures/tf.py`` from networks the
unmodified official code built, randomised and pickled (see each folder's README). Each test
rebuilds the ``(G, D, Gs)`` pickle in the producer's exact layout (:mod:`_tf_producer`), with
protocols 4 and 5, loads it with :func:`ganeval.load_generator` and compares with the outputs the
producer's own TF graph computed. Tolerances (``tests/fixtures/tf-*/README.md``): w / dlatents
1e-6 x max|w|, images 2e-5 x max|img|.
"""

from __future__ import annotations

import io as io_module
import json
import pickletools
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from _tf_producer import build_pickle, load_fixture, tf_fixture_dirs

from ganeval.classifiers.celebahq import load_tf_classifier
from ganeval.errors import CheckpointError
from ganeval.loaders import load_generator
from ganeval.loaders.nvidia_tf import describe
from ganeval.loaders.safe_pickle import SafeUnpickler

GEN_DIRS = tf_fixture_dirs("v")
DBASIC = Path(__file__).parent / "fixtures" / "tf-dbasic-256"
W_TOL, IMG_TOL = 1e-6, 2e-5


def _close(name: str, got: torch.Tensor, want: np.ndarray, rel: float) -> float:
    """Max |got - want| / max |want|; asserts it is within ``rel``."""
    want_t = torch.from_numpy(np.asarray(want))
    assert got.shape == want_t.shape, (name, got.shape, want_t.shape)
    err = float((got - want_t).abs().max() / want_t.abs().max())
    assert err <= rel, f"{name}: relative error {err:.3g} > {rel}"
    return err


def _write(tmp_path: Path, folder: Path, protocol: int, **kwargs) -> Path:
    path = tmp_path / f"{folder.name}-p{protocol}.pkl"
    path.write_bytes(build_pickle(folder, protocol=protocol, **kwargs))
    return path


def test_fixtures_present():
    names = {p.name for p in GEN_DIRS}
    assert {
        "tf-v1-32-c3-m8",
        "tf-v1-64-c3-m2-cond",
        "tf-v1-128-c1-m2",
        "tf-v2-32-c3-m2",
        "tf-v2-64-c1-m8",
        "tf-v2-256-c1-m2",
    } <= names


@pytest.mark.parametrize("protocol", [4, 5])
@pytest.mark.parametrize("folder", GEN_DIRS, ids=lambda p: p.name)
def test_producer_pickle_reproduces_producer_outputs(tmp_path, folder, protocol):
    layout, _weights, io = load_fixture(folder)
    v1 = layout["Gs"]["version"] == 3
    G = load_generator(_write(tmp_path, folder, protocol))
    prov = G.provenance
    assert prov["producer"] == f"NVlabs/stylegan{'' if v1 else '2'} (TF), Gs, protocol {protocol}"
    default = prov["producer_default_truncation"]
    assert default == (
        {"truncation_psi": 0.7, "truncation_cutoff": 8} if v1 else {"truncation_psi": 0.5, "truncation_cutoff": None}
    )
    assert G.arch_name == ("stylegan" if v1 else "stylegan2")
    z, z2 = (torch.from_numpy(io[k]) for k in ("z", "z2"))
    c = torch.from_numpy(io["c"]) if "c" in io else None
    c2 = torch.from_numpy(io["c2"]) if "c2" in io else None
    cut = int(io["meta_cutoff"][0])
    ws, ws_mix = torch.from_numpy(io["ws"]), torch.from_numpy(io["ws_mix"])
    cut_kw = {"truncation_psi": 0.5, "truncation_cutoff": cut}
    computed = {  # io key -> ganeval's counterpart of the producer's call
        "ws": lambda: G.mapping(z, c),
        "ws2": lambda: G.mapping(z2, c2),
        "ws_default": lambda: G.mapping(z, c, **default),
        "ws_cut": lambda: G.mapping(z, c, **cut_kw),
        "img_const": lambda: G.synthesis(ws, noise_mode="const"),
        "img_mix": lambda: G.synthesis(ws_mix, noise_mode="const"),
        "img_nonoise": lambda: G.synthesis(ws, noise_mode="none"),  # producer: noise inputs zeroed
        # ganeval's call default is no truncation: the producer's truncation_psi=1 call
        "img_notrunc": lambda: G(z, c, noise_mode="const"),
        "img_default": lambda: G(z, c, noise_mode="const", **default),
        "img_cut": lambda: G(z, c, noise_mode="const", **cut_kw),
    }
    required = {"ws", "ws2", "ws_default", "ws_cut", "img_const", "img_nonoise", "img_mix", "img_default"}
    assert required <= set(io)
    errs = {}
    with torch.no_grad():
        for key, fn in computed.items():
            if key in io:
                errs[key] = _close(key, fn(), io[key], W_TOL if key.startswith("ws") else IMG_TOL)
    print(folder.name, f"p{protocol}", " ".join(f"{k}={v:.1e}" for k, v in errs.items()))


_LAYOUT_FREE_OPS = {
    "BINUNICODE",
    "SHORT_BINUNICODE",
    "MEMOIZE",
    "BINGET",
    "LONG_BINGET",
    "BINPUT",
    "LONG_BINPUT",
    "FRAME",
}


def _pickle_facts(data: bytes) -> dict:
    """Protocol, the globals named, and the count of each layout opcode (see tools/fixtures/tf.py)."""
    found: set[str] = set()

    class Recorder(SafeUnpickler):
        def find_class(self, module: str, name: str):
            found.add(f"{module}.{name}")
            return super().find_class(module, name)

    Recorder(io_module.BytesIO(data)).load()
    ops = Counter(op.name for op, _, _ in pickletools.genops(data) if op.name not in _LAYOUT_FREE_OPS)
    return {"protocol": data[1], "globals": sorted(found), "opcodes": dict(sorted(ops.items()))}


@pytest.mark.parametrize("folder", [*GEN_DIRS, DBASIC], ids=lambda p: p.name)
def test_rebuilt_pickle_has_the_producers_layout(folder):
    """The pickles the tests build name the same globals and hold the same objects (opcode counts)
    as the ones NVIDIA's code wrote (recorded in pickle_facts.json by tools/fixtures/tf.py)."""
    recorded = json.loads((folder / "pickle_facts.json").read_text())
    for protocol in (4, 5):
        assert _pickle_facts(build_pickle(folder, protocol=protocol)) == recorded[f"p{protocol}"]


def test_gs_is_used_not_g(tmp_path):
    """G and Gs differ in every trainable; the outputs above match only Gs."""
    folder = next(p for p in GEN_DIRS if p.name == "tf-v2-32-c3-m2")
    _, weights, _ = load_fixture(folder)
    differ = [k for k in weights if k.startswith("G/") and not np.array_equal(weights[k], weights["Gs" + k[1:]])]
    assert len(differ) > 20
    G = load_generator(_write(tmp_path, folder, 4))
    assert G.provenance["network"] == "Gs"


def test_numpy2_global_paths(tmp_path):
    """The same file written with NumPy 2's ``numpy._core`` paths (a re-saved pickle) loads too."""
    folder = next(p for p in GEN_DIRS if p.name == "tf-v1-32-c3-m8")
    _, _, io = load_fixture(folder)
    G = load_generator(_write(tmp_path, folder, 5, numpy_prefix="numpy._core"))
    with torch.no_grad():
        _close("ws", G.mapping(torch.from_numpy(io["z"])), io["ws"], W_TOL)


def _set_variable(net_prefix: str, name: str, value) -> callable:
    def edit(prefix: str, state: dict) -> None:
        if prefix == net_prefix:
            state["variables"] = [(n, np.float32(value) if n == name else v) for n, v in state["variables"]]

    return edit


@pytest.mark.parametrize("where", [("Gs", "lod"), ("Gs/synthesis", "lod")])
def test_nonzero_lod_is_refused(tmp_path, where):
    folder = next(p for p in GEN_DIRS if p.name == "tf-v1-32-c3-m8")
    path = _write(tmp_path, folder, 4, edit=_set_variable(*where, 1.5))
    with pytest.raises(CheckpointError, match=r"lod.* must be the scalar 0 \(a finished network\)") as info:
        load_generator(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_conditional_stylegan2_is_refused_with_reason(tmp_path):
    folder = next(p for p in GEN_DIRS if p.name == "tf-v2-32-c3-m2")

    def edit(prefix: str, state: dict) -> None:
        state["static_kwargs"]["label_size"] = 4
        if prefix == "Gs/mapping":
            state["variables"].append(("LabelConcat/weight", np.ones((4, 32), np.float32)))

    with pytest.raises(CheckpointError, match=r"conditional StyleGAN2 TF networks .* not supported"):
        load_generator(_write(tmp_path, folder, 4, edit=edit))


def test_describe_lines(tmp_path):
    folder = next(p for p in GEN_DIRS if p.name == "tf-v1-128-c1-m2")
    G = load_generator(_write(tmp_path, folder, 4))
    assert describe(G.provenance) == [
        "producer: NVlabs/stylegan (TF), Gs, protocol 4",
        "producer default truncation: psi 0.7 on layers < 8 (ganeval applies none unless asked)",
    ]


def test_info_names_the_producer_and_its_default_truncation(tmp_path, capsys):
    from ganeval.cli import run

    folder = next(p for p in GEN_DIRS if p.name.startswith("tf-v2-"))
    assert run(["info", str(_write(tmp_path, folder, 5))]) == 0
    text = capsys.readouterr().out
    assert "NVlabs/stylegan2 (TF), Gs, protocol 5" in text
    assert "psi 0.5 on all layers (ganeval applies none unless asked)" in text


# ---------------------------------------------------------------- CelebA-HQ classifier (D_basic)


def _dbasic_inputs(io: dict) -> torch.Tensor:
    """The producer's input images: ``images_lowres`` upsampled 8x (nearest), exactly."""
    low = torch.from_numpy(io["images_lowres"])
    return low.repeat_interleave(8, dim=2).repeat_interleave(8, dim=3)


@pytest.mark.parametrize("protocol", [4, 5])
def test_dbasic_classifier_reproduces_producer_logits(tmp_path, protocol):
    """A lone D_basic pickled by NVlabs/stylegan's code, run as the v1 metric runs classifiers
    (minibatches of 4): ganeval's logits equal the producer's."""
    _, _, io = load_fixture(DBASIC)
    path = tmp_path / f"celebahq-classifier-00-test-p{protocol}.pkl"
    path.write_bytes(build_pickle(DBASIC, protocol=protocol))
    clf = load_tf_classifier(path)
    assert clf.group_size == 4 and clf.input_resolution == 256
    images = _dbasic_inputs(io)
    with torch.no_grad():
        logits = torch.cat([clf(images[i : i + 4]) for i in range(0, images.shape[0], 4)])
    err = _close("logits_mb4", logits, io["logits_mb4"], 1e-5)
    print(f"dbasic p{protocol} logits_mb4 rel err {err:.1e}")


def test_dbasic_strided_grouping_of_larger_minibatches(tmp_path):
    """NVIDIA's minibatch-stddev groups image i with every j where j % (N/4) == i % (N/4); fed in
    that strided order as consecutive groups of 4, ganeval reproduces the producer's minibatch-of-8
    logits, and fed in natural order it does not (so the test can tell the groupings apart)."""
    _, _, io = load_fixture(DBASIC)
    path = tmp_path / "celebahq-classifier-00-test.pkl"
    path.write_bytes(build_pickle(DBASIC, protocol=4))
    clf = load_tf_classifier(path)
    images = _dbasic_inputs(io)
    n = images.shape[0]
    order = torch.tensor([j for i in range(n // 4) for j in range(i, n, n // 4)])  # groups {i, i+2, i+4, i+6}
    with torch.no_grad():
        strided = torch.empty(n, 1)
        strided[order] = torch.cat([clf(images[order[k : k + 4]]) for k in range(0, n, 4)])
        natural = torch.cat([clf(images[k : k + 4]) for k in range(0, n, 4)])
    err_strided = _close("logits_mb8", strided, io["logits_mb8"], 1e-5)
    want = torch.from_numpy(io["logits_mb8"])
    err_natural = float((natural - want).abs().max() / want.abs().max())
    print(f"minibatch of 8: strided groups rel err {err_strided:.1e}, consecutive groups {err_natural:.1e}")
    assert err_natural > 5e-5 and err_natural > 100 * err_strided


def test_dbasic_lone_network_refused_as_generator(tmp_path):
    path = tmp_path / "classifier.pkl"
    path.write_bytes(build_pickle(DBASIC, protocol=4))
    with pytest.raises(CheckpointError, match=re.escape("(a discriminator-only pickle)")):
        load_generator(path)


def test_default_truncation_stored_in_static_kwargs_wins(tmp_path):
    """G_args can set G_main's truncation kwargs; they become the graph's defaults and the provenance says so."""
    folder = next(p for p in GEN_DIRS if p.name == "tf-v2-32-c3-m2")

    def edit(prefix: str, state: dict) -> None:
        if prefix == "Gs":
            state["static_kwargs"].update(truncation_psi=0.6, truncation_cutoff=3)

    G = load_generator(_write(tmp_path, folder, 5, edit=edit))
    assert G.provenance["producer_default_truncation"] == {"truncation_psi": 0.6, "truncation_cutoff": 3}

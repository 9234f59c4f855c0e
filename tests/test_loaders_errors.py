"""Bad input to load_generator: one clear CheckpointError line naming the file, what was
expected and what was found; unsafe pickles refused before anything runs."""

from __future__ import annotations

import os
import pickle
import re

import numpy as np
import pytest
import torch
from _loaders_util import nvidia_modules, persistent_records, write_tf_pickle
from conftest import fixture_path
from safetensors.torch import load_file, save_file

from ganeval.errors import CheckpointError, UnsafePickleError, WeightsNotFoundError
from ganeval.loaders import load_generator
from ganeval.loaders.safe_pickle import safe_load


def _one_line(exc: BaseException, path) -> str:
    msg = str(exc)
    assert "\n" not in msg and str(path) in msg
    return msg


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.pkl"
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"empty \(0 bytes\)") as info:
        load_generator(path)
    _one_line(info.value, path)


@pytest.mark.parametrize(
    "folder, name",
    [
        ("stylegan2-tf", "network-snapshot.pkl"),
        ("rosinality", "checkpoint.pt"),
        ("stylegan2-ada", "weights.safetensors"),
    ],
)
def test_truncated_file(tmp_path, folder, name):
    data = fixture_path(folder, name).read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"expected a (complete|valid)") as info:
        load_generator(path)
    _one_line(info.value, path)


def test_unknown_format(tmp_path):
    path = tmp_path / "model.pkl"  # the name says pickle, the content says otherwise
    path.write_bytes(b"GIF89a" + bytes(100))
    with pytest.raises(
        CheckpointError, match=r"expected a generator checkpoint .* but its first bytes b'GIF89a"
    ) as info:
        load_generator(path)
    _one_line(info.value, path)
    other = tmp_path / "config.json"
    other.write_text('{"format": "something-else"}')
    with pytest.raises(CheckpointError, match="expected a ganeval native config"):
        load_generator(other)


def test_directory_without_checkpoint(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(
        CheckpointError, match=r"expected exactly one native .* found 0 pair\(s\) among: notes.txt"
    ) as info:
        load_generator(tmp_path)
    _one_line(info.value, tmp_path)


def test_missing_path_and_unknown_name(tmp_path):
    with pytest.raises(WeightsNotFoundError, match="is neither"):
        load_generator(str(tmp_path / "nope.pkl"))
    with pytest.raises(WeightsNotFoundError, match="is neither"):
        load_generator("zoo:no-such-generator")


def test_discriminator_only_pickles(tmp_path):
    tf = write_tf_pickle(
        tmp_path / "d.pkl", [], [], [], {"resolution": 32}, version=4, synth_func="G_synthesis_stylegan2", only_d=True
    )
    with pytest.raises(CheckpointError, match=r"expected a generator network .* discriminator-only pickle") as info:
        load_generator(tf)
    _one_line(info.value, tf)
    with nvidia_modules() as (_, EasyDict, reconstruct):
        D = persistent_records(torch.nn.Linear(2, 2), reconstruct, "training.networks.Discriminator", EasyDict())
        path = tmp_path / "d-torch.pkl"
        path.write_bytes(pickle.dumps({"D": D, "augment_pipe": None}, protocol=4))
    with pytest.raises(
        CheckpointError,
        match=r"expected a generator under 'G_ema' or 'G', but the pickle holds only "
        r"\['D'\] \(a discriminator-only pickle\)",
    ):
        load_generator(path)


def test_stylegan3_with_missing_kwargs_is_refused(tmp_path):
    with nvidia_modules() as (_, EasyDict, reconstruct):
        G = persistent_records(
            torch.nn.Linear(2, 2), reconstruct, "training.networks_stylegan3.Generator", EasyDict(z_dim=2)
        )
        path = tmp_path / "stylegan3-t.pkl"
        path.write_bytes(pickle.dumps({"G_ema": G}, protocol=4))
    with pytest.raises(CheckpointError, match=r"stylegan3-t\.pkl: generator init kwargs must include `c_dim`"):
        load_generator(path)


def _tf_fixture_with(tmp_path, **changes):
    """The StyleGAN2 TF fixture re-written with changed static kwargs."""
    _G, _D, Gs = safe_load(fixture_path("stylegan2-tf", "network-snapshot.pkl"))
    kwargs = dict(Gs.static_kwargs, **changes)
    return write_tf_pickle(
        tmp_path / "sg2.pkl",
        Gs.variables,
        Gs.components["mapping"].variables,
        Gs.components["synthesis"].variables,
        kwargs,
        version=4,
        synth_func="G_synthesis_stylegan2",
    )


@pytest.mark.parametrize(
    "changes, needle",
    [
        (
            {"architecture": "resnet"},
            "kwarg `architecture` must be 'skip' for ganeval, but the checkpoint has 'resnet'",
        ),
        ({"label_size": 10}, "conditional StyleGAN2 TF networks (label_size=10) are not supported"),
        ({"mystery_option": 1}, "kwarg `mystery_option` (= 1) is not supported"),
        ({"fmap_max": 32}, "mismatched shapes"),
    ],
)
def test_tf_unsupported_static_kwargs(tmp_path, changes, needle):
    path = _tf_fixture_with(tmp_path, **changes)
    with pytest.raises(CheckpointError, match=re.escape(needle)) as info:
        load_generator(path)
    _one_line(info.value, path)


def test_tf_rewritten_fixture_still_loads(tmp_path):
    """Control for the test above: the unchanged re-written pickle loads and matches."""
    G = load_generator(_tf_fixture_with(tmp_path))
    io = load_file(fixture_path("stylegan2-ada", "io.safetensors"))
    with torch.no_grad():
        torch.testing.assert_close(G.synthesis(io["ws"]), io["img_const"], rtol=0, atol=1e-4)


def test_state_dict_with_mismatched_shapes(tmp_path):
    sd = load_file(fixture_path("stylegan2-ada", "weights.safetensors"))
    sd["synthesis.b16.conv0.weight"] = torch.zeros(64, 32, 3, 3)
    path = tmp_path / "bad.safetensors"
    save_file(sd, str(path))
    with pytest.raises(
        CheckpointError, match=re.escape("synthesis.b16.conv0.weight expected [64, 64, 3, 3] found [64, 32, 3, 3]")
    ) as info:
        load_generator(path)
    _one_line(info.value, path)
    ckpt = torch.load(fixture_path("rosinality", "checkpoint.pt"), weights_only=True)
    ckpt["g_ema"]["convs.1.conv.modulation.weight"] = torch.zeros(32, 64)
    path = tmp_path / "bad.pt"
    torch.save(ckpt, path)
    with pytest.raises(CheckpointError, match="mismatched shapes"):
        load_generator(path)


def test_unsafe_pickle_through_load_generator(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "network-snapshot.pkl"
    path.write_bytes(pickle.dumps({"G_ema": Evil()}, protocol=4))
    with pytest.raises(UnsafePickleError, match="system`"):
        load_generator(path)
    assert not marker.exists()
    # torch.save files with arbitrary objects are refused by weights_only loading, also without running them
    path2 = tmp_path / "evil.pt"
    torch.save({"g_ema": Evil()}, path2)
    with pytest.raises(CheckpointError, match="weights_only"):
        load_generator(path2)
    assert not marker.exists()


def test_object_array_pickle_is_still_restricted(tmp_path):
    """numpy object arrays unpickle their items through the same restricted find_class."""
    arr = np.array([os.getcwd], dtype=object)
    path = tmp_path / "obj.pkl"
    path.write_bytes(pickle.dumps(arr, protocol=4))
    with pytest.raises(UnsafePickleError, match="getcwd"):
        load_generator(path)

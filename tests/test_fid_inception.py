"""The FID Inception against pytorch-fid's on identical random weights, and the TF resize."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ganeval.errors import CheckpointError
from ganeval.features.inception import (
    FIDInceptionV3,
    convert_nvidia_state_dict,
    load_pytorch_fid_state_dict,
    tf_bilinear_resize,
)


def _random_weights(seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    m = FIDInceptionV3()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.Conv2d):
                mod.weight.normal_(0, (2.0 / mod.weight[0].numel()) ** 0.5)
            elif isinstance(mod, torch.nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.normal_(0, 0.1)
                mod.running_mean.normal_(0, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
    return m.state_dict()


@pytest.fixture(scope="module")
def weights():
    return _random_weights()


@pytest.fixture(scope="module")
def pytorch_fid_model(weights):
    pfi = pytest.importorskip("pytorch_fid.inception")
    original = pfi.load_state_dict_from_url
    pfi.load_state_dict_from_url = lambda *a, **k: weights  # no download: the random weights instead
    try:
        model = pfi.InceptionV3([3], resize_input=True, normalize_input=True, use_fid_inception=True)
    finally:
        pfi.load_state_dict_from_url = original
    return model.eval()


def test_parity_with_pytorch_fid(weights, pytorch_fid_model, tmp_path):
    torch.save(weights, tmp_path / "pt_inception.pth")
    ours = load_pytorch_fid_state_dict(tmp_path / "pt_inception.pth", resize="half-pixel")
    x01 = torch.rand(3, 3, 40, 48, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = pytorch_fid_model(x01)[0].flatten(1)
        plain = ours(x01 * 2 - 1)
        fused = ours.fuse()(x01 * 2 - 1)
    scale = ref.abs().max().item()
    assert plain.shape == (3, 2048)
    # channels-last and folded batch norms reorder float sums: agreement to 1e-5 of the feature scale
    assert (plain - ref).abs().max().item() <= 1e-5 * scale
    assert (fused - ref).abs().max().item() <= 1e-5 * scale


def test_tf_resize_equals_nvidia_affine_grid_resize():
    # NVIDIA's TorchScript shifts the affine_grid translation by 1/in - 1/out so that grid_sample
    # (border padding) samples source position j * in / out: TF 1.x resize_bilinear.
    x = torch.randn(2, 3, 21, 32, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    n, c, h, w = x.shape
    theta = torch.eye(2, 3, dtype=torch.float64)
    theta[0, 2] += theta[0, 0] / w - theta[0, 0] / 299
    theta[1, 2] += theta[1, 1] / h - theta[1, 1] / 299
    grid = F.affine_grid(theta[None].repeat(n, 1, 1), [n, c, 299, 299], align_corners=False)
    ref = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    assert torch.allclose(tf_bilinear_resize(x, 299), ref, atol=1e-12)
    assert torch.equal(tf_bilinear_resize(x[..., :21, :21], 21), x[..., :21, :21])


# NVIDIA TorchScript module paths, per the 2015-12-05 graph: stem convs, then per-block branches.
_NV_A = ["conv", "tower.conv", "tower.conv_1", "tower_1.conv", "tower_1.conv_1", "tower_1.conv_2", "tower_2.conv"]
_NV_B = ["conv", "tower.conv", "tower.conv_1", "tower.conv_2"]
_NV_C = [
    "conv",
    "tower.conv",
    "tower.conv_1",
    "tower.conv_2",
    "tower_1.conv",
    "tower_1.conv_1",
    "tower_1.conv_2",
    "tower_1.conv_3",
    "tower_1.conv_4",
    "tower_2.conv",
]
_NV_D = ["tower.conv", "tower.conv_1", "tower_1.conv", "tower_1.conv_1", "tower_1.conv_2", "tower_1.conv_3"]
_NV_E = [
    "conv",
    "tower.conv",
    "tower.mixed.conv",
    "tower.mixed.conv_1",
    "tower_1.conv",
    "tower_1.conv_1",
    "tower_1.mixed.conv",
    "tower_1.mixed.conv_1",
    "tower_2.conv",
]


def test_nvidia_names_convert_to_a_complete_state_dict(weights):
    blocks = [("mixed", _NV_A), ("mixed_1", _NV_A), ("mixed_2", _NV_A), ("mixed_3", _NV_B)]
    blocks += [(f"mixed_{i}", _NV_C) for i in range(4, 8)] + [
        ("mixed_8", _NV_D),
        ("mixed_9", _NV_E),
        ("mixed_10", _NV_E),
    ]
    paths = [f"layers.{s}" for s in ("conv", "conv_1", "conv_2", "conv_3", "conv_4")]
    paths += [f"layers.{b}.{p}" for b, branches in blocks for p in branches]
    # Take the weights in module order from ours: the NVIDIA layer order is the graph order too.
    convs = [k[: -len(".conv.weight")] for k in weights if k.endswith(".conv.weight")]
    assert len(convs) == len(paths) == 94
    nv = {}
    for path, ours in zip(paths, convs):
        nv[f"{path}.conv.weight"] = weights[f"{ours}.conv.weight"]
        nv[f"{path}.bn.bias"] = weights[f"{ours}.bn.bias"]
        nv[f"{path}.bn.running_mean"] = weights[f"{ours}.bn.running_mean"]
        nv[f"{path}.bn.running_var"] = weights[f"{ours}.bn.running_var"]
    nv["output.weight"], nv["output.bias"] = weights["fc.weight"], weights["fc.bias"]
    converted = convert_nvidia_state_dict(nv)
    model = FIDInceptionV3()
    model.load_state_dict({**model.state_dict(), **converted}, strict=True)
    for k, v in converted.items():
        if not k.endswith("bn.weight"):
            assert torch.equal(v, weights[k]), k  # every tensor lands on the branch it came from
    assert all(torch.equal(v, torch.ones_like(v)) for k, v in converted.items() if k.endswith("bn.weight"))
    with pytest.raises(CheckpointError, match="Unexpected"):
        convert_nvidia_state_dict({"layers.mixed.tower_9.conv.conv.weight": torch.zeros(1)})


def test_wrong_checkpoint_is_rejected(tmp_path):
    torch.save({"fc.weight": torch.zeros(3, 3)}, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError, match="not the 2015-12-05 FID Inception"):
        load_pytorch_fid_state_dict(tmp_path / "bad.pth")

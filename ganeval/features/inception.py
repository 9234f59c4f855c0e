"""Inception-v3 in its FID form: the 2015-12-05 TensorFlow graph behind every published FID.

The graph differs from torchvision's Inception-v3 in four places, all reproduced here:
average pools inside the mixed blocks ignore the zero padding (TensorFlow's
``count_include_pad=False``), the last mixed block pools with a max instead of an average,
the classifier has 1008 outputs, and the graph resizes its input to 299x299 itself with
TensorFlow 1.x bilinear interpolation (``src = dst * in / out``, no half-pixel offset,
edge-clamped), the resize NVIDIA's TorchScript port reproduces with a shifted
``affine_grid``. pytorch-fid resizes with half-pixel bilinear interpolation instead; both are
available (``resize="tf"`` / ``resize="half-pixel"``) and the metrics record which one ran.

Two weight files of the same graph load into this module:

- pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` (torchvision parameter names, which
  this module uses too): :func:`load_pytorch_fid_state_dict`;
- NVIDIA's ``inception-2015-12-05.pt`` TorchScript (``layers.mixed_*`` names, batch norms
  without a scale): :func:`convert_nvidia_state_dict`.

Input: float32 ``[N, 3, H, W]`` RGB in [-1, 1] (uint8 ``v`` maps to ``v / 127.5 - 1``, the
graph's own normalisation). Output: pool features ``[N, 2048]`` (or logits ``[N, 1008]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import CheckpointError, GanevalValueError

__all__ = [
    "FIDInceptionV3",
    "tf_bilinear_resize",
    "interpolation_matrix",
    "load_pytorch_fid_state_dict",
    "convert_nvidia_state_dict",
    "load_nvidia_torchscript",
    "INPUT_SIZE",
    "FEATURE_DIM",
]

INPUT_SIZE = 299
FEATURE_DIM = 2048
NUM_CLASSES = 1008
RESIZE_MODES: tuple[str, ...] = ("tf", "half-pixel")


def interpolation_matrix(
    size_in: int, size_out: int, *, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
) -> torch.Tensor:
    """TensorFlow 1.x bilinear resize along one axis as a ``[size_out, size_in]`` matrix.

    Output pixel ``j`` samples source position ``j * size_in / size_out`` (no half-pixel
    offset), linearly between its two neighbours, clamped at the last pixel.
    """
    scale = size_in / size_out
    src = torch.arange(size_out, dtype=torch.float64) * scale
    lo = src.floor().clamp(max=size_in - 1)
    frac = src - lo
    lo_i = lo.long()
    hi_i = (lo_i + 1).clamp(max=size_in - 1)
    m = torch.zeros(size_out, size_in, dtype=torch.float64)
    rows = torch.arange(size_out)
    m.index_put_((rows, lo_i), 1.0 - frac, accumulate=True)
    m.index_put_((rows, hi_i), frac, accumulate=True)
    return m.to(dtype=dtype, device=device)


def tf_bilinear_resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resize ``[N, C, H, W]`` to ``[N, C, size, size]`` like TF 1.x ``resize_bilinear``.

    Separable: two small matrix products, no gather. Identity when ``H == W == size``.
    """
    h, w = x.shape[-2:]
    if h == size and w == size:
        return x
    mh = interpolation_matrix(h, size, dtype=x.dtype, device=x.device)
    mw = interpolation_matrix(w, size, dtype=x.dtype, device=x.device)
    return torch.matmul(torch.matmul(mh, x), mw.t())


class ConvBN(nn.Module):
    """Convolution without bias, batch norm (eps 1e-3, TensorFlow's), ReLU.

    :meth:`fuse` folds the batch norm into the convolution for inference.
    """

    def __init__(
        self, cin: int, cout: int, kernel: int | tuple[int, int], stride: int = 1, padding: int | tuple[int, int] = 0
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn: nn.BatchNorm2d | None = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x)

    @torch.no_grad()
    def fuse(self) -> None:
        """Replace conv + batch norm by one biased convolution (same function, eval mode)."""
        if self.bn is None:
            return
        bn = self.bn
        # torch types BatchNorm's affine weights and running stats as optional (here they exist: affine,
        # tracked: the ignores), and Conv2d's sizes as tuple[int, ...] where its constructor wants pairs
        scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)  # type: ignore[union-attr]
        kernel, stride, padding = cast(Any, (self.conv.kernel_size, self.conv.stride, self.conv.padding))
        fused = nn.Conv2d(
            self.conv.in_channels, self.conv.out_channels, kernel, stride=stride, padding=padding, bias=True
        )
        fused = fused.to(self.conv.weight.device)
        fused.weight.copy_((self.conv.weight.double() * scale.view(-1, 1, 1, 1)).float())
        fused.bias.copy_((bn.bias.double() - bn.running_mean.double() * scale).float())  # type: ignore[union-attr]
        self.conv = fused
        self.bn = None


def _avg3(x: torch.Tensor) -> torch.Tensor:
    # TensorFlow's SAME average pool divides by the number of real (unpadded) pixels.
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class _BlockA(nn.Module):
    """35x35 block (Mixed_5b/c/d): 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1."""

    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = ConvBN(cin, 64, 1)
        self.branch5x5_1 = ConvBN(cin, 48, 1)
        self.branch5x5_2 = ConvBN(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = ConvBN(cin, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, padding=1)
        self.branch_pool = ConvBN(cin, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch1x1(x)
        b = self.branch5x5_2(self.branch5x5_1(x))
        c = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        d = self.branch_pool(_avg3(x))
        return torch.cat([a, b, c, d], 1)


class _BlockB(nn.Module):
    """35 -> 17 reduction (Mixed_6a): 3x3/2 | 1x1-3x3-3x3/2 | maxpool/2."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = ConvBN(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = ConvBN(cin, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch3x3(x)
        b = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([a, b, F.max_pool2d(x, 3, stride=2)], 1)


class _BlockC(nn.Module):
    """17x17 block (Mixed_6b..e) with factorised 7x7 convolutions."""

    def __init__(self, cin: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = ConvBN(cin, 192, 1)
        self.branch7x7_1 = ConvBN(cin, c7, 1)
        self.branch7x7_2 = ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = ConvBN(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = ConvBN(cin, c7, 1)
        self.branch7x7dbl_2 = ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = ConvBN(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = ConvBN(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch1x1(x)
        b = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        c = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            c = layer(c)
        d = self.branch_pool(_avg3(x))
        return torch.cat([a, b, c, d], 1)


class _BlockD(nn.Module):
    """17 -> 8 reduction (Mixed_7a): 1x1-3x3/2 | 1x1-1x7-7x1-3x3/2 | maxpool/2."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = ConvBN(cin, 192, 1)
        self.branch3x3_2 = ConvBN(192, 320, 3, stride=2)
        self.branch7x7x3_1 = ConvBN(cin, 192, 1)
        self.branch7x7x3_2 = ConvBN(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = ConvBN(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = ConvBN(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch3x3_2(self.branch3x3_1(x))
        b = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([a, b, F.max_pool2d(x, 3, stride=2)], 1)


class _BlockE(nn.Module):
    """8x8 block (Mixed_7b/c) with split 1x3/3x1 outputs; the last one max-pools (as the graph)."""

    def __init__(self, cin: int, pool: str) -> None:
        super().__init__()
        self.pool = pool
        self.branch1x1 = ConvBN(cin, 320, 1)
        self.branch3x3_1 = ConvBN(cin, 384, 1)
        self.branch3x3_2a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = ConvBN(cin, 448, 1)
        self.branch3x3dbl_2 = ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = ConvBN(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch1x1(x)
        b = self.branch3x3_1(x)
        c = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.pool == "max" else _avg3(x)
        parts = [
            a,
            self.branch3x3_2a(b),
            self.branch3x3_2b(b),
            self.branch3x3dbl_3a(c),
            self.branch3x3dbl_3b(c),
            self.branch_pool(pooled),
        ]
        return torch.cat(parts, 1)


class FIDInceptionV3(nn.Module):
    """The FID Inception-v3 graph: images in [-1, 1] -> 2048-d pool features.

    Args:
        resize: how inputs that are not 299x299 are resized: ``"tf"`` (the TF graph's own
            bilinear resize, as NVIDIA's TorchScript) or ``"half-pixel"`` (pytorch-fid's
            ``F.interpolate(mode="bilinear", align_corners=False)``).

    Attributes ``name``, ``feature_dim`` (2048), ``input_resolution`` (299) and
    ``weights_sha256`` (set by the loader) describe the extractor to the metrics.
    """

    feature_dim = FEATURE_DIM
    input_resolution = INPUT_SIZE
    weights_file: str  # set by the loader
    metric_name: str  # set by the loader

    def __init__(self, resize: str = "tf") -> None:
        super().__init__()
        if resize not in RESIZE_MODES:
            raise GanevalValueError(f"Argument `resize` must be one of {RESIZE_MODES}, but got {resize!r}.")
        self.resize = resize
        self.name = "inception-v3-fid"
        self.weights_sha256: str | None = None
        self.Conv2d_1a_3x3 = ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = ConvBN(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = ConvBN(80, 192, 3)
        self.Mixed_5b = _BlockA(192, 32)
        self.Mixed_5c = _BlockA(256, 64)
        self.Mixed_5d = _BlockA(288, 64)
        self.Mixed_6a = _BlockB(288)
        self.Mixed_6b = _BlockC(768, 128)
        self.Mixed_6c = _BlockC(768, 160)
        self.Mixed_6d = _BlockC(768, 160)
        self.Mixed_6e = _BlockC(768, 192)
        self.Mixed_7a = _BlockD(768)
        self.Mixed_7b = _BlockE(1280, "avg")
        self.Mixed_7c = _BlockE(2048, "max")
        self.fc = nn.Linear(FEATURE_DIM, NUM_CLASSES)

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """Resize ``[N, 3, H, W]`` images in [-1, 1] to 299x299 with this module's resize."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise GanevalValueError(f"Argument `images` must have shape [N, 3, H, W], but got {list(images.shape)}.")
        x = images.float()
        if x.shape[-2:] == (INPUT_SIZE, INPUT_SIZE):
            return x
        if self.resize == "tf":
            return tf_bilinear_resize(x, INPUT_SIZE)
        return F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)

    def pool_features(self, x: torch.Tensor) -> torch.Tensor:
        """299x299 input in [-1, 1] -> ``[N, 2048]`` (global average of the last block)."""
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"):
            x = getattr(self, name)(x)
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for name in (
            "Mixed_5b",
            "Mixed_5c",
            "Mixed_5d",
            "Mixed_6a",
            "Mixed_6b",
            "Mixed_6c",
            "Mixed_6d",
            "Mixed_6e",
            "Mixed_7a",
            "Mixed_7b",
            "Mixed_7c",
        ):
            x = getattr(self, name)(x)
        return x.mean(dim=(2, 3))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``[N, 3, H, W]`` in [-1, 1] -> features ``[N, 2048]`` float32."""
        x = self.prepare(images)
        if x.device.type != "mps":
            x = x.contiguous(memory_format=torch.channels_last)
        return self.pool_features(x).float()

    def logits(self, images: torch.Tensor, *, no_output_bias: bool = True) -> torch.Tensor:
        """Class logits ``[N, 1008]``; without the output bias by default (as NVIDIA's IS)."""
        f = self.forward(images)
        return F.linear(f, self.fc.weight, None if no_output_bias else self.fc.bias)

    def fuse(self) -> FIDInceptionV3:
        """Fold every batch norm into its convolution and switch to channels-last (inference)."""
        self.eval()
        for m in self.modules():
            if isinstance(m, ConvBN):
                m.fuse()
        return self.to(memory_format=torch.channels_last)


def load_pytorch_fid_state_dict(path: str | Path, resize: str = "tf") -> FIDInceptionV3:
    """Build the graph from pytorch-fid's ``pt_inception-2015-12-05-*.pth`` (strict)."""
    try:
        sd = torch.load(Path(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt files
        raise CheckpointError(f"Cannot read Inception weights {path}: {exc}") from exc
    model = FIDInceptionV3(resize=resize)
    _strict_load(model, sd, str(path))
    return model


# NVIDIA TorchScript layer names -> this module's names (the same 2015-12-05 graph).
_NV_STEM = {
    "conv": "Conv2d_1a_3x3",
    "conv_1": "Conv2d_2a_3x3",
    "conv_2": "Conv2d_2b_3x3",
    "conv_3": "Conv2d_3b_1x1",
    "conv_4": "Conv2d_4a_3x3",
}
_NV_BLOCKS = {
    "mixed": "Mixed_5b",
    "mixed_1": "Mixed_5c",
    "mixed_2": "Mixed_5d",
    "mixed_3": "Mixed_6a",
    "mixed_4": "Mixed_6b",
    "mixed_5": "Mixed_6c",
    "mixed_6": "Mixed_6d",
    "mixed_7": "Mixed_6e",
    "mixed_8": "Mixed_7a",
    "mixed_9": "Mixed_7b",
    "mixed_10": "Mixed_7c",
}
# per block type: NVIDIA branch path (dots replaced by underscores) -> torchvision branch name
_NV_BRANCHES = {
    "A": {
        "conv": "branch1x1",
        "tower_conv": "branch5x5_1",
        "tower_conv_1": "branch5x5_2",
        "tower_1_conv": "branch3x3dbl_1",
        "tower_1_conv_1": "branch3x3dbl_2",
        "tower_1_conv_2": "branch3x3dbl_3",
        "tower_2_conv": "branch_pool",
    },
    "B": {
        "conv": "branch3x3",
        "tower_conv": "branch3x3dbl_1",
        "tower_conv_1": "branch3x3dbl_2",
        "tower_conv_2": "branch3x3dbl_3",
    },
    "C": {
        "conv": "branch1x1",
        "tower_conv": "branch7x7_1",
        "tower_conv_1": "branch7x7_2",
        "tower_conv_2": "branch7x7_3",
        "tower_1_conv": "branch7x7dbl_1",
        "tower_1_conv_1": "branch7x7dbl_2",
        "tower_1_conv_2": "branch7x7dbl_3",
        "tower_1_conv_3": "branch7x7dbl_4",
        "tower_1_conv_4": "branch7x7dbl_5",
        "tower_2_conv": "branch_pool",
    },
    "D": {
        "tower_conv": "branch3x3_1",
        "tower_conv_1": "branch3x3_2",
        "tower_1_conv": "branch7x7x3_1",
        "tower_1_conv_1": "branch7x7x3_2",
        "tower_1_conv_2": "branch7x7x3_3",
        "tower_1_conv_3": "branch7x7x3_4",
    },
    "E": {
        "conv": "branch1x1",
        "tower_conv": "branch3x3_1",
        "tower_mixed_conv": "branch3x3_2a",
        "tower_mixed_conv_1": "branch3x3_2b",
        "tower_1_conv": "branch3x3dbl_1",
        "tower_1_conv_1": "branch3x3dbl_2",
        "tower_1_mixed_conv": "branch3x3dbl_3a",
        "tower_1_mixed_conv_1": "branch3x3dbl_3b",
        "tower_2_conv": "branch_pool",
    },
}
_NV_BLOCK_TYPE = {
    "mixed": "A",
    "mixed_1": "A",
    "mixed_2": "A",
    "mixed_3": "B",
    "mixed_4": "C",
    "mixed_5": "C",
    "mixed_6": "C",
    "mixed_7": "C",
    "mixed_8": "D",
    "mixed_9": "E",
    "mixed_10": "E",
}
_NV_PARAM = {
    "weight": "conv.weight",
    "bias": "bn.bias",
    "beta": "bn.bias",
    "running_mean": "bn.running_mean",
    "mean": "bn.running_mean",
    "running_var": "bn.running_var",
    "var": "bn.running_var",
    "gamma": "bn.weight",
}


def _nv_target(key: str) -> str | None:
    """Map one NVIDIA TorchScript state-dict key to this module's key (None: not a weight)."""
    if key in ("output.weight", "output.bias"):
        return "fc." + key.split(".")[1]
    parts = key.split(".")
    if parts[0] != "layers" or len(parts) < 4:
        return None
    leaf = parts[-1]
    owner = parts[-2]  # "conv" or "bn"
    if leaf == "num_batches_tracked":
        return None
    if owner == "conv" and leaf == "weight":
        param = "conv.weight"
    elif owner == "bn" and leaf in _NV_PARAM:
        param = "bn.weight" if leaf in ("weight", "gamma") else _NV_PARAM[leaf]
    else:
        raise CheckpointError(f"Unexpected parameter {key!r} in the NVIDIA Inception TorchScript.")
    layer = parts[1]
    if layer in _NV_STEM:
        return f"{_NV_STEM[layer]}.{param}"
    if layer not in _NV_BLOCKS:
        raise CheckpointError(f"Unexpected layer {layer!r} in the NVIDIA Inception TorchScript.")
    branch = "_".join(parts[2:-2])
    table = _NV_BRANCHES[_NV_BLOCK_TYPE[layer]]
    if branch not in table:
        raise CheckpointError(f"Unexpected branch {key!r} in the NVIDIA Inception TorchScript.")
    return f"{_NV_BLOCKS[layer]}.{table[branch]}.{param}"


def convert_nvidia_state_dict(nv: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename NVIDIA's ``inception-2015-12-05.pt`` tensors to this module's names.

    NVIDIA's batch norms have no scale (TensorFlow's ``scale=False``), so ``bn.weight`` is
    filled with ones. Raises :class:`CheckpointError` for anything unexpected.
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in nv.items():
        target = _nv_target(key)
        if target is not None:
            out[target] = value.detach().float().cpu()
    for key in list(out):
        if key.endswith("bn.running_var"):
            out.setdefault(key.replace("running_var", "weight"), torch.ones_like(out[key]))
    return out


def load_nvidia_torchscript(path: str | Path, resize: str = "tf") -> FIDInceptionV3:
    """Build the graph from NVIDIA's ``inception-2015-12-05.pt`` TorchScript archive (strict)."""
    try:
        scripted = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:  # torch.jit raises RuntimeError subclasses for bad archives
        raise CheckpointError(f"Cannot read NVIDIA Inception TorchScript {path}: {exc}") from exc
    model = FIDInceptionV3(resize=resize)
    _strict_load(model, convert_nvidia_state_dict(scripted.state_dict()), str(path))
    return model


def _strict_load(model: FIDInceptionV3, sd: Mapping[str, torch.Tensor], source: str) -> None:
    expected = {k: v.shape for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    given = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    wrong = [k for k in expected if k in given and tuple(given[k].shape) != tuple(expected[k])]
    if missing or unexpected or wrong:
        raise CheckpointError(
            f"{source} is not the 2015-12-05 FID Inception: {len(missing)} missing (first {missing[:3]}), "
            f"{len(unexpected)} unexpected (first {unexpected[:3]}), "
            f"{len(wrong)} with other shapes (first {wrong[:3]})."
        )
    full = dict(given)
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            full[k] = v  # a training counter, unused in eval; absent from NVIDIA's file
    model.load_state_dict(full, strict=True)
    model.eval().requires_grad_(False)

"""LPIPS v0.1 (Zhang et al. 2018) on torchvision ImageNet backbones, as NVIDIA's PPL uses it.

The ``lpips`` package supplies the formula and the linear calibration weights (shipped inside
that package, ``lpips/weights/v0.1/<net>.pth``); the ImageNet backbone comes through ganeval's
weights registry, so nothing is downloaded behind the user's back. LPIPS-VGG16 v0.1 equals
NVIDIA's ``vgg16_zhang_perceptual`` / ``vgg16.pt`` (docs/protocols.md section 1.5).
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ._base import Distance, as_rgb, sha256_file

__all__ = ["LPIPSDistance", "LPIPS_NETS", "lpips_with_random_backbone"]

# ganeval name -> (lpips package net, weights registry entry of the torchvision backbone)
LPIPS_NETS: dict[str, tuple[str, str]] = {
    "lpips-vgg16": ("vgg", "torchvision-vgg16"),
    "lpips-alex": ("alex", "torchvision-alexnet"),
    "lpips-squeeze": ("squeeze", "torchvision-squeezenet1_1"),
}


def _build(net: str) -> Any:
    """lpips.LPIPS with the package's v0.1 linear weights and an untrained backbone (no download);
    typed Any because the lpips package has no type information."""
    import lpips

    with warnings.catch_warnings():  # torchvision's deprecated `pretrained=` inside the lpips package
        warnings.simplefilter("ignore")
        return lpips.LPIPS(net=net, version="0.1", pretrained=True, pnet_rand=True, verbose=False)


def _lin_weights_path(net: str) -> Path:
    import lpips

    return Path(inspect.getfile(lpips.LPIPS)).parent / "weights" / "v0.1" / f"{net}.pth"


class LPIPSDistance(Distance):
    """LPIPS v0.1: ``forward(img_a, img_b)`` on images in [-1, 1] ``[N, 1|3, H, W]`` -> ``[N]``.

    No resizing: the network sees the images at the size it is given (NVIDIA's PPL feeds
    256 x 256 or smaller, ``resize_images=False``).
    """

    def __init__(self, net: str, name: str) -> None:
        super().__init__()
        self.name = name
        self.net_name = net
        self.model = _build(net)
        self.weights_sha256 = {"lpips_lin": sha256_file(_lin_weights_path(net))}

    def load_backbone(self, path: str | Path) -> None:
        """Load a torchvision ``state_dict`` (keys ``features.<i>.*``) into the LPIPS trunk.

        The lpips package splits torchvision's ``features`` into ``slice<k>`` blocks that keep
        the original layer indices, so ``features.<i>.rest`` maps to ``slice<k>.<i>.rest``.
        """
        state = torch.load(str(path), map_location="cpu", weights_only=True)
        trunk = self.model.net
        where = {i: s for s, block in trunk.named_children() for i in block._modules}
        mapped: dict[str, torch.Tensor] = {}
        for key, value in state.items():
            if key.startswith("features."):
                index, rest = key[len("features.") :].split(".", 1)
                if index in where:
                    mapped[f"{where[index]}.{index}.{rest}"] = value
        try:
            trunk.load_state_dict(mapped, strict=True)
        except RuntimeError as exc:
            raise CheckpointError(
                f"File {path} is not a torchvision {self.net_name} ImageNet state_dict matching the LPIPS trunk: {exc}"
            ) from None
        self.weights_sha256["backbone"] = sha256_file(path)

    def forward(self, img_a: torch.Tensor, img_b: torch.Tensor) -> torch.Tensor:
        self.check_pair(img_a, img_b)
        # The lpips package expects [-1, 1] and applies its own ImageNet shift/scale layer.
        a, b = as_rgb(img_a.to(torch.float32)), as_rgb(img_b.to(torch.float32))
        return self.model(a, b).reshape(-1)

    def pairs(self, images: torch.Tensor) -> torch.Tensor:
        """``forward(images[:N], images[N:])`` with the backbone run once on the ``[2N]`` stack.

        The same operations as the lpips package's forward (ImageNet scaling, unit-normalised
        features per layer, squared difference, linear calibration, spatial mean, sum over
        layers), so the per-pair values equal :meth:`forward`'s (bit for bit on CPU, where a
        sample's convolution does not depend on the rest of the batch).
        """
        import lpips

        n = self.pair_count(images)
        self.check_pair(images[:n], images[n:])
        model = self.model
        feats = model.net.forward(model.scaling_layer(as_rgb(images.to(torch.float32))))
        total: torch.Tensor | int = 0
        for k in range(model.L):
            f = lpips.normalize_tensor(feats[k])
            diff = (f[:n] - f[n:]) ** 2
            total = total + model.lins[k](diff).mean([2, 3], keepdim=True)
        assert isinstance(total, torch.Tensor)
        return total.reshape(-1)

    def path_quadratic(self, images: torch.Tensor, tangents: torch.Tensor) -> torch.Tensor:
        """``sum_l mean_hw sum_c w_lc (d/ds f_lc(x + s v))**2`` at ``s = 0``, ``[N]``.

        LPIPS is ``sum_l mean_hw sum_c w_lc (f_lc(a) - f_lc(b))**2`` over unit-normalised
        features ``f``, so ``d(x, x + s v) / s**2`` tends to this quadratic form in the features'
        directional derivative: one forward-mode pass through the trunk (see
        :meth:`Distance.path_quadratic`).
        """
        import lpips
        from torch.func import jvp

        model = self.model

        def features(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
            feats = model.net.forward(model.scaling_layer(as_rgb(x.to(torch.float32))))
            return tuple(lpips.normalize_tensor(feats[k]) for k in range(model.L))

        # torch annotates jvp's result as the 2- or (has_aux) 3-tuple
        _, dfeats = jvp(features, (images,), (tangents.to(torch.float32),))  # type: ignore[misc]
        total: torch.Tensor | int = 0
        for k, df in enumerate(dfeats):
            total = total + model.lins[k](df.square()).mean([2, 3], keepdim=True)
        assert isinstance(total, torch.Tensor)
        return total.reshape(-1)


def lpips_with_random_backbone(net: str = "vgg", seed: int = 0) -> LPIPSDistance:
    """LPIPS with the real v0.1 linear weights on a seeded random trunk (for tests only).

    The formula is that of the pretrained metric; only the trunk's weights are random, drawn
    from a local ``torch.Generator`` seeded with ``seed`` (the global RNG is untouched), so it
    needs no download.
    """
    name = {v[0]: k for k, v in LPIPS_NETS.items()}[net]
    dist = LPIPSDistance(net, name=f"{name}-random-backbone-seed{seed}")
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in dist.model.net.parameters():
            if p.ndim > 1:  # He-normal conv weights keep activations at a sane scale
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.01)
    dist.weights_sha256["backbone"] = f"random-seed{seed}"
    return dist

"""ganeval's built-in names, registered in :mod:`ganeval.registry` when it loads its plugins.

Imported only by the registry (never by ``import ganeval``); the factories import their
modules when called, so listing names imports neither torch nor any network code. The zoo's
names are registered by :mod:`ganeval.zoo._register`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from .registry import register
from .weights._catalog import builtin_entries

# ganeval name -> description; the networks and weights entries are in ganeval.distances._lpips
_LPIPS = {
    "lpips-vgg16": "LPIPS v0.1 on torchvision's VGG16 ImageNet features (the StyleGAN papers' distance)",
    "lpips-alex": "LPIPS v0.1 on torchvision's AlexNet ImageNet features",
    "lpips-squeeze": "LPIPS v0.1 on torchvision's SqueezeNet 1.1 ImageNet features",
}


def _lpips(name: str) -> Any:
    from .distances import LPIPSDistance
    from .distances._lpips import LPIPS_NETS
    from .weights import resolve

    net, entry = LPIPS_NETS[name]
    dist = LPIPSDistance(net, name=name)
    dist.load_backbone(resolve(entry))
    return dist


def _nvidia_vgg16() -> Any:
    from .distances import NvidiaVGG16Distance
    from .weights import resolve

    return NvidiaVGG16Distance(resolve("nvidia-vgg16-lpips"))


def _celebahq() -> Any:
    from .classifiers.celebahq import load_celebahq

    return load_celebahq()


def _tf_classifier(entry: str) -> Any:
    from .classifiers.celebahq import load_tf_classifier
    from .weights import resolve

    return load_tf_classifier(resolve(entry))


def _inception(variant: str | None, device: Any) -> Any:
    from .features import _load_inception

    return _load_inception(variant, device)


def _weights_file(entry: str) -> Path:
    from .weights import resolve

    return resolve(entry)


def _register_all() -> None:
    for name, text in _LPIPS.items():
        register("distance", name, partial(_lpips, name), description=text)
    register(
        "distance",
        "nvidia-vgg16",
        _nvidia_vgg16,
        description="NVIDIA's vgg16.pt LPIPS TorchScript, as stylegan2-ada-pytorch computes PPL",
    )
    register("classifier", "celebahq", _celebahq, description="NVIDIA's 40 CelebA-HQ attribute classifiers stacked")
    register(
        "extractor",
        "inception-v3-fid",
        partial(_inception, None),
        description="the 2015-12-05 FID Inception (pytorch-fid weights, else NVIDIA's)",
    )
    for variant in ("pytorch-fid", "nvidia"):
        register(
            "extractor",
            f"inception-v3-fid:{variant}",
            partial(_inception, variant),
            description=f"the 2015-12-05 FID Inception, {variant} weights file only",
        )
    for entry in builtin_entries():
        if entry.kind in ("generator", "classifier"):
            factory = _weights_file if entry.kind == "generator" else _tf_classifier
            register(entry.kind, entry.name, partial(factory, entry.name), description=entry.description)


_register_all()

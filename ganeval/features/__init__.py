"""Feature extractors for the distribution metrics (FID, KID, precision/recall), by name.

An extractor is an ``nn.Module`` mapping images ``[N, 3, H, W]`` float32 in [-1, 1] to features
``[N, F]``, with attributes ``name``, ``feature_dim``, ``input_resolution`` (the size the
resize modes target), ``weights_sha256`` and ``metric_name`` (how a Fréchet distance on its
features is called: ``"FID"`` only for the FID Inception, e.g. ``"FD_shapes"`` otherwise).

Names (kind ``"extractor"`` of :mod:`ganeval.registry`; :func:`register_extractor` adds one):

- ``inception-v3-fid``: the 2015-12-05 FID Inception (:mod:`.inception`), weights from the
  registry entry ``pytorch-fid-inception`` or else ``nvidia-inception-2015-12-05`` (same graph);
  ``inception-v3-fid:pytorch-fid`` and ``inception-v3-fid:nvidia`` pick one file;
- ``zoo:shapes-classifier`` (registered by the zoo): the zoo attribute classifier's penultimate
  features (offline, tiny; its Fréchet distance is ``FD_shapes``, never FID).

>>> import ganeval
>>> ext = ganeval.load_extractor("zoo:shapes-classifier")     # doctest: +SKIP
>>> ext(images).shape                                          # doctest: +SKIP
torch.Size([16, 128])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .. import registry
from ..errors import GanevalValueError, WeightsNotFoundError

__all__ = ["load_extractor", "register_extractor", "list_extractors", "MethodExtractor"]

_Factory = Callable[[torch.device], nn.Module]

INCEPTION_WEIGHTS = {
    "pytorch-fid": ("pytorch-fid-inception", "pt_inception-2015-12-05-6726825d.pth"),
    "nvidia": ("nvidia-inception-2015-12-05", "inception-2015-12-05.pt"),
}


class MethodExtractor(nn.Module):
    """Wrap ``module.<method>(images)`` as an extractor (e.g. a classifier's ``features``)."""

    def __init__(
        self,
        module: nn.Module,
        *,
        name: str,
        method: str = "forward",
        feature_dim: int | None = None,
        input_resolution: int | None = None,
        weights_sha256: str | None = None,
        metric_name: str | None = None,
    ) -> None:
        super().__init__()
        self.module = module
        self.method = method
        self.name = name
        self.feature_dim = feature_dim
        self.input_resolution = input_resolution
        self.weights_sha256 = weights_sha256
        self.metric_name = metric_name or f"FD_{name.split(':')[-1]}"

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        out = getattr(self.module, self.method)(images)
        return out.flatten(1).float()


def register_extractor(name: str, factory: _Factory | nn.Module, *, overwrite: bool = False) -> None:
    """Register an extractor under ``name`` (kind ``"extractor"`` of :mod:`ganeval.registry`).

    ``factory`` is a module (used as is) or a callable ``device -> module``. Modules without a
    ``metric_name`` are reported as ``FD_<name>``: only the FID Inception yields "FID".
    """
    if not overwrite and registry.has("extractor", name):
        raise GanevalValueError(f"Argument `name` is {name!r}, which is already registered; pass overwrite=True.")
    if isinstance(factory, nn.Module):
        module = factory
        registry.register("extractor", name, lambda device: module.to(device), replace=overwrite)
    elif callable(factory):
        registry.register("extractor", name, factory, replace=overwrite)
    else:
        raise GanevalValueError(
            f"Argument `factory` must be an nn.Module or a callable, but got {type(factory).__name__}."
        )


def list_extractors() -> list[str]:
    """Names :func:`load_extractor` accepts (besides modules)."""
    return sorted(registry.names("extractor"))


def _weights_dir_hint() -> str:
    try:
        from ..weights import cache_root

        return str(cache_root() / "weights")
    except ImportError:
        return "~/.cache/ganeval/weights"


def _load_inception(variant: str | None, device: torch.device) -> nn.Module:
    from ..weights import resolve, sha256_file
    from .inception import load_nvidia_torchscript, load_pytorch_fid_state_dict

    variants = [variant] if variant else ["pytorch-fid", "nvidia"]
    errors = []
    for v in variants:
        entry, filename = INCEPTION_WEIGHTS[v]
        try:
            path = resolve(entry)
        except WeightsNotFoundError as exc:
            errors.append(f"{filename} ({exc})")
            continue
        model = load_pytorch_fid_state_dict(path) if v == "pytorch-fid" else load_nvidia_torchscript(path)
        model.weights_sha256 = sha256_file(path)
        model.weights_file = filename
        model.metric_name = "FID"
        model.name = "inception-v3-fid"
        return model.fuse().to(device)
    files = " or ".join(f"'{INCEPTION_WEIGHTS[v][1]}'" for v in variants)
    raise WeightsNotFoundError(
        f"The FID Inception weights are not available: place {files} in {_weights_dir_hint()} "
        f"(or run `ganeval weights fetch {INCEPTION_WEIGHTS[variants[0]][0]}` where downloads are allowed), "
        "or use `--extractor zoo:shapes-classifier` offline. Details: " + "; ".join(errors)
    )


def load_extractor(name: str | nn.Module, device: Any = None) -> nn.Module:
    """An extractor module (eval mode, no gradients) by registry name, or a module wrapped as one.

    Args:
        name: a registered extractor name (:func:`list_extractors`: ``"inception-v3-fid"`` and its
            ``:pytorch-fid`` / ``:nvidia`` variants, ``"zoo:shapes-classifier"``, names given to
            :func:`register_extractor`), or an ``nn.Module`` images -> features.
        device: ``"auto" | "cpu" | "cuda[:N]"`` or a :class:`torch.device` (default: CPU).

    Raises:
        UnknownNameError: unknown name (a GanevalValueError listing the registered names).
        WeightsNotFoundError: the weights are not in the cache (the message says which file to put where).
    """
    from ..devices import resolve_device

    module: Any  # an nn.Module with the extractor attributes (name, feature_dim, ...), which torch does not type
    dev = resolve_device(device) if device is not None else torch.device("cpu")
    if isinstance(name, nn.Module):
        module = name if hasattr(name, "name") else MethodExtractor(name, name=type(name).__name__.lower())
        module = module.to(dev)
    elif not isinstance(name, str):
        raise GanevalValueError(f"Argument `extractor` must be a name or an nn.Module, but got {type(name).__name__}.")
    else:
        module = registry.create("extractor", name, dev)
        if not hasattr(module, "name"):
            module = MethodExtractor(module, name=name)
    for attr, default in (("feature_dim", None), ("input_resolution", None), ("weights_sha256", None)):
        if not hasattr(module, attr):
            setattr(module, attr, default)
    if isinstance(name, str):
        module.source = name  # the name that loads it again (e.g. the variant "inception-v3-fid:nvidia")
    if not hasattr(module, "metric_name"):
        module.metric_name = f"FD_{module.name}"
    return module.eval().requires_grad_(False)

"""NVIDIA's CelebA-HQ attribute classifiers (TF ``D_basic`` pickles), read without TensorFlow.

Registry names ``celebahq-classifier-NN-<attr>`` (NN = 00..39 in the order of
:data:`ganeval.weights.CELEBAHQ_ATTRIBUTES`, which is NVIDIA's, not CelebA's alphabetical
order). Each pickle is one network with one output logit for 256x256 images in [-1, 1];
``load_classifier("celebahq")`` stacks all 40 into one module with 40 outputs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError, GanevalValueError
from .base import AttributeClassifier
from .tf_dbasic import DBasic, dbasic_from_tf

__all__ = ["celebahq_entry_name", "load_tf_classifier", "load_celebahq", "StackedLogits"]

_FILE_RE = re.compile(r"^celebahq-classifier-(\d\d)-(.+)$")


def celebahq_entry_name(attribute: str) -> str:
    """Registry name of the classifier for ``attribute`` (e.g. ``"male"`` -> ``"celebahq-classifier-00-male"``)."""
    from ..weights import CELEBAHQ_ATTRIBUTES

    if attribute not in CELEBAHQ_ATTRIBUTES:
        raise GanevalValueError(
            f"Argument `attribute` must be one of the 40 CelebA-HQ attributes "
            f"({', '.join(CELEBAHQ_ATTRIBUTES)}), but got {attribute!r}."
        )
    return f"celebahq-classifier-{CELEBAHQ_ATTRIBUTES.index(attribute):02d}-{attribute}"


class StackedLogits(nn.Module):
    """Runs several one-logit networks on the same images: ``[N, ...] -> [N, len(nets)]``."""

    def __init__(self, nets: Sequence[nn.Module]) -> None:
        super().__init__()
        self.nets = nn.ModuleList(nets)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.cat([net(images).reshape(images.shape[0], -1) for net in self.nets], dim=1)


def _read_dbasic(path: Path) -> DBasic:
    from ..loaders.safe_pickle import TFNetworkStub, safe_load

    net = safe_load(path)
    if not isinstance(net, TFNetworkStub):
        raise CheckpointError(
            f"{path} must hold one TF network (dnnlib.tflib.network.Network), but it holds {type(net).__name__}."
        )
    return dbasic_from_tf(net)


def load_tf_classifier(path: str | Path, attribute_name: str | None = None) -> AttributeClassifier:
    """Load one TF ``D_basic`` classifier pickle into an :class:`AttributeClassifier` (1 attribute).

    The attribute name defaults to ``<attr>`` of a file named ``celebahq-classifier-NN-<attr>.pkl``,
    else the file stem.
    """
    from ..weights import sha256_file

    path = Path(path)
    if attribute_name is None:
        m = _FILE_RE.match(path.stem)
        attribute_name = m.group(2) if m else path.stem
    net = _read_dbasic(path)
    return AttributeClassifier(
        net,
        [attribute_name],
        net.resolution,
        name=path.name,
        weights_sha256={path.name: sha256_file(path)},
        group_size=net.group_size,
    )


def load_celebahq(attributes: Sequence[str] | None = None, **resolve_kwargs: Any) -> AttributeClassifier:
    """The CelebA-HQ classifiers for ``attributes`` (default: all 40), stacked into one module.

    Weights come from the registry (:func:`ganeval.weights.resolve`, verified, cached);
    ``resolve_kwargs`` (``cache_dir``, ``offline``, ``download``) are passed through.
    """
    from ..weights import CELEBAHQ_ATTRIBUTES, resolve, sha256_file

    attrs = list(CELEBAHQ_ATTRIBUTES if attributes is None else attributes)
    nets, hashes = [], {}
    for attr in attrs:
        name = celebahq_entry_name(attr)
        path = resolve(name, **resolve_kwargs)
        nets.append(_read_dbasic(path))
        hashes[name] = sha256_file(path)
    groups = {n.group_size for n in nets}
    res = {n.resolution for n in nets}
    if len(groups) != 1 or len(res) != 1:
        raise CheckpointError(
            f"The CelebA-HQ classifiers disagree on input resolution {sorted(res)} or "
            f"minibatch-stddev group size {sorted(groups)}; they cannot be stacked."
        )
    label = "celebahq" if attributes is None else "celebahq:" + ",".join(attrs)
    return AttributeClassifier(
        StackedLogits(nets), attrs, res.pop(), name=label, weights_sha256=hashes, group_size=groups.pop()
    )

"""The attribute-classifier interface: images in [-1, 1] -> one logit per named attribute.

Every classifier ganeval uses (the zoo classifier, NVIDIA's CelebA-HQ classifiers, any torch
module the user brings) is an :class:`AttributeClassifier`:

- ``forward(images)``: images float32 ``[N, 3, H, W]`` in [-1, 1] with
  ``H == W == input_resolution`` -> logits float32 ``[N, A]``; a positive logit means the
  attribute is present (probability ``sigmoid(2 * logit)`` under NVIDIA's two-class
  softmax ``softmax([l, -l])``);
- ``attribute_names``: the ``A`` attribute names, in output order;
- ``input_resolution``: the image size the network expects (callers box-downsample to it);
- ``name``: a short description; ``weights_sha256``: hash of the weights (a hex string, or
  ``{weights name: sha256}`` for classifiers assembled from several files);
- ``group_size``: images whose outputs depend on each other (NVIDIA's minibatch-stddev layer
  groups ``group_size`` consecutive images; 1 for ordinary classifiers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch
from torch import nn

from .._validate import check_positive_int, check_tensor_shape
from ..errors import GanevalTypeError, GanevalValueError

__all__ = ["AttributeClassifier", "wrap_classifier", "module_sha256"]


def module_sha256(module: nn.Module) -> str:
    """sha256 over a module's state dict (names, dtypes, shapes and bytes, in key order)."""
    h = hashlib.sha256()
    for key, t in module.state_dict().items():
        t = t.detach().cpu().contiguous()
        h.update(f"{key}:{t.dtype}:{list(t.shape)};".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


class AttributeClassifier(nn.Module):
    """Wraps a network with the attribute metadata and checks its input and output.

    Args:
        network: module mapping images ``[N, 3, R, R]`` in [-1, 1] to logits ``[N, A]``
            (a ``[N]`` output is accepted when ``A == 1``).
        attribute_names: the ``A`` attribute names (unique, non-empty).
        input_resolution: ``R``.
        name: description shown in results.
        weights_sha256: hash of the weights (str or ``{name: sha256}``); computed from the state
            dict when ``None``.
        group_size: see the module docstring.

    Attribute ``source``: the name or path that loads it again (set by
    :func:`ganeval.load_classifier`; ``None`` for a module built in memory).
    """

    source: str | None = None

    def __init__(
        self,
        network: nn.Module,
        attribute_names: Sequence[str],
        input_resolution: int,
        *,
        name: str | None = None,
        weights_sha256: str | dict[str, str] | None = None,
        group_size: int = 1,
    ) -> None:
        super().__init__()
        if not isinstance(network, nn.Module):
            raise GanevalTypeError(f"Argument `network` must be a torch.nn.Module, but got {type(network).__name__}.")
        names = list(attribute_names) if not isinstance(attribute_names, str) else None
        if not names or not all(isinstance(a, str) and a for a in names):
            raise GanevalValueError(
                f"Argument `attribute_names` must be a non-empty list of non-empty strings, "
                f"but got {attribute_names!r}."
            )
        if len(set(names)) != len(names):
            dup = sorted({a for a in names if names.count(a) > 1})
            raise GanevalValueError(f"Argument `attribute_names` must be unique, but {dup} appear more than once.")
        self.network = network
        self.attribute_names: list[str] = names
        self.input_resolution = check_positive_int("input_resolution", input_resolution)
        self.group_size = check_positive_int("group_size", group_size)
        self.name = name or type(network).__name__
        self.weights_sha256 = weights_sha256 or module_sha256(network)

    @property
    def num_attributes(self) -> int:
        return len(self.attribute_names)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``[N, 3, R, R]`` in [-1, 1] -> logits ``[N, A]`` float32."""
        r = self.input_resolution
        check_tensor_shape("images", images, [None, 3, r, r])
        out = self.network(images)
        if out.ndim == 1 and self.num_attributes == 1:
            out = out[:, None]
        if out.ndim != 2 or out.shape[0] != images.shape[0] or out.shape[1] != self.num_attributes:
            raise GanevalValueError(
                f"Classifier {self.name!r} must output logits of shape [{images.shape[0]}, {self.num_attributes}] "
                f"(one per attribute name), but its output has shape {list(out.shape)}; pass one attribute name "
                "per output column."
            )
        return out.float()

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``[N, F]``, where the wrapped network provides ``features``."""
        features = getattr(self.network, "features", None)
        if features is None:
            raise GanevalTypeError(f"Classifier {self.name!r} does not expose features.")
        check_tensor_shape("images", images, [None, 3, self.input_resolution, self.input_resolution])
        return features(images)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, attributes={self.num_attributes}, input_resolution={self.input_resolution}"


def wrap_classifier(
    module: nn.Module,
    attribute_names: Sequence[str],
    input_resolution: int,
    *,
    name: str | None = None,
    group_size: int = 1,
) -> AttributeClassifier:
    """Make any torch module an :class:`AttributeClassifier` (eval mode, no gradients).

    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 2))
    >>> clf = wrap_classifier(net, ["smiling", "male"], 8)
    >>> clf(torch.zeros(4, 3, 8, 8)).shape
    torch.Size([4, 2])
    """
    clf = AttributeClassifier(module, attribute_names, input_resolution, name=name, group_size=group_size)
    clf.eval().requires_grad_(False)
    return clf

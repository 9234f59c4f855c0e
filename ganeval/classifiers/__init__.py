"""Attribute classifiers behind one interface: images in [-1, 1] -> one logit per named attribute.

>>> import ganeval
>>> clf = ganeval.load_classifier("zoo:shapes-classifier")          # doctest: +SKIP
>>> clf.attribute_names[:3], clf.input_resolution                     # doctest: +SKIP

Sources accepted by :func:`load_classifier`:

- a name registered in :mod:`ganeval.registry` (kind ``"classifier"``): ``"celebahq"`` (NVIDIA's 40
  CelebA-HQ classifiers stacked into one module, 40 outputs), ``"celebahq-classifier-NN-<attr>"``
  (one of them), the zoo's ``"zoo:shapes-classifier"``, or a third-party package's;
- a path to a TF classifier pickle (``D_basic`` layout, read without TensorFlow or code execution);
- an :class:`AttributeClassifier`, or any torch module with ``attribute_names`` and
  ``input_resolution`` attributes (else use :func:`wrap_classifier`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from .. import registry
from ..errors import GanevalTypeError
from .base import AttributeClassifier, module_sha256, wrap_classifier

__all__ = ["AttributeClassifier", "load_classifier", "wrap_classifier", "module_sha256"]


def load_classifier(source: str | Path | nn.Module, device: Any = None) -> AttributeClassifier:
    """Load an attribute classifier (see the module docstring for ``source``), eval mode, no grads.

    Args:
        source: registry name, path, or module.
        device: ``"auto"|"cpu"|"cuda[:N]"``; ``None`` keeps a module's device, else the CPU.

    Returns:
        :class:`AttributeClassifier`: images ``[N, 3, R, R]`` in [-1, 1] -> logits ``[N, A]``;
        loaded by name or path, its ``source`` is the name that loads it again (paths absolute).
    """
    from .._names import loadable_name
    from ..devices import resolve_device

    clf = _load(source)
    if isinstance(source, (str, Path)):
        clf.source = loadable_name(source)
    clf.eval().requires_grad_(False)
    if device is not None:
        clf = clf.to(resolve_device(device))
    return clf


def _load(source: str | Path | nn.Module) -> AttributeClassifier:
    if isinstance(source, nn.Module):
        return _from_module(source)
    if not isinstance(source, (str, Path)):
        raise GanevalTypeError(
            f"Argument `source` must be a name, a path or a torch module, but got {type(source).__name__}."
        )
    text = str(source)
    if registry.has("classifier", text):
        made = registry.create("classifier", text)
        if not isinstance(made, nn.Module):
            raise GanevalTypeError(
                f"The factory registered for classifier {text!r} must return a torch module, "
                f"but returned {type(made).__name__}."
            )
        # a bare module is recorded under its registry name, so results name what loads again
        return _from_module(made, name=text)
    path = Path(text).expanduser()
    if path.is_file():
        from .celebahq import load_tf_classifier

        return load_tf_classifier(path)
    raise registry.unknown("classifier", text, alternatives="an existing TF classifier pickle (no such file)")


def _from_module(source: nn.Module, name: str | None = None) -> AttributeClassifier:
    """``source`` as is if it is an :class:`AttributeClassifier`, else wrapped (its own ``name`` wins over ``name``)."""
    if isinstance(source, AttributeClassifier):
        return source
    names = getattr(source, "attribute_names", None)
    res = getattr(source, "input_resolution", None)
    if names is None or res is None:
        raise GanevalTypeError(
            "Argument `source` is a torch module without `attribute_names` and `input_resolution`; "
            "wrap it with ganeval.classifiers.wrap_classifier(module, attribute_names, input_resolution)."
        )
    return AttributeClassifier(
        source,
        names,
        int(res),
        name=getattr(source, "name", None) or name,
        weights_sha256=getattr(source, "weights_sha256", None) or None,
        group_size=int(getattr(source, "group_size", 1)),
    )

"""Attribute classifiers behind one interface: images in [-1, 1] -> one logit per named attribute.

>>> import ganeval
>>> clf = ganeval.load_classifier("zoo:shapes-classifier")          # doctest: +SKIP
>>> clf.attribute_names[:3], clf.input_resolution                     # doctest: +SKIP

Sources accepted by :func:`load_classifier`:

- ``"zoo:shapes-classifier"``: the embedded classifier of the shapes zoo;
- ``"celebahq"``: NVIDIA's 40 CelebA-HQ classifiers stacked into one module (40 outputs);
  ``"celebahq-classifier-NN-<attr>"``: one of them (registry names);
- a path to a TF classifier pickle (``D_basic`` layout, read without TensorFlow or code execution);
- an :class:`AttributeClassifier`, or any torch module with ``attribute_names`` and
  ``input_resolution`` attributes (else use :func:`wrap_classifier`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from ..errors import GanevalTypeError, GanevalValueError
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
    if isinstance(source, AttributeClassifier):
        return source
    if isinstance(source, nn.Module):
        names = getattr(source, "attribute_names", None)
        res = getattr(source, "input_resolution", None)
        if names is None or res is None:
            raise GanevalTypeError(
                "Argument `source` is a torch module without `attribute_names` and `input_resolution`; "
                "wrap it with ganeval.classifiers.wrap_classifier(module, attribute_names, input_resolution).")
        return AttributeClassifier(source, names, int(res), name=getattr(source, "name", None),
                                   weights_sha256=getattr(source, "weights_sha256", None) or None,
                                   group_size=int(getattr(source, "group_size", 1)))
    if not isinstance(source, (str, Path)):
        raise GanevalTypeError(f"Argument `source` must be a name, a path or a torch module, "
                               f"but got {type(source).__name__}.")
    text = str(source)
    if text.startswith("zoo:"):
        from ..zoo.classifier import load_zoo_classifier

        net = load_zoo_classifier(text)
        return AttributeClassifier(net, net.attribute_names, net.input_resolution, name=text,
                                   weights_sha256=net.weights_sha256 or None)
    from .celebahq import load_celebahq, load_tf_classifier

    if text == "celebahq":
        return load_celebahq()
    if text.startswith("celebahq-classifier-") and not Path(text).suffix:
        from ..weights import resolve

        return load_tf_classifier(resolve(text))
    path = Path(text).expanduser()
    if path.is_file():
        return load_tf_classifier(path)
    raise GanevalValueError(
        f"Argument `source` must be 'zoo:shapes-classifier', 'celebahq', a registry name "
        f"'celebahq-classifier-NN-<attr>', or an existing TF classifier pickle, but got {text!r} "
        f"(no such file).")

"""The zoo's names in :mod:`ganeval.registry`, registered when the registry loads its plugins.

One entry per card in the zoo folder (``pretrained/<name>.json``, see :func:`._load.zoo_cards`),
named ``zoo:<name>``: a ``generator`` card is a generator, a ``distance`` card a distance, a
``classifier`` card both a classifier and a feature extractor (its penultimate features). A new
card needs no code here. Plus the dataset ``zoo:shapes``: renders of :mod:`.shapes`.

Imported only by the registry; the factories import the networks when called, and nothing here
imports the training code (:mod:`.train`).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from ..registry import register
from ._load import zoo_cards


def _generator(name: str) -> Path:
    from ..weights import resolve

    return resolve(name)


def _distance(name: str) -> Any:
    from ..distances import CallableDistance
    from .perceptual import load_zoo_distance

    net = load_zoo_distance(name, device="cpu")
    # the name loads it again; the description ("... NOT LPIPS-VGG16") goes beside it into every result
    dist = CallableDistance(net, name=name)
    dist.description = getattr(net, "description", None)
    dist.weights_sha256 = dict(getattr(net, "weights_sha256", {}) or {})
    return dist


def _classifier(name: str) -> Any:
    from ..classifiers import AttributeClassifier
    from .classifier import load_zoo_classifier

    net = load_zoo_classifier(name)
    return AttributeClassifier(
        net, net.attribute_names, net.input_resolution, name=name, weights_sha256=net.weights_sha256 or None
    )


def _extractor(name: str, device: Any) -> Any:
    from ..classifiers import load_classifier
    from ..features import MethodExtractor

    clf = load_classifier(name, device=device)
    sha = getattr(clf, "weights_sha256", None)
    if isinstance(sha, dict):
        sha = next(iter(sha.values()), None)
    sha = sha or (getattr(clf, "provenance", None) or {}).get("sha256")
    # every zoo network is trained on the shapes data: its Fréchet distance is FD_shapes, never FID
    return MethodExtractor(
        clf,
        name=name,
        method="features",
        feature_dim=getattr(clf, "feature_dim", None),
        input_resolution=getattr(clf, "input_resolution", 32),
        weights_sha256=sha,
        metric_name="FD_shapes",
    )


def _shapes(num: int, seed: int = 0) -> Any:
    from .datasets import ShapesSource

    return ShapesSource(num, seed)


def _register_all() -> None:
    for base, card in zoo_cards().items():
        name, kind, text = f"zoo:{base}", card["kind"], str(card.get("description", ""))
        if kind == "generator":
            register("generator", name, partial(_generator, name), description=text)
        elif kind == "distance":
            register("distance", name, partial(_distance, name), description=text)
        elif kind == "classifier":
            register("classifier", name, partial(_classifier, name), description=text)
            register("extractor", name, partial(_extractor, name), description=f"penultimate features of {name}")
    register(
        "dataset",
        "zoo:shapes",
        _shapes,
        description="renders of the procedural shapes dataset (ganeval.zoo.shapes), 32x32; zoo:shapes:N for N",
    )


_register_all()

"""The names a result's config records: each one loads the same thing again.

A metric writes, for every named input (generator, distance, classifier, feature extractor,
real data), the name its public loader accepts (``ganeval.load_generator``,
``load_distance``, ``load_classifier``, ``load_extractor``, the FID sources) under the input's
key, and anything longer that a reader must see (e.g. that ``zoo:shapes-perceptual`` is not
LPIPS-VGG16) under ``<key>_description``. Paths are recorded absolute, so a result replays from
any working folder of the same machine. An object built in memory records its own ``name``,
which :func:`ganeval.replay` reports as not loadable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["description_of", "display_name", "generator_name", "loadable_name"]


def _absolute_if_path(spec: str) -> str:
    """``spec`` as given when it is a registry name; an existing path made absolute."""
    path = Path(spec).expanduser()
    return str(path.resolve()) if path.exists() else spec


def loadable_name(arg: Any, obj: Any = None) -> str | None:
    """The name that loads what ``arg`` (a name, a path or a loaded object ``obj``) stands for.

    A name or path argument is that name (paths made absolute); an object gives its ``source``
    (set by the loaders) or else its ``name``; ``None`` when it has neither.
    """
    if isinstance(arg, (str, os.PathLike)):
        return _absolute_if_path(os.fspath(arg))
    for candidate in (obj if obj is not None else arg, arg):
        for attr in ("source", "name"):
            value = getattr(candidate, attr, None)
            if isinstance(value, str) and value:
                return value
    return None


def generator_name(G: Any) -> str | None:
    """The source a loaded generator came from: its registry name, or the absolute path of its file;
    ``None`` for a generator built in memory (no ``provenance``)."""
    prov = getattr(G, "provenance", None) or {}
    if prov.get("registry"):
        return str(prov["registry"])
    source = prov.get("source")
    return _absolute_if_path(str(source)) if source else None


def description_of(obj: Any, name: str | None) -> str | None:
    """What a reader must know about ``obj`` beyond its name (its ``description``, else a ``name``
    that differs from the loadable one); ``None`` when the name says it all."""
    text = getattr(obj, "description", None)
    if isinstance(text, str) and text:
        return text
    own = getattr(obj, "name", None)
    return own if isinstance(own, str) and own and own != name else None


def display_name(config: dict[str, Any], key: str) -> str:
    """``config[key]`` with its description, for people.

    E.g. ``"zoo:shapes-perceptual (ganeval zoo CNN; NOT LPIPS-VGG16)"``.
    """
    name, text = config.get(key), config.get(f"{key}_description")
    return f"{name} ({text})" if text else str(name)

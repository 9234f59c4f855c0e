"""Where the shipped zoo weights live, their cards, and checksum-verified loading.

Installed from a wheel the files are the package ``ganeval._pretrained``; in a source
checkout they are the top-level ``pretrained/`` folder next to ``ganeval/``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from ..errors import ChecksumError, GanevalValueError, WeightsNotFoundError
from ..weights import sha256_file

__all__ = [
    "generator_card_names",
    "pretrained_dir",
    "read_card",
    "sha256_file",
    "verified_state_dict",
    "write_card",
    "zoo_cards",
]


def pretrained_dir() -> Path:
    """The folder holding the zoo's cards and weights (installed package first, then the source tree)."""
    spec = importlib.util.find_spec("ganeval._pretrained")
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            if (Path(loc) / "shapes-classifier.json").exists():
                return Path(loc)
    src = Path(__file__).resolve().parents[2] / "pretrained"
    if src.is_dir():
        return src
    raise WeightsNotFoundError(
        "The zoo weights folder was not found: expected the package `ganeval._pretrained` or a `pretrained/` "
        f"folder at {src}; reinstall ganeval."
    )


def zoo_cards(root: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Every card in ``root`` (default :func:`pretrained_dir`; none if that is missing): name -> card.

    A card is a ``<name>.json`` file holding a JSON object with ``name`` and ``kind`` (``"generator"``,
    ``"classifier"``, ``"distance"``); other JSON files (e.g. a generator's bare native config) are skipped.
    Names are as on the card, without the ``zoo:`` prefix; sorted by file name.
    """
    if root is None:
        try:
            root = pretrained_dir()
        except WeightsNotFoundError:
            return {}
    cards = {}
    for path in sorted(Path(root).glob("*.json")):
        card = json.loads(path.read_text())
        if isinstance(card, dict) and "name" in card and "kind" in card and path.stem == card["name"]:
            cards[str(card["name"])] = card
    return cards


def generator_card_names(root: str | Path | None = None) -> list[str]:
    """Names of the generator cards in ``root`` (default :func:`pretrained_dir`), sorted."""
    return sorted(name for name, card in zoo_cards(root).items() if card["kind"] == "generator")


def read_card(name: str, root: str | Path | None = None) -> dict[str, Any]:
    """The JSON card of zoo model ``name`` (with or without the ``zoo:`` prefix)."""
    base = name.removeprefix("zoo:")
    cards = zoo_cards(root)
    if base not in cards:
        opts = ", ".join(repr("zoo:" + n) for n in cards) or "none: the zoo folder holds no cards"
        raise GanevalValueError(f"Argument `name` must be one of {opts}, but got {name!r}.")
    return cards[base]


def write_card(path: Path, card: dict[str, Any]) -> None:
    """Write a card as indented, key-ordered-as-given JSON with a trailing newline."""
    path.write_text(json.dumps(card, indent=2) + "\n")


def verified_state_dict(card: dict[str, Any], root: str | Path) -> tuple[dict[str, Any], str]:
    """Load the safetensors file a card names after checking its sha256; returns (state, sha256)."""
    from safetensors.torch import load_file

    path = Path(root) / card["file"]
    if not path.exists():
        raise WeightsNotFoundError(f"The weights of zoo model {card['name']!r} are missing: expected {path}.")
    sha = sha256_file(path)
    if sha != card["sha256"]:
        raise ChecksumError(
            f"The weights file {path} has sha256 {sha}, but its card records {card['sha256']}; "
            "the file is corrupted or was replaced. Reinstall ganeval."
        )
    return load_file(str(path)), sha

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

__all__ = ["ZOO_NAMES", "pretrained_dir", "read_card", "write_card", "sha256_file", "verified_state_dict"]

#: Zoo model name -> kind.
ZOO_NAMES: dict[str, str] = {
    "shapes-stylegan": "generator",
    "shapes-traditional": "generator",
    "shapes-classifier": "classifier",
    "shapes-perceptual": "distance",
}


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


def _strip(name: str) -> str:
    base = name[4:] if name.startswith("zoo:") else name
    if base not in ZOO_NAMES:
        opts = ", ".join(repr("zoo:" + n) for n in ZOO_NAMES)
        raise GanevalValueError(f"Argument `name` must be one of {opts}, but got {name!r}.")
    return base


def read_card(name: str, root: str | Path | None = None) -> dict[str, Any]:
    """The JSON card of zoo model ``name`` (with or without the ``zoo:`` prefix)."""
    base = _strip(name)
    path = Path(root) if root is not None else pretrained_dir()
    card_path = path / f"{base}.json"
    if not card_path.exists():
        raise WeightsNotFoundError(f"The card of zoo model {name!r} is missing: expected {card_path}.")
    return json.loads(card_path.read_text())


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

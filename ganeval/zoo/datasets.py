"""The zoo's real-image sets for the distribution metrics (registered as ``zoo:shapes``)."""

from __future__ import annotations

from ..features.sources import RenderedSource
from .shapes import render

__all__ = ["ShapesSource"]


class ShapesSource(RenderedSource):
    """``num`` renders of the shapes dataset (:mod:`ganeval.zoo.shapes`, dataset seed ``seed``), uint8-quantised."""

    def __init__(self, num: int, seed: int = 0) -> None:
        super().__init__("zoo:shapes", render, num, seed)

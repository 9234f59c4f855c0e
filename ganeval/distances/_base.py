"""The distance interface shared by every perceptual distance: images in [-1, 1] -> [N]."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .._validate import check_tensor_shape
from ..errors import GanevalValueError
from ..weights import sha256_file

__all__ = ["Distance", "CallableDistance", "sha256_file", "as_rgb"]  # sha256_file: re-exported from the registry


def as_rgb(images: torch.Tensor) -> torch.Tensor:
    """Repeat a grayscale batch ``[N, 1, H, W]`` to three channels; RGB passes through."""
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


class Distance(nn.Module):
    """A perceptual distance between two image batches.

    ``forward(img_a, img_b)`` takes two float32 batches ``[N, C, H, W]`` (C = 1 or 3) in the
    nominal range [-1, 1] and returns float32 distances ``[N]`` (>= 0 for LPIPS-type metrics).
    Each subclass converts the images visibly to the range its network expects.

    Attributes:
        name: registry name (``"lpips-vgg16"``, ``"zoo:shapes-perceptual"``, ...), written into
            every result; :func:`ganeval.load_distance` loads it again.
        description: what a reader must know beyond the name (e.g. ``"ganeval zoo CNN; NOT
            LPIPS-VGG16"``), written beside it as ``distance_description``; ``None`` when the name says it all.
        weights_sha256: ``{file role: sha256}`` of every weights file the distance uses.
    """

    name: str = "distance"
    description: str | None = None
    weights_sha256: dict[str, str]

    def __init__(self) -> None:
        super().__init__()
        self.weights_sha256 = {}

    def check_pair(self, img_a: torch.Tensor, img_b: torch.Tensor) -> None:
        """Both batches must be ``[N, C, H, W]`` with identical shapes and C in {1, 3}."""
        check_tensor_shape("img_a", img_a, [None, None, None, None])
        check_tensor_shape("img_b", img_b, list(img_a.shape))
        if img_a.shape[1] not in (1, 3):
            raise GanevalValueError(f"Argument `img_a` must have 1 or 3 channels, but got shape {list(img_a.shape)}.")

    def pairs(self, images: torch.Tensor) -> torch.Tensor:
        """Distances of stacked pairs: ``images`` ``[2N, C, H, W]`` holds every first image, then
        every second one (the layout PPL renders); returns ``forward(images[:N], images[N:])``.

        Subclasses whose network embeds each image separately override this to run the network
        once on the whole stack (same per-pair values, one pass instead of two).
        """
        n = self.pair_count(images)
        return self(images[:n], images[n:])

    def path_quadratic(self, images: torch.Tensor, tangents: torch.Tensor) -> torch.Tensor:
        """``lim_{s -> 0} d(x, x + s v) / s**2`` per pair: PPL's path length without the finite step.

        Args:
            images: ``x`` ``[N, C, H, W]``, images in [-1, 1] (the distance's input).
            tangents: ``v`` ``[N, C, H, W]``, the images' derivative along the path.

        Returns:
            float32 ``[N]``, ``1/2 v^T H v`` with ``H`` the Hessian of ``d(x, .)`` at ``x``; valid
            for distances that vanish to second order at ``x`` (``d(x, x) = 0``, zero gradient),
            as squared feature distances such as LPIPS do.

        This default takes the second derivative of ``s -> d(x, x + s v)`` at 0 with nested
        forward-mode AD (no cancellation, unlike a finite difference). Subclasses with explicit
        features override it with a single forward-mode pass through the feature network.
        """
        from torch.func import jvp

        s0 = torch.zeros(images.shape[0], dtype=images.dtype, device=images.device)
        ones = torch.ones_like(s0)

        def along(s: torch.Tensor) -> torch.Tensor:
            return self(images, images + s.reshape(-1, 1, 1, 1) * tangents)

        def slope(s: torch.Tensor) -> torch.Tensor:
            return jvp(along, (s,), (ones,))[1]

        return 0.5 * jvp(slope, (s0,), (ones,))[1]

    @staticmethod
    def pair_count(images: torch.Tensor) -> int:
        """``N`` of a stack of pairs ``[2N, C, H, W]``; anything else raises."""
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[0] % 2:
            got = list(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise GanevalValueError(f"Argument `images` must be a stack of pairs [2N, C, H, W], but got shape {got}.")
        return images.shape[0] // 2

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


class CallableDistance(Distance):
    """Wraps a user callable ``fn(img_a, img_b) -> [N]`` (images in [-1, 1]) under a name."""

    def __init__(self, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], name: str | None = None) -> None:
        super().__init__()
        self.fn = fn
        self.name = name or f"callable:{getattr(fn, '__qualname__', type(fn).__name__)}"
        if isinstance(fn, nn.Module):
            self.add_module("module", fn)  # so .to(device) moves its parameters too

    def path_quadratic(self, images: torch.Tensor, tangents: torch.Tensor) -> torch.Tensor:
        """The wrapped callable's own ``path_quadratic`` when it has one, else the generic one."""
        own = getattr(self.fn, "path_quadratic", None)
        if callable(own):
            return own(images, tangents).reshape(-1).to(torch.float32)
        return super().path_quadratic(images, tangents)

    def forward(self, img_a: torch.Tensor, img_b: torch.Tensor) -> torch.Tensor:
        self.check_pair(img_a, img_b)
        out = self.fn(img_a, img_b)
        if not isinstance(out, torch.Tensor) or out.numel() != img_a.shape[0]:
            got = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise GanevalValueError(
                f"Distance `{self.name}` must return one value per pair ([{img_a.shape[0]}]), but returned {got}."
            )
        return out.reshape(-1).to(torch.float32)

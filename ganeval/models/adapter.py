"""Wrap a plain ``z -> image`` module so ganeval can sample from it.

Such a generator has no W space: metrics and tools that need ``mapping``/``synthesis`` (PPL in
W, style mixing, noise control) refuse it with :class:`UnsupportedGeneratorError`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .._validate import check_finite, check_positive_int, check_tensor_shape
from ..errors import GanevalTypeError, GanevalValueError, UnsupportedGeneratorError

__all__ = ["ZOnlyGenerator"]


class ZOnlyGenerator(nn.Module):
    """A generator with only a Z space: ``G(z) -> images``.

    Args:
        module: maps z ``[N, z_dim]`` to images ``[N, img_channels, R, R]`` in nominal [-1, 1].
        z_dim: latent size. img_resolution: R. img_channels: C.

    Calls are validated (z shape and finiteness) and the output shape is checked. ``c_dim`` is 0,
    ``w_dim`` and ``num_ws`` are 0 (there is no W).

    >>> G = ZOnlyGenerator(nn.Sequential(nn.Linear(8, 3 * 4 * 4), nn.Tanh(), nn.Unflatten(1, (3, 4, 4))), 8, 4)
    >>> G(torch.randn(2, 8)).shape
    torch.Size([2, 3, 4, 4])
    """

    arch_name = "z-only"
    c_dim = 0
    w_dim = 0
    num_ws = 0

    def __init__(self, module: nn.Module, z_dim: int, img_resolution: int, img_channels: int = 3) -> None:
        super().__init__()
        if not callable(module):
            raise GanevalTypeError(f"Argument `module` must be a callable nn.Module, but got {type(module).__name__}.")
        self.module = module
        self.z_dim = check_positive_int("z_dim", z_dim)
        self.img_resolution = check_positive_int("img_resolution", img_resolution)
        self.img_channels = check_positive_int("img_channels", img_channels)

    def _no_w(self, what: str) -> UnsupportedGeneratorError:
        return UnsupportedGeneratorError(
            f"`{what}` is not available: this generator wraps a plain z -> image module "
            f"({type(self.module).__name__}) and has no W space. Use a Z-space option "
            f"(e.g. space='z') or a style-based generator."
        )

    def mapping(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Always raises :class:`UnsupportedGeneratorError` (no mapping network)."""
        raise self._no_w("mapping")

    def synthesis(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Always raises :class:`UnsupportedGeneratorError` (no synthesis network)."""
        raise self._no_w("synthesis")

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: str = "const",
    ) -> torch.Tensor:
        """z ``[N, z_dim]`` -> images ``[N, C, R, R]``; truncation is not defined without W."""
        check_tensor_shape("z", z, [None, self.z_dim])
        check_finite("z", z)
        if c is not None and c.numel() > 0:
            raise GanevalValueError(f"Argument `c` must be None for a z-only generator, but got shape {list(c.shape)}.")
        if truncation_psi != 1:
            raise self._no_w("truncation_psi")
        img = self.module(z)
        check_tensor_shape(
            "output of module", img, [z.shape[0], self.img_channels, self.img_resolution, self.img_resolution]
        )
        return img

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, resolution={self.img_resolution}, channels={self.img_channels}"

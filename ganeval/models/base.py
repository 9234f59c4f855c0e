"""The generator protocol and the base class of ganeval's own style-based generators.

Conventions (those of the stylegan2-ada-pytorch ecosystem, so a user's generator with the
same shape plugs in unchanged):

- attributes ``z_dim``, ``c_dim``, ``w_dim``, ``num_ws``, ``img_resolution``, ``img_channels``;
- ``G.mapping(z, c=None, truncation_psi=1.0, truncation_cutoff=None) -> ws`` with
  z ``[N, z_dim]`` float32, c ``[N, c_dim]`` (or ``None`` when ``c_dim == 0``),
  ws ``[N, num_ws, w_dim]``;
- ``G.synthesis(ws, noise_mode="const"|"random"|"none") -> images`` ``[N, C, H, W]``
  float32, nominal range [-1, 1] (not clamped);
- ``G(z, c=None, truncation_psi=1.0, truncation_cutoff=None, noise_mode="const")`` runs both.

ganeval's own generators (subclasses of :class:`StyleGenerator`) add:

- ``G.synthesis(ws, noise_mode=..., noise=[...])``: explicit per-layer noise maps, each
  ``[N or 1, 1, H, W]`` or ``None`` (that layer then follows ``noise_mode``);
- ``G.synthesis.noise_resolutions``: the spatial size of each noise layer, in order;
- ``G.ws_resolutions``: the resolution each ws index acts at (coarse/middle/fine labels);
- ``G.init_kwargs`` and ``G.arch_name``, which the native checkpoint format stores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import torch
from torch import nn

from .._validate import check_choice, check_finite, check_tensor_shape
from ..errors import GanevalValueError

__all__ = [
    "GeneratorProtocol",
    "StyleGenerator",
    "truncate_ws",
    "check_truncation",
    "check_noise",
    "check_mapping_call",
    "check_synthesis_call",
    "NoiseMode",
    "NOISE_MODES",
    "check_resolution",
]

NoiseMode = Literal["const", "random", "none"]
NOISE_MODES: tuple[str, ...] = ("const", "random", "none")


@runtime_checkable
class GeneratorProtocol(Protocol):
    """Structural type of a style-based generator (see the module docstring)."""

    z_dim: int
    c_dim: int
    w_dim: int
    num_ws: int
    img_resolution: int
    img_channels: int

    def mapping(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
    ) -> torch.Tensor: ...

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor: ...


def truncate_ws(
    ws: torch.Tensor, w_avg: torch.Tensor, truncation_psi: float = 1.0, truncation_cutoff: int | None = None
) -> torch.Tensor:
    """Pull ws ``[N, L, w_dim]`` toward ``w_avg`` ``[w_dim]``: ``w_avg + psi * (w - w_avg)``.

    Applies to layers ``< truncation_cutoff`` (all layers when ``None``); psi = 1 is a no-op,
    psi = 0 gives exactly ``w_avg`` on every truncated layer.
    """
    if truncation_psi == 1:
        return ws
    cutoff = ws.shape[1] if truncation_cutoff is None else int(truncation_cutoff)
    out = ws.clone()
    out[:, :cutoff] = w_avg.to(ws.dtype).lerp(ws[:, :cutoff], float(truncation_psi))
    return out


def check_truncation(truncation_psi: Any, truncation_cutoff: Any, num_ws: int) -> None:
    """Validate ``truncation_psi`` (finite number) and ``truncation_cutoff`` (None or 0..num_ws)."""
    if (
        isinstance(truncation_psi, bool)
        or not isinstance(truncation_psi, (int, float))
        or not math.isfinite(truncation_psi)
    ):
        raise GanevalValueError(f"Argument `truncation_psi` must be a finite float, but got {truncation_psi!r}.")
    if truncation_cutoff is not None and (
        isinstance(truncation_cutoff, bool)
        or not isinstance(truncation_cutoff, int)
        or not 0 <= truncation_cutoff <= num_ws
    ):
        raise GanevalValueError(
            f"Argument `truncation_cutoff` must be None or an integer from 0 to {num_ws}, "
            f"but got {truncation_cutoff!r}."
        )


def check_noise(noise: Any, resolutions: Sequence[int], batch: int) -> list[torch.Tensor | None]:
    """Validate an explicit per-layer noise list: one entry per noise layer, each ``None`` or a
    finite tensor ``[batch or 1, 1, H, W]`` with ``H = W = resolutions[k]``."""
    if noise is None:
        return [None] * len(resolutions)
    if not isinstance(noise, (list, tuple)) or len(noise) != len(resolutions):
        given = f"a sequence of length {len(noise)}" if isinstance(noise, (list, tuple)) else type(noise).__name__
        raise GanevalValueError(
            f"Argument `noise` must be a list of {len(resolutions)} tensors or None (one per noise layer), "
            f"but got {given}."
        )
    for k, (n, r) in enumerate(zip(noise, resolutions)):
        if n is None:
            continue
        check_tensor_shape(f"noise[{k}]", n, [None, 1, r, r])
        if n.shape[0] not in (1, batch):
            raise GanevalValueError(
                f"Argument `noise[{k}]` must have batch size 1 or {batch}, but got shape {list(n.shape)}."
            )
        check_finite(f"noise[{k}]", n)
    return list(noise)


def check_mapping_call(
    z: Any, c: Any, z_dim: int, c_dim: int, num_ws: int, truncation_psi: Any, truncation_cutoff: Any
) -> torch.Tensor | None:
    """Validate the arguments of a mapping call; returns ``c`` (``None`` when unconditional).

    z must be finite ``[N, z_dim]``; c is required, finite ``[N, c_dim]`` iff ``c_dim > 0``.
    """
    check_tensor_shape("z", z, [None, z_dim])
    check_finite("z", z)
    check_truncation(truncation_psi, truncation_cutoff, num_ws)
    if c_dim > 0:
        if c is None:
            raise GanevalValueError(
                f"Argument `c` must be a tensor of shape [N, {c_dim}] for this conditional generator, but got None."
            )
        check_tensor_shape("c", c, [z.shape[0], c_dim])
        check_finite("c", c)
        return c
    if c is not None and c.numel() > 0:
        raise GanevalValueError(
            f"Argument `c` must be None for an unconditional generator, but got shape {list(c.shape)}."
        )
    return None


def check_synthesis_call(
    ws: Any, num_ws: int, w_dim: int, noise_mode: Any, noise: Any, noise_resolutions: Sequence[int]
) -> list[torch.Tensor | None]:
    """Validate the arguments of a synthesis call; returns the per-layer noise list (``None`` entries
    follow ``noise_mode``). ws must be finite ``[N, num_ws, w_dim]``."""
    check_tensor_shape("ws", ws, [None, num_ws, w_dim])
    check_finite("ws", ws)
    check_choice("noise_mode", noise_mode, NOISE_MODES)
    return check_noise(noise, noise_resolutions, ws.shape[0])


def check_resolution(resolution: Any, minimum: int = 8, maximum: int = 1024) -> int:
    """Return ``resolution`` if it is a power of two in [minimum, maximum], else raise."""
    ok = isinstance(resolution, int) and not isinstance(resolution, bool)
    ok = ok and minimum <= resolution <= maximum and (resolution & (resolution - 1)) == 0
    if not ok:
        raise GanevalValueError(
            f"Argument `img_resolution` must be a power of two from {minimum} to {maximum}, but got {resolution!r}."
        )
    return resolution


class StyleGenerator(nn.Module):
    """Base class of ganeval's generators: validation, truncation and the full forward pass.

    Subclasses set ``self.mapping`` (a module returning un-truncated ws ``[N, num_ws, w_dim]``
    and holding the ``w_avg`` buffer ``[w_dim]``) and ``self.synthesis``, and call
    :meth:`_set_dims` in ``__init__``.
    """

    arch_name: str = "base"
    #: Whether ws come from a mapping network (an intermediate latent space W); see ``traditional``.
    has_w_space: bool = True

    z_dim: int
    c_dim: int
    w_dim: int
    num_ws: int
    img_resolution: int
    img_channels: int
    init_kwargs: dict[str, Any]
    mapping: nn.Module
    synthesis: nn.Module
    #: Where the weights came from (source, format, sha256, ...): set by the loaders, absent on a model built here.
    provenance: dict[str, Any]

    def _set_dims(
        self,
        *,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        num_ws: int,
        img_resolution: int,
        img_channels: int,
        init_kwargs: dict[str, Any],
    ) -> None:
        self.z_dim, self.c_dim, self.w_dim = int(z_dim), int(c_dim), int(w_dim)
        self.num_ws, self.img_resolution, self.img_channels = int(num_ws), int(img_resolution), int(img_channels)
        self.init_kwargs = dict(init_kwargs)

    @property
    def ws_resolutions(self) -> list[int]:
        """The resolution (px) each ws index acts at; index k -> 4 * 2**(k // 2)."""
        return [min(4 * 2 ** (k // 2), self.img_resolution) for k in range(self.num_ws)]

    @property
    def log2_resolution(self) -> int:
        return int(math.log2(self.img_resolution))

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: str = "const",
        **synthesis_kwargs: Any,
    ) -> torch.Tensor:
        """z ``[N, z_dim]`` -> images ``[N, C, H, W]`` float32 in nominal [-1, 1]."""
        check_choice("noise_mode", noise_mode, NOISE_MODES)
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode, **synthesis_kwargs)

    def extra_repr(self) -> str:
        return (
            f"arch={self.arch_name}, z_dim={self.z_dim}, c_dim={self.c_dim}, w_dim={self.w_dim}, "
            f"num_ws={self.num_ws}, resolution={self.img_resolution}, channels={self.img_channels}"
        )

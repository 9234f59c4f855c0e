"""Small generators and distances for the PPL tests."""

from __future__ import annotations

import torch
from torch import nn

from ganeval.errors import UnsupportedGeneratorError


class LinearGenerator(nn.Module):
    """Foreign (non-ganeval) generator: identity mapping, images = scale * Q w reshaped.

    ``Q`` ``[C*R*R, z_dim]`` has orthonormal columns, so ``|G(w) - G(w')|^2 = scale^2 |w - w'|^2``.
    With ``c_dim > 0`` the one-hot label adds a fixed image offset (cancels within a pair).
    """

    def __init__(
        self,
        z_dim: int = 8,
        resolution: int = 4,
        channels: int = 3,
        scale: float = 0.5,
        c_dim: int = 0,
        num_ws: int = 3,
        squash: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(
            torch.randn(channels * resolution * resolution, z_dim, generator=gen, dtype=torch.float64)
        )
        self.register_buffer("A", (scale * q).to(torch.float32))
        self.register_buffer("offsets", torch.randn(max(c_dim, 1), channels * resolution * resolution, generator=gen))
        self.z_dim, self.w_dim, self.c_dim, self.num_ws = z_dim, z_dim, c_dim, num_ws
        self.img_resolution, self.img_channels, self.squash = resolution, channels, squash

    def mapping(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
    ) -> torch.Tensor:
        return z.unsqueeze(1).repeat(1, self.num_ws, 1)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const", c: torch.Tensor | None = None) -> torch.Tensor:
        x = ws[:, -1] @ self.A.T
        if self.squash:
            x = torch.tanh(x)
        return x.reshape(-1, self.img_channels, self.img_resolution, self.img_resolution)


class ConditionalLinearGenerator(LinearGenerator):
    """LinearGenerator whose image gets a per-class offset (mapping keeps the label in ws)."""

    def mapping(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
    ) -> torch.Tensor:
        ws = super().mapping(z)
        label = c.argmax(dim=1).to(ws.dtype)  # carried in an extra ws row, read by synthesis
        return torch.cat([ws, label[:, None, None].expand(-1, 1, ws.shape[2])], dim=1)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const", c: torch.Tensor | None = None) -> torch.Tensor:
        label = ws[:, -1, 0].round().long()
        x = ws[:, -2] @ self.A.T + 0.1 * self.offsets[label]
        return x.reshape(-1, self.img_channels, self.img_resolution, self.img_resolution)


class NoMappingGenerator(LinearGenerator):
    """Has ``mapping``/``synthesis`` but the mapping refuses (like ZOnlyGenerator)."""

    def mapping(self, *args: object, **kwargs: object) -> torch.Tensor:
        raise UnsupportedGeneratorError("no mapping network")

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return LinearGenerator.synthesis(self, LinearGenerator.mapping(self, z))


class ScaledGenerator(LinearGenerator):
    """Returns images in [0, 255] (a common mistake)."""

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const", c: torch.Tensor | None = None) -> torch.Tensor:
        return (torch.tanh(super().synthesis(ws)) + 1) * 127.5


class NaNGenerator(LinearGenerator):
    """Returns NaN images for samples whose first latent coordinate exceeds 1."""

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const", c: torch.Tensor | None = None) -> torch.Tensor:
        x = super().synthesis(ws)
        bad = ws[:, -1, 0] > 1.0
        return torch.where(bad[:, None, None, None], torch.full_like(x, float("nan")), x)


def squared_l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Sum of squared differences per pair ``[N]``."""
    return (a - b).square().flatten(1).sum(dim=1)


def small_stylegan(seed: int = 0, resolution: int = 16) -> nn.Module:
    """A tiny ganeval StyleGAN v1 (z = w = 32, 32 channels), with non-trivial noise strengths."""
    from ganeval.models.stylegan import StyleGAN

    torch.manual_seed(seed)
    G = StyleGAN(z_dim=32, w_dim=32, img_resolution=resolution, mapping_layers=2, fmap_base=256, fmap_max=32)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in G.named_parameters():
            if ".noise." in name:  # per-channel noise strengths (zero at init)
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))
    return G.eval().requires_grad_(False)

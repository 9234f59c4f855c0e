"""PyTorch re-implementation of the ProGAN/StyleGAN TensorFlow discriminator ``D_basic``.

NVIDIA's 40 CelebA-HQ attribute classifiers (``celebahq-classifier-NN-<attr>.pkl``) are
TensorFlow network pickles whose network code lives only inside the pickle. The StyleGAN paper
says they share the discriminator's architecture; this module rebuilds that layout from the
pickle's ``build_func_name``, ``static_kwargs`` and variable names/shapes (read with the safe
unpickler, nothing executed). Layout (``resolution = 2**L``, ``nf(s) = min(fmap_base / 2**(s *
fmap_decay), fmap_max)``)::

    FromRGB_lod0        1x1 conv num_channels -> nf(L-1), bias, act
    for r = L .. 3 (R = 2**r):
      RxR/Conv0         3x3 conv nf(r-1) -> nf(r-1), bias, act
      RxR/Conv1_down    blur [1,2,1]^2/16, then 3x3 conv nf(r-1) -> nf(r-2) with 2x downsampling
                        (fused stride-2 conv with the 4x4 kernel 'pad by 1, sum the four 1-px
                        shifts, * 1/4' when R >= 128 under fused_scale='auto'; otherwise conv
                        then 2x2 average), bias, act
    4x4/                minibatch stddev (group of mbstd_group_size images, +mbstd_num_features
                        channels), Conv 3x3 -> nf(1), bias, act; Dense0 (nf(1)*16 -> nf(0)),
                        bias, act; Dense1 (nf(0) -> 1), bias, linear -> one logit

Equalised learning rate: a stored weight is multiplied at run time by ``gain / sqrt(fan_in)``
(``fan_in`` = product of all but the last TF dimension; ``gain = sqrt(2)``, 1 for Dense1);
act = leaky ReLU (slope 0.2) or ReLU; TF padding 'SAME'. ``FromRGB_lod{k}`` for k >= 1 are
progressive-growing leftovers: their shapes are checked, their values unused (``lod`` must be 0).

Minibatch stddev makes an image's logit depend on the other images of its group. NVIDIA's layer
takes ``G = min(mbstd_group_size, N)`` and reshapes the ``N`` images to ``[G, N / G, ...]``, so
image ``i`` is grouped with every ``j`` where ``j % (N / G) == i % (N / G)``: the groups are
*strided* (for N = 8, G = 4: {0, 2, 4, 6} and {1, 3, 5, 7}), and N must be a multiple of G. This
port groups ``group_size`` *consecutive* images (a trailing partial group forms its own group).
The two agree whenever a call holds one group, and that is how the v1 linear-separability metric
runs the classifiers: ``minibatch_per_gpu = 4`` images per GPU, each GPU's 4 images going through
the classifier together (one group of 4 consecutive images, N / G = 1). ganeval's separability
feeds the classifier groups of 4 consecutive sample indices, i.e. exactly the metric's
minibatches, so logits equal the metric's and do not depend on ganeval's batch size. To reproduce
a TF call on a larger minibatch, reorder its images into strided groups first
(``tests/test_loaders_tf_producers.py`` checks both against logits NVIDIA's code computed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import CheckpointError

__all__ = ["DBasic", "DBASIC_DEFAULTS", "dbasic_from_tf", "tf_variable_shapes"]

# D_basic's keyword defaults (NVlabs/stylegan training/networks_stylegan.py), used for keys a
# pickle's static_kwargs omits.
DBASIC_DEFAULTS: dict[str, Any] = {
    "num_channels": 1,
    "resolution": 32,
    "label_size": 0,
    "fmap_base": 8192,
    "fmap_decay": 1.0,
    "fmap_max": 512,
    "nonlinearity": "lrelu",
    "use_wscale": True,
    "mbstd_group_size": 4,
    "mbstd_num_features": 1,
    "dtype": "float32",
    "fused_scale": "auto",
    "blur_filter": [1, 2, 1],
    "structure": "auto",
}


def _config(static_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(static_kwargs) - set(DBASIC_DEFAULTS))
    if unknown:
        raise CheckpointError(
            f"D_basic pickle has unsupported static_kwargs {unknown}; expected only {sorted(DBASIC_DEFAULTS)}."
        )
    cfg = {**DBASIC_DEFAULTS, **dict(static_kwargs)}
    res = int(cfg["resolution"])
    if res < 4 or res & (res - 1):
        raise CheckpointError(f"D_basic `resolution` must be a power of two >= 4, but got {cfg['resolution']!r}.")
    if int(cfg["label_size"]) != 0:
        raise CheckpointError(f"D_basic classifiers must have label_size=0, but got {cfg['label_size']!r}.")
    if cfg["nonlinearity"] not in ("lrelu", "relu"):
        raise CheckpointError(f"D_basic `nonlinearity` must be 'lrelu' or 'relu', but got {cfg['nonlinearity']!r}.")
    if cfg["dtype"] != "float32":
        raise CheckpointError(f"D_basic `dtype` must be 'float32', but got {cfg['dtype']!r}.")
    if cfg["fused_scale"] not in ("auto", True, False):
        raise CheckpointError(f"D_basic `fused_scale` must be 'auto', True or False, but got {cfg['fused_scale']!r}.")
    return cfg


def tf_variable_shapes(static_kwargs: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """The TF variable names and shapes ``D_basic`` creates for these kwargs (``lod`` included)."""
    cfg = _config(static_kwargs)
    L = int(math.log2(cfg["resolution"]))
    nf = _nf(cfg)
    mb = int(cfg["mbstd_num_features"]) if int(cfg["mbstd_group_size"]) > 1 else 0
    shapes: dict[str, tuple[int, ...]] = {"lod": ()}
    for res in range(L, 1, -1):
        lod = L - res
        shapes[f"FromRGB_lod{lod}/weight"] = (1, 1, int(cfg["num_channels"]), nf(res - 1))
        shapes[f"FromRGB_lod{lod}/bias"] = (nf(res - 1),)
    for res in range(L, 2, -1):
        s = f"{2**res}x{2**res}"
        shapes[f"{s}/Conv0/weight"] = (3, 3, nf(res - 1), nf(res - 1))
        shapes[f"{s}/Conv0/bias"] = (nf(res - 1),)
        shapes[f"{s}/Conv1_down/weight"] = (3, 3, nf(res - 1), nf(res - 2))
        shapes[f"{s}/Conv1_down/bias"] = (nf(res - 2),)
    shapes["4x4/Conv/weight"] = (3, 3, nf(1) + mb, nf(1))
    shapes["4x4/Conv/bias"] = (nf(1),)
    shapes["4x4/Dense0/weight"] = (nf(1) * 16, nf(0))
    shapes["4x4/Dense0/bias"] = (nf(0),)
    shapes["4x4/Dense1/weight"] = (nf(0), 1)
    shapes["4x4/Dense1/bias"] = (1,)
    return shapes


def _nf(cfg: Mapping[str, Any]) -> Callable[[int], int]:
    base, decay, fmax = float(cfg["fmap_base"]), float(cfg["fmap_decay"]), int(cfg["fmap_max"])
    return lambda stage: min(int(base / (2.0 ** (stage * decay))), fmax)


class DBasic(nn.Module):
    """``D_basic`` with ``label_size = 0`` at lod 0: images ``[N, C, R, R]`` -> logits ``[N, 1]``.

    Parameters are held in TensorFlow layout under TF-derived names (``/`` -> ``__``), so
    :meth:`load_tf_variables` is a checked copy; the forward pass applies the run-time
    equalised-lr scaling. Build it with :func:`dbasic_from_tf` or from ``static_kwargs``.
    """

    def __init__(self, static_kwargs: Mapping[str, Any]) -> None:
        super().__init__()
        self.config = _config(static_kwargs)
        self.resolution = int(self.config["resolution"])
        self.group_size = int(self.config["mbstd_group_size"])
        self.tf_shapes = tf_variable_shapes(static_kwargs)
        self.params = nn.ParameterDict(
            {self._key(k): nn.Parameter(torch.zeros(s)) for k, s in self.tf_shapes.items() if k != "lod"}
        )
        blur = self.config["blur_filter"]
        if blur:
            f = torch.tensor(np.asarray(blur, dtype=np.float64), dtype=torch.float32)
            f2 = f[:, None] * f[None, :] if f.ndim == 1 else f
            self.register_buffer("blur_kernel", f2 / f2.sum(), persistent=False)
        else:
            self.blur_kernel = None

    @staticmethod
    def _key(tf_name: str) -> str:
        return tf_name.replace("/", "__")

    def load_tf_variables(self, variables: Mapping[str, Any]) -> None:
        """Copy TF variables (name -> array); every name and shape must match exactly."""
        unknown = sorted(set(variables) - set(self.tf_shapes))
        if unknown:
            raise CheckpointError(
                f"D_basic pickle holds unknown variable(s) {unknown[:5]}"
                f"{' ...' if len(unknown) > 5 else ''}; this layout is not supported."
            )
        missing = sorted(set(self.tf_shapes) - set(variables))
        if missing:
            raise CheckpointError(
                f"D_basic pickle lacks variable(s) {missing[:5]} expected for resolution {self.resolution}."
            )
        for name, value in variables.items():
            arr = np.asarray(value, dtype=np.float32)
            if tuple(arr.shape) != tuple(self.tf_shapes[name]):
                raise CheckpointError(
                    f"D_basic variable {name!r} must have shape {list(self.tf_shapes[name])}, "
                    f"but the pickle holds {list(arr.shape)}."
                )
            if name == "lod":
                if float(arr) != 0.0:
                    raise CheckpointError(
                        f"D_basic variable 'lod' must be 0 (a finished network), but got {float(arr)}."
                    )
                continue
            with torch.no_grad():
                self.params[self._key(name)].copy_(torch.from_numpy(arr))

    # --- layers -----------------------------------------------------------------------------
    def _w(self, scope: str, gain: float) -> torch.Tensor:
        w = self.params[self._key(f"{scope}/weight")]
        coef = gain / math.sqrt(float(np.prod(w.shape[:-1]))) if self.config["use_wscale"] else 1.0
        return w * coef

    def _b(self, scope: str) -> torch.Tensor:
        return self.params[self._key(f"{scope}/bias")]

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, 0.2) if self.config["nonlinearity"] == "lrelu" else F.relu(x)

    def _conv(self, x: torch.Tensor, scope: str, gain: float = math.sqrt(2)) -> torch.Tensor:
        w = self._w(scope, gain).permute(3, 2, 0, 1)  # HWIO -> OIHW
        return F.conv2d(x, w, padding=w.shape[-1] // 2) + self._b(scope).view(1, -1, 1, 1)

    def _blur(self, x: torch.Tensor) -> torch.Tensor:
        if self.blur_kernel is None:
            return x
        k = self.blur_kernel
        kh, kw = k.shape
        # TF 'SAME' for stride 1: the extra pixel of an even kernel goes after
        x = F.pad(x, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
        return F.conv2d(x, k.to(x.dtype).expand(x.shape[1], 1, kh, kw), groups=x.shape[1])

    def _conv_down(self, x: torch.Tensor, scope: str) -> torch.Tensor:
        fused = self.config["fused_scale"]
        if fused == "auto":
            fused = min(x.shape[2:]) >= 128
        w = self._w(scope, math.sqrt(2))
        if fused:
            w = F.pad(w.permute(2, 3, 0, 1), (1, 1, 1, 1))  # [I, O, k+2, k+2]
            w = (w[..., 1:, 1:] + w[..., :-1, 1:] + w[..., 1:, :-1] + w[..., :-1, :-1]) * 0.25
            y = F.conv2d(x, w.permute(1, 0, 2, 3), stride=2, padding=1)
        else:
            y = F.avg_pool2d(F.conv2d(x, w.permute(3, 2, 0, 1), padding=w.shape[0] // 2), 2)
        return y + self._b(scope).view(1, -1, 1, 1)

    def _mbstd(self, x: torch.Tensor) -> torch.Tensor:
        n_feat = int(self.config["mbstd_num_features"])
        parts = []
        for start in range(0, x.shape[0], self.group_size):
            g = x[start : start + self.group_size]
            y = g.reshape(g.shape[0], n_feat, -1, *g.shape[2:])
            y = (y - y.mean(0, keepdim=True)).square().mean(0)
            y = (y + 1e-8).sqrt().mean(dim=(1, 2, 3))  # [n_feat]
            parts.append(y.view(1, n_feat, 1, 1).expand(g.shape[0], n_feat, *g.shape[2:]))
        return torch.cat([x, torch.cat(parts)], dim=1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``[N, num_channels, R, R]`` (any range; NVIDIA's classifiers use [-1, 1]) -> ``[N, 1]``."""
        L = int(math.log2(self.resolution))
        x = self._act(self._conv(images, "FromRGB_lod0"))
        for res in range(L, 2, -1):
            s = f"{2**res}x{2**res}"
            x = self._act(self._conv(x, f"{s}/Conv0"))
            x = self._act(self._conv_down(self._blur(x), f"{s}/Conv1_down"))
        if self.group_size > 1:
            x = self._mbstd(x)
        x = self._act(self._conv(x, "4x4/Conv"))
        x = self._act(x.flatten(1) @ self._w("4x4/Dense0", math.sqrt(2)) + self._b("4x4/Dense0"))
        return x @ self._w("4x4/Dense1", 1.0) + self._b("4x4/Dense1")


def dbasic_from_tf(net: Any) -> DBasic:
    """Build a :class:`DBasic` from an unpickled TF network (``TFNetworkStub``).

    Raises :class:`~ganeval.errors.CheckpointError` naming what is unsupported: another
    ``build_func_name``, sub-networks, unknown static kwargs, unknown or missing variables,
    mismatched shapes, ``lod != 0``.
    """
    func = getattr(net, "build_func_name", None)
    if func != "D_basic":
        raise CheckpointError(
            f"Expected a TF network built by 'D_basic' (ProGAN/StyleGAN discriminator layout), "
            f"but this pickle's build_func_name is {func!r}; it is not supported."
        )
    if getattr(net, "components", None):
        raise CheckpointError(
            f"A D_basic classifier has no sub-networks, but this pickle has {sorted(net.components)}."
        )
    variables = dict(getattr(net, "variables", None) or [])
    d = DBasic(dict(getattr(net, "static_kwargs", None) or {}))
    d.load_tf_variables(variables)
    return d.eval().requires_grad_(False)

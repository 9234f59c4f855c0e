"""rosinality/stylegan2-pytorch checkpoints -> :class:`~ganeval.models.stylegan2.StyleGAN2`.

Accepted content (read with ``torch.load`` under ``weights_only`` semantics, plus exactly one
extra class, ``argparse.Namespace``; see ``docs/protocols.md`` section 4.5):

- ``convert_weight.py`` output ``{"g_ema": state_dict, "latent_avg": [style_dim]}``;
- ``train.py`` checkpoints ``{"g", "d", "g_ema", "g_optim", "d_optim", "args", "ada_aug_p"}``
  (``g_ema`` is used; ``args`` is train.py's ``argparse.Namespace``; no ``latent_avg``);
- a bare generator state dict (``g_ema.state_dict()``).

Without a stored ``latent_avg`` the truncation centre is computed the way rosinality's
``generate.py`` does, ``g_ema.mean_latent(4096)``: the mean of ``style(z)`` over 4096 z drawn
with ``torch.randn`` from a LOCAL generator seeded :data:`MEAN_LATENT_SEED` (the same numbers
as ``torch.manual_seed(123); torch.randn(...)``, without touching torch's global RNG). The
provenance records it. ``size``, ``style_dim``, ``n_mlp`` and every block's channel width
are inferred from tensor shapes, so narrowed or widened channel tables load too. The mapping lr
multiplier (``lr_mlp``) is not stored and is taken as the default 0.01.

Key mapping (``R = 2**(i + 3)`` for ``i = 0, 1, ...``; rosinality's modulated conv weights have a
leading batch dimension of 1 and the same up-conv orientation as ada, so no flips):

=====================================  ==========================================  ================
rosinality key                         StyleGAN2 key                               transform
=====================================  ==========================================  ================
``style.{j}.weight|bias`` (j >= 1)     ``mapping.fc{j-1}.weight|bias``              -
``input.input`` [1, C, 4, 4]           ``synthesis.b4.const``                       ``[0]``
``conv1.conv.weight`` [1, O, I, 3, 3]  ``synthesis.b4.conv1.weight``                ``[0]``
``conv1.conv.modulation.weight|bias``  ``synthesis.b4.conv1.affine.weight|bias``    -
``conv1.noise.weight`` [1]             ``synthesis.b4.conv1.noise_strength``        ``[0]``
``conv1.activate.bias``                ``synthesis.b4.conv1.bias``                  -
``to_rgb1.conv.weight`` [1, 3, C, 1, 1] ``synthesis.b4.torgb.weight``               ``[0]``
``to_rgb1.conv.modulation.*``          ``synthesis.b4.torgb.affine.*``              -
``to_rgb1.bias`` [1, 3, 1, 1]          ``synthesis.b4.torgb.bias``                  flatten
``convs.{2i}.*`` / ``convs.{2i+1}.*``  ``synthesis.b{R}.conv0.*`` / ``.conv1.*``    as conv1
``to_rgbs.{i}.*``                      ``synthesis.b{R}.torgb.*``                   as to_rgb1
``noises.noise_{k}`` [1, 1, r, r]      the k-th conv layer's ``noise_const``         ``[0, 0]``
``latent_avg`` [style_dim]             ``mapping.w_avg``                            -
``*.blur.kernel``, ``*.upsample.kernel`` (not loaded; checked to be the [1, 3, 3, 1] filter)
=====================================  ==========================================  ================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch

from ..errors import CheckpointError
from ..models.stylegan2 import StyleGAN2, _setup_filter
from ._common import load_state_exact

__all__ = ["load_rosinality", "is_rosinality_state", "mean_latent", "MEAN_LATENT_SAMPLES", "MEAN_LATENT_SEED"]

MEAN_LATENT_SAMPLES = 4096  # generate.py's --truncation_mean default
MEAN_LATENT_SEED = 123


def is_rosinality_state(state: Mapping[str, Any]) -> bool:
    """Whether a flat dict looks like a rosinality generator state dict."""
    return "input.input" in state and "conv1.conv.weight" in state


def load_rosinality(obj: Any, source: str) -> tuple[StyleGAN2, dict[str, Any]]:
    """Build a StyleGAN2 from a loaded rosinality checkpoint; returns it and provenance details
    (``layout``: which script wrote it, ``network``, inferred sizes, ``w_avg``: where the
    truncation centre came from, ``train_args``: the relevant part of train.py's args)."""
    if not isinstance(obj, Mapping):
        raise CheckpointError(
            f"{source}: expected a dict (rosinality checkpoint or state dict), but found {type(obj).__name__}."
        )
    if isinstance(obj.get("g_ema"), Mapping):
        state, which = obj["g_ema"], "g_ema"
    elif isinstance(obj.get("g"), Mapping):
        state, which = obj["g"], "g"
    elif is_rosinality_state(obj):
        state, which = obj, "state_dict"
    elif any(str(k).startswith("mapping.fc") for k in obj):
        from .nvidia_torch import stylegan2_from_state_dict

        return stylegan2_from_state_dict(obj, source), {"layout": "stylegan2-ada state dict"}
    else:
        keys = sorted(str(k) for k in obj)[:6]
        hint = " (a discriminator-only checkpoint)" if keys == ["d"] or ("d" in obj and "g" not in obj) else ""
        raise CheckpointError(
            f"{source}: expected a rosinality checkpoint with 'g_ema' (or a generator state dict), "
            f"but found keys {keys}{hint}."
        )
    train_args = _train_args(obj.get("args"), source) if which != "state_dict" else {}
    if not is_rosinality_state(state):
        raise CheckpointError(
            f"{source}: expected rosinality generator keys (input.input, conv1.*) in '{which}', "
            f"but found {sorted(str(k) for k in state)[:4]}."
        )
    _check_tensors(state, source, which)
    try:
        G = _build(state, source)
        _check_train_args(train_args, G, source)
        converted = _convert(state, G, source)
    except (KeyError, IndexError, RuntimeError, ValueError, TypeError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(
            f"{source}: expected rosinality generator tensors of consistent ranks and shapes in "
            f"'{which}', but reading them failed: {type(exc).__name__}: {str(exc)[:120]}"
        ) from None
    latent_avg = obj.get("latent_avg") if which != "state_dict" else None
    extra: dict[str, Any] = {
        "layout": _layout(obj, which),
        "network": which,
        "init_kwargs_inferred": {
            "size": G.img_resolution,
            "style_dim": G.w_dim,
            "n_mlp": G.init_kwargs["mapping_layers"],
            "channels": G.channels,
        },
    }
    if train_args:
        extra["train_args"] = train_args
    if latent_avg is not None:
        if not isinstance(latent_avg, torch.Tensor) or latent_avg.numel() != G.w_dim:
            raise CheckpointError(
                f"{source}: `latent_avg` must be a tensor of {G.w_dim} numbers, but it is "
                f"{getattr(latent_avg, 'shape', type(latent_avg).__name__)}."
            )
        converted["mapping.w_avg"] = latent_avg.detach().to(torch.float32).reshape(-1)
    load_state_exact(G, converted, source=source, rebuilt=[*G.rebuilt_buffer_names(), "mapping.w_avg"])
    if latent_avg is None:
        mean_latent(G)
        extra["w_avg"] = (
            f"computed: mean_latent({MEAN_LATENT_SAMPLES}), seed {MEAN_LATENT_SEED} (as rosinality's "
            "generate.py; no latent_avg stored)"
        )
    else:
        extra["w_avg"] = "stored latent_avg"
    return G, extra


def _layout(obj: Mapping[str, Any], which: str) -> str:
    """Which rosinality script wrote the container."""
    if which == "state_dict":
        return "generator state dict"
    keys = set(obj)
    # train.py: every version saves g, d, g_ema and the optimisers (args/ada_aug_p since ADA support)
    if {"g", "d", "g_ema", "g_optim"} <= keys:
        return "train.py checkpoint"
    # convert_weight.py: g_ema + latent_avg (+ d with --disc, + g with --gen)
    if {"g_ema", "latent_avg"} <= keys <= {"g_ema", "latent_avg", "d", "g"}:
        return "convert_weight.py output"
    return "checkpoint dict"


def _train_args(args: Any, source: str) -> dict[str, Any]:
    """The generator-relevant fields of train.py's ``argparse.Namespace`` (absent: {})."""
    if args is None:
        return {}
    import argparse

    if not isinstance(args, (argparse.Namespace, Mapping)):
        raise CheckpointError(
            f"{source}: `args` must be train.py's argparse.Namespace, but it is a {type(args).__name__}."
        )
    fields = vars(args) if isinstance(args, argparse.Namespace) else args
    out = {k: fields[k] for k in ("arch", "size", "latent", "n_mlp", "channel_multiplier") if k in fields}
    if out.get("arch", "stylegan2") != "stylegan2":
        raise CheckpointError(
            f"{source}: train.py args say arch={out['arch']!r}; ganeval loads rosinality's "
            "'stylegan2' generators only (SWAGAN is not supported)."
        )
    return {k: v for k, v in out.items() if isinstance(v, (int, str, float)) and not isinstance(v, bool)}


def _check_train_args(args: Mapping[str, Any], G: StyleGAN2, source: str) -> None:
    """train.py's args must agree with the sizes read from the tensors."""
    for name, value in (("size", G.img_resolution), ("latent", G.w_dim), ("n_mlp", G.init_kwargs["mapping_layers"])):
        if name in args and args[name] != value:
            raise CheckpointError(
                f"{source}: train.py args say {name}={args[name]!r}, but the generator tensors "
                f"imply {value}; the checkpoint is inconsistent."
            )


def _check_tensors(state: Mapping[str, Any], source: str, which: str) -> None:
    """Every entry a finite float tensor; checked before anything is built from their shapes."""
    for k, v in state.items():
        if not isinstance(v, torch.Tensor) or not v.is_floating_point():
            raise CheckpointError(
                f"{source}: `{which}.{k}` must be a float tensor, but it is "
                f"{type(v).__name__ if not isinstance(v, torch.Tensor) else v.dtype}."
            )
        if not bool(torch.isfinite(v).all()):
            raise CheckpointError(
                f"{source}: `{which}.{k}` must hold finite numbers, but it contains NaN or infinity (corrupt file?)."
            )


@torch.no_grad()
def mean_latent(G: StyleGAN2, n: int = MEAN_LATENT_SAMPLES, seed: int = MEAN_LATENT_SEED) -> torch.Tensor:
    """Set ``G.mapping.w_avg`` to rosinality's ``mean_latent(n)``: the mean of ``style(z)`` over
    ``n`` z ``[n, style_dim]`` drawn from a local ``torch.Generator`` seeded ``seed`` (the
    global RNG is untouched). Returns the centre ``[w_dim]``."""
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed))
    centre = G.mapping(z.to(G.mapping.w_avg.device))[:, 0].mean(dim=0)
    G.mapping.w_avg.copy_(centre)
    return centre


def _build(state: Mapping[str, torch.Tensor], source: str) -> StyleGAN2:
    mlp = sorted(int(m.group(1)) for k in state if (m := re.fullmatch(r"style\.(\d+)\.weight", k)))
    if not mlp or mlp != list(range(1, len(mlp) + 1)):
        raise CheckpointError(f"{source}: expected mapping layers style.1..style.N, but found {mlp}.")
    num_rgbs = sum(1 for k in state if re.fullmatch(r"to_rgbs\.\d+\.conv\.weight", k))
    size = 2 ** (num_rgbs + 2)
    channels = [int(state["conv1.conv.weight"].shape[1])]
    channels += [
        int(state[f"convs.{2 * i}.conv.weight"].shape[1])
        for i in range(num_rgbs)
        if f"convs.{2 * i}.conv.weight" in state
    ]
    if len(channels) != num_rgbs + 1:
        raise CheckpointError(
            f"{source}: expected convs.0..convs.{2 * num_rgbs - 1} for size {size}, but some are missing."
        )
    style_dim = int(state["style.1.weight"].shape[1])
    return StyleGAN2(
        z_dim=style_dim,
        w_dim=int(state[f"style.{mlp[-1]}.weight"].shape[0]),
        img_resolution=size,
        img_channels=int(state["to_rgb1.conv.weight"].shape[1]),
        mapping_layers=len(mlp),
        layer_features=int(state["style.1.weight"].shape[0]) if len(mlp) > 1 else None,
        channels=channels,
    )


def _convert(state: Mapping[str, torch.Tensor], G: StyleGAN2, source: str) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    filt = _setup_filter((1, 3, 3, 1))
    for k, v in state.items():
        v = v.detach().to("cpu", torch.float32)
        if k.endswith(".blur.kernel") or k.endswith(".upsample.kernel"):
            if v.shape != filt.shape or not torch.allclose(v / v.sum(), filt, atol=1e-6):
                raise CheckpointError(f"{source}: `{k}` must be the [1, 3, 3, 1] filter, but it differs.")
            continue
        out[_target(k, source)] = _transform(k, v)
    noise_layers = [name for name, m in G.synthesis.named_modules() if m in set(G.synthesis.noise_layers)]
    for k in [k for k in out if k.startswith("noise:")]:
        idx = int(k.split(":")[1])
        if idx >= len(noise_layers):
            raise CheckpointError(
                f"{source}: `noises.noise_{idx}` has no matching conv layer (size {G.img_resolution})."
            )
        out[f"synthesis.{noise_layers[idx]}.noise_const"] = out.pop(k)
    return out


def _target(k: str, source: str) -> str:
    if m := re.fullmatch(r"style\.(\d+)\.(weight|bias)", k):
        return f"mapping.fc{int(m.group(1)) - 1}.{m.group(2)}"
    if k == "input.input":
        return "synthesis.b4.const"
    if m := re.fullmatch(r"noises\.noise_(\d+)", k):
        return f"noise:{m.group(1)}"
    if m := re.fullmatch(r"(conv1|convs\.(\d+))\.(.+)", k):
        if m.group(2) is None:
            layer = "b4.conv1"
        else:
            j = int(m.group(2))
            layer = f"b{2 ** (j // 2 + 3)}.conv{j % 2}"
        return f"synthesis.{layer}.{_LAYER_KEYS.get(m.group(3), '?' + m.group(3))}"
    if m := re.fullmatch(r"(to_rgb1|to_rgbs\.(\d+))\.(.+)", k):
        res = 4 if m.group(2) is None else 2 ** (int(m.group(2)) + 3)
        return f"synthesis.b{res}.torgb.{_RGB_KEYS.get(m.group(3), '?' + m.group(3))}"
    return f"?{k}"  # reported as unexpected by load_state_exact


_LAYER_KEYS = {
    "conv.weight": "weight",
    "conv.modulation.weight": "affine.weight",
    "conv.modulation.bias": "affine.bias",
    "noise.weight": "noise_strength",
    "activate.bias": "bias",
}
_RGB_KEYS = {
    "conv.weight": "weight",
    "conv.modulation.weight": "affine.weight",
    "conv.modulation.bias": "affine.bias",
    "bias": "bias",
}


def _transform(k: str, v: torch.Tensor) -> torch.Tensor:
    if k.endswith("conv.weight") or k == "input.input":
        return v[0]  # drop the leading batch dimension
    if k.endswith("noise.weight"):
        return v.reshape([])
    if k.startswith("noises."):
        return v[0, 0]
    if k.endswith(".bias") and v.ndim == 4:  # toRGB bias [1, 3, 1, 1]
        return v.flatten()
    return v

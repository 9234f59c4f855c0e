"""stylegan2-ada-pytorch and StyleGAN3 network pickles, and bare ada state dicts, without NVIDIA code.

A network pickle is a dict ``{"G", "D", "G_ema", "augment_pipe", "training_set_kwargs"}`` whose
modules are ``torch_utils.persistence`` records (``metrics-and-formats.md`` section 4.4). The
restricted unpickler turns each into a :class:`~ganeval.loaders.safe_pickle.PersistentRecord`
(class name + pickled module state, the embedded source is never executed); the generator is
rebuilt from the record's init kwargs and its parameters/buffers are loaded by name.

Supported generator classes: ``training.networks.Generator`` (stylegan2-ada-pytorch) and
``training.networks_stylegan2.Generator`` (the StyleGAN3 repository's StyleGAN2), skip
architecture. StyleGAN3 (alias-free, ``training.networks_stylegan3.Generator``) generators are
refused with a message saying they are not supported yet.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import torch

from ..errors import CheckpointError
from ..models.stylegan2 import StyleGAN2
from ._common import as_tensor, check_kwargs, load_state_exact, plain
from .safe_pickle import PersistentRecord

__all__ = ["load_nvidia_torch_pickle", "stylegan2_from_ada_kwargs", "stylegan2_from_state_dict"]

_STYLEGAN2_CLASSES = ("training.networks.Generator", "training.networks_stylegan2.Generator")
_STYLEGAN3_CLASSES = ("training.networks_stylegan3.Generator",)
_POSITIONAL = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")
_MAPPING_SUPPORTED = ("num_layers", "embed_features", "layer_features", "lr_multiplier")
_MAPPING_FIXED = {"activation": "lrelu"}
_MAPPING_IGNORED = ("w_avg_beta",)  # training-time EMA rate of w_avg
_SYNTHESIS_SUPPORTED = ("channel_base", "channel_max", "conv_clamp", "resample_filter")
_SYNTHESIS_FIXED = {"architecture": "skip", "use_noise": True, "activation": "lrelu", "kernel_size": 3}
# fp16 settings only change the arithmetic precision; ganeval computes in float32
_SYNTHESIS_IGNORED = ("num_fp16_res", "fp16_channels_last", "channels_last", "fused_modconv_default")


def load_nvidia_torch_pickle(data: Mapping[str, Any], source: str) -> tuple[StyleGAN2, dict[str, Any]]:
    """Rebuild ``G_ema`` (else ``G``) of an unpickled ada / StyleGAN3 network pickle.

    Returns the generator and provenance details (class name, network key, init kwargs).
    """
    key = "G_ema" if isinstance(data.get("G_ema"), PersistentRecord) else "G"
    rec = data.get(key)
    if not isinstance(rec, PersistentRecord):
        present = sorted(k for k, v in data.items() if isinstance(v, PersistentRecord))
        raise CheckpointError(
            f"{source}: expected a generator under 'G_ema' or 'G', but the pickle holds only {present or 'no networks'}"
            + (" (a discriminator-only pickle)" if present == ["D"] else "") + "."
        )
    if rec.class_name in _STYLEGAN3_CLASSES:
        raise CheckpointError(
            f"{source}: StyleGAN3 (alias-free) generators ({rec.class_name}) are not supported yet; ganeval loads "
            "StyleGAN v1 and StyleGAN2 generators."
        )
    if rec.class_name not in _STYLEGAN2_CLASSES:
        raise CheckpointError(
            f"{source}: expected a generator of class {' or '.join(_STYLEGAN2_CLASSES)}, but '{key}' is {rec.class_name}."
        )
    kwargs = dict(zip(_POSITIONAL, rec.state.get("_init_args") or ()))
    kwargs.update(rec.init_kwargs)
    G = stylegan2_from_ada_kwargs(kwargs, source)
    state = {k: as_tensor(v, source=source, name=k) for k, v in rec.tensors().items()}
    load_state_exact(G, state, source=source, rebuilt=G.rebuilt_buffer_names())
    return G, {"class_name": rec.class_name, "network": key, "init_kwargs": plain(kwargs)}


def stylegan2_from_ada_kwargs(kwargs: Mapping[str, Any], source: str) -> StyleGAN2:
    """A :class:`StyleGAN2` built from ada ``Generator`` init kwargs, refusing unsupported ones."""
    kwargs = dict(kwargs)
    mapping = dict(kwargs.pop("mapping_kwargs", None) or {})
    synthesis = dict(kwargs.pop("synthesis_kwargs", None) or {})
    for name in _POSITIONAL:
        if name not in kwargs:
            raise CheckpointError(f"{source}: generator init kwargs must include `{name}`, but it is missing.")
    top = {k: kwargs.pop(k) for k in _POSITIONAL}
    synthesis.update(kwargs)  # the StyleGAN3 repository passes synthesis kwargs flat
    check_kwargs(mapping, source=source, what="mapping", supported=_MAPPING_SUPPORTED, fixed=_MAPPING_FIXED,
                 ignored=_MAPPING_IGNORED)
    check_kwargs(synthesis, source=source, what="synthesis", supported=_SYNTHESIS_SUPPORTED, fixed=_SYNTHESIS_FIXED,
                 ignored=_SYNTHESIS_IGNORED)
    return StyleGAN2(
        z_dim=int(top["z_dim"]), c_dim=int(top["c_dim"]), w_dim=int(top["w_dim"]),
        img_resolution=int(top["img_resolution"]), img_channels=int(top["img_channels"]),
        mapping_layers=int(mapping.get("num_layers", 8)), mapping_lr_multiplier=float(mapping.get("lr_multiplier", 0.01)),
        embed_features=mapping.get("embed_features"), layer_features=mapping.get("layer_features"),
        channel_base=int(synthesis.get("channel_base", 32768)), channel_max=int(synthesis.get("channel_max", 512)),
        resample_filter=list(synthesis.get("resample_filter", (1, 3, 3, 1))), conv_clamp=synthesis.get("conv_clamp"),
    )


def stylegan2_from_state_dict(state: Mapping[str, torch.Tensor], source: str) -> StyleGAN2:
    """A :class:`StyleGAN2` for a bare ada ``G.state_dict()``, its config inferred from tensor shapes.

    Not stored in a state dict and assumed at the defaults: mapping lr multiplier 0.01, no
    conv_clamp. The resample filter taps are read back from the ``resample_filter`` buffers.
    """
    def get(key: str) -> torch.Tensor:
        if key not in state:
            raise CheckpointError(f"{source}: expected a stylegan2-ada state dict with `{key}`, but it is missing.")
        return state[key]

    num_layers = sum(1 for k in state if k.startswith("mapping.fc") and k.endswith(".weight"))
    blocks = sorted(int(m.group(1)) for k in state if (m := re.fullmatch(r"synthesis\.b(\d+)\.conv1\.weight", k)))
    if num_layers == 0 or not blocks or blocks[0] != 4:
        raise CheckpointError(f"{source}: expected a stylegan2-ada generator state dict (mapping.fc*, synthesis.b4.*), "
                              f"but found keys like {sorted(state)[:3]}.")
    c_dim, embed = (get("mapping.embed.weight").shape[1], get("mapping.embed.weight").shape[0]) \
        if "mapping.embed.weight" in state else (0, 0)
    w_dim = get(f"mapping.fc{num_layers - 1}.weight").shape[0]
    f2d = get("synthesis.b4.resample_filter").to(torch.float64)
    taps = f2d.sum(dim=0)
    if not bool((taps > 0).any()):
        raise CheckpointError(f"{source}: expected a positive resample_filter, but synthesis.b4.resample_filter is {f2d.tolist()}.")
    taps = taps / taps[taps > 0].min()
    if not torch.allclose(torch.outer(taps, taps) / torch.outer(taps, taps).sum(), f2d, atol=1e-7):
        raise CheckpointError(f"{source}: expected a separable resample_filter, but synthesis.b4.resample_filter is not.")
    if int(math.log2(blocks[-1])) - 1 != len(blocks) or blocks[-1] & (blocks[-1] - 1):
        raise CheckpointError(f"{source}: expected blocks b4..b{blocks[-1]}, but found {blocks}.")
    G = StyleGAN2(
        z_dim=get("mapping.fc0.weight").shape[1] - embed, c_dim=c_dim, w_dim=w_dim, img_resolution=blocks[-1],
        img_channels=get("synthesis.b4.torgb.weight").shape[0], mapping_layers=num_layers,
        embed_features=embed or None, layer_features=get("mapping.fc0.weight").shape[0] if num_layers > 1 else None,
        channels=[int(get(f"synthesis.b{r}.conv1.weight").shape[0]) for r in blocks],
        resample_filter=[round(float(t), 6) for t in taps],
    )
    load_state_exact(G, {k: as_tensor(v, source=source, name=k) for k, v in state.items()}, source=source,
                     rebuilt=G.rebuilt_buffer_names())
    return G


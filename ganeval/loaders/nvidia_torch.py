"""stylegan2-ada-pytorch and StyleGAN3-repository network pickles, and bare ada state dicts, without NVIDIA code.

A network pickle is what the training loop writes: ``pickle.dump(dict(training_set_kwargs, G, D,
G_ema, augment_pipe))`` where every module is a ``torch_utils.persistence`` record
``_reconstruct_persistent_obj({"type": "class", "version": 6, "module_src": <text of the
defining file>, "class_name": "Generator", "state": <module __dict__>})``. The class name is the
BARE name; the module is known only from ``module_src``. The restricted unpickler turns each
record into a :class:`~ganeval.loaders.safe_pickle.PersistentRecord`; nothing is executed.

The network family is told apart from data, never by running anything:

- the synthesis network's submodules: ``b4, b8, ...`` (StyleGAN2) or ``input, L0_..`` (StyleGAN3);
- the generator's init kwargs: ``synthesis_kwargs`` nested (stylegan2-ada-pytorch
  ``training/networks.py``) or flat (the stylegan3 repository's ``networks_stylegan2.py``);
- ``module_src`` read as text when it is the real file (class and argument names in it); a
  stripped placeholder is fine, a text contradicting the structure is refused.

``G_ema`` is used (``G`` only when a pickle has no ``G_ema``). ``num_fp16_res`` only selects the
training precision: ganeval computes every layer in float32 (as NVIDIA's code does on CPU) and
records the file's setting in the provenance; ``conv_clamp`` is applied as the original does.
StyleGAN3 generators (T and R configs) are rebuilt by :func:`_load_stylegan3`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import torch

from ..errors import CheckpointError, GanevalError
from ..models.stylegan2 import StyleGAN2
from ..models.stylegan3 import StyleGAN3
from ._common import as_tensor, check_kwargs, load_state_exact, plain
from .safe_pickle import PersistentRecord
from .stylegan3_torch import build_stylegan3

__all__ = ["load_nvidia_torch_pickle", "identify_generator", "stylegan2_from_ada_kwargs", "stylegan2_from_state_dict"]

_GENERATOR_NAMES = (
    "Generator",
    "training.networks.Generator",
    "training.networks_stylegan2.Generator",
    "training.networks_stylegan3.Generator",
)
_ADA = "stylegan2-ada-pytorch"
_SG3_REPO = "stylegan3 repository"
_POSITIONAL = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")
_MAPPING_SUPPORTED = ("num_layers", "embed_features", "layer_features", "lr_multiplier")
_MAPPING_FIXED = {"activation": "lrelu"}
_MAPPING_IGNORED = ("w_avg_beta",)  # training-time EMA rate of w_avg
_SYNTHESIS_SUPPORTED = ("channel_base", "channel_max", "conv_clamp", "resample_filter")
_SYNTHESIS_FIXED = {"architecture": "skip", "use_noise": True, "activation": "lrelu", "kernel_size": 3}
# fp16 settings only change the arithmetic precision; ganeval computes in float32
_SYNTHESIS_IGNORED = ("num_fp16_res", "fp16_channels_last", "channels_last", "fused_modconv_default")
# sane bounds, checked before anything is built (a lying header must not allocate gigabytes)
_MAX_DIM = 8192
_MAX_MAPPING_LAYERS = 64
_MAX_CHANNELS = 16


def load_nvidia_torch_pickle(data: Mapping[str, Any], source: str) -> tuple[StyleGAN2 | StyleGAN3, dict[str, Any]]:
    """Rebuild ``G_ema`` (else ``G``) of an unpickled ada / stylegan3-repository network pickle.

    Returns the generator and provenance details: ``producer`` (which repository's code wrote
    the file), ``network`` (``G_ema`` or ``G``), ``class_name`` (as stored), ``init_kwargs`` and
    ``precision`` (the file's fp16 settings; ganeval runs float32).
    """
    key = "G_ema" if isinstance(data.get("G_ema"), PersistentRecord) else "G"
    rec = data.get(key)
    if not isinstance(rec, PersistentRecord):
        present = sorted(str(k) for k, v in data.items() if isinstance(v, PersistentRecord))
        raise CheckpointError(
            f"{source}: expected a generator under 'G_ema' or 'G', but the pickle holds only {present or 'no networks'}"
            + (" (a discriminator-only pickle)" if present == ["D"] else "")
            + "."
        )
    family, producer = identify_generator(rec, source, key)
    if family == "stylegan3":
        return _load_stylegan3(rec, source, key, producer)
    kwargs = _init_kwargs(rec, source)
    _check_size_claims(kwargs, rec, source)
    G = stylegan2_from_ada_kwargs(kwargs, source)
    state = {k: as_tensor(v, source=source, name=k) for k, v in _tensors(rec, source).items()}
    load_state_exact(G, state, source=source, rebuilt=G.rebuilt_buffer_names())
    synthesis = dict(kwargs.get("synthesis_kwargs") or {}) or kwargs
    fp16 = int(synthesis.get("num_fp16_res", 0) or 0)
    return G, {
        "producer": producer,
        "class_name": rec.class_name,
        "network": key,
        "persistence_version": rec.version,
        "init_kwargs": plain(kwargs),
        "precision": f"float32 (the file's num_fp16_res={fp16}, conv_clamp={synthesis.get('conv_clamp')}; "
        "ganeval computes every layer in float32, clamping as the original)",
    }


def identify_generator(rec: PersistentRecord, source: str, key: str = "G_ema") -> tuple[str, str]:
    """(family, producer) of a persistent generator record, read from data only.

    family: ``"stylegan2"`` or ``"stylegan3"``; producer: ``"stylegan2-ada-pytorch"`` or
    ``"stylegan3 repository"``. Raises CheckpointError for anything that is not a generator of
    those families, or whose ``module_src`` text contradicts its structure.
    """
    if rec.class_name not in _GENERATOR_NAMES:
        raise CheckpointError(
            f"{source}: expected '{key}' to be a generator (class Generator of stylegan2-ada-pytorch or the stylegan3 "
            f"repository), but it is {rec.class_name!r}."
        )
    if rec.class_name == "training.networks_stylegan3.Generator":
        return "stylegan3", _SG3_REPO  # a dotted name (written by converters) states the family itself
    modules = rec.state.get("_modules")
    named = modules if isinstance(modules, Mapping) else {}
    synthesis = named.get("synthesis")
    if not isinstance(synthesis, PersistentRecord) or not isinstance(named.get("mapping"), PersistentRecord):
        raise CheckpointError(
            f"{source}: expected '{key}' to hold `mapping` and `synthesis` networks, but found "
            f"{sorted(modules) if isinstance(modules, Mapping) else type(modules).__name__}."
        )
    blocks = synthesis.state.get("_modules")
    names = [str(n) for n in blocks] if isinstance(blocks, Mapping) else []
    if "input" in names and any(re.fullmatch(r"L\d+_\d+_\d+", n) for n in names):
        family = "stylegan3"
    elif "b4" in names:
        family = "stylegan2"
    else:
        raise CheckpointError(
            f"{source}: expected the synthesis network of '{key}' to hold blocks b4, b8, ... "
            f"(StyleGAN2) or input, L0_... (StyleGAN3), but found {names[:4]}."
        )
    text_family = _family_from_source_text(rec.module_src)
    if text_family is not None and text_family != family:
        raise CheckpointError(
            f"{source}: '{key}' has {family} submodules but its module_src text defines a "
            f"{text_family} generator; the file is inconsistent."
        )
    return family, _producer(rec, family)


def _family_from_source_text(src: str | None) -> str | None:
    """The family the defining file's text declares (read as text, never run); None for a placeholder."""
    if not src:
        return None
    if "class SynthesisInput" in src:
        return "stylegan3"
    if "class SynthesisBlock" in src:
        return "stylegan2"
    return None


def _producer(rec: PersistentRecord, family: str) -> str:
    """Which repository's code wrote the record: the stylegan3 repository passes synthesis kwargs
    flat and its files use ``update_emas``; stylegan2-ada-pytorch nests ``synthesis_kwargs``."""
    if family == "stylegan3" or rec.class_name.startswith("training.networks_stylegan"):
        return _SG3_REPO
    if rec.module_src and "update_emas" in rec.module_src:
        return _SG3_REPO
    kwargs = rec.state.get("_init_kwargs")
    if isinstance(kwargs, Mapping) and "synthesis_kwargs" not in kwargs and "channel_base" in kwargs:
        return _SG3_REPO
    return _ADA


def _load_stylegan3(rec: PersistentRecord, source: str, key: str, producer: str) -> tuple[StyleGAN3, dict[str, Any]]:
    """A StyleGAN3 (alias-free, T or R config) generator from its persistent record.

    The stored filters, magnitude EMAs, frequencies, phases and input transform are read, never
    recomputed (:func:`ganeval.loaders.stylegan3_torch.build_stylegan3` checks kwargs, keys,
    shapes and values before anything is built).
    """
    kwargs = _init_kwargs(rec, source)
    tensors = {k: as_tensor(v, source=source, name=k) for k, v in _tensors(rec, source).items()}
    G = build_stylegan3(kwargs, tensors, source)
    fp16 = int(kwargs.get("num_fp16_res", 0) or 0)
    return G, {
        "producer": producer,
        "class_name": rec.class_name,
        "network": key,
        "persistence_version": rec.version,
        "init_kwargs": plain(kwargs),
        "precision": f"float32 (the file's num_fp16_res={fp16}, conv_clamp={kwargs.get('conv_clamp')}; "
        "ganeval computes every layer in float32)",
    }


def _init_kwargs(rec: PersistentRecord, source: str) -> dict[str, Any]:
    """The generator's init args as one kwargs dict, type-checked."""
    args = rec.state.get("_init_args") or ()
    kwargs = rec.state.get("_init_kwargs") or {}
    if not isinstance(args, (tuple, list)) or len(args) > len(_POSITIONAL) or not isinstance(kwargs, Mapping):
        raise CheckpointError(
            f"{source}: expected generator init args (at most {len(_POSITIONAL)} positional) and "
            f"a kwargs dict, but found {type(args).__name__} and {type(kwargs).__name__}."
        )
    out = dict(zip(_POSITIONAL, args))
    out.update(kwargs)
    return out


def _tensors(rec: PersistentRecord, source: str) -> dict[str, Any]:
    try:
        return rec.tensors()
    except (CheckpointError, AttributeError, TypeError) as exc:
        raise CheckpointError(f"{source}: expected a module tree of persistent records, but {exc}") from None


def _int_kwarg(kwargs: Mapping[str, Any], name: str, source: str, lo: int, hi: int) -> int:
    value: Any = kwargs.get(name)
    if isinstance(value, bool) or (
        not isinstance(value, int)
        and not (hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0 and value.dtype.kind in "iu")
    ):
        raise CheckpointError(f"{source}: generator kwarg `{name}` must be an integer, but the file has {value!r:.60}.")
    if not lo <= int(value) <= hi:
        raise CheckpointError(
            f"{source}: generator kwarg `{name}` must be in [{lo}, {hi}], but the file has {value!r:.60}."
        )
    return int(value)


def _check_size_claims(kwargs: Mapping[str, Any], rec: PersistentRecord, source: str) -> None:
    """Check the init kwargs against bounds and against the tensors actually in the file, before
    anything is built: the weight tensors they imply must all be there (a header that lies about
    the sizes is refused instead of allocating what it claims)."""
    dims = {
        n: _int_kwarg(kwargs, n, source, lo, _MAX_DIM if n != "img_channels" else _MAX_CHANNELS)
        for n, lo in (("z_dim", 1), ("c_dim", 0), ("w_dim", 1), ("img_resolution", 4), ("img_channels", 1))
    }
    mapping = kwargs.get("mapping_kwargs") or {}
    synthesis = kwargs.get("synthesis_kwargs") if "synthesis_kwargs" in kwargs else kwargs
    for name, value in (("mapping_kwargs", mapping), ("synthesis_kwargs", synthesis or {})):
        if not isinstance(value, Mapping):
            raise CheckpointError(
                f"{source}: generator kwarg `{name}` must be a dict, but the file has {type(value).__name__}."
            )
    synthesis = synthesis or {}
    layers = _int_kwarg({"num_layers": 8, **mapping}, "num_layers", source, 1, _MAX_MAPPING_LAYERS)
    feats = {
        n: _int_kwarg(
            {n: dims["w_dim"], **{k: v for k, v in mapping.items() if k == n and v is not None}}, n, source, 1, _MAX_DIM
        )
        for n in ("embed_features", "layer_features")
    }
    base = _int_kwarg({"channel_base": 32768, **synthesis}, "channel_base", source, 1, 2**24)
    cmax = _int_kwarg({"channel_max": 512, **synthesis}, "channel_max", source, 1, _MAX_DIM)
    res = dims["img_resolution"]
    if res & (res - 1):
        raise CheckpointError(f"{source}: generator kwarg `img_resolution` must be a power of two, but it is {res}.")
    embed = feats["embed_features"] if dims["c_dim"] else 0
    taps = synthesis.get("resample_filter", (1, 3, 3, 1))
    if not isinstance(taps, (list, tuple)) or not 1 <= len(taps) <= 16:
        raise CheckpointError(
            f"{source}: generator kwarg `resample_filter` must list 1 to 16 taps, but the file has {taps!r:.60}."
        )
    lf = feats["layer_features"]
    need = dims["c_dim"] * embed + (
        (dims["z_dim"] + embed) * lf + (layers - 2) * lf * lf + lf * dims["w_dim"]
        if layers > 1
        else (dims["z_dim"] + embed) * dims["w_dim"]
    )
    for r in (2**k for k in range(2, int(math.log2(res)) + 1)):
        ch = min(base // r, cmax)
        need += ch * ch * 9 * (1 if r == 4 else 2) + ch * dims["img_channels"]
    have = sum(
        int(getattr(v, "size", 0) if not isinstance(v, torch.Tensor) else v.numel())
        for v in _tensors(rec, source).values()
    )
    if need > have:
        raise CheckpointError(
            f"{source}: the generator's init kwargs imply at least {need} weights, but the file holds only {have} "
            "(corrupt or inconsistent header)."
        )


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
    check_kwargs(
        mapping,
        source=source,
        what="mapping",
        supported=_MAPPING_SUPPORTED,
        fixed=_MAPPING_FIXED,
        ignored=_MAPPING_IGNORED,
    )
    check_kwargs(
        synthesis,
        source=source,
        what="synthesis",
        supported=_SYNTHESIS_SUPPORTED,
        fixed=_SYNTHESIS_FIXED,
        ignored=_SYNTHESIS_IGNORED,
    )
    try:
        return _build(top, mapping, synthesis)
    except (GanevalError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{source}: the generator's init kwargs are invalid: {exc}") from None


def _build(top: Mapping[str, Any], mapping: Mapping[str, Any], synthesis: Mapping[str, Any]) -> StyleGAN2:
    return StyleGAN2(
        z_dim=int(top["z_dim"]),
        c_dim=int(top["c_dim"]),
        w_dim=int(top["w_dim"]),
        img_resolution=int(top["img_resolution"]),
        img_channels=int(top["img_channels"]),
        mapping_layers=int(mapping.get("num_layers", 8)),
        mapping_lr_multiplier=float(mapping.get("lr_multiplier", 0.01)),
        embed_features=mapping.get("embed_features"),
        layer_features=mapping.get("layer_features"),
        channel_base=int(synthesis.get("channel_base", 32768)),
        channel_max=int(synthesis.get("channel_max", 512)),
        resample_filter=list(synthesis.get("resample_filter", (1, 3, 3, 1))),
        conv_clamp=synthesis.get("conv_clamp"),
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
        raise CheckpointError(
            f"{source}: expected a stylegan2-ada generator state dict (mapping.fc*, synthesis.b4.*), "
            f"but found keys like {sorted(state)[:3]}."
        )
    c_dim, embed = (
        (get("mapping.embed.weight").shape[1], get("mapping.embed.weight").shape[0])
        if "mapping.embed.weight" in state
        else (0, 0)
    )
    w_dim = get(f"mapping.fc{num_layers - 1}.weight").shape[0]
    f2d = get("synthesis.b4.resample_filter").to(torch.float64)
    taps = f2d.sum(dim=0)
    if not bool((taps > 0).any()):
        raise CheckpointError(
            f"{source}: expected a positive resample_filter, but synthesis.b4.resample_filter is {f2d.tolist()}."
        )
    taps = taps / taps[taps > 0].min()
    if not torch.allclose(torch.outer(taps, taps) / torch.outer(taps, taps).sum(), f2d, atol=1e-7):
        raise CheckpointError(
            f"{source}: expected a separable resample_filter, but synthesis.b4.resample_filter is not."
        )
    if int(math.log2(blocks[-1])) - 1 != len(blocks) or blocks[-1] & (blocks[-1] - 1):
        raise CheckpointError(f"{source}: expected blocks b4..b{blocks[-1]}, but found {blocks}.")
    G = StyleGAN2(
        z_dim=get("mapping.fc0.weight").shape[1] - embed,
        c_dim=c_dim,
        w_dim=w_dim,
        img_resolution=blocks[-1],
        img_channels=get("synthesis.b4.torgb.weight").shape[0],
        mapping_layers=num_layers,
        embed_features=embed or None,
        layer_features=get("mapping.fc0.weight").shape[0] if num_layers > 1 else None,
        channels=[int(get(f"synthesis.b{r}.conv1.weight").shape[0]) for r in blocks],
        resample_filter=[round(float(t), 6) for t in taps],
    )
    load_state_exact(
        G,
        {k: as_tensor(v, source=source, name=k) for k, v in state.items()},
        source=source,
        rebuilt=G.rebuilt_buffer_names(),
    )
    return G

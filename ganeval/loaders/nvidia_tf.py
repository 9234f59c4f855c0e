"""NVIDIA TensorFlow network pickles (StyleGAN v1, StyleGAN2) without TensorFlow.

The restricted unpickler gives :class:`~ganeval.loaders.safe_pickle.TFNetworkStub` objects
(``docs/protocols.md`` section 4.1); this module picks ``Gs`` from the ``(G, D, Gs)``
tuple, checks its static kwargs, builds the matching ganeval generator and copies every TF
variable through :data:`TF_TABLE`:

- network version 4, synthesis ``G_synthesis_stylegan2`` -> :class:`~ganeval.models.stylegan2.StyleGAN2`;
- network version 3 (StyleGAN v1, synthesis ``G_synthesis``) -> :class:`~ganeval.models.stylegan.StyleGAN`.

TF names are ``<component key>/<local name>`` for the mapping and synthesis components and bare
for Gs's own variables (ada-pt legacy.py's convention). Both TF versions store unscaled weights and
apply the equalised-lr scales at run time, as the ganeval modules do, so values are copied
unscaled; only layouts change.

Before anything is built, the numeric static kwargs are checked for type and range and the
generator is built on the ``meta`` device: a file whose kwargs describe more values than its
variables hold is refused without allocating. Every variable must have a counterpart (``lod`` must
be 0, progressive-growing ``ToRGB_lod{L}`` are dropped), every parameter and buffer must be filled,
and every value must be finite. Verified on pickles written by NVlabs/stylegan and NVlabs/stylegan2's
own code (``tools/fixtures/tf.py``, ``tests/fixtures/tf-*``). The provenance records the producer
and the truncation its ``Gs`` graph applies by default (:data:`PRODUCER_DEFAULT_TRUNCATION`);
ganeval itself applies none unless asked.
"""

from __future__ import annotations

import itertools
import math
import numbers
import string
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ..errors import CheckpointError, GanevalError
from ._common import as_tensor, check_kwargs, load_state_exact, plain
from .safe_pickle import TFNetworkStub

if TYPE_CHECKING:
    from ..models.base import StyleGenerator

__all__ = ["TF_TABLE", "PRODUCER_DEFAULT_TRUNCATION", "describe", "load_nvidia_tf_pickle", "pick_generator"]

# transform name -> function of the float32 tensor (layouts: see the comment on each)
_TRANSFORMS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "copy": lambda t: t,
    "transpose": lambda t: t.t(),  # dense [in, out] -> [out, in]
    "hwio": lambda t: t.permute(3, 2, 0, 1),  # conv [kh, kw, in, out] -> [out, in, kh, kw]
    "hwio_flip": lambda t: t.flip([0, 1]).permute(3, 2, 0, 1),  # SG2 up-conv: also flipped spatially
    "plus_one": lambda t: t + 1,  # SG2-TF adds 1 to the style at run time; ada stores it in the bias
    "scalar": lambda t: t.reshape([]),
    "noise": lambda t: t[0, 0],  # [1, 1, H, W] -> [H, W]
    "drop_batch": lambda t: t[0],  # [1, C, 4, 4] -> [C, 4, 4]
}

#: Every TF variable name, its ganeval state-dict key and the transform, per architecture.
#: Placeholders: {i} mapping layer; {k} noise/synthesis layer index with {noise_k} (SG2: the
#: conv layer using noise k, e.g. ``b8.conv0``) or {S} (v1: its TF scope, ``4x4/Const``,
#: ``4x4/Conv``, ``RxR/Conv0_up``, ``RxR/Conv1``); {R} block resolution; {L} a progressive-growing
#: lod >= 1. A target of ``None`` marks variables that are read but not needed: ``lod`` (Gs's own,
#: which G_style/G_main assign to the synthesis network's ``synthesis/lod`` before every run) must be
#: 0 in both places (a finished network; a growing one blends lower-resolution outputs, which
#: ganeval does not implement), the v1 ``ToRGB_lod{L}`` of lower resolutions never reach the output.
TF_TABLE: dict[str, tuple[tuple[str, str | None, str], ...]] = {
    "stylegan2": (
        ("dlatent_avg", "mapping.w_avg", "copy"),
        ("lod", None, "check_zero"),
        ("synthesis/lod", None, "check_zero"),
        ("mapping/Dense{i}/weight", "mapping.fc{i}.weight", "transpose"),
        ("mapping/Dense{i}/bias", "mapping.fc{i}.bias", "copy"),
        ("synthesis/noise{k}", "synthesis.{noise_k}.noise_const", "noise"),
        ("synthesis/4x4/Const/const", "synthesis.b4.const", "drop_batch"),
        ("synthesis/4x4/Conv/weight", "synthesis.b4.conv1.weight", "hwio"),
        ("synthesis/4x4/Conv/mod_weight", "synthesis.b4.conv1.affine.weight", "transpose"),
        ("synthesis/4x4/Conv/mod_bias", "synthesis.b4.conv1.affine.bias", "plus_one"),
        ("synthesis/4x4/Conv/noise_strength", "synthesis.b4.conv1.noise_strength", "scalar"),
        ("synthesis/4x4/Conv/bias", "synthesis.b4.conv1.bias", "copy"),
        ("synthesis/{R}x{R}/Conv0_up/weight", "synthesis.b{R}.conv0.weight", "hwio_flip"),
        ("synthesis/{R}x{R}/Conv0_up/mod_weight", "synthesis.b{R}.conv0.affine.weight", "transpose"),
        ("synthesis/{R}x{R}/Conv0_up/mod_bias", "synthesis.b{R}.conv0.affine.bias", "plus_one"),
        ("synthesis/{R}x{R}/Conv0_up/noise_strength", "synthesis.b{R}.conv0.noise_strength", "scalar"),
        ("synthesis/{R}x{R}/Conv0_up/bias", "synthesis.b{R}.conv0.bias", "copy"),
        ("synthesis/{R}x{R}/Conv1/weight", "synthesis.b{R}.conv1.weight", "hwio"),
        ("synthesis/{R}x{R}/Conv1/mod_weight", "synthesis.b{R}.conv1.affine.weight", "transpose"),
        ("synthesis/{R}x{R}/Conv1/mod_bias", "synthesis.b{R}.conv1.affine.bias", "plus_one"),
        ("synthesis/{R}x{R}/Conv1/noise_strength", "synthesis.b{R}.conv1.noise_strength", "scalar"),
        ("synthesis/{R}x{R}/Conv1/bias", "synthesis.b{R}.conv1.bias", "copy"),
        ("synthesis/{R}x{R}/ToRGB/weight", "synthesis.b{R}.torgb.weight", "hwio"),
        ("synthesis/{R}x{R}/ToRGB/mod_weight", "synthesis.b{R}.torgb.affine.weight", "transpose"),
        ("synthesis/{R}x{R}/ToRGB/mod_bias", "synthesis.b{R}.torgb.affine.bias", "plus_one"),
        ("synthesis/{R}x{R}/ToRGB/bias", "synthesis.b{R}.torgb.bias", "copy"),
        # synthesis.b{R}.resample_filter and .conv{0,1}.resample_filter: not stored, rebuilt
    ),
    "stylegan": (
        ("dlatent_avg", "mapping.w_avg", "copy"),
        ("lod", None, "check_zero"),
        ("synthesis/lod", None, "check_zero"),
        ("mapping/Dense{i}/weight", "mapping.fc{i}.weight", "transpose"),
        ("mapping/Dense{i}/bias", "mapping.fc{i}.bias", "copy"),
        ("mapping/LabelConcat/weight", "mapping.embed.weight", "transpose"),
        ("synthesis/noise{k}", "synthesis.layers.{k}.noise_const", "noise"),
        ("synthesis/4x4/Const/const", "synthesis.const", "drop_batch"),
        ("synthesis/{S}/weight", "synthesis.layers.{k}.conv.weight", "hwio"),
        ("synthesis/{S}/Noise/weight", "synthesis.layers.{k}.noise.weight", "copy"),
        ("synthesis/{S}/bias", "synthesis.layers.{k}.bias", "copy"),
        ("synthesis/{S}/StyleMod/weight", "synthesis.layers.{k}.adain.affine.weight", "transpose"),
        ("synthesis/{S}/StyleMod/bias", "synthesis.layers.{k}.adain.affine.bias", "copy"),
        ("synthesis/ToRGB_lod0/weight", "synthesis.torgb.weight", "hwio"),
        ("synthesis/ToRGB_lod0/bias", "synthesis.torgb.bias", "copy"),
        ("synthesis/ToRGB_lod{L}/weight", None, "drop"),
        ("synthesis/ToRGB_lod{L}/bias", None, "drop"),
    ),
}

# ---- static kwargs: translated (supported), required values (fixed), training-only (ignored)
_COMMON_IGNORED = (
    "truncation_psi",
    "truncation_cutoff",
    "truncation_psi_val",
    "truncation_cutoff_val",
    "dlatent_avg_beta",
    "style_mixing_prob",
    "structure",
    "randomize_noise",
    "dlatent_broadcast",
    "is_template_graph",
    "force_clean_graph",
    "is_training",
    "is_validation",
    "return_dlatents",
    "num_fp16_res",
    "fused_modconv",
    "w_avg_beta",
)
_SG2_SUPPORTED = (
    "latent_size",
    "dlatent_size",
    "resolution",
    "num_channels",
    "mapping_layers",
    "mapping_fmaps",
    "mapping_lrmul",
    "fmap_base",
    "fmap_decay",
    "fmap_min",
    "fmap_max",
    "resample_kernel",
    "conv_clamp",
)
_SG2_FIXED = {
    "label_size": 0,
    "architecture": "skip",
    "nonlinearity": "lrelu",
    "mapping_nonlinearity": "lrelu",
    "use_noise": True,
    "normalize_latents": True,
    "dtype": "float32",
}
_V1_SUPPORTED = (
    "latent_size",
    "dlatent_size",
    "label_size",
    "resolution",
    "num_channels",
    "mapping_layers",
    "mapping_fmaps",
    "mapping_lrmul",
    "fmap_base",
    "fmap_decay",
    "fmap_max",
    "fused_scale",
)
_V1_FIXED = {
    "nonlinearity": "lrelu",
    "mapping_nonlinearity": "lrelu",
    "use_wscale": True,
    "normalize_latents": True,
    "use_styles": True,
    "const_input_layer": True,
    "use_noise": True,
    "use_pixel_norm": False,
    "use_instance_norm": True,
    "blur_filter": [1, 2, 1],
    "dtype": "float32",
}


def pick_generator(obj: Any, source: str) -> TFNetworkStub:
    """``Gs`` of a ``(G, D, Gs)`` tuple, or a lone generator network; refuses discriminators."""
    nets = list(obj) if isinstance(obj, tuple) else [obj]
    net = nets[2] if len(nets) == 3 else nets[-1] if nets else None
    components = getattr(net, "components", None) or {}
    ok = isinstance(components, Mapping) and all(
        isinstance(components.get(k), TFNetworkStub) for k in ("synthesis", "mapping")
    )
    if not isinstance(net, TFNetworkStub) or not ok:
        raise CheckpointError(
            f"{source}: expected a generator network (Gs with mapping and synthesis components), but found "
            f"{getattr(net, 'name', '?')!r} built by {getattr(net, 'build_func_name', '?')!r}"
            + (" (a discriminator-only pickle)" if str(getattr(net, "build_func_name", "")).startswith("D_") else "")
            + "."
        )
    return net


#: The truncation each producer's ``Gs`` graph applies when called without truncation arguments
#: (``G_style`` / ``G_main`` keyword defaults); ganeval's own call default stays no truncation.
PRODUCER_DEFAULT_TRUNCATION: dict[str, dict[str, Any]] = {
    "stylegan": {"truncation_psi": 0.7, "truncation_cutoff": 8},
    "stylegan2": {"truncation_psi": 0.5, "truncation_cutoff": None},
}
_PRODUCERS = {"stylegan": "NVlabs/stylegan (TF)", "stylegan2": "NVlabs/stylegan2 (TF)"}

# integer static kwargs: (smallest, largest) accepted; real networks are far inside these bounds,
# which keep a lying header from describing a network of billions of values
_INT_BOUNDS: dict[str, tuple[int, int]] = {
    "latent_size": (1, 1 << 14),
    "dlatent_size": (1, 1 << 14),
    "label_size": (0, 1 << 14),
    "resolution": (4, 1 << 14),
    "num_channels": (1, 64),
    "mapping_layers": (1, 64),
    "mapping_fmaps": (1, 1 << 14),
    "fmap_base": (1, 1 << 20),
    "fmap_min": (1, 1 << 14),
    "fmap_max": (1, 1 << 14),
}
_FLOAT_BOUNDS: dict[str, tuple[float, float]] = {"fmap_decay": (0.0, 16.0), "mapping_lrmul": (1e-8, 1e4)}


def load_nvidia_tf_pickle(obj: Any, source: str) -> tuple[StyleGenerator, dict[str, Any]]:
    """Build the ganeval generator for an unpickled TF network pickle; returns it and provenance.

    Provenance: ``tf_version`` (3 or 4), ``network`` (``"Gs"``), ``architecture``,
    ``static_kwargs``, ``producer`` (e.g. ``"NVlabs/stylegan (TF), Gs, protocol 4"``),
    ``pickle_protocol``, ``producer_default_truncation`` (what the producer's ``Gs.run`` applies
    by default; ganeval applies none unless asked) and ``lod`` (0.0).
    """
    gs = pick_generator(obj, source)
    version = getattr(gs, "version", None)
    synth = gs.components["synthesis"]
    kwargs = _merged_kwargs(gs, source)
    func = getattr(synth, "build_func_name", None)
    if version == 4 and func == "G_synthesis_stylegan2":
        arch, build = "stylegan2", _build_stylegan2
    elif version == 3 and func == "G_synthesis":
        arch, build = "stylegan", _build_stylegan
    else:
        raise CheckpointError(
            f"{source}: expected a StyleGAN v1 (network version 3, G_synthesis) or StyleGAN2 (version 4, "
            f"G_synthesis_stylegan2) generator, but found version {version!r} with {func!r}."
        )
    _check_numbers(kwargs, source)
    tf_vars = _collect_variables(gs, source)
    _check_size(build, kwargs, tf_vars, source)
    G = build(kwargs, source)
    state = _convert(tf_vars, G, arch, source)
    rebuilt_names = getattr(G, "rebuilt_buffer_names", None)
    rebuilt = rebuilt_names() if rebuilt_names is not None else []
    load_state_exact(G, state, source=source, rebuilt=rebuilt)
    protocol = _pickle_protocol(source)
    name = str(getattr(gs, "name", "Gs"))
    return G, {
        "tf_version": version,
        "network": name,
        "architecture": arch,
        "static_kwargs": plain(kwargs),
        "producer": f"{_PRODUCERS[arch]}, {name}" + (f", protocol {protocol}" if protocol else ""),
        "pickle_protocol": protocol,
        "producer_default_truncation": _default_truncation(arch, kwargs),
        "lod": 0.0,
    }


def describe(provenance: Mapping[str, Any]) -> list[str]:
    """``ganeval info`` lines for a TF pickle's provenance (as :func:`load_nvidia_tf_pickle` returns it).

    >>> describe({"producer": "NVlabs/stylegan (TF), Gs, protocol 4",
    ...           "producer_default_truncation": {"truncation_psi": 0.7, "truncation_cutoff": 8}})[1]
    'producer default truncation: psi 0.7 on layers < 8 (ganeval applies none unless asked)'
    """
    trunc = provenance.get("producer_default_truncation") or {}
    cutoff = trunc.get("truncation_cutoff")
    layers = "all layers" if cutoff is None else f"layers < {cutoff}"
    return [
        f"producer: {provenance.get('producer', '?')}",
        f"producer default truncation: psi {trunc.get('truncation_psi')} on {layers} "
        "(ganeval applies none unless asked)",
    ]


def _default_truncation(arch: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The producer's default, overridden by ``truncation_psi``/``_cutoff`` stored in static kwargs."""
    out = dict(PRODUCER_DEFAULT_TRUNCATION[arch])
    for key in out:
        if key in kwargs:
            out[key] = plain(kwargs[key])
    return out


def _pickle_protocol(source: str) -> int | None:
    """The protocol byte of a pickle file (``\\x80 <protocol>``); None if unreadable or compressed."""
    try:
        with open(source, "rb") as f:
            head = f.read(2)
    except OSError:
        return None
    return head[1] if len(head) == 2 and head[0] == 0x80 else None


def _check_numbers(kw: Mapping[str, Any], source: str) -> None:
    """Every numeric static kwarg has a sane type and range, before anything is built."""
    for key, (lo, hi) in _INT_BOUNDS.items():
        if key not in kw:
            continue
        value = kw[key]
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not lo <= int(value) <= hi:
            raise CheckpointError(
                f"{source}: static kwarg `{key}` must be an integer from {lo} to {hi}, "
                f"but the pickle has {value!r:.60}."
            )
    res = kw.get("resolution")
    if res is not None and int(res) & (int(res) - 1):
        raise CheckpointError(
            f"{source}: static kwarg `resolution` must be a power of two, but the pickle has {res!r}."
        )
    for key, (flo, fhi) in _FLOAT_BOUNDS.items():
        if key not in kw:
            continue
        value = kw[key]
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))
        if not ok or not flo <= float(value) <= fhi:
            raise CheckpointError(
                f"{source}: static kwarg `{key}` must be a number from {flo} to {fhi}, "
                f"but the pickle has {value!r:.60}."
            )


def _check_size(
    build: Callable[[Mapping[str, Any], str], StyleGenerator],
    kwargs: Mapping[str, Any],
    tf_vars: Mapping[str, Any],
    source: str,
) -> None:
    """Refuse static kwargs that describe more values than the file holds, without allocating.

    The generator is first built on the ``meta`` device (shapes only); its stored tensors must
    fit in the values the pickle's variables actually hold (those already came from the file).
    """
    held = sum(int(getattr(v, "size", 1)) for v in tf_vars.values())
    with torch.device("meta"):
        G = build(kwargs, source)
    rebuilt_names = getattr(G, "rebuilt_buffer_names", None)
    rebuilt = set(rebuilt_names()) if rebuilt_names is not None else set()
    needed = sum(t.numel() for k, t in G.state_dict().items() if k not in rebuilt)
    if needed > held:
        raise CheckpointError(
            f"{source}: the static kwargs describe a generator of {needed:,} values, but the "
            f"pickle's variables hold only {held:,}; the file is corrupt or inconsistent."
        )


def _merged_kwargs(gs: TFNetworkStub, source: str) -> dict[str, Any]:
    """Union of Gs's and its components' static kwargs; the same key must agree everywhere."""
    out: dict[str, Any] = {}
    for net in [gs, *gs.components.values()]:
        kwargs = getattr(net, "static_kwargs", None) or {}
        if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
            raise CheckpointError(
                f"{source}: expected the static_kwargs of network {getattr(net, 'name', '?')!r:.40} "
                f"to be a dict with string keys, but found {type(kwargs).__name__}."
            )
        for key, value in kwargs.items():
            if key in out and key != "dlatent_broadcast" and not _equal(out[key], value):
                raise CheckpointError(
                    f"{source}: static kwarg `{key}` differs between networks: {out[key]!r:.40} vs {value!r:.40}."
                )
            out[key] = value
    return out


def _equal(a: Any, b: Any) -> bool:
    """``a == b`` for static-kwarg values (scalars, strings, lists); False where that is undefined."""
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _tf_channels(resolution: int, fmap_base: float, fmap_decay: float, fmap_min: int, fmap_max: int) -> list[int]:
    """TF ``nf(r - 1)`` for the blocks 4, 8, ..., resolution."""
    return [
        int(min(max(int(fmap_base / 2.0 ** ((r - 1) * fmap_decay)), fmap_min), fmap_max))
        for r in range(2, int(math.log2(resolution)) + 1)
    ]


def _built(factory: Callable[[], StyleGenerator], source: str) -> StyleGenerator:
    """Run a model constructor on static kwargs from a file: argument errors become CheckpointErrors."""
    try:
        return factory()
    except (GanevalError, TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{source}: the static kwargs do not describe a generator ganeval can build: {exc}"
        ) from None


def _build_stylegan2(kw: Mapping[str, Any], source: str) -> StyleGenerator:
    from ..models.stylegan2 import StyleGAN2

    if kw.get("label_size", 0):
        # G_mapping of NVlabs/stylegan2 multiplies the label by an unscaled [label_size, latent_size]
        # matrix and pixel-normalises [z, embedding] jointly; ganeval's StyleGAN2 implements
        # stylegan2-ada's equalised, separately normalised embedding, a different function.
        raise CheckpointError(
            f"{source}: conditional StyleGAN2 TF networks (label_size={kw['label_size']!r}) are not supported: "
            "NVlabs/stylegan2 concatenates an unscaled label embedding before one joint pixel norm, which "
            "ganeval's StyleGAN2 mapping (stylegan2-ada's conditioning) does not implement."
        )
    check_kwargs(
        kw,
        source=source,
        what="StyleGAN2 TF static",
        supported=_SG2_SUPPORTED,
        fixed=_SG2_FIXED,
        ignored=_COMMON_IGNORED,
    )
    res = int(kw.get("resolution", 1024))
    return _built(
        lambda: StyleGAN2(
            z_dim=int(kw.get("latent_size", 512)),
            w_dim=int(kw.get("dlatent_size", 512)),
            img_resolution=res,
            img_channels=int(kw.get("num_channels", 3)),
            mapping_layers=int(kw.get("mapping_layers", 8)),
            layer_features=int(kw.get("mapping_fmaps", 512)),
            mapping_lr_multiplier=float(kw.get("mapping_lrmul", 0.01)),
            channels=_tf_channels(
                res,
                kw.get("fmap_base", 16 << 10),
                kw.get("fmap_decay", 1.0),
                kw.get("fmap_min", 1),
                kw.get("fmap_max", 512),
            ),
            resample_filter=list(kw.get("resample_kernel", (1, 3, 3, 1))),
            conv_clamp=kw.get("conv_clamp"),
        ),
        source,
    )


def _build_stylegan(kw: Mapping[str, Any], source: str) -> StyleGenerator:
    from ..models.stylegan import StyleGAN

    check_kwargs(
        kw, source=source, what="StyleGAN TF static", supported=_V1_SUPPORTED, fixed=_V1_FIXED, ignored=_COMMON_IGNORED
    )
    return _built(
        lambda: StyleGAN(
            z_dim=int(kw.get("latent_size", 512)),
            w_dim=int(kw.get("dlatent_size", 512)),
            c_dim=int(kw.get("label_size", 0)),
            img_resolution=int(kw.get("resolution", 1024)),
            img_channels=int(kw.get("num_channels", 3)),
            mapping_layers=int(kw.get("mapping_layers", 8)),
            mapping_fmaps=int(kw.get("mapping_fmaps", 512)),
            mapping_lr_mul=float(kw.get("mapping_lrmul", 0.01)),
            fmap_base=int(kw.get("fmap_base", 8192)),
            fmap_decay=float(kw.get("fmap_decay", 1.0)),
            fmap_max=int(kw.get("fmap_max", 512)),
            fused_scale=kw.get("fused_scale", "auto"),
        ),
        source,
    )


def _collect_variables(gs: TFNetworkStub, source: str) -> dict[str, Any]:
    """TF name -> value: Gs's own variables bare, component variables under their dict key."""
    out: dict[str, Any] = {}
    for prefix, net in [("", gs), *((f"{key}/", comp) for key, comp in gs.components.items())]:
        for item in getattr(net, "variables", None) or []:
            if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)):
                raise CheckpointError(
                    f"{source}: expected (name, array) pairs in {net.name}.variables, but found {item!r:.60}."
                )
            out[prefix + item[0]] = item[1]
    return out


def _substitutions(G: Any, arch: str) -> dict[str, list[dict[str, str]]]:
    """Values of every placeholder group of :data:`TF_TABLE` for this generator (a StyleGAN2 or, for
    any other ``arch``, a StyleGAN)."""
    n_map = G.mapping.num_layers
    groups: dict[str, list[dict[str, str]]] = {"i": [{"i": str(i)} for i in range(n_map)]}
    if arch == "stylegan2":
        names = {id(m): n for n, m in G.synthesis.named_modules()}
        groups["k"] = [{"k": str(k), "noise_k": names[id(layer)]} for k, layer in enumerate(G.synthesis.noise_layers)]
        groups["R"] = [{"R": str(r)} for r in G.synthesis.block_resolutions]
    else:
        scopes = ["4x4/Const", "4x4/Conv"]
        for r in range(3, G.log2_resolution + 1):
            scopes += [f"{2**r}x{2**r}/Conv0_up", f"{2**r}x{2**r}/Conv1"]
        groups["k"] = [{"k": str(k), "S": s} for k, s in enumerate(scopes)]
        groups["L"] = [{"L": str(lod)} for lod in range(1, G.log2_resolution - 1)]
    return groups


def _expand(G: nn.Module, arch: str) -> dict[str, tuple[str | None, str]]:
    """TF name -> (state-dict key or None, transform) for every name this generator can hold."""
    groups = _substitutions(G, arch)
    field_group = {f: g for g, rows in groups.items() for f in rows[0]}
    keys = set(G.state_dict())
    table: dict[str, tuple[str | None, str]] = {}
    for tf_pattern, target, transform in TF_TABLE[arch]:
        fields = {f for _, f, _, _ in string.Formatter().parse(tf_pattern + (target or "")) if f}
        used = sorted({field_group[f] for f in fields})
        for combo in itertools.product(*(groups[g] for g in used)):
            sub = {k: v for d in combo for k, v in d.items()}
            key = None if target is None else target.format(**sub)
            if key is None or key in keys:
                table.setdefault(tf_pattern.format(**sub), (key, transform))
    return table


def _convert(tf_vars: Mapping[str, Any], G: nn.Module, arch: str, source: str) -> dict[str, torch.Tensor]:
    table = _expand(G, arch)
    state: dict[str, torch.Tensor] = {}
    for name, value in tf_vars.items():
        if name not in table:
            raise CheckpointError(
                f"{source}: TF variable `{name}` has no counterpart in the {arch} generator built from the static "
                "kwargs; the pickle's configuration is not supported."
            )
        key, transform = table[name]
        t = as_tensor(value, source=source, name=name)
        if transform == "check_zero":
            if t.numel() != 1 or float(t) != 0.0:
                raise CheckpointError(
                    f"{source}: `{name}` must be the scalar 0 (a finished network), "
                    f"but it is {t.flatten()[:4].tolist()} (shape {list(t.shape)})."
                )
            continue
        if key is None:
            continue
        expected_ndim = {"transpose": 2, "hwio": 4, "hwio_flip": 4, "noise": 4, "drop_batch": 4}.get(transform)
        if expected_ndim is not None and t.ndim != expected_ndim:
            raise CheckpointError(
                f"{source}: TF variable `{name}` must have {expected_ndim} dims, but has shape {list(t.shape)}."
            )
        if transform == "scalar" and t.numel() != 1:
            raise CheckpointError(f"{source}: TF variable `{name}` must be a scalar, but has shape {list(t.shape)}.")
        if not torch.isfinite(t).all():
            raise CheckpointError(
                f"{source}: TF variable `{name}` holds non-finite values (NaN or inf); the file is corrupt."
            )
        state[key] = _TRANSFORMS[transform](t).contiguous()
    return state

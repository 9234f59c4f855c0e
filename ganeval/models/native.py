"""The native checkpoint format: ``<name>.safetensors`` (weights) + ``<name>.json`` (config).

No pickle is involved: the weights are a flat safetensors map of the generator's state dict,
and the JSON file holds everything needed to rebuild the module::

    {
      "format": "ganeval-native", "format_version": 1,
      "arch_name": "stylegan",               # a key of ARCHITECTURES
      "init_kwargs": {...},                  # constructor arguments
      "weights": "<name>.safetensors", "sha256": "<hex of the weights file>",
      "num_params": 123, "w_avg": [...],     # w_avg duplicated for readers without torch
      "provenance": {...}                    # where the weights came from (free-form)
    }

Loading checks the sha256, rebuilds the class from :data:`ARCHITECTURES` and requires the state
dict keys and shapes to match exactly.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import os
from pathlib import Path
from typing import Any

import torch

from .._io import atomic_write
from .._validate import short_repr
from .._version import __version__
from ..devices import resolve_device
from ..errors import CheckpointError, ChecksumError, GanevalError, GanevalTypeError, UnsupportedGeneratorError
from ..weights import sha256_file
from ._state import load_state_exact
from .base import StyleGenerator

__all__ = [
    "ARCHITECTURES",
    "FORMAT",
    "FORMAT_VERSION",
    "architecture_class",
    "save_generator",
    "load_native",
    "read_config",
    "native_paths",
]

FORMAT = "ganeval-native"
FORMAT_VERSION = 1

#: arch_name -> "module:Class"; classes are imported only when used.
ARCHITECTURES: dict[str, str] = {
    "stylegan": "ganeval.models.stylegan:StyleGAN",
    "stylegan2": "ganeval.models.stylegan2:StyleGAN2",
    "stylegan3": "ganeval.models.stylegan3:StyleGAN3",
    "traditional": "ganeval.models.traditional:TraditionalGenerator",
}


def architecture_class(arch_name: str) -> type:
    """The generator class registered under ``arch_name``."""
    target = ARCHITECTURES.get(arch_name)
    if target is None:
        raise CheckpointError(
            f"Field `arch_name` must be one of {sorted(ARCHITECTURES)}, but the checkpoint says {arch_name!r}."
        )
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def native_paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``(weights, config)`` paths of a native pair given either file, the shared stem, or a
    directory holding exactly one pair."""
    p = Path(path)
    if p.is_dir():
        configs = sorted(c for c in p.glob("*.json") if c.with_suffix(".safetensors").exists())
        if len(configs) != 1:
            raise CheckpointError(
                f"Argument `path` must be a directory holding exactly one <name>.safetensors + <name>.json pair, "
                f"but {p} holds {len(configs)}."
            )
        p = configs[0]
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".safetensors"), p.with_name(p.name + ".json")


def save_generator(
    G: torch.nn.Module, path: str | os.PathLike[str], *, provenance: dict[str, Any] | None = None
) -> Path:
    """Save a ganeval generator in the native format; returns the weights path.

    Args:
        G: a generator with ``arch_name`` in :data:`ARCHITECTURES` and JSON-serialisable ``init_kwargs``.
        path: ``<name>.safetensors``, ``<name>.json`` or ``<name>``; both files are written
            (each atomically: temp file + rename; weights first, so a config never points at
            missing weights).
        provenance: recorded in the JSON (default: ``G.provenance`` when present).

    >>> from ganeval.models.stylegan import StyleGAN
    >>> G = StyleGAN(z_dim=16, w_dim=16, img_resolution=8, fmap_base=32, fmap_max=16)
    >>> import tempfile; d = tempfile.mkdtemp()
    >>> save_generator(G, f"{d}/tiny").name
    'tiny.safetensors'
    """
    from safetensors.torch import save_file

    arch = getattr(G, "arch_name", None)
    init_kwargs = getattr(G, "init_kwargs", None)
    if arch not in ARCHITECTURES or not isinstance(init_kwargs, dict):
        raise UnsupportedGeneratorError(
            f"Argument `G` must be a ganeval generator ({', '.join(sorted(ARCHITECTURES))}) with `init_kwargs`, "
            f"but got {type(G).__name__} (arch_name={arch!r})."
        )
    weights_path, config_path = native_paths(path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in G.state_dict().items()}
    atomic_write(weights_path, lambda tmp: save_file(tensors, tmp, metadata={"format": "pt", "ganeval": FORMAT}))
    w_avg = tensors.get("mapping.w_avg")
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "arch_name": arch,
        "init_kwargs": dict(init_kwargs),
        "weights": weights_path.name,
        "sha256": sha256_file(weights_path),
        "num_params": int(sum(p.numel() for p in G.parameters())),
        "w_avg": None if w_avg is None else [float(x) for x in w_avg.to(torch.float64)],
        "provenance": dict(provenance if provenance is not None else getattr(G, "provenance", {}) or {}),
        "ganeval_version": __version__,
    }
    try:
        text = json.dumps(config, indent=2, sort_keys=True)
    except TypeError as exc:
        raise GanevalTypeError(
            f"Argument `G` must have JSON-serialisable init_kwargs and provenance, but: {exc}"
        ) from None
    atomic_write(config_path, lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))
    return weights_path


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check the JSON config of a native pair (no weights are read)."""
    _, config_path = native_paths(path)
    if not config_path.exists():
        raise CheckpointError(f"Argument `path` must name a native checkpoint, but {config_path} does not exist.")
    try:
        if config_path.stat().st_size > _MAX_CONFIG_BYTES:
            raise CheckpointError(
                f"Native config {config_path} is larger than {_MAX_CONFIG_BYTES >> 20} MiB; it is not a ganeval config."
            )
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise CheckpointError(f"Native config {config_path} is not readable JSON: {reason}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f'File {config_path} must have "format": "{FORMAT}", but it does not.')
    if config.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"File {config_path} must have format_version {FORMAT_VERSION}, but got {config.get('format_version')!r}."
        )
    for key in ("arch_name", "init_kwargs", "sha256"):
        if key not in config:
            raise CheckpointError(f"Native config {config_path} must have the key {key!r}, but it is missing.")
    return config


_MAX_CONFIG_BYTES = 64 << 20
_MAX_DIM = 1 << 16  # no generator dimension (channels, z_dim, resolution, fmap_base) comes near this
_MAX_COUNT = 64  # layer counts (mapping_layers) and list lengths (channels per block)


def _kind(annotation: Any, default: Any) -> str:
    """The type family of a constructor argument from its annotation string (or its default)."""
    text = annotation if isinstance(annotation, str) else ""
    if "Sequence" in text or "list" in text or isinstance(default, (list, tuple)):
        return "sequence"
    for name in ("bool", "int", "float", "str"):
        if name in text.split(" | ")[0] or (not text and type(default).__name__ == name):
            return name
    return "any"


def _check_value(key: str, kind: str, allows_none: bool, allows_str: bool, v: Any, where: Path) -> None:
    """Raise a CheckpointError unless ``v`` fits ``kind`` and a sane size (checked before construction)."""
    from .._validate import is_int

    if (v is None and allows_none) or (isinstance(v, str) and allows_str):
        return
    bad = None
    if kind == "bool":
        bad = None if isinstance(v, bool) else "true or false"
    elif kind == "int":
        limit = _MAX_COUNT if "layers" in key else _MAX_DIM
        bad = None if is_int(v) and 0 <= v <= limit else f"an integer in [0, {limit}]"
    elif kind == "float":
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) <= 1e6
        bad = None if ok else "a finite number of magnitude <= 1e6"
    elif kind == "str":
        bad = None if isinstance(v, str) and len(v) <= 64 else "a short string"
    elif kind == "sequence":
        ok = (
            isinstance(v, list)
            and len(v) <= _MAX_COUNT
            and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and 0 <= x <= _MAX_DIM
                for x in v
            )
        )
        bad = None if ok else f"a list of at most {_MAX_COUNT} numbers in [0, {_MAX_DIM}]"
    if bad is not None:
        raise CheckpointError(
            f"Native config {where}: `init_kwargs.{key}` must be {bad}"
            f"{' or null' if allows_none else ''}, but got {short_repr(v)}."
        )


def _check_init_kwargs(cls: type, kwargs: dict[str, Any], where: Path) -> None:
    """Check every constructor argument's type and size against the class signature."""
    params = inspect.signature(cls).parameters
    for key, v in kwargs.items():
        p = params.get(key)
        if p is None or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or key == "self":
            raise CheckpointError(
                f"Native config {where}: `init_kwargs` has the unknown key {short_repr(key)}; "
                f"{cls.__name__} accepts {sorted(k for k in params if k != 'self')}."
            )
        text = p.annotation if isinstance(p.annotation, str) else ""
        _check_value(key, _kind(p.annotation, p.default), "None" in text, "str" in text.split(" | ")[1:], v, where)


def _construct(cls: type, kwargs: dict[str, Any], where: Path, *, meta: bool) -> StyleGenerator:
    try:
        if meta:
            with torch.device("meta"):
                return cls(**kwargs)
        return cls(**kwargs)
    except (TypeError, ValueError, ArithmeticError, IndexError, KeyError, GanevalError) as exc:
        raise CheckpointError(
            f"Native config {where} has init_kwargs that {cls.__name__} does not accept: {exc}"
        ) from None


def _check_size(expected: dict[str, torch.Tensor], path: Path) -> None:
    """Refuse a config whose architecture needs more bytes than the weights file holds (checked on
    the meta device, before the real construction allocates them)."""
    need = sum(t.numel() * t.element_size() for t in expected.values())
    have = path.stat().st_size
    if need > have:
        raise CheckpointError(
            f"Native config for {path.name} describes a generator of {need:,} bytes of weights, but "
            f"the weights file holds {have:,} bytes; the config does not belong to these weights."
        )


def _w_avg_field(value: Any, ref: torch.Tensor, where: Path) -> torch.Tensor:
    """The config's ``w_avg`` list as a tensor like ``ref``; CheckpointError when it is not one."""
    ok = (
        isinstance(value, list)
        and len(value) == ref.numel()
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value)
    )
    if not ok:
        raise CheckpointError(
            f"Field `w_avg` of {where.name} must be a list of {ref.numel()} numbers, but got {short_repr(value)}."
        )
    return torch.tensor(value, dtype=ref.dtype).reshape(ref.shape)


def load_native(path: str | os.PathLike[str], device: str | torch.device | None = None) -> StyleGenerator:
    """Load a native generator (eval mode, ``requires_grad`` off).

    Args:
        path: the ``.safetensors`` or ``.json`` file, their common stem, or a directory holding one pair.
        device: ``"auto" | "cpu" | "cuda[:N]"``; ``None`` means the CPU.

    Returns:
        the generator, with ``provenance = {"source", "format": "native", "sha256", "saved": {...}}``.

    Raises:
        ChecksumError: the weights file does not match the sha256 in the config.
        CheckpointError: unknown architecture, missing/unexpected keys or shape mismatches.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    weights_path, config_path = native_paths(path)
    config = read_config(config_path)
    dev = torch.device("cpu") if device is None else resolve_device(device)
    if not weights_path.exists():
        raise CheckpointError(f"Native weights {weights_path} (named by {config_path.name}) do not exist.")
    sha = sha256_file(weights_path)
    if sha != config["sha256"]:
        raise ChecksumError(
            f"Weights {weights_path} must have sha256 {config['sha256']} (from {config_path.name}), but got {sha}; "
            f"the file is corrupted or was replaced."
        )
    if not isinstance(config["arch_name"], str):
        raise CheckpointError(
            f"Field `arch_name` of {config_path} must be a string, but got {short_repr(config['arch_name'])}."
        )
    cls = architecture_class(config["arch_name"])
    kwargs = config.get("init_kwargs")
    if not isinstance(kwargs, dict):
        raise CheckpointError(
            f"Native config {config_path} must hold an `init_kwargs` object, but got {short_repr(kwargs)}."
        )
    _check_init_kwargs(cls, kwargs, config_path)
    # build on the meta device first (no memory): shapes are compared with the file's header
    # before anything is allocated, so a config claiming z_dim=10**7 costs nothing
    expected = _construct(cls, kwargs, config_path, meta=True).state_dict()
    _check_size(expected, weights_path)
    G = _construct(cls, kwargs, config_path, meta=False)
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"Native weights {weights_path} are not a readable safetensors file: {exc}") from None
    load_state_exact(G, state, source=f"Native weights {weights_path.name}")
    if config.get("w_avg") is not None and "mapping.w_avg" in state:
        stored = _w_avg_field(config["w_avg"], state["mapping.w_avg"], config_path)
        if not torch.equal(stored, state["mapping.w_avg"]):
            raise CheckpointError(f"Field `w_avg` of {config_path.name} disagrees with mapping.w_avg in the weights.")
    G.eval().requires_grad_(False)
    G.to(dev)
    saved = config.get("provenance") or {}
    if not isinstance(saved, dict):
        raise CheckpointError(
            f"Field `provenance` of {config_path.name} must be an object, but got {short_repr(saved)}."
        )
    G.provenance = {"source": str(weights_path), "format": "native", "sha256": sha, "saved": dict(saved)}
    return G

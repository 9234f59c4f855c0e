"""Load the generators people have, safely: one entry point, the format read from the content.

``load_generator(source)`` accepts

- NVIDIA TensorFlow network pickles: StyleGAN v1 (version 3) and StyleGAN2 (version 4) ``Gs``,
  read without TensorFlow (:mod:`.nvidia_tf`);
- stylegan2-ada-pytorch and stylegan3-repository training snapshots as their training loops
  pickle them (``G_ema``; bare class names, EasyDict kwargs, NumPy 1.x/2.x scalars, protocols
  3-5, conditional, any fp16 setting run in float32), read without NVIDIA's code; StyleGAN3
  (alias-free, T and R) generators too (:mod:`.nvidia_torch`, :mod:`.stylegan3_torch`);
- rosinality/stylegan2-pytorch checkpoints: train.py (with its ``argparse.Namespace``),
  convert_weight.py output, bare state dicts; zip or pre-1.6 format, also xz-compressed
  (:mod:`.rosinality`);
- bare stylegan2-ada state dicts (``.safetensors`` or ``torch.save``), config inferred from shapes;
- ganeval's native safetensors + JSON pairs (files or a directory, :mod:`ganeval.models.native`);
- generator names of :mod:`ganeval.registry`, such as ``zoo:shapes-stylegan`` or the NVIDIA
  weights entries (``stylegan2-ffhq-config-f``; files through :func:`ganeval.weights.resolve`).

Nothing from a file is ever executed: pickles go through :mod:`.safe_pickle`, ``torch.load`` runs
with ``weights_only=True`` (plus ``argparse.Namespace`` only). Sizes a file claims are checked
against bounds and the data actually present before anything is allocated (zip CRCs, legacy
storage headers, tensor views, init kwargs, xz expansion).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from ..models.base import StyleGenerator

__all__ = ["load_generator", "resolve_generator", "is_generator", "detect_format", "describe_producer"]


def detect_format(source: str | os.PathLike[str]) -> str:
    """The format name of a checkpoint file or directory (see :data:`ganeval.loaders.detect.FORMATS`)."""
    from .detect import detect_format as _detect

    return _detect(source)


def load_generator(source: str | os.PathLike[str], device: str | torch.device | None = None) -> StyleGenerator:
    """Load a generator from a checkpoint file, directory or registry name.

    Args:
        source: a path (format recognised from the content, not the name) or a registry name
            (e.g. ``"zoo:shapes-stylegan"``, ``"stylegan2-ffhq-config-f"``).
        device: ``"auto" | "cpu" | "cuda[:N]"``; ``None`` keeps it on the CPU.

    Returns:
        the generator in eval mode with ``requires_grad`` off, carrying ``provenance`` =
        ``{"source", "format", "sha256", ...}`` (``sha256`` of the file read; ``None`` for a
        directory); format-specific details (e.g. ``tf_version``, ``class_name``) are added.

    Raises:
        CheckpointError: unknown format, truncated/corrupt file, unsupported configuration,
            mismatched shapes; one line naming the file, what was expected and what was found.
        UnsafePickleError: a pickle names a global outside the allow-list (nothing was run).
        WeightsNotFoundError: the path does not exist and is not a registry name.
    """
    return _load_generator(source, device, "source")


def resolve_generator(source: Any, device: str | torch.device | None = None, *, argument: str = "G") -> Any:
    """The generator behind any source a public entry point accepts (every metric, the report and the CLI).

    Args:
        source: a loaded generator (any object with positive integer ``z_dim`` and
            ``img_resolution``, see :mod:`ganeval.models.base`), returned as it is (not moved);
            or a registry name (``"zoo:shapes-stylegan"``, ``"stylegan2-ffhq-config-f"``) or a
            checkpoint path (``str`` or ``os.PathLike``), loaded by :func:`load_generator` on ``device``.
        device: where a loaded source goes; ``None`` keeps it on the CPU.
        argument: the caller's argument name, used in error messages.

    Raises (the same type for the same mistake, whichever entry point was called):
        GanevalTypeError: neither a generator nor a name or path (a number, a dict, a module
            without ``z_dim``/``img_resolution``).
        WeightsNotFoundError: a name or path that is neither an existing path nor a registry name.
        CheckpointError: a file that is not a readable generator checkpoint.
    """
    if isinstance(source, (str, os.PathLike)):
        return _load_generator(source, device, argument)
    if not is_generator(source):
        from ..errors import GanevalTypeError

        raise GanevalTypeError(
            f"Argument `{argument}` must be a generator (an object with positive integer z_dim and img_resolution, "
            f"e.g. from ganeval.load_generator), a registry name or a checkpoint path, but got "
            f"{type(source).__name__}."
        )
    return source


def is_generator(obj: Any) -> bool:
    """True for an object with positive integer ``z_dim`` and ``img_resolution`` (NumPy integers count)."""
    import numpy as np

    return all(
        not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= 1
        for v in (getattr(obj, "z_dim", None), getattr(obj, "img_resolution", None))
    )


def _load_generator(source: str | os.PathLike[str], device: str | torch.device | None, argument: str) -> StyleGenerator:
    """:func:`load_generator`, naming the caller's ``argument`` in errors about the source."""
    import torch

    from ..devices import resolve_device

    registry_name, path = _resolve_source(source, argument)
    # building modules draws their (overwritten) init from torch's global RNG: keep the caller's stream
    with torch.random.fork_rng(devices=[]):
        G, ckpt, extra = _load(path)
    G.eval().requires_grad_(False)
    G.to(torch.device("cpu") if device is None else resolve_device(device))
    # native: the hash of the weights file (checked on load), whichever of the pair was named
    sha = G.provenance["sha256"] if ckpt.format == "native" else _sha256(ckpt.path)
    provenance: dict[str, Any] = {
        "source": str(source),
        "format": ckpt.format,
        "sha256": sha,
        "path": str(ckpt.path),
        "arch": getattr(G, "arch_name", type(G).__name__),
    }
    if registry_name is not None:
        provenance["registry"] = registry_name
    provenance.update(ckpt.extra)
    provenance.update(extra)
    G.provenance = provenance
    return G


def _load(path: Path) -> tuple[StyleGenerator, Any, dict[str, Any]]:
    """Read the checkpoint at ``path`` and build its generator: (G, the Checkpoint, provenance extras)."""
    from .detect import read_checkpoint

    ckpt = read_checkpoint(path)
    src = str(ckpt.path)
    G: StyleGenerator
    extra: dict[str, Any]
    if ckpt.format == "native":
        from ..models.native import load_native

        G = load_native(ckpt.payload)
        extra = {"saved": dict(getattr(G, "provenance", {}).get("saved") or {})}
    elif ckpt.format == "nvidia-tf-pickle":
        from .nvidia_tf import load_nvidia_tf_pickle

        G, extra = load_nvidia_tf_pickle(ckpt.payload, src)
    elif ckpt.format == "nvidia-torch-pickle":
        from .nvidia_torch import load_nvidia_torch_pickle

        G, extra = load_nvidia_torch_pickle(ckpt.payload, src)
    elif ckpt.format == "stylegan2-state-dict":
        from .nvidia_torch import stylegan2_from_state_dict

        G, extra = stylegan2_from_state_dict(ckpt.payload, src), {}
    else:  # "rosinality": any torch.save container
        from .rosinality import load_rosinality

        G, extra = load_rosinality(ckpt.payload, src)
        if extra.get("layout") == "stylegan2-ada state dict":
            ckpt.format = "stylegan2-state-dict"
    return G, ckpt, extra


def describe_producer(provenance: dict[str, Any]) -> tuple[str | None, str | None]:
    """(which producer wrote the file, the defaults that implies), from a loaded generator's
    provenance; ``(None, None)`` when the loader recorded nothing. A loader may also set
    ``producer_line`` / ``implied_defaults`` itself (used as given)."""
    fmt = provenance.get("format")
    line, defaults = provenance.get("producer_line"), provenance.get("implied_defaults")
    if fmt == "nvidia-torch-pickle" and "producer" in provenance:
        line = (
            f"{provenance['producer']} snapshot, {provenance.get('network')}, "
            f"protocol {provenance.get('pickle_protocol')} ({_python_for_protocol(provenance.get('pickle_protocol'))}"
            f"{', ' + provenance['numpy_writer'] if provenance.get('numpy_writer') else ''}, "
            f"persistence v{provenance.get('persistence_version')})"
        )
        defaults = (
            "truncation centre = the stored mapping.w_avg; noise_mode 'const' uses the stored noise_const "
            "buffers; " + str(provenance.get("precision", "float32")) + "; ganeval's call default is no "
            "truncation (psi 1)"
        )
    elif fmt == "rosinality" and "layout" in provenance:
        avg = provenance.get("w_avg", "")
        avg_text = (
            "latent_avg stored"
            if avg == "stored latent_avg"
            else "latent_avg " + avg.split(" (")[0]
            if avg
            else "no latent_avg"
        )
        line = f"rosinality {provenance['layout']} ({provenance.get('network')}; {avg_text})"
        if provenance.get("container"):
            line += f", {provenance['container']}"
        defaults = (
            "mapping lr multiplier 0.01 (lr_mlp, not stored); blur filter [1, 3, 3, 1]; truncation centre "
            f"{avg_text}; ganeval's call default is no truncation (psi 1)"
        )
    elif fmt == "nvidia-tf-pickle" and "producer" in provenance:
        from .nvidia_tf import describe

        line, defaults = (text.split(": ", 1)[1] for text in describe(provenance))
    elif fmt == "stylegan2-state-dict":
        line = "stylegan2-ada-pytorch G.state_dict() (bare state dict; config inferred from shapes)"
        defaults = "mapping lr multiplier 0.01 and no conv_clamp assumed (not stored in a state dict)"
    return line, defaults


def _python_for_protocol(protocol: Any) -> str:
    """Which Python's pickle.dump default writes ``protocol`` (NVIDIA's loops pass none)."""
    return {
        2: "Python 2 or an explicit protocol",
        3: "default of Python 3.0-3.7",
        4: "default of Python 3.8-3.13",
        5: "default of Python 3.14+ or explicit",
    }.get(protocol, "unknown")


def _resolve_source(source: str | os.PathLike[str], argument: str) -> tuple[str | None, Path]:
    """(registry name or None, local path). An existing path wins over a registry name."""
    from ..errors import GanevalTypeError, WeightsNotFoundError

    if not isinstance(source, (str, os.PathLike)):
        raise GanevalTypeError(
            f"Argument `{argument}` must be a path or a registry name, but got {type(source).__name__}."
        )
    path = Path(source).expanduser()
    if path.exists():
        return None, path
    if isinstance(source, os.PathLike):  # a path object is never a registry name
        raise WeightsNotFoundError(
            f"Argument `{argument}` must be an existing checkpoint path, but {str(source)!r} does not exist."
        )
    from .. import registry

    if not registry.has("generator", source):
        raise WeightsNotFoundError(
            f"Argument `{argument}` must be an existing checkpoint path or a registry name "
            f"(see `ganeval weights list`; generators: {', '.join(registry.names('generator'))}), "
            f"but {source!r} is neither."
        )
    return source, registry.create("generator", source)


def _sha256(path: Path) -> str | None:
    if not path.is_file():
        return None
    from ..weights import sha256_file

    return sha256_file(path)

"""Image sets for the distribution metrics: generators, folders, zips, arrays, statistics.

Every source yields uint8 RGB images ``[3, H, W]`` by index, so features can be computed in
any batch order and the result depends only on the set. Generators are quantised exactly as
the references do: ``(x * 127.5 + 128).clamp(0, 255).to(uint8)`` (round half up of
``(x + 1) * 127.5``).

Unreadable or truncated image files are skipped and counted (or raise with ``strict=True``);
grayscale, palette and RGBA images are converted to RGB and counted by original mode.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import registry
from .._validate import check_float_images, fmt_shape
from ..errors import GanevalValueError, NonFiniteOutputError
from .stats import FeatureStatistics

__all__ = [
    "IMAGE_EXTENSIONS",
    "ArraySource",
    "FolderSource",
    "GeneratorSource",
    "ImageSet",
    "LoadedBatch",
    "RenderedSource",
    "ZipSource",
    "open_source",
    "quantize",
]

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".webp")
MAX_IMAGE_BYTES = 256 << 20  # one encoded image; a 4096x4096 16-bit RGBA PNG is 128 MiB uncompressed


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Float images in [-1, 1] -> uint8 (same shape), as NVIDIA's metric code."""
    return (images * 127.5 + 128).clamp(0, 255).to(torch.uint8)


@dataclass
class LoadedBatch:
    """Images for a batch of indices: ``images[i]`` is uint8 ``[3, H, W]`` or ``None`` (unreadable).

    ``notes[i]`` is ``""`` or the original mode of a converted image (``"L"``, ``"RGBA"``, ...)
    or the reason an image was skipped.
    """

    images: list[torch.Tensor | None]
    notes: list[str] = field(default_factory=list)


class ImageSet:
    """A finite, indexable set of images. Subclasses set ``kind`` and ``spec``."""

    kind: str = "images"
    spec: str = ""

    def __len__(self) -> int:
        raise NotImplementedError

    def content_hash(self) -> str:
        """sha256 identifying the images (their bytes, or what determines them)."""
        raise NotImplementedError

    def load(self, indices: np.ndarray) -> LoadedBatch:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "spec": self.spec, "num_images": len(self)}


_WIDE_MODES = ("I;16", "I;16B", "I;16L", "I")  # 16-bit grayscale PNGs open as one of these


def _to_rgb8(im: Any) -> np.ndarray:
    """uint8 ``[H, W, 3]`` of a PIL image; 16-bit grayscale scaled to 8 bits by rounding ``v / 257``.

    (PIL's own ``convert("RGB")`` clips 16-bit values at 255, turning almost every image white.)
    """
    if im.mode in _WIDE_MODES:
        v = np.asarray(im).astype(np.int64)
        if v.min() < 0 or v.max() > 65535:
            raise ValueError(f"{im.mode} pixel values must lie in [0, 65535], but span [{v.min()}, {v.max()}]")
        gray = ((v * 255 + 32767) // 65535).astype(np.uint8)  # round(v * 255 / 65535) = round(v / 257)
        return np.repeat(gray[..., None], 3, axis=2)
    rgb = im.convert("RGB") if im.mode != "RGB" else im
    return np.asarray(rgb, dtype=np.uint8)


def _decode(data: bytes) -> tuple[torch.Tensor | None, str]:
    """Decode image bytes to uint8 ``[3, H, W]``; ``(None, reason)`` when unreadable."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()  # forces a full decode: truncated files fail here, not later
            mode = im.mode
            arr = _to_rgb8(im)
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, DecompressionBombError...
        return None, f"unreadable: {type(exc).__name__}: {exc}"
    return torch.from_numpy(arr.copy()).permute(2, 0, 1), ("" if mode == "RGB" else mode)


def _decode_file(path: Path) -> tuple[torch.Tensor | None, str]:
    """:func:`_decode` of a file, refusing (as unreadable) one too large to be an image."""
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            return None, f"unreadable: {size:,} bytes, more than {MAX_IMAGE_BYTES:,} for one image"
        data = path.read_bytes()
    except OSError as exc:  # removed or unreadable since the folder was listed
        return None, f"unreadable: {exc.strerror or exc}"
    return _decode(data)


class FolderSource(ImageSet):
    """Every PNG/JPEG/WebP file under a folder (recursive), in sorted relative-path order."""

    kind = "folder"

    def __init__(self, path: str | Path) -> None:
        self.root = Path(path)
        self.spec = str(self.root)
        self.files = sorted(p for p in self.root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        if not self.files:
            raise GanevalValueError(
                f"Folder {self.spec!r} holds no images (looked recursively for {', '.join(IMAGE_EXTENSIONS)})."
            )

    def __len__(self) -> int:
        return len(self.files)

    def content_hash(self) -> str:
        h = hashlib.sha256()
        for p in self.files:
            h.update(p.relative_to(self.root).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
        return h.hexdigest()

    def load(self, indices: np.ndarray) -> LoadedBatch:
        out = LoadedBatch([])
        for i in indices:
            img, note = _decode_file(self.files[int(i)])
            out.images.append(img)
            out.notes.append(f"{self.files[int(i)].name}: {note}" if img is None else note)
        return out


class ZipSource(ImageSet):
    """Every PNG/JPEG/WebP member of a zip archive (any depth), in sorted name order."""

    kind = "zip"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.spec = str(self.path)
        try:
            with zipfile.ZipFile(self.path) as zf:
                names = [n for n in zf.namelist() if Path(n).suffix.lower() in IMAGE_EXTENSIONS]
        except (zipfile.BadZipFile, OSError) as exc:
            raise GanevalValueError(f"Cannot read zip archive {self.spec!r}: {exc}") from exc
        self.names = sorted(names)
        if not self.names:
            raise GanevalValueError(f"Zip archive {self.spec!r} holds no PNG/JPEG/WebP images.")
        self._zip: zipfile.ZipFile | None = None

    def __len__(self) -> int:
        return len(self.names)

    def content_hash(self) -> str:
        h = hashlib.sha256()
        with open(self.path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    def load(self, indices: np.ndarray) -> LoadedBatch:
        if self._zip is None:
            self._zip = zipfile.ZipFile(self.path)
        out = LoadedBatch([])
        for i in indices:
            name = self.names[int(i)]
            try:
                size = self._zip.getinfo(name).file_size
                if size > MAX_IMAGE_BYTES:  # a zip bomb member: refused before inflating it
                    raise ValueError(f"it inflates to {size:,} bytes, more than {MAX_IMAGE_BYTES:,}")
                data = self._zip.read(name)
            except (zipfile.BadZipFile, OSError, ValueError) as exc:  # CRC errors, truncated archive
                out.images.append(None)
                out.notes.append(f"{name}: unreadable: {exc}")
                continue
            img, note = _decode(data)
            out.images.append(img)
            out.notes.append(f"{name}: {note}" if img is None else note)
        return out


class ArraySource(ImageSet):
    """A ``.npy`` array or the first array of an ``.npz``: uint8 ``[N, H, W, C]`` (C = 1, 3, 4) or ``[N, H, W]``."""

    kind = "array"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.spec = str(self.path)
        from .._npfile import npz_names, open_npy, read_npz

        if self.path.suffix.lower() == ".npy":
            arr = open_npy(self.path)
        else:
            names = npz_names(self.path)
            arr = read_npz(self.path, keys=("images" if "images" in names else names[0],)).popitem()[1]
        if arr.dtype != np.uint8 or arr.ndim not in (3, 4) or (arr.ndim == 4 and arr.shape[3] not in (1, 3, 4)):
            raise GanevalValueError(
                f"Array file {self.spec!r} must hold uint8 images [N, H, W, C] with C in (1, 3, 4) or [N, H, W], "
                f"but holds {arr.dtype} {list(arr.shape)}."
            )
        if 0 in arr.shape:
            raise GanevalValueError(f"Array file {self.spec!r} holds no images (shape {list(arr.shape)}).")
        self.array = arr
        self.mode = {3: "L"}.get(arr.ndim) or {1: "L", 3: "", 4: "RGBA"}[arr.shape[3]]

    def __len__(self) -> int:
        return int(self.array.shape[0])

    def content_hash(self) -> str:
        h = hashlib.sha256()
        with open(self.path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    def load(self, indices: np.ndarray) -> LoadedBatch:
        a = np.asarray(self.array[np.asarray(indices)])
        if a.ndim == 3:
            a = a[..., None]
        if a.shape[3] == 1:
            a = np.repeat(a, 3, axis=3)
        a = a[..., :3]  # RGBA: alpha dropped, as PIL's RGBA -> RGB conversion
        t = torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2)
        return LoadedBatch(list(t), [self.mode] * len(t))


class RenderedSource(ImageSet):
    """``num`` images of a procedural dataset ``render(indices, seed) -> (images [N, 3, H, W] in [-1, 1], ...)``,
    uint8-quantised; ``name`` is its registry name (e.g. the zoo's ``zoo:shapes``)."""

    def __init__(self, name: str, render: Callable[..., tuple[torch.Tensor, Any]], num: int, seed: int = 0) -> None:
        if num < 2:
            raise GanevalValueError(f"At least 2 images are needed, but `{name}` was asked for {num}.")
        self.kind, self.render = name, render
        self.num, self.seed = int(num), int(seed)
        self.spec = f"{name}:{self.num}"

    def __len__(self) -> int:
        return self.num

    def content_hash(self) -> str:
        # Renders are a pure function of (seed, index) and the renderer; hashing a probe of
        # renders detects a renderer change without rendering the whole set.
        probe = self.load(np.arange(16))
        h = hashlib.sha256(f"{self.kind}|{self.seed}|{self.num}".encode())
        for img in probe.images:
            if img is not None:
                h.update(img.numpy().tobytes())
        return h.hexdigest()

    def load(self, indices: np.ndarray) -> LoadedBatch:
        images, _ = self.render(np.asarray(indices, dtype=np.int64), seed=self.seed)
        q = quantize(images)
        return LoadedBatch(list(q), [""] * len(q))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "seed": self.seed}


class GeneratorSource(ImageSet):
    """``num`` samples of a generator; sample ``i`` depends only on ``(seed, i)``.

    z ~ N(0, I) from stream ``"z"``; labels (conditional generators) uniform from ``"label"``;
    noise maps per sample from ``"noise"`` when the generator exposes
    ``synthesis.noise_resolutions`` (ganeval's generators), else ``noise_mode="const"``.
    No truncation (psi = 1), as in every reference FID.
    """

    kind = "generator"

    def __init__(self, G: torch.nn.Module, num: int, *, seed: int = 0, device: torch.device | None = None) -> None:
        self.G, self.num, self.seed = G, int(num), int(seed)
        self.device = device if device is not None else next(G.parameters()).device
        prov = getattr(G, "provenance", {}) or {}
        self.spec = str(prov.get("source", type(G).__name__))
        self.sha256 = prov.get("sha256")
        self.noise_resolutions = getattr(getattr(G, "synthesis", None), "noise_resolutions", None)
        self.noise = "per-sample" if self.noise_resolutions is not None else "const"
        self.on_nan = "stop"  # or "skip": non-finite samples are then left out and counted

    def __len__(self) -> int:
        return self.num

    def content_hash(self) -> str:
        if self.sha256 is None:
            raise GanevalValueError(f"Generator {self.spec!r} has no weights hash; its samples cannot be cached.")
        key = f"generator|{self.sha256}|{self.seed}|{self.num}|{self.noise}"
        return hashlib.sha256(key.encode()).hexdigest()

    @torch.inference_mode()
    def generate(self, indices: np.ndarray) -> torch.Tensor:
        """uint8 ``[B, C, H, W]`` on the generator's device (non-finite samples: see :meth:`generate_checked`)."""
        return self.generate_checked(indices)[0]

    @torch.inference_mode()
    def generate_checked(self, indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 images ``[B, C, H, W]`` and a bool ``[B]`` mask of samples whose output was finite.

        With ``on_nan == "stop"`` a non-finite sample raises :class:`NonFiniteOutputError`
        naming how many and the first sample indices.
        """
        from .. import _seeding

        G: Any = self.G  # a generator module: z_dim, c_dim, mapping, synthesis (duck-typed, not typed by torch)
        idx = [int(i) for i in indices]
        z = _seeding.normal(self.seed, "z", idx, [G.z_dim]).to(self.device)
        c = None
        if getattr(G, "c_dim", 0):
            labels = _seeding.randint(self.seed, "label", idx, G.c_dim)
            c = torch.nn.functional.one_hot(labels, G.c_dim).float().to(self.device)
        if self.noise_resolutions is not None:
            ws = G.mapping(z, c)
            noise = []
            gens = [_seeding.torch_generator(self.seed, "noise", i) for i in idx]
            for r in self.noise_resolutions:
                noise.append(torch.stack([torch.randn(1, r, r, generator=g) for g in gens]).to(self.device))
            img = G.synthesis(ws, noise_mode="random", noise=noise)
        else:
            img = G(z, c, noise_mode="const")
        self._check_output(img, len(idx))
        finite = torch.isfinite(img.flatten(1)).all(1)
        if self.on_nan == "stop" and not bool(finite.all()):
            bad = [idx[j] for j in torch.nonzero(~finite).flatten().tolist()]
            raise NonFiniteOutputError(
                f"Generator {self.spec!r} produced {len(bad)} non-finite image(s) in this batch (first sample "
                f"indices: {bad[:10]}); pass on_nan='skip' (--on-nan skip) to leave them out."
            )
        return quantize(img), finite

    def _check_output(self, img: Any, n: int) -> None:
        """Refuse output that is not float images ``[n, C, H, W]`` (a generator returning 2N images,
        uint8/bool images or another rank would otherwise be silently misread)."""
        if not isinstance(img, torch.Tensor) or img.ndim != 4 or img.shape[0] != n:
            got = fmt_shape(img.shape) if isinstance(img, torch.Tensor) else type(img).__name__
            raise GanevalValueError(
                f"Generator {self.spec!r} must return images [{n}, C, H, W] for {n} latents, but returned {got}."
            )
        check_float_images(f"generator {self.spec!r} output", img)

    def load(self, indices: np.ndarray) -> LoadedBatch:
        q = self.generate(indices)
        return LoadedBatch(list(q), [""] * len(q))

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "seed": self.seed,
            "noise": self.noise,
            "truncation_psi": 1.0,
            "sha256": self.sha256,
        }


def _npz_is_stats(path: Path) -> bool:
    from .._npfile import npz_names

    names = npz_names(path)
    return "mu" in names and "sigma" in names


def _dataset(spec: str, role: str, num_samples: int) -> ImageSet | None:
    """The registered dataset ``spec`` names (``<name>`` or ``<name>:N``), else ``None``."""
    if registry.has("dataset", spec):
        return registry.create("dataset", spec, num_samples, 0)
    name, _, tail = spec.rpartition(":")
    if not registry.has("dataset", name):
        return None
    if not tail.isdigit():
        raise GanevalValueError(f"Argument `{role}` {spec!r} must be {name} or {name}:N with an integer N.")
    return registry.create("dataset", name, int(tail), 0)


def open_source(
    source: Any, *, role: str, num_samples: int, seed: int = 0, device: torch.device | None = None
) -> ImageSet | FeatureStatistics:
    """Turn a user spec into an image set or precomputed statistics.

    Args:
        source: a loaded generator, :class:`FeatureStatistics`, :class:`ImageSet`, or a string /
            path: a registered dataset name (e.g. ``zoo:shapes``: ``num_samples`` renders) or ``<name>:N``,
            a folder, ``.zip``, ``.npy``, ``.npz`` (images, or ``mu``/``sigma`` statistics), ``.pkl``
            (statistics for ``role="real"``, a generator otherwise), or any other generator source: a
            registry name or checkpoint (:func:`ganeval.loaders.resolve_generator`, which raises for a
            name that is neither an existing path nor a registered name).
        role: ``"generated"`` or ``"real"`` (decides what an ambiguous ``.pkl`` is).
        num_samples: samples drawn from a generator (and images of a dataset named without ``:N``).
        seed: seed of generator samples (real sets ignore it).
    """
    from ..loaders import resolve_generator

    if isinstance(source, (ImageSet, FeatureStatistics)):
        return source
    if not isinstance(source, (str, os.PathLike)):  # a loaded generator, or a type error naming the sources
        return GeneratorSource(resolve_generator(source, argument=role), num_samples, seed=seed, device=device)
    spec = str(source)
    if not spec.strip() or "\0" in spec:
        raise GanevalValueError(
            f"Argument `{role}` must name a generator, image set or statistics file, but got {spec!r}."
        )
    dataset = _dataset(spec, role, num_samples)
    if dataset is not None:
        return dataset
    path = Path(spec).expanduser()
    if not spec.startswith("zoo:"):
        if path.is_dir():
            return FolderSource(path)
        if not path.exists() and role == "real":
            raise GanevalValueError(f"Argument `{role}` names {spec!r}, which does not exist.")
        if not path.exists():  # a registry name, or the resolver's error for a missing generator
            return GeneratorSource(
                resolve_generator(spec, device, argument=role), num_samples, seed=seed, device=device
            )
        if not path.is_file():  # a FIFO or device would block or never end
            raise GanevalValueError(f"Argument `{role}` names {spec!r}, which is neither a folder nor a regular file.")
        suffix = path.suffix.lower()
        if suffix == ".zip":
            return ZipSource(path)
        if suffix == ".npy":
            return ArraySource(path)
        if suffix == ".npz":
            return FeatureStatistics.load(path) if _npz_is_stats(path) else ArraySource(path)
        if suffix in (".pkl", ".pickle") and role == "real":
            return FeatureStatistics.load(path)
    return GeneratorSource(resolve_generator(spec, device, argument=role), num_samples, seed=seed, device=device)

"""The typed registry entry: one downloadable or packaged weights file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GanevalTypeError, GanevalValueError

__all__ = ["WeightsEntry", "KINDS", "FORMATS", "check_name"]

#: What a file is used for. ``distance`` is a full image distance (zoo); ``lpips`` the LPIPS
#: networks or their linear weights; ``backbone`` ImageNet feature networks.
KINDS: tuple[str, ...] = ("generator", "lpips", "backbone", "inception", "classifier", "distance", "other")

#: How the file is stored, so a loader knows what it will find inside without opening it.
FORMATS: tuple[str, ...] = (
    "nvidia-tf-pickle",  # dnnlib.tflib Network pickle (StyleGAN v1, StyleGAN2 TF, TF metric nets)
    "nvidia-torch-pickle",  # stylegan2-ada-pytorch / StyleGAN3 pickle with persistence-wrapped modules
    "torchscript",  # torch.jit archive (NVIDIA's vgg16.pt, inception-2015-12-05.pt)
    "state-dict",  # plain torch.save of a state dict (load with weights_only=True)
    "native",  # ganeval's safetensors + JSON card
    "safetensors",
    "other",
)

_NAME_RE = re.compile(r"^(zoo:)?[a-z0-9][a-z0-9._-]{0,99}$")
_HEX_RE = re.compile(r"^[0-9a-f]{8,64}$")


def check_name(name: object) -> str:
    """Return ``name`` if it is a valid registry name (lower-case ``[a-z0-9._-]``, optional ``zoo:``)."""
    if not isinstance(name, str):
        raise GanevalTypeError(f"Argument `name` must be a string, but got {type(name).__name__}.")
    if not _NAME_RE.match(name):
        raise GanevalValueError(
            "Argument `name` must be lower-case letters, digits, '.', '_' or '-' (at most 100, "
            f"optionally prefixed 'zoo:'), but got {name!r}."
        )
    return name


@dataclass(frozen=True)
class WeightsEntry:
    """One weights file known to the registry.

    Attributes:
        name: registry name, e.g. ``"stylegan2-ffhq-config-f"``; zoo entries start with ``"zoo:"``.
        kind: one of :data:`KINDS`.
        filename: file name in the cache (``<cache root>/weights/<filename>``); unique per registry.
        urls: download URLs, tried in order; empty for packaged (zoo) entries.
        sha256: lower-case hex digest published by the source. A shorter hex string (>= 8 digits) is
            a published *prefix* (torch.hub file names embed the first 8 digits); ``None`` when the
            source publishes no hash: then the digest is recorded at first download and enforced on
            every later use.
        size: file size in bytes when known (checked when no full sha256 is known).
        licence: licence of the weights as stated by the source.
        source: where the URL and facts come from (repository file or README) and what to cite.
        description: one line for ``ganeval weights list``.
        format: one of :data:`FORMATS`.
        packaged_path: for zoo entries, the file shipped inside the installed package.
        package_file: ``(python package, relative path)`` of an identical copy that a pip package
            installs (e.g. the ``lpips`` package ships its linear weights); used before any download
            when the package is importable and the copy matches ``sha256``.
    """

    name: str
    kind: str
    filename: str
    urls: tuple[str, ...] = ()
    sha256: str | None = None
    size: int | None = None
    licence: str = "unknown"
    source: str = ""
    description: str = ""
    format: str = "other"
    packaged_path: Path | None = None
    package_file: tuple[str, str] | None = field(default=None)

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.kind not in KINDS:
            raise GanevalValueError(
                f"Argument `kind` of weights entry {self.name!r} must be one of {', '.join(KINDS)}, "
                f"but got {self.kind!r}."
            )
        if self.format not in FORMATS:
            raise GanevalValueError(
                f"Argument `format` of weights entry {self.name!r} must be one of {', '.join(FORMATS)}, "
                f"but got {self.format!r}."
            )
        if not self.filename or Path(self.filename).name != self.filename or self.filename.startswith("."):
            raise GanevalValueError(
                f"Argument `filename` of weights entry {self.name!r} must be a plain file name "
                f"(no folders, not hidden), but got {self.filename!r}."
            )
        # urls may be passed as a list; store a tuple so the entry stays hashable and immutable.
        object.__setattr__(self, "urls", tuple(self.urls))
        for url in self.urls:
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise GanevalValueError(
                    f"Argument `urls` of weights entry {self.name!r} must hold http(s) URLs, but got {url!r}."
                )
        if self.sha256 is not None:
            sha = self.sha256.lower()
            if not _HEX_RE.match(sha):
                raise GanevalValueError(
                    f"Argument `sha256` of weights entry {self.name!r} must be 8 to 64 hex digits, "
                    f"but got {self.sha256!r}."
                )
            object.__setattr__(self, "sha256", sha)
        if self.size is not None and (isinstance(self.size, bool) or not isinstance(self.size, int) or self.size <= 0):
            raise GanevalValueError(
                f"Argument `size` of weights entry {self.name!r} must be a positive integer, but got {self.size!r}."
            )
        if self.is_zoo and self.packaged_path is None:
            raise GanevalValueError(f"Zoo entry {self.name!r} must have a `packaged_path`, but got None.")
        if not self.is_zoo and not self.urls and self.packaged_path is None:
            raise GanevalValueError(
                f"Weights entry {self.name!r} must have at least one URL or a `packaged_path`, but got neither."
            )

    @property
    def is_zoo(self) -> bool:
        """True for the embedded models shipped in ``ganeval._pretrained``."""
        return self.name.startswith("zoo:")

    @property
    def sha256_is_prefix(self) -> bool:
        """True when only a prefix of the digest is published (checked with ``startswith``)."""
        return self.sha256 is not None and len(self.sha256) < 64

    @property
    def integrity(self) -> str:
        """How the file is checked, for listings: ``sha256``, ``sha256-prefix+recorded`` or ``recorded``."""
        if self.sha256 is None:
            return "size+recorded" if self.size is not None else "recorded"
        return "sha256-prefix+recorded" if self.sha256_is_prefix else "sha256"

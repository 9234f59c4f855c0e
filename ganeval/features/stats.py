"""Feature statistics: streamed float64 moments, npz/pickle files, and the content-keyed cache.

Files read: ganeval's and pytorch-fid's / clean-fid's ``.npz`` (keys ``mu``, ``sigma``),
NVIDIA's cached ``FeatureStats`` pickles (a dict with ``raw_mean`` = sum of features,
``raw_cov`` = sum of outer products, ``num_items``; read through the safe unpickler) and
StyleGAN v1's ``(mu, sigma)`` pickles. Files written: ``.npz`` with ``mu`` ``[F]`` and
``sigma`` ``[F, F]`` (float64, readable by pytorch-fid) plus ``num_items``, ``ddof`` and a JSON
``meta`` string; always written to a temporary file first and renamed, so a failed run never
leaves a partial file behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CheckpointError, GanevalValueError

__all__ = ["FeatureStatistics", "StreamingMoments", "cache_key", "cache_path", "atomic_write"]


@dataclass
class FeatureStatistics:
    """Mean and covariance of a feature set.

    Attributes:
        mu: float64 ``[F]``.
        sigma: float64 ``[F, F]``; normalised by ``num_items - ddof``.
        num_items: number of feature vectors (0 when the file does not say).
        ddof: 1 for the unbiased covariance (``np.cov``, pytorch-fid, StyleGAN v1), 0 for the
            population covariance (NVIDIA's ``FeatureStats``).
        meta: provenance (extractor, weight hash, protocol, source hash, ...).
    """

    mu: np.ndarray
    sigma: np.ndarray
    num_items: int = 0
    ddof: int = 1
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.mu.shape[0])

    def save(self, path: str | Path) -> Path:
        """Write an ``.npz`` atomically (pytorch-fid layout plus ganeval's extra keys)."""
        path = Path(path)
        if path.suffix != ".npz":
            raise GanevalValueError(f"Argument `path` must end in '.npz', but got {str(path)!r}.")

        def write(f: Any) -> None:
            np.savez(f, mu=self.mu, sigma=self.sigma, num_items=np.int64(self.num_items),
                     ddof=np.int64(self.ddof), meta=np.array(json.dumps(self.meta, default=str)))

        atomic_write(path, write)
        return path

    @classmethod
    def load(cls, path: str | Path) -> FeatureStatistics:
        """Read ganeval/pytorch-fid/clean-fid ``.npz`` or NVIDIA/StyleGAN ``.pkl`` statistics."""
        path = Path(path)
        if not path.is_file():
            raise GanevalValueError(f"Statistics file {str(path)!r} does not exist.")
        if path.suffix == ".npz":
            return cls._load_npz(path)
        if path.suffix in (".pkl", ".pickle"):
            return cls._load_pickle(path)
        raise GanevalValueError(f"Statistics file {str(path)!r} must be a .npz or .pkl file.")

    @classmethod
    def _load_npz(cls, path: Path) -> FeatureStatistics:
        try:
            with np.load(path, allow_pickle=False) as f:
                keys = set(f.files)
                if not {"mu", "sigma"} <= keys:
                    raise GanevalValueError(
                        f"Statistics file {str(path)!r} must hold arrays 'mu' and 'sigma', but holds {sorted(keys)}.")
                mu, sigma = f["mu"].astype(np.float64), f["sigma"].astype(np.float64)
                n = int(f["num_items"]) if "num_items" in keys else 0
                ddof = int(f["ddof"]) if "ddof" in keys else 1
                meta = json.loads(str(f["meta"])) if "meta" in keys else {"format": "npz mu/sigma"}
        except (OSError, ValueError, EOFError) as exc:
            if isinstance(exc, GanevalValueError):
                raise
            raise CheckpointError(f"Cannot read statistics file {str(path)!r}: {exc}") from exc
        return cls._checked(mu, sigma, n, ddof, meta, path)

    @classmethod
    def _load_pickle(cls, path: Path) -> FeatureStatistics:
        from ..loaders.safe_pickle import safe_load

        obj = safe_load(path)
        if isinstance(obj, (tuple, list)) and len(obj) == 2:  # StyleGAN v1 cache: (mu, np.cov sigma)
            return cls._checked(np.asarray(obj[0], np.float64), np.asarray(obj[1], np.float64), 0, 1,
                                {"format": "stylegan-v1 pickle"}, path)
        if not isinstance(obj, dict) or "num_items" not in obj:
            raise GanevalValueError(
                f"Statistics pickle {str(path)!r} is neither NVIDIA FeatureStats nor a (mu, sigma) pair.")
        n = int(obj["num_items"])
        if n < 2:
            raise GanevalValueError(f"Statistics pickle {str(path)!r} holds {n} item(s); at least 2 are needed.")
        if obj.get("raw_mean") is not None and obj.get("raw_cov") is not None:
            mu = np.asarray(obj["raw_mean"], np.float64) / n
            sigma = np.asarray(obj["raw_cov"], np.float64) / n - np.outer(mu, mu)
            ddof = 0
        elif obj.get("all_features"):
            feats = np.concatenate([np.asarray(a, np.float64) for a in obj["all_features"]])[:n]
            mu, sigma, ddof = feats.mean(0), np.cov(feats, rowvar=False), 1
        else:
            raise GanevalValueError(f"Statistics pickle {str(path)!r} holds neither moments nor features.")
        return cls._checked(mu, sigma, n, ddof, {"format": "nvidia FeatureStats pickle"}, path)

    @classmethod
    def _checked(cls, mu: np.ndarray, sigma: np.ndarray, n: int, ddof: int, meta: dict[str, Any],
                 path: Path) -> FeatureStatistics:
        if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
            raise GanevalValueError(
                f"Statistics file {str(path)!r} has mu {list(mu.shape)} and sigma {list(sigma.shape)}; "
                "expected [F] and [F, F].")
        meta = dict(meta)
        meta.setdefault("file", str(path))
        return cls(mu=mu, sigma=sigma, num_items=n, ddof=ddof, meta=meta)


class StreamingMoments:
    """Running float64 mean and covariance of feature rows; memory ``O(F^2)`` whatever N.

    Sums are taken around a shift (the first batch's mean) so the covariance does not lose
    digits to cancellation when the mean is large relative to the spread.
    """

    def __init__(self, dim: int) -> None:
        self.dim = int(dim)
        self.n = 0
        self._shift: np.ndarray | None = None
        self._sum = np.zeros(self.dim, np.float64)
        self._xtx = np.zeros((self.dim, self.dim), np.float64)

    def update(self, features: np.ndarray) -> None:
        """Add rows ``[B, F]`` (any float dtype)."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise GanevalValueError(f"Argument `features` must have shape [B, {self.dim}], but got {list(x.shape)}.")
        if not len(x):
            return
        if self._shift is None:
            self._shift = x.mean(axis=0)
        x = x - self._shift
        self.n += len(x)
        self._sum += x.sum(axis=0)
        self._xtx += x.T @ x

    def finalize(self, *, ddof: int = 1, meta: dict[str, Any] | None = None) -> FeatureStatistics:
        """Mean and covariance (normalised by ``n - ddof``); at least 2 rows are needed."""
        if self.n < 2:
            raise GanevalValueError(f"At least 2 images are needed for feature statistics, but got {self.n}.")
        shifted_mean = self._sum / self.n
        cov = (self._xtx - self.n * np.outer(shifted_mean, shifted_mean)) / (self.n - ddof)
        shift = self._shift if self._shift is not None else 0.0
        return FeatureStatistics(mu=shifted_mean + shift, sigma=0.5 * (cov + cov.T), num_items=self.n,
                                 ddof=ddof, meta=dict(meta or {}))


def cache_key(*, content_hash: str, extractor: str, weights_sha256: str | None, protocol: str,
              num_items: int, ddof: int = 1) -> str:
    """sha256 of everything that changes the statistics of an image set."""
    payload = {"content": content_hash, "extractor": extractor, "weights": weights_sha256 or "",
               "protocol": protocol, "num_items": int(num_items), "ddof": int(ddof), "format": 1}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def cache_path(key: str, cache_dir: str | Path | None = None) -> Path:
    """``<cache root>/stats/<key>.npz`` (cache root from :func:`ganeval.weights.cache_root`)."""
    if cache_dir is None:
        root = _cache_root()
        return root / "stats" / f"{key}.npz"
    return Path(cache_dir) / f"{key}.npz"


def _cache_root() -> Path:
    try:
        from ..weights import cache_root
    except ImportError:  # the registry module not installed in this checkout
        env = os.environ.get("GANEVAL_HOME")
        return Path(env) if env else Path.home() / ".cache" / "ganeval"
    return Path(cache_root())


def atomic_write(path: Path, write: Any) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

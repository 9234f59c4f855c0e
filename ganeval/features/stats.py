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

from .._io import file_mode
from .._validate import check_positive_int, is_int, short_repr
from ..errors import CheckpointError, GanevalValueError, OutputError

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
        meta: provenance (extractor, weight hash, resize mode, source hash, ...).
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
        if path.suffix.lower() != ".npz":
            raise GanevalValueError(f"Argument `path` must end in '.npz', but got {str(path)!r}.")

        meta = {**self.meta, "content_sha256": content_checksum(self.mu, self.sigma)}

        def write(f: Any) -> None:
            np.savez(
                f,
                mu=self.mu,
                sigma=self.sigma,
                num_items=np.int64(self.num_items),
                ddof=np.int64(self.ddof),
                meta=np.array(json.dumps(meta, default=str)),
            )

        try:
            atomic_write(path, write)
        except OSError as exc:
            raise OutputError(
                f"Cannot write statistics file {str(path)!r} ({exc.strerror or exc}); choose a writable path."
            ) from None
        return path

    @classmethod
    def load(cls, path: str | Path) -> FeatureStatistics:
        """Read ganeval/pytorch-fid/clean-fid ``.npz`` or NVIDIA/StyleGAN ``.pkl`` statistics."""
        path = Path(path)
        if not path.is_file():
            raise GanevalValueError(f"Statistics file {str(path)!r} does not exist (or is not a file).")
        if path.suffix.lower() == ".npz":
            return cls._load_npz(path)
        if path.suffix.lower() in (".pkl", ".pickle"):
            return cls._load_pickle(path)
        raise GanevalValueError(f"Statistics file {str(path)!r} must be a .npz or .pkl file.")

    @classmethod
    def _load_npz(cls, path: Path) -> FeatureStatistics:
        from .._npfile import read_npz

        if path.stat().st_size == 0:
            raise CheckpointError(
                f"Cannot read statistics file {str(path)!r}: it is empty (0 bytes); recompute it with `ganeval stats`."
            )
        f = read_npz(path, keys=("mu", "sigma", "num_items", "ddof", "meta"), max_bytes=_MAX_STATS_BYTES)
        if not {"mu", "sigma"} <= set(f):
            raise GanevalValueError(
                f"Statistics file {str(path)!r} must hold arrays 'mu' and 'sigma', but holds {sorted(f)}."
            )
        mu, sigma = _float_array(f["mu"], "mu", path), _float_array(f["sigma"], "sigma", path)
        n = _int_field(f["num_items"], "num_items", path) if "num_items" in f else 0
        ddof = _int_field(f["ddof"], "ddof", path) if "ddof" in f else 1
        meta = _meta_field(f["meta"], path) if "meta" in f else {"format": "npz mu/sigma"}
        return cls._checked(mu, sigma, n, ddof, meta, path)

    @classmethod
    def _load_pickle(cls, path: Path) -> FeatureStatistics:
        from ..loaders.safe_pickle import safe_load

        try:
            obj = safe_load(path)
        except (OverflowError, RecursionError, MemoryError) as exc:  # a pickle declaring absurd sizes or depth
            raise CheckpointError(
                f"Cannot read statistics pickle {str(path)!r}: {type(exc).__name__}: {short_repr(str(exc), 120)}"
            ) from None
        if isinstance(obj, (tuple, list)) and len(obj) == 2:  # StyleGAN v1 cache: (mu, np.cov sigma)
            return cls._checked(
                _float_array(obj[0], "mu", path),
                _float_array(obj[1], "sigma", path),
                0,
                1,
                {"format": "stylegan-v1 pickle"},
                path,
            )
        if not isinstance(obj, dict) or "num_items" not in obj:
            raise GanevalValueError(
                f"Statistics pickle {str(path)!r} is neither NVIDIA FeatureStats nor a (mu, sigma) pair."
            )
        n = _int_field(obj["num_items"], "num_items", path)
        if n < 2:
            raise GanevalValueError(f"Statistics pickle {str(path)!r} holds {n} item(s); at least 2 are needed.")
        if obj.get("raw_mean") is not None and obj.get("raw_cov") is not None:
            mu = _float_array(obj["raw_mean"], "raw_mean", path) / n
            sigma = _float_array(obj["raw_cov"], "raw_cov", path) / n
            if mu.ndim == 1 and sigma.shape == (len(mu), len(mu)):
                sigma = sigma - np.outer(mu, mu)
            ddof = 0
        elif obj.get("all_features"):
            feats = obj["all_features"]
            if not isinstance(feats, (list, tuple)):
                raise CheckpointError(
                    f"Statistics pickle {str(path)!r}: 'all_features' must be a list of arrays, "
                    f"but is {type(feats).__name__}."
                )
            rows = [_float_array(a, "all_features", path) for a in feats]
            if any(r.ndim != 2 or r.shape[1] != rows[0].shape[1] for r in rows):
                raise CheckpointError(
                    f"Statistics pickle {str(path)!r}: 'all_features' must hold [N, F] arrays of one width."
                )
            x = np.concatenate(rows)[:n]
            if len(x) < 2:
                raise CheckpointError(
                    f"Statistics pickle {str(path)!r} holds {len(x)} feature row(s); at least 2 are needed."
                )
            mu, sigma, ddof = x.mean(0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1]), 1
        else:
            raise GanevalValueError(f"Statistics pickle {str(path)!r} holds neither moments nor features.")
        return cls._checked(mu, sigma, n, ddof, {"format": "nvidia FeatureStats pickle"}, path)

    @classmethod
    def _checked(
        cls, mu: np.ndarray, sigma: np.ndarray, n: int, ddof: int, meta: dict[str, Any], path: Path
    ) -> FeatureStatistics:
        """Refuse statistics that cannot be a feature set's mean and covariance (cheap checks; the
        Fréchet step checks positive semi-definiteness on its own eigenvalues)."""
        where = f"Statistics file {str(path)!r}"
        if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
            raise GanevalValueError(
                f"{where} has mu {list(mu.shape)} and sigma {list(sigma.shape)}; expected [F] and [F, F]."
            )
        if mu.shape[0] == 0:
            raise GanevalValueError(f"{where} holds 0-dimensional features (mu []); it is empty.")
        if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
            raise GanevalValueError(f"{where} holds NaN or Inf values; recompute it.")
        big = max(float(np.abs(mu).max()), float(np.abs(sigma).max()))
        if big > _MAX_STAT_VALUE:
            raise GanevalValueError(
                f"{where} holds values up to {big:.3g}, beyond any feature statistics "
                f"(limit {_MAX_STAT_VALUE:g}); recompute it."
            )
        if float(np.abs(sigma - sigma.T).max()) > 1e-5 * max(big, 1e-300) or (np.diag(sigma) < 0).any():
            raise GanevalValueError(
                f"{where}: sigma is not a covariance matrix (asymmetric or with negative variances); recompute it."
            )
        if n < 0 or n == 1 or ddof not in (0, 1):
            raise GanevalValueError(
                f"{where} holds num_items={n}, ddof={ddof}; expected num_items 0 (unknown) or >= 2 and ddof 0 or 1."
            )
        _verify_checksum(mu, sigma, meta, where)
        meta = dict(meta)
        meta.setdefault("file", str(path))
        return cls(mu=mu, sigma=sigma, num_items=n, ddof=ddof, meta=meta)


MAX_FEATURE_DIM = 32768  # a [F, F] float64 covariance of 8 GiB; the FID Inception's features are 2048-d
_MAX_STATS_BYTES = 8 << 30  # sigma of 32768-d features; Inception's is 2048-d (32 MiB)
_MAX_STAT_VALUE = 1e100  # beyond this, the Fréchet terms overflow float64


def _float_array(a: Any, name: str, path: Path) -> np.ndarray:
    """``a`` as a float64 array; a CheckpointError naming the field when it is not numeric."""
    if isinstance(a, np.ndarray) and a.dtype.kind not in "iuf":
        raise CheckpointError(
            f"Statistics file {str(path)!r}: {name!r} must be a numeric array, but has dtype {a.dtype}."
        )
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            f"Statistics file {str(path)!r}: {name!r} must be a numeric array, but got {type(a).__name__} ({exc})."
        ) from None


def _int_field(v: Any, name: str, path: Path) -> int:
    """An integer field (a Python/NumPy int or a 0-d integer array); CheckpointError otherwise."""
    if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "iu":
        v = v.item()
    if not is_int(v):
        raise CheckpointError(f"Statistics file {str(path)!r}: {name!r} must be an integer, but got {short_repr(v)}.")
    return int(v)


def _meta_field(v: np.ndarray, path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(str(v)) if v.dtype.kind == "U" and v.ndim == 0 else None
    except (ValueError, RecursionError):
        meta = None
    if not isinstance(meta, dict):
        raise CheckpointError(f"Statistics file {str(path)!r}: 'meta' must be a JSON object string, but is not.")
    return meta


def content_checksum(mu: np.ndarray, sigma: np.ndarray) -> str:
    """sha256 of float64 ``mu`` and ``sigma`` (recorded in written files, verified when read)."""
    h = hashlib.sha256(np.ascontiguousarray(mu, np.float64).tobytes())
    h.update(np.ascontiguousarray(sigma, np.float64).tobytes())
    return h.hexdigest()


def _verify_checksum(mu: np.ndarray, sigma: np.ndarray, meta: dict[str, Any], where: str) -> None:
    want = meta.get("content_sha256")
    if want is not None and want != content_checksum(mu, sigma):
        raise CheckpointError(
            f"{where} was modified after ganeval wrote it (its checksum does not match its contents); recompute it."
        )


class StreamingMoments:
    """Running float64 mean and covariance of feature rows; memory ``O(F^2)`` whatever N.

    Sums are taken around a shift (the first batch's mean) so the covariance does not lose
    digits to cancellation when the mean is large relative to the spread.
    """

    def __init__(self, dim: int) -> None:
        self.dim = check_positive_int("dim", dim, maximum=MAX_FEATURE_DIM)  # before allocating dim^2 floats
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
        if not np.isfinite(x).all():
            raise GanevalValueError(
                f"Argument `features` must be finite, but {int((~np.isfinite(x)).any(1).sum())} "
                "row(s) hold NaN or Inf (the extractor's output)."
            )
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
        return FeatureStatistics(
            mu=shifted_mean + shift, sigma=0.5 * (cov + cov.T), num_items=self.n, ddof=ddof, meta=dict(meta or {})
        )


def cache_key(
    *, content_hash: str, extractor: str, weights_sha256: str | None, resize: str, num_items: int, ddof: int = 1
) -> str:
    """sha256 of everything that changes the statistics of an image set."""
    # the resize mode is hashed under its name up to 0.1.0, "protocol", so existing caches stay valid
    payload = {
        "content": content_hash,
        "extractor": extractor,
        "weights": weights_sha256 or "",
        "protocol": resize,
        "num_items": int(num_items),
        "ddof": int(ddof),
        "format": 1,
    }
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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, file_mode())  # the mode a plain write gives (umask), not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

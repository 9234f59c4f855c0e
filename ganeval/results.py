"""Result objects shared by every metric, and the provenance every result records.

A result is a frozen dataclass holding the value, its uncertainty, the per-sample data, the
resolved configuration and the provenance (seed, weight hashes, versions, device, wall time).
It turns into a pandas DataFrame (``to_frame``), a plain dict (``to_dict``) and one JSON line
in the spirit of stylegan2-ada's ``metric-*.jsonl`` (``to_json_line``).
"""

from __future__ import annotations

import json
import math
import platform
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["MetricResult", "collect_provenance", "format_time", "to_jsonable"]


def format_time(seconds: float) -> str:
    """Human-readable duration: ``"42s"``, ``"3m 05s"``, ``"1h 02m 03s"``, ``"2d 03h 04m"``."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {(s // 60) % 60:02d}m {s % 60:02d}s"
    return f"{s // 86400}d {(s // 3600) % 24:02d}h {(s // 60) % 60:02d}m"


def to_jsonable(obj: Any) -> Any:
    """Recursively convert numpy/torch scalars, arrays, tuples and paths to JSON-friendly values."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "__fspath__"):
        return str(obj)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def collect_provenance(*, device: Any, seed: int | None, weights: dict[str, str] | None = None,
                       wall_time: float | None = None, **extra: Any) -> dict[str, Any]:
    """Versions, device, seed and weight hashes (name -> sha256) for a result."""
    import torch  # local: keeps this module importable cheaply

    from . import __version__, distributed
    from .devices import PRECISION

    versions = {"ganeval": __version__, "torch": torch.__version__, "numpy": np.__version__,
                "python": platform.python_version()}
    prov: dict[str, Any] = {"versions": versions, "device": str(device), "seed": seed, "precision": PRECISION,
                            "world_size": distributed.world_size(),
                            "weights": dict(weights or {}), "timestamp": time.time()}
    if wall_time is not None:
        prov["wall_time"] = float(wall_time)
        prov["wall_time_str"] = format_time(wall_time)
    prov.update(extra)
    return prov


@dataclass(frozen=True)
class MetricResult:
    """The outcome of one metric run.

    Attributes:
        metric: preset or metric name, e.g. ``"ppl_wend"``; also the key under ``results``.
        value: the headline number.
        std: standard deviation of the kept per-sample values (``None`` where it does not apply).
        ci_low, ci_high: 95 % confidence interval of ``value`` (``None`` where not computed).
        num_samples: samples that contributed.
        higher_is_better: direction of the metric (PPL and FID: ``False``).
        per_sample: per-sample values (1-D array) or ``None``.
        config: the fully resolved configuration (every parameter that affects the number).
        provenance: see :func:`collect_provenance`.
        extra: metric-specific fields (e.g. per-space scores, kept counts).
    """

    metric: str
    value: float
    std: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    num_samples: int = 0
    higher_is_better: bool = False
    per_sample: np.ndarray | None = field(default=None, repr=False, compare=False)
    config: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, include_per_sample: bool = False) -> dict[str, Any]:
        """A JSON-friendly dict; per-sample values only when asked (they can be large)."""
        d = asdict(self)
        if not include_per_sample:
            d.pop("per_sample")
        return to_jsonable(d)

    def to_frame(self) -> Any:
        """One-row pandas DataFrame: metric, value, std, CI, n, and the flattened config."""
        import pandas as pd

        row: dict[str, Any] = {"metric": self.metric, "value": self.value, "std": self.std,
                               "ci_low": self.ci_low, "ci_high": self.ci_high,
                               "num_samples": self.num_samples}
        for k, v in self.extra.items():
            if isinstance(v, (int, float, str, bool)) or v is None:
                row[k] = v
        for k, v in self.config.items():
            if isinstance(v, (int, float, str, bool)) or v is None:
                row.setdefault(f"config.{k}", v)
        return pd.DataFrame([row])

    def to_json_line(self) -> str:
        """One JSON object, keys in stylegan2-ada's order first (results, metric, total_time, ...)."""
        prov = self.provenance
        obj = {
            "results": {self.metric: self.value},
            "metric": self.metric,
            "total_time": prov.get("wall_time"),
            "total_time_str": prov.get("wall_time_str"),
            "num_gpus": prov.get("world_size", 1),  # stylegan2-ada's key: the processes that ran it
            "snapshot_pkl": prov.get("generator_source"),
            "timestamp": prov.get("timestamp"),
            "std": self.std,
            "ci95": [self.ci_low, self.ci_high],
            "num_samples": self.num_samples,
            "higher_is_better": self.higher_is_better,
            "config": self.config,
            "provenance": prov,
            "extra": self.extra,
        }
        return json.dumps(to_jsonable(obj), sort_keys=False)

"""Result objects shared by every metric, and the provenance every result records.

A result is a frozen dataclass holding the value, its uncertainty, the per-sample data, the
resolved configuration and the provenance (seed, weight hashes, versions, device, wall time).
It turns into a pandas DataFrame (``to_frame``), a plain dict (``to_dict``) and one JSON line
in the spirit of stylegan2-ada's ``metric-*.jsonl`` (``to_json_line``); :func:`load_results`
reads such lines back into the same result objects, exactly (see :meth:`MetricResult.to_json_line`).
"""

from __future__ import annotations

import base64
import importlib
import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "RESULT_TYPES",
    "MetricResult",
    "collect_provenance",
    "format_time",
    "load_results",
    "result_from_record",
    "to_jsonable",
]

#: result class name (the ``result_type`` of a JSON line) -> the module defining it; a fixed table, so
#: reading a results file never imports anything a file names
RESULT_TYPES: dict[str, str] = {
    "MetricResult": "ganeval.results",
    "PPLResult": "ganeval.metrics.ppl",
    "SeparabilityResult": "ganeval.metrics.separability",
    "FIDResult": "ganeval.metrics.fid",
    "KIDResult": "ganeval.metrics.fid",
    "PRResult": "ganeval.metrics.fid",
    "ISResult": "ganeval.metrics.fid",
    "EquivarianceResult": "ganeval.metrics.equivariance",
}
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_MAX_RESULTS_BYTES = 1 << 30


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
    """Recursively convert numpy/torch scalars, arrays, tuples and paths to JSON-friendly values.

    Non-finite floats become ``None`` (JSON has no NaN); :meth:`MetricResult.to_json_line`
    records where, so they load back exactly.
    """
    return _jsonable(obj, (), None)


def _jsonable(obj: Any, path: tuple[str | int, ...], nonfinite: list[list[Any]] | None) -> Any:
    """:func:`to_jsonable`, appending ``[path, "NaN" | "Infinity" | "-Infinity"]`` for each non-finite float."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v, (*path, str(k)), nonfinite) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v, (*path, i), nonfinite) for i, v in enumerate(obj)]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist(), path, nonfinite)
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        if nonfinite is not None:
            nonfinite.append([list(path), "NaN" if math.isnan(obj) else "Infinity" if obj > 0 else "-Infinity"])
        return None
    if hasattr(obj, "__fspath__"):
        return str(obj)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def collect_provenance(
    *,
    device: Any,
    seed: int | None,
    weights: dict[str, str] | None = None,
    wall_time: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Versions, device, seed, torch's CPU thread count and weight hashes (name -> sha256) for a result."""
    import torch  # local: keeps this module importable cheaply

    from . import __version__, distributed
    from .devices import PRECISION

    versions = {
        "ganeval": __version__,
        "torch": str(torch.__version__),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    prov: dict[str, Any] = {
        "versions": versions,
        "device": str(device),
        "seed": seed,
        "precision": PRECISION,
        "world_size": distributed.world_size(),
        "num_threads": torch.get_num_threads(),
        "weights": dict(weights or {}),
        "timestamp": time.time(),
    }
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

        row: dict[str, Any] = {
            "metric": self.metric,
            "value": self.value,
            "std": self.std,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "num_samples": self.num_samples,
        }
        for k, v in self.extra.items():
            if isinstance(v, (int, float, str, bool)) or v is None:
                row[k] = v
        for k, v in self.config.items():
            if isinstance(v, (int, float, str, bool)) or v is None:
                row.setdefault(f"config.{k}", v)
        return pd.DataFrame([row])

    def to_json_line(self, include_per_sample: bool = False) -> str:
        """One JSON object, keys in stylegan2-ada's order first (results, metric, total_time, ...).

        Besides stylegan2-ada's keys the line holds ``result_type`` (the result class),
        ``nonfinite`` (where a NaN or infinity was written as ``null``: ``[path, "NaN"]`` pairs) and,
        with ``include_per_sample``, ``data``: the per-sample arrays (``per_sample`` and the
        subclass's own, e.g. PPL's ``kept_mask`` and ``t``), each as dtype, shape and the raw
        little-endian bytes in base64. :func:`load_results` restores every float bit for bit
        and every array with its dtype.
        """
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
            "result_type": type(self).__name__,
        }
        nonfinite: list[list[Any]] = []
        out = _jsonable(obj, (), nonfinite)
        if nonfinite:
            out["nonfinite"] = nonfinite
        if include_per_sample:
            out["data"] = {name: _encode_data(getattr(self, name)) for name in self._data_fields()}
        return json.dumps(out, sort_keys=False)

    @classmethod
    def _data_fields(cls) -> list[str]:
        """``per_sample`` and the fields a subclass adds (per-sample arrays, tables, normals)."""
        base = {f.name for f in fields(MetricResult)}
        return ["per_sample", *(f.name for f in fields(cls) if f.name not in base)]


# --------------------------------------------------------------------------- reading results back


def _encode_data(value: Any) -> Any:
    """An array as ``{"__ndarray__": {dtype, shape, base64}}``, a DataFrame column by column, dicts recursively."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            from .errors import GanevalTypeError

            raise GanevalTypeError(f"A result's per-sample arrays must hold numbers, but one has dtype {value.dtype}.")
        arr = np.ascontiguousarray(value)
        return {
            "__ndarray__": {
                "dtype": arr.dtype.newbyteorder("<").str,
                "shape": list(arr.shape),
                "base64": base64.b64encode(arr.astype(arr.dtype.newbyteorder("<")).tobytes()).decode("ascii"),
            }
        }
    if isinstance(value, dict):
        return {str(k): _encode_data(v) for k, v in value.items()}
    if type(value).__name__ == "DataFrame":  # pandas, without importing it here
        columns = [str(c) for c in value.columns]
        data = [
            _encode_data(value[c].to_numpy())
            if value[c].dtype.kind in "biufc"
            else {"__series__": {"dtype": str(value[c].dtype), "values": to_jsonable(value[c].tolist())}}
            for c in value.columns
        ]
        return {"__dataframe__": {"columns": columns, "data": data}}
    return to_jsonable(value)


def _decode_data(value: Any, where: str) -> Any:
    """Inverse of :func:`_encode_data`; a malformed entry raises naming ``where``."""
    from .errors import GanevalValueError

    if isinstance(value, dict) and set(value) == {"__ndarray__"}:
        spec = value["__ndarray__"]
        try:
            dtype = np.dtype(spec["dtype"])
            if dtype.hasobject:
                raise ValueError("object arrays are not stored")
            raw = base64.b64decode(spec["base64"], validate=True)
            arr = np.frombuffer(raw, dtype=dtype).reshape([int(n) for n in spec["shape"]])
        except (KeyError, TypeError, ValueError) as exc:
            raise GanevalValueError(f"{where} is not a valid stored array ({exc}); fix or remove that line.") from None
        return arr.astype(dtype.newbyteorder("="))  # a writable copy in native byte order
    if isinstance(value, dict) and set(value) == {"__dataframe__"}:
        import pandas as pd

        spec = value["__dataframe__"]
        try:
            cols = [
                (str(c), _decode_data(v, f"{where} column {c!r}"))
                for c, v in zip(spec["columns"], spec["data"], strict=True)
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise GanevalValueError(f"{where} is not a valid stored table ({exc}); fix or remove that line.") from None
        return pd.DataFrame(dict(cols), columns=[c for c, _ in cols])
    if isinstance(value, dict) and set(value) == {"__series__"}:  # a table's text column, with its pandas dtype
        import pandas as pd

        try:
            return pd.Series(value["__series__"]["values"], dtype=value["__series__"]["dtype"])
        except (KeyError, TypeError, ValueError) as exc:
            raise GanevalValueError(f"{where} is not a valid stored column ({exc}); fix or remove that line.") from None
    if isinstance(value, dict):
        return {k: _decode_data(v, f"{where}.{k}") for k, v in value.items()}
    return value


def _restore_nonfinite(rec: dict[str, Any], where: str) -> None:
    """Put back the NaNs and infinities the line recorded under ``nonfinite`` (written as ``null``)."""
    from .errors import GanevalValueError

    for item in rec.get("nonfinite") or []:
        try:
            path, text = item
            target = rec
            for key in path[:-1]:
                target = target[key]
            if target[path[-1]] is not None:
                raise ValueError(f"the value at {path} is not null")
            target[path[-1]] = _NONFINITE[text]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise GanevalValueError(
                f"{where}: its `nonfinite` entry {item!r} does not fit the record ({exc}); fix or remove that line."
            ) from None


def _infer_type(metric: str) -> str:
    """The result class of a line written before lines named it, from the metric's name."""
    m = metric.lower()
    if m.startswith("ppl"):
        return "PPLResult"
    if m.startswith("ls_"):
        return "SeparabilityResult"
    if m.startswith("eq"):
        return "EquivarianceResult"
    if m == "fid" or m.startswith("fd_"):
        return "FIDResult"
    if m == "kid" or m.startswith("kd_"):
        return "KIDResult"
    return {"precision": "PRResult", "is": "ISResult"}.get(m, "MetricResult")


def _legacy_data(rec: dict[str, Any], type_name: str) -> dict[str, Any]:
    """Per-sample data of a line without ``data``: the report's compact ``per_sample`` list (7 significant
    digits; null = NaN), PPL's ``kept_mask``, separability's table from ``extra["attributes"]``."""
    out: dict[str, Any] = {}
    if isinstance(rec.get("per_sample"), list):
        out["per_sample"] = np.array([math.nan if v is None else float(v) for v in rec["per_sample"]], np.float64)
    if type_name == "PPLResult" and isinstance(rec.get("kept_mask"), list):
        out["kept_mask"] = np.asarray(rec["kept_mask"], dtype=bool)
    if type_name == "SeparabilityResult":
        import pandas as pd

        table = pd.DataFrame((rec.get("extra") or {}).get("attributes") or [])
        for col in ("entropy_bits", "svm_train_acc", "heldout_acc", "heldout_entropy_bits", "class_balance"):
            if col in table:
                table[col] = pd.to_numeric(table[col], errors="coerce").astype(np.float64)
        out["table"] = table
    return out


def _is_number(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def result_from_record(rec: Any, where: str = "record") -> MetricResult:
    """The result object a :meth:`MetricResult.to_json_line` object (parsed JSON) describes.

    Lines of ``ganeval report`` (``record == "metric"``) are read too. ``where`` names the
    record in error messages (e.g. ``"results.jsonl line 3"``).

    Raises:
        GanevalValueError: not a result line, an unknown ``result_type``, or malformed fields.
    """
    from .errors import GanevalValueError

    if not isinstance(rec, dict):
        raise GanevalValueError(f"{where} is a JSON {type(rec).__name__}, not a result object; fix or remove it.")
    metric = rec.get("metric")
    if not (isinstance(metric, str) and isinstance(rec.get("results"), dict) and metric in rec["results"]):
        raise GanevalValueError(
            f"{where} is not a ganeval result (it needs `metric` and `results[metric]`); fix or remove that line."
        )
    rec = json.loads(json.dumps(rec))  # a private copy: non-finite values are put back in place
    _restore_nonfinite(rec, where)
    type_name = rec.get("result_type") or _infer_type(metric)
    if type_name not in RESULT_TYPES:
        raise GanevalValueError(
            f"{where} has `result_type` {type_name!r}, which is not one of "
            f"{', '.join(RESULT_TYPES)}; fix or remove that line."
        )
    cls = getattr(importlib.import_module(RESULT_TYPES[type_name]), type_name)
    ci = rec.get("ci95") if rec.get("ci95") is not None else [None, None]
    value, std = rec["results"][metric], rec.get("std")
    num = rec.get("num_samples", 0)
    if not (
        isinstance(ci, list)
        and len(ci) == 2
        and all(_is_number(v) for v in (*ci, value, std))
        and isinstance(num, int)
        and not isinstance(num, bool)
    ):
        raise GanevalValueError(f"{where} has a non-numeric value, std, ci95 or num_samples; fix or remove that line.")
    parts = {k: rec.get(k) if rec.get(k) is not None else {} for k in ("config", "provenance", "extra")}
    if not all(isinstance(v, dict) for v in parts.values()):
        raise GanevalValueError(
            f"{where}: `config`, `provenance` and `extra` must be JSON objects; fix or remove that line."
        )
    from ._renamed import upgrade_config

    parts["config"] = upgrade_config(parts["config"])  # lines of 0.1.0 name `protocol` what is now renamed
    data = rec.get("data")
    if data is None:
        data = _legacy_data(rec, type_name)
    elif not isinstance(data, dict):
        raise GanevalValueError(f"{where}: `data` must be a JSON object; fix or remove that line.")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise GanevalValueError(
            f"{where}: `data` holds {unknown}, which {type_name} does not have; fix or remove that line."
        )
    arrays = {k: _decode_data(v, f"{where} data.{k}") for k, v in data.items()}
    if type_name == "SeparabilityResult" and arrays.get("normals") is None:
        arrays["normals"] = {}
    return cls(
        metric=metric,
        value=math.nan if value is None else float(value),
        std=std,
        ci_low=ci[0],
        ci_high=ci[1],
        num_samples=num,
        higher_is_better=bool(rec.get("higher_is_better", False)),
        **parts,
        **arrays,
    )


def load_results(path: str | os.PathLike[str]) -> list[MetricResult]:
    """Every result in a ``results.jsonl`` (or ``metric-*.jsonl``), in file order, as result objects.

    Reads the lines :meth:`MetricResult.to_json_line` writes (the ``ganeval ppl``/``eq`` ``--out``
    folders, ``separability``'s ``result.jsonl``, ``fid``'s ``metric-*.jsonl``) and the metric
    lines of a ``ganeval report`` results file (its failure, figure and run records are skipped).
    Value, std, CI, config, provenance and extra come back exactly (NaN and infinities too); the
    per-sample arrays where the line stored them (``data``), with their dtype. Report lines
    written before ``data`` existed give ``per_sample`` from the report's 7-digit copy.

    >>> results = ganeval.load_results("out/results.jsonl")      # doctest: +SKIP
    >>> results[0].value, results[0].config["distance"]          # doctest: +SKIP

    Raises:
        GanevalValueError: a missing or unreadable file, a line that is not JSON or not a result
            (naming the line and how to fix it).
    """
    from .errors import GanevalValueError

    p = Path(path)
    if not p.is_file():
        raise GanevalValueError(
            f"Argument `path` must be an existing results file (results.jsonl), but {str(p)!r} "
            f"{'is a folder' if p.is_dir() else 'does not exist'}."
        )
    try:
        if p.stat().st_size > _MAX_RESULTS_BYTES:
            raise GanevalValueError(f"{p} must be a results file of at most 1 GiB.")
        text = p.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GanevalValueError(f"Cannot read {p} as UTF-8 text ({exc}).") from None
    out = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = f"{p} line {n}"
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise GanevalValueError(f"{where} is not valid JSON ({exc}); fix or remove that line.") from None
        if isinstance(rec, dict) and rec.get("record") in ("failure", "figures", "run"):
            continue  # a report's other records: not results
        out.append(result_from_record(rec, where))
    return out

"""Re-run a recorded result from its config and say whether it reproduces.

Every metric records, in ``config``, its arguments and the names that load its inputs again
(``generator``, ``distance``, ``classifier``, ``extractor``, ``real_source``; see
:mod:`ganeval._names`). :func:`replay` loads those inputs through the public loaders, calls the
same library function with the recorded arguments (sample caches and run folders off, so
everything is recomputed, with torch's CPU thread count set to the recorded one) and compares
the numbers of the two results: value, std, CI, sample count, every numeric entry of ``extra``
(e.g. recall, the Z score of separability) and the per-sample values where recorded.

Tolerance: exact by default (``rtol=0``). ``docs/numerics.md`` guarantees bit-identical results
for a rerun on the same hardware and thread count, so on the machine that wrote a result any
difference is a real change (code, weights, data, library versions). Across machines, thread
counts or devices only agreement within the measured float32 noise floor holds: about 1e-3
relative for a PPL (1e-2 per sample) per ``docs/numerics.md``; pass such an ``rtol`` there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import GanevalError, GanevalTypeError, GanevalValueError
from .results import MetricResult

__all__ = ["ReplayOutcome", "replay"]

Loaded = dict[tuple[str, str], Any]  # (kind, name) -> loaded object, shared by the results of one file


@dataclass(frozen=True)
class ReplayOutcome:
    """The outcome of :func:`replay`.

    Attributes:
        recorded: the result as recorded.
        replayed: the result of the rerun.
        reproduced: every compared number agrees within ``rtol``.
        rtol: the relative tolerance used (0: bit-identical).
        mismatches: one line per number that differs (``"value: 74.2 vs recorded 75.1 (relative 1.2e-02)"``).
        notes: what may explain a difference (weights whose sha256 differs from the recorded one).
    """

    recorded: MetricResult
    replayed: MetricResult
    reproduced: bool
    rtol: float
    mismatches: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line: ``"ppl: reproduces (value 74.23, exact)"`` or what differs."""
        how = "exact" if self.rtol == 0 else f"relative tolerance {self.rtol:g}"
        if self.reproduced:
            text = f"{self.recorded.metric}: reproduces (value {self.replayed.value:.6g}, {how})"
        else:
            text = f"{self.recorded.metric}: does NOT reproduce ({how}): " + "; ".join(self.mismatches)
        return text + "".join(f"; note: {n}" for n in self.notes)


def replay(
    result: MetricResult,
    *,
    device: Any = "auto",
    rtol: float = 0.0,
    progress: Any = None,
    generator: Any = None,
    distance: Any = None,
    classifier: Any = None,
    extractor: Any = None,
    real: Any = None,
) -> ReplayOutcome:
    """Re-run ``result`` from its recorded config and compare (see the module docstring).

    Args:
        result: a result (e.g. from :func:`ganeval.load_results`).
        device: ``"auto"`` | ``"cpu"`` | ``"cuda[:N]"`` for the rerun.
        rtol: relative tolerance of every compared number (0: exact; see the module docstring).
        progress: progress display, see :func:`ganeval.runtime.map_samples`.
        generator, distance, classifier, extractor, real: objects (or names) to use instead of the
            recorded names, e.g. for a result computed on an object built in memory.

    Returns:
        :class:`ReplayOutcome`.

    Raises:
        GanevalValueError: a recorded name does not load (the message names it and the fix), or
            the result's type cannot be replayed.
    """
    overrides = {
        "generator": generator,
        "distance": distance,
        "classifier": classifier,
        "extractor": extractor,
        "real_source": real,
    }
    _check_rtol(rtol)  # before the rerun, not after it
    run, notes = prepare(result, device=device, progress=progress, overrides=overrides)
    return compare(result, run(), rtol=rtol, notes=tuple(notes))


def prepare(
    result: MetricResult,
    *,
    device: Any = "auto",
    progress: Any = None,
    overrides: dict[str, Any] | None = None,
    loaded: Loaded | None = None,
) -> tuple[Callable[[], MetricResult], list[str]]:
    """Load every input ``result`` names (raising at once if one does not load).

    Returns:
        the rerun (a call without arguments) and the notes on the loaded inputs (e.g. weights
        whose sha256 differs from the recorded one).
    """
    from .devices import resolve_device

    if not isinstance(result, MetricResult):
        raise GanevalTypeError(f"Argument `result` must be a MetricResult, but got {type(result).__name__}.")
    kind = type(result).__name__
    if kind not in _REPLAYERS:
        raise GanevalValueError(
            f"Result {result.metric!r} is a {kind}, which replay does not know; it replays "
            f"{', '.join(sorted(_REPLAYERS))}."
        )
    inputs = _Inputs(result, resolve_device(device), overrides or {}, {} if loaded is None else loaded)
    call = _REPLAYERS[kind](result, inputs, progress)
    threads = result.provenance.get("num_threads")

    def run() -> MetricResult:
        import torch

        before = torch.get_num_threads()
        if isinstance(threads, int) and threads > 0:
            torch.set_num_threads(threads)  # the thread count decides the CPU kernels' rounding
        try:
            return call()
        finally:
            torch.set_num_threads(before)

    return run, inputs.notes


# --------------------------------------------------------------------------- the recorded inputs


class _Inputs:
    """The recorded inputs of one result, loaded through the public loaders (or the caller's overrides)."""

    def __init__(self, result: MetricResult, device: Any, overrides: dict[str, Any], loaded: Loaded) -> None:
        self.result, self.device, self.overrides, self.loaded = result, device, overrides, loaded
        self.notes: list[str] = []

    def name(self, key: str, legacy: Any = None) -> str:
        """The recorded name under ``config[key]`` (``legacy``: where older lines kept it)."""
        value = self.result.config.get(key, legacy)
        if not isinstance(value, str) or not value:
            raise GanevalValueError(
                f"Result {self.result.metric!r} records no loadable `{key}` (it was computed with an object built in "
                f"memory); pass {key}=... to ganeval.replay."
            )
        return value

    def load(self, key: str, loader: Callable[[str], Any], legacy: Any = None) -> Any:
        """The override for ``key``, else ``loader(recorded name)``; a load error names the config entry."""
        if self.overrides.get(key) is not None:
            return self.overrides[key]
        name = self.name(key, legacy)
        if (key, name) not in self.loaded:
            try:
                self.loaded[(key, name)] = loader(name)
            except GanevalError as exc:
                raise GanevalValueError(
                    f"Result {self.result.metric!r}: config `{key}` is {name!r}, which does not load "
                    f"({str(exc).rstrip('.')}); restore it or pass {key}=... to ganeval.replay."
                ) from None
        return self.loaded[(key, name)]

    def generator(self) -> Any:
        """The generator, its weights checked against the recorded sha256 (a difference becomes a note)."""
        import ganeval

        prov = self.result.provenance
        legacy = (prov.get("generator") or {}).get("registry") or prov.get("generator_source")
        G = self.load("generator", lambda name: ganeval.load_generator(name, device=self.device), legacy)
        self.check_weights("generator", (getattr(G, "provenance", None) or {}).get("sha256"))
        return G

    def check_weights(self, key: str, got: Any) -> None:
        """Note weights whose hash differs from ``provenance["weights"][key]`` (the likely cause of a difference)."""
        want = (self.result.provenance.get("weights") or {}).get(key)
        if want and got and str(want) != str(got):
            self.notes.append(
                f"the {key} weights differ from the recorded ones (sha256 {str(got)[:12]} vs {str(want)[:12]})"
            )


def _kwargs(config: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The recorded arguments among ``keys`` (absent ones keep the function's defaults)."""
    return {k: config[k] for k in keys if k in config}


def _ppl(result: MetricResult, inputs: _Inputs, progress: Any) -> Callable[[], MetricResult]:
    import ganeval

    c = result.config
    G = inputs.generator()
    # lines written before names and descriptions were split hold "zoo:shapes-perceptual (ganeval zoo CNN; ...)"
    dist = inputs.load("distance", lambda name: ganeval.load_distance(name.split(" (", 1)[0], device=inputs.device))
    for role, sha in (getattr(dist, "weights_sha256", None) or {}).items():
        inputs.check_weights(f"distance.{role}", sha)
    kw = _kwargs(
        c,
        (
            "space",
            "sampling",
            "num_samples",
            "epsilon",
            "crop",
            "downsample",
            "interpolation",
            "method",
            "chunk_size",
            "seed",
            "preset",
            "target_ci",
            "on_nan",
        ),
    )
    if c.get("target_ci") is not None:
        kw["min_samples"] = c["min_samples"]
    if isinstance(result.provenance.get("batch_size"), int):
        kw["batch_size"] = result.provenance["batch_size"]
    return lambda: ganeval.ppl(G, distance=dist, device=inputs.device, progress=progress, **kw)


def _separability(result: MetricResult, inputs: _Inputs, progress: Any) -> Callable[[], MetricResult]:
    import ganeval

    from .metrics.separability import _classifier_hash  # the form separability records

    G = inputs.generator()
    clf = inputs.load(
        "classifier",
        lambda name: ganeval.load_classifier(name, device=inputs.device),
        result.provenance.get("classifier"),
    )
    inputs.check_weights("classifier", _classifier_hash(clf))
    kw = _kwargs(
        result.config,
        ("spaces", "num_samples", "num_keep", "seed", "split", "solver", "w_layer", "on_nan", "batch_size"),
    )
    return lambda: ganeval.separability(G, clf, device=inputs.device, cache_dir=False, progress=progress, **kw)


def _equivariance(result: MetricResult, inputs: _Inputs, progress: Any) -> Callable[[], MetricResult]:
    import ganeval

    G = inputs.generator()
    kw = _kwargs(result.config, ("kind", "num_samples", "translate_max", "rotate_max", "seed", "preset"))
    if isinstance(result.provenance.get("batch_size"), int):
        kw["batch_size"] = result.provenance["batch_size"]
    return lambda: ganeval.equivariance(G, device=inputs.device, progress=progress, **kw)


def _open(role: str) -> Callable[[str], Any]:
    """A loader that checks a recorded generated/real source opens (the metric opens it again itself)."""

    def check(name: str) -> str:
        from .features.sources import open_source

        open_source(name, role=role, num_samples=2, device=None)
        return name

    return check


def _spec(described: Any) -> Any:
    """Where a line written before ``generator`` / ``real_source`` existed named an image set."""
    return described.get("spec") or described.get("file") if isinstance(described, dict) else described


def _distribution(which: str) -> Callable[[MetricResult, _Inputs, Any], Callable[[], MetricResult]]:
    """The replayer of FID (``"fid"``), KID (``"kid"``) or precision/recall (``"pr"``)."""

    def prepare_one(result: MetricResult, inputs: _Inputs, progress: Any) -> Callable[[], MetricResult]:
        import ganeval

        from .metrics.fid import evaluate

        c = result.config
        gen = inputs.load("generator", _open("generated"), _spec(c.get("generated")))
        real = inputs.load("real_source", _open("real"), _spec(c.get("real")))
        ext = inputs.load("extractor", lambda name: ganeval.load_extractor(name, device=inputs.device))
        kw = _kwargs(c, ("resize", "seed", "batch_size", "strict", "on_nan", "bootstrap"))
        kw["num_samples"] = c.get("num_samples", c.get("num_generated"))
        kw["num_real"] = c.get("num_real_requested")
        if which == "kid":
            kw.update(kid_subsets=c["num_subsets"], kid_subset_size=c["subset_size"])
        elif which == "pr":
            kw["pr_k"] = c["k"]
        return lambda: evaluate(
            gen, real, metrics=(which,), extractor=ext, device=inputs.device, cache=False, progress=progress, **kw
        )[0]

    return prepare_one


def _inception_score(result: MetricResult, inputs: _Inputs, progress: Any) -> Callable[[], MetricResult]:
    import ganeval

    c = result.config
    gen = inputs.load("generator", _open("generated"), _spec(c.get("generated")))
    ext = inputs.load("extractor", lambda name: ganeval.load_extractor(name, device=inputs.device))
    kw = _kwargs(c, ("splits", "resize", "seed", "batch_size", "strict", "on_nan"))
    kw["num_samples"] = c.get("num_samples", c.get("num_generated"))
    return lambda: ganeval.inception_score(gen, extractor=ext, device=inputs.device, progress=progress, **kw)


_REPLAYERS: dict[str, Callable[[MetricResult, _Inputs, Any], Callable[[], MetricResult]]] = {
    "PPLResult": _ppl,
    "SeparabilityResult": _separability,
    "EquivarianceResult": _equivariance,
    "FIDResult": _distribution("fid"),
    "KIDResult": _distribution("kid"),
    "PRResult": _distribution("pr"),
    "ISResult": _inception_score,
}


# --------------------------------------------------------------------------- the comparison


def _number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _close(a: Any, b: Any, rtol: float) -> bool:
    """``a`` and ``b`` agree: both None, both NaN, equal, or within ``rtol`` relative to ``a``."""
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or (rtol > 0 and abs(b - a) <= rtol * abs(a))


def _relative(a: Any, b: Any) -> str:
    try:
        return f" (relative {abs(float(b) - float(a)) / abs(float(a)):.1e})" if float(a) else ""
    except (TypeError, ValueError):
        return ""


def _compare_arrays(name: str, a: Any, b: Any, rtol: float) -> str | None:
    """A mismatch line for per-sample arrays, or None when they agree (NaN where NaN)."""
    if b is None:
        return f"{name}: none in the rerun"
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return f"{name}: shape {list(b.shape)} vs recorded {list(a.shape)}"
    same_nan = np.isnan(a) == np.isnan(b)
    ok = same_nan & (np.isnan(a) | (a == b) | (np.abs(b - a) <= rtol * np.abs(a)))
    if ok.all():
        return None
    finite = ~np.isnan(a) & ~np.isnan(b) & (a != 0)
    worst = float(np.max(np.abs(b - a)[finite] / np.abs(a[finite]))) if finite.any() else math.nan
    return f"{name}: {int((~ok).sum())} of {a.size} differ (largest relative difference {worst:.1e})"


def _check_rtol(rtol: Any) -> None:
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or math.isnan(rtol) or not 0 <= rtol < 1:
        raise GanevalValueError(f"Argument `rtol` must be a number in [0, 1), but got {rtol!r}.")


def compare(
    recorded: MetricResult, replayed: MetricResult, *, rtol: float = 0.0, notes: tuple[str, ...] = ()
) -> ReplayOutcome:
    """Compare the numbers of two results (see the module docstring) into a :class:`ReplayOutcome`."""
    _check_rtol(rtol)
    pairs: list[tuple[str, Any, Any]] = [
        (f, getattr(recorded, f), getattr(replayed, f)) for f in ("value", "std", "ci_low", "ci_high", "num_samples")
    ]
    pairs += [(f"extra[{k!r}]", v, replayed.extra.get(k)) for k, v in recorded.extra.items() if _number(v)]
    mismatches = [f"{name}: {b!r} vs recorded {a!r}{_relative(a, b)}" for name, a, b in pairs if not _close(a, b, rtol)]
    if recorded.per_sample is not None:
        line = _compare_arrays("per_sample", recorded.per_sample, replayed.per_sample, rtol)
        if line:
            mismatches.append(line)
    return ReplayOutcome(
        recorded=recorded,
        replayed=replayed,
        reproduced=not mismatches,
        rtol=float(rtol),
        mismatches=tuple(mismatches),
        notes=tuple(notes),
    )

"""Claims: a report's stated findings, each checked against its own results.

A claim compares two result values of the report, e.g. "PPL in W of the style-based generator
is below PPL in Z of the traditional one". In the TOML::

    [[claims]]
    text = "The mapping network shortens perceptual paths"    # what is claimed (any text, escaped)
    paper = "StyleGAN Table 4: W 234.0 vs Z 412.0"             # optional: the published finding
    left = { generator = "style-based", metric = "PPL W full" }
    op = "<"                                                    # "<" or ">"
    right = { generator = "traditional", metric = "PPL Z full" }

``generator`` and ``metric`` are labels of the report's ``[[generators]]`` and ``[[metrics]]``;
an optional ``field`` picks a per-space value of a result (e.g. ``"score_w"`` of separability)
instead of its headline value, and an optional ``part`` picks one result of a multi-result
column (e.g. ``"FD_shapes"`` of a FID column), by metric name.

The verdict is decided by the 95 % confidence intervals where both values have one:
``holds`` when the intervals are disjoint in the claimed order, ``contradicted`` when they are
disjoint in the other order, ``inconclusive`` when they overlap. Values without an interval
(e.g. separability, or a per-space field) are compared as points and the verdict says so
(``holds (no CI)``); a value that is missing or failed gives ``not computed``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import GanevalTypeError, GanevalValueError

__all__ = ["ClaimRef", "ClaimSpec", "ClaimOutcome", "parse_claims", "evaluate_claim", "OPS"]

OPS: tuple[str, ...] = ("<", ">")
_REF_KEYS = {"generator", "metric", "field", "part"}
_CLAIM_KEYS = {"text", "paper", "left", "op", "right"}


@dataclass(frozen=True)
class ClaimRef:
    """One side of a claim: a (generator label, metric label) cell, optionally one result or field of it."""

    generator: str
    metric: str
    field: str | None = None
    part: str | None = None

    def describe(self) -> str:
        what = self.metric + (f" {self.part}" if self.part else "") + (f" ({self.field})" if self.field else "")
        return f"{self.generator}: {what}"


@dataclass(frozen=True)
class ClaimSpec:
    """A claim: ``left op right``, with its text and optional published counterpart."""

    text: str
    left: ClaimRef
    op: str
    right: ClaimRef
    paper: str = ""


@dataclass(frozen=True)
class ClaimOutcome:
    """A claim's values ``(value, ci_low, ci_high)`` (CI entries may be None) and verdict."""

    claim: ClaimSpec
    left: tuple[float, float | None, float | None] | None
    right: tuple[float, float | None, float | None] | None
    verdict: str


def _ref(where: str, value: Any, generators: set[str], metrics: set[str]) -> ClaimRef:
    if not isinstance(value, dict):
        raise GanevalTypeError(
            f"Config key `{where}` must be a table {{ generator = ..., metric = ... }}, but got {value!r}."
        )
    extra = sorted(set(value) - _REF_KEYS)
    if extra:
        raise GanevalValueError(
            f"Config table `{where}` has unknown key(s) {extra}; expected some of {sorted(_REF_KEYS)}."
        )
    for key, known in (("generator", generators), ("metric", metrics)):
        if value.get(key) not in known:
            raise GanevalValueError(
                f"Config key `{where}.{key}` must be one of the report's {key} labels "
                f"{sorted(known)}, but got {value.get(key)!r}."
            )
    for key in ("field", "part"):
        if key in value and (not isinstance(value[key], str) or not value[key]):
            raise GanevalTypeError(f"Config key `{where}.{key}` must be a non-empty string, but got {value[key]!r}.")
    return ClaimRef(
        generator=value["generator"], metric=value["metric"], field=value.get("field"), part=value.get("part")
    )


def parse_claims(data: Any, generators: set[str], metrics: set[str]) -> tuple[ClaimSpec, ...]:
    """Validate the ``[[claims]]`` array against the report's generator and metric labels."""
    if not isinstance(data, list):
        raise GanevalTypeError(f"Config key `claims` must be an array of tables ([[claims]]), but got {data!r}.")
    claims = []
    for i, c in enumerate(data):
        where = f"claims[{i}]"
        if not isinstance(c, dict):
            raise GanevalTypeError(f"Config key `{where}` must be a table, but got {c!r}.")
        extra = sorted(set(c) - _CLAIM_KEYS)
        if extra:
            raise GanevalValueError(
                f"Config table `{where}` has unknown key(s) {extra}; expected some of {sorted(_CLAIM_KEYS)}."
            )
        for key in ("text", "paper"):
            if key in c and (not isinstance(c[key], str) or (key == "text" and not c[key].strip())):
                raise GanevalTypeError(f"Config key `{where}.{key}` must be a non-empty string, but got {c[key]!r}.")
        if "text" not in c:
            raise GanevalValueError(f"Config table `{where}` must have `text` (what is claimed).")
        if c.get("op") not in OPS:
            raise GanevalValueError(f"Config key `{where}.op` must be one of {list(OPS)}, but got {c.get('op')!r}.")
        claims.append(
            ClaimSpec(
                text=c["text"],
                paper=c.get("paper", ""),
                op=c["op"],
                left=_ref(f"{where}.left", c.get("left"), generators, metrics),
                right=_ref(f"{where}.right", c.get("right"), generators, metrics),
            )
        )
    return tuple(claims)


Lookup = Callable[[ClaimRef], "tuple[float, float | None, float | None] | None"]


def _finite(v: tuple[float, float | None, float | None] | None) -> bool:
    return v is not None and math.isfinite(v[0])


def evaluate_claim(claim: ClaimSpec, lookup: Lookup) -> ClaimOutcome:
    """Decide a claim from the values ``lookup`` returns for its two sides (see the module docstring)."""
    left, right = lookup(claim.left), lookup(claim.right)
    if not _finite(left) or not _finite(right):
        return ClaimOutcome(claim, left, right, "not computed")
    assert left is not None and right is not None
    sign = 1.0 if claim.op == "<" else -1.0
    (lv, llo, lhi), (rv, rlo, rhi) = left, right
    if None in (llo, lhi, rlo, rhi):
        verdict = "holds (no CI)" if sign * (rv - lv) > 0 else "contradicted (no CI)"
        return ClaimOutcome(claim, left, right, verdict)
    assert llo is not None and lhi is not None and rlo is not None and rhi is not None
    if (sign > 0 and lhi < rlo) or (sign < 0 and llo > rhi):
        verdict = "holds"
    elif (sign > 0 and llo > rhi) or (sign < 0 and lhi < rlo):
        verdict = "contradicted"
    else:
        verdict = "inconclusive (CIs overlap)"
    return ClaimOutcome(claim, left, right, verdict)

"""Render ``index.html`` and the CSV tables from ``results.jsonl`` and the figure files alone.

Nothing here runs a metric or a generator: rendering the same results file twice gives the
same ``index.html``, CSVs and plots. The page is self-contained: figures are relative links
to PNGs in the report folder, the CSS is inline, and there is no script, font or URL from the
network. Every string that came from a configuration, a checkpoint or an error message goes
through Jinja2's autoescaping.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._io import atomic_write, check_writable_dir
from ..errors import GanevalValueError
from ..results import format_time
from .claims import ClaimRef, ClaimSpec, evaluate_claim
from .runner import RESULTS_FILE, check_own_folder, read_records

__all__ = ["render_report", "RenderOutcome", "Cell", "Table"]

# config keys worth a column in the per-metric tables, in display order
_METRIC_CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    "ppl": ("space", "sampling", "epsilon", "crop", "distance", "distance_description", "downsample"),
    "separability": ("spaces", "num_keep", "classifier", "split"),
    "fid": ("extractor", "real", "num_generated", "num_real", "resize"),
    "equivariance": ("kind", "num_samples", "translate_max", "rotate_max"),
}
_SECTION_TITLES = {
    "ppl": "Perceptual path length",
    "separability": "Linear separability",
    "fid": "Fréchet and kernel distances, precision and recall",
    "equivariance": "Equivariance (StyleGAN3): EQ-T, EQ-T_frac, EQ-R",
}


def _fmt(v: Any) -> str:
    """Numbers with 4 significant digits (scientific outside [1e-3, 1e5)); None as an en dash."""
    if v is None:
        return "\u2013"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.3e}" if v != 0 and not 1e-3 <= abs(v) < 1e5 else f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    return str(v)


@dataclass(frozen=True)
class Cell:
    """One table cell: the raw value (CSV), its display text (HTML), an optional in-page link and CSS class."""

    value: Any
    text: str
    link: str | None = None
    cls: str | None = None

    @classmethod
    def of(cls, value: Any) -> Cell:
        if isinstance(value, dict):
            # an input description (e.g. FID's real set): its spec names it; the rest is in the config
            value = value.get("spec", json.dumps(value, sort_keys=True))
        return cls(value=value, text=_fmt(value), cls="num" if isinstance(value, (int, float)) else None)


@dataclass
class Table:
    """A titled table, shown in the page and written as ``<slug>.csv`` next to it."""

    slug: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    # short HTML-only remarks per column title (e.g. which direction is better); not in the CSV
    notes: dict[str, str] = field(default_factory=dict)

    def write_csv(self, folder: Path) -> None:
        """Write ``<folder>/<slug>.csv`` atomically (a kill never leaves half a table)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        for row in self.rows:
            w.writerow(["" if c.value is None else c.value for c in row])
        data = buf.getvalue().encode("utf-8")
        atomic_write(folder / f"{self.slug}.csv", lambda tmp: Path(tmp).write_bytes(data))


@dataclass(frozen=True)
class RenderOutcome:
    """Paths written by :func:`render_report` and the number of failures shown."""

    index: Path
    csv_files: list[Path]
    num_failures: int


class _Results:
    """The latest run of a results file and the records its cells point at."""

    def __init__(self, records: list[dict[str, Any]], path: Path) -> None:
        runs = [i for i, r in enumerate(records) if r.get("record") == "run"]
        if not runs:
            raise GanevalValueError(
                f"Argument `results` must hold a run record, but {path} has none; run `ganeval report CONFIG` first."
            )
        self.run = records[runs[-1]]
        self.by_key: dict[str, list[dict[str, Any]]] = {}
        for r in records[: runs[-1]]:
            if r.get("record") in ("metric", "failure", "figures"):
                self.by_key.setdefault(r["report"]["key"], []).append(r)

    def latest(self, key: str) -> list[dict[str, Any]]:
        """The records of the last computation of ``key``: one failure, one figures record, or its metric parts."""
        recs = self.by_key.get(key, [])
        if not recs:
            return []
        last = recs[-1]
        if last["record"] != "metric":
            return [last]
        return recs[len(recs) - 1 - last["report"]["part"] :]


def _scale(item: dict[str, Any]) -> int:
    """Display magnification of a figure: small generator outputs are shown enlarged (pixelated)."""
    return max(1, min(3, 480 // max(item["width"], 1)))


def _anchor(key: str) -> str:
    return f"failure-{key[:16]}"


def _value_text(rec: dict[str, Any]) -> str:
    ci = rec.get("ci95") or [None, None]
    text = _fmt(rec["results"][rec["metric"]])
    if ci[0] is not None and ci[1] is not None:
        text += f" [{_fmt(ci[0])}, {_fmt(ci[1])}]"
    return text


def _part_text(rec: dict[str, Any]) -> str:
    """Display text of one result in the summary: value [CI], plus recall for precision/recall."""
    extra = rec.get("extra") or {}
    text = _value_text(rec)
    if "recall" in extra:
        text += f" / {_fmt(extra['recall'])}"
    spaces = {k[len("score_") :]: v for k, v in extra.items() if k.startswith("score_")}
    if len(spaces) > 1:  # separability: every space's score, not only the headline one
        text = " · ".join(f"{s.upper()} {_fmt(v)}" for s, v in sorted(spaces.items(), reverse=True))
    return text


def _part_title(label: str, rec: dict[str, Any] | None, num_parts: int) -> str:
    """Column title: the config label, plus the name the result carries when the label does not say it
    (e.g. ``FD_shapes``, not FID, for the shapes extractor)."""
    if rec is None:
        return label
    name = rec["metric"] + (" / recall" if "recall" in (rec.get("extra") or {}) else "")
    if num_parts == 1 and rec["metric"].lower() in label.lower():
        return label
    return f"{label}: {name}"


def _summary(res: _Results) -> Table:
    """One row per generator; per metric column, one (value, ci_low, ci_high) triple per result part."""
    metrics = res.run["config"]["metrics"]
    cells = {(c["generator"], c["metric_label"]): c["key"] for c in res.run["cells"]}
    gens = res.run["generators"]
    latest = {
        (g["label"], m["label"]): res.latest(cells.get((g["label"], m["label"]), "")) for g in gens for m in metrics
    }
    columns, layout, notes = ["generator"], [], {}
    for m in metrics:
        oks = [
            recs for (_, lab), recs in latest.items() if lab == m["label"] and recs and recs[0]["record"] == "metric"
        ]
        num_parts = max((len(r) for r in oks), default=1)
        for part in range(num_parts):
            example = next((r[part] for r in oks if len(r) > part), None)
            title = _part_title(m["label"], example, num_parts)
            columns += [title, f"{title} ci_low", f"{title} ci_high"]
            if example is not None:
                better = "\u2191 higher" if example.get("higher_is_better") else "\u2193 lower"
                notes[title] = f"{better} is better"
        layout.append((m, num_parts))
    table = Table("summary", "Summary", columns, notes=notes)
    for g in gens:
        row = [Cell(g["label"], g["label"])]
        for m, num_parts in layout:
            recs = latest[(g["label"], m["label"])]
            for part in range(num_parts):
                if recs and recs[0]["record"] == "metric" and part < len(recs):
                    r = recs[part]
                    ci = r.get("ci95") or [None, None]
                    row += [Cell(r["results"][r["metric"]], _part_text(r), cls="num"), Cell(ci[0], ""), Cell(ci[1], "")]
                elif recs and _not_applicable(recs[0]):
                    row += [
                        Cell("n/a", "n/a", link=_anchor(recs[0]["report"]["key"]), cls="na"),
                        Cell(None, ""),
                        Cell(None, ""),
                    ]
                elif recs and recs[0]["record"] == "failure":
                    key = recs[0]["report"]["key"]
                    what = "generator failed to load" if recs[0]["report"]["stage"] == "load" else "failed"
                    row += [Cell("failed", what, link=_anchor(key), cls="fail"), Cell(None, ""), Cell(None, "")]
                else:
                    row += [Cell("missing", "missing", cls="fail"), Cell(None, ""), Cell(None, "")]
        table.rows.append(row)
    return table


def _metric_records(res: _Results, name: str) -> list[dict[str, Any]]:
    out = []
    for c in res.run["cells"]:
        for r in res.latest(c["key"]):
            if r["record"] == "metric" and r["report"]["metric_name"] == name and r not in out:
                out.append(r)
    return out


def _metric_table(name: str, recs: list[dict[str, Any]]) -> Table:
    keys = [k for k in _METRIC_CONFIG_KEYS.get(name, ()) if any(k in r.get("config", {}) for r in recs)]
    extra = sorted(
        {k for r in recs for k, v in (r.get("extra") or {}).items() if isinstance(v, (int, float, str, bool))}
    )
    columns = [
        "generator",
        "column",
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "std",
        "num_samples",
        "lower_is_better",
        *keys,
        *extra,
    ]
    table = Table(name, f"{_SECTION_TITLES.get(name, name)}: results", columns)
    for r in recs:
        ci = r.get("ci95") or [None, None]
        rep = r["report"]
        row = [
            Cell(rep["generator"], rep["generator"]),
            Cell(rep["metric_label"], rep["metric_label"]),
            Cell(r["metric"], r["metric"]),
            Cell.of(r["results"][r["metric"]]),
            Cell.of(ci[0]),
            Cell.of(ci[1]),
            Cell.of(r.get("std")),
            Cell.of(r.get("num_samples")),
            Cell.of(not r.get("higher_is_better", False)),
        ]
        row += [Cell.of(r["config"].get(k)) for k in keys]
        row += [Cell.of((r.get("extra") or {}).get(k)) for k in extra]
        table.rows.append(row)
    return table


def _attribute_table(name: str, recs: list[dict[str, Any]]) -> Table | None:
    """Per-attribute rows (``extra["attributes"]``, e.g. separability's entropies), or None.

    Rows keep the generator and column order; within a column they are sorted by attribute
    (in first-seen order), so an attribute's Z and W rows sit next to each other.
    """
    rows = []
    for r in recs:
        attrs = [a for a in (r.get("extra") or {}).get("attributes") or [] if isinstance(a, dict)]
        order = {name: i for i, name in enumerate(dict.fromkeys(a.get("attribute") for a in attrs))}
        rows += [(r, a) for a in sorted(attrs, key=lambda a: order[a.get("attribute")])]
    if not rows:
        return None
    keys = list(dict.fromkeys(k for _, a in rows for k in a))
    table = Table(
        f"{name}-attributes", f"{_SECTION_TITLES.get(name, name)}: per attribute", ["generator", "column", *keys]
    )
    for r, a in rows:
        rep = r["report"]
        table.rows.append(
            [
                Cell(rep["generator"], rep["generator"]),
                Cell(rep["metric_label"], rep["metric_label"]),
                *[Cell.of(a.get(k)) for k in keys],
            ]
        )
    return table


def _save_plot(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # no Software/date metadata: the same results give byte-identical PNGs
        atomic_write(
            path, lambda tmp: fig.savefig(tmp, format="png", dpi=80, bbox_inches="tight", metadata={"Software": None})
        )
    finally:
        plt.close(fig)


def _plots_for(name: str, recs: list[dict[str, Any]]) -> list[tuple[str, str, Callable[[], Any]]]:
    """(file stem, caption, draw function) of each plot of a metric section, per generator."""
    from .plots import metric_plots

    return metric_plots(name, recs)


def _weights_table(res: _Results, metric_recs: list[dict[str, Any]]) -> Table:
    """Every weight file: the generators' files, then each distinct network a metric used."""
    table = Table("weights", "Weight files (sha256)", ["used by", "file", "sha256"])
    seen = set()
    for g in res.run["generators"]:
        if g.get("status") == "ok":
            row = (f"generator {g['label']}", g["source"], g.get("sha256"))
            seen.add(row[1:])
            table.rows.append([Cell(v, _fmt(v)) for v in row])
    for r in metric_recs:
        for name, sha in ((r.get("provenance") or {}).get("weights") or {}).items():
            # the generator's own hash is in its row above; a metric may record a dict of hashes
            if name == "generator":
                continue
            if isinstance(sha, str) and sha.startswith("{"):
                sha = json.loads(sha)  # separability records several hashes as one JSON object
            for file, digest in sha.items() if isinstance(sha, dict) else [(name, sha)]:
                if (file, digest) not in seen:
                    seen.add((file, digest))
                    table.rows.append([Cell(v, _fmt(v)) for v in (r["report"]["metric_label"], file, digest)])
    return table


def _wall_table(res: _Results) -> Table:
    table = Table("wall-times", "Wall time per metric", ["generator", "column", "wall_time_s", "wall_time"])
    for c in res.run["cells"]:
        recs = res.latest(c["key"])
        if recs and recs[0]["record"] == "metric":
            t = recs[0]["report"]["wall_time"]
            table.rows.append(
                [
                    Cell(c["generator"], c["generator"]),
                    Cell(c["metric_label"], c["metric_label"]),
                    Cell(round(t, 3), _fmt(round(t, 3)), cls="num"),
                    Cell(format_time(t), format_time(t)),
                ]
            )
    for label, key in res.run["figures"].items():
        recs = res.latest(key)
        if recs and recs[0]["record"] == "figures":
            t = recs[0]["report"]["wall_time"]
            table.rows.append(
                [
                    Cell(label, label),
                    Cell("analysis figures", "analysis figures"),
                    Cell(round(t, 3), _fmt(round(t, 3)), cls="num"),
                    Cell(format_time(t), format_time(t)),
                ]
            )
    return table


def _not_applicable(rec: dict[str, Any]) -> bool:
    """A metric cell refused because the generator lacks what the metric measures (e.g. W of a
    traditional generator): shown as n/a, not counted as a failure."""
    return (
        rec["record"] == "failure"
        and rec["report"].get("error_type") == "UnsupportedGeneratorError"
        and rec["report"].get("stage") == "metric"
    )


def _failures(
    res: _Results, plot_failures: Sequence[dict[str, Any]]
) -> tuple[Table, list[dict[str, Any]], list[dict[str, Any]]]:
    """The failures table, the failures' details and the not-applicable cells' details."""
    table = Table("failures", "Failures", ["generator", "column", "stage", "error_type", "message"])
    details: list[dict[str, Any]] = []
    not_applicable: list[dict[str, Any]] = []
    seen: set[str] = set()
    keys = [c["key"] for c in res.run["cells"]] + list(res.run["figures"].values())
    for key in keys:
        recs = res.latest(key)
        if recs and recs[0]["record"] == "failure" and key not in seen:
            seen.add(key)
            (not_applicable if _not_applicable(recs[0]) else details).append(recs[0]["report"])
    details += list(plot_failures)
    for d in details:
        table.rows.append(
            [
                Cell(d["generator"], d["generator"]),
                Cell(d.get("metric_label"), _fmt(d.get("metric_label"))),
                Cell(d["stage"], d["stage"]),
                Cell(d["error_type"], d["error_type"]),
                Cell(d["message"], d["message"], cls="msg"),
            ]
        )
    return table, details, not_applicable


def _claim_value(res: _Results, ref: ClaimRef) -> tuple[float, float | None, float | None] | None:
    """The (value, ci_low, ci_high) a claim side names, or None when that cell has no such result."""
    key = next(
        (c["key"] for c in res.run["cells"] if c["generator"] == ref.generator and c["metric_label"] == ref.metric),
        None,
    )
    recs = [r for r in res.latest(key) if r["record"] == "metric"] if key else []
    if ref.part is not None:
        recs = [r for r in recs if r["metric"] == ref.part]
    if not recs:
        return None
    rec = recs[0]
    if ref.field is not None:
        value = (rec.get("extra") or {}).get(ref.field)
        return (float(value), None, None) if isinstance(value, (int, float)) else None
    ci = rec.get("ci95") or [None, None]
    return float(rec["results"][rec["metric"]]), ci[0], ci[1]


def _side_text(value: tuple[float, float | None, float | None] | None) -> str:
    if value is None:
        return "not computed"
    text = _fmt(value[0])
    return text + (f" [{_fmt(value[1])}, {_fmt(value[2])}]" if value[1] is not None and value[2] is not None else "")


def _findings(res: _Results) -> list[dict[str, str]]:
    """The config's claims, each with both sides' values and the verdict (see :mod:`ganeval.report.claims`)."""
    out = []
    for c in res.run["config"].get("claims", []):
        claim = ClaimSpec(
            text=c["text"],
            paper=c.get("paper", ""),
            op=c["op"],
            left=ClaimRef(**c["left"]),
            right=ClaimRef(**c["right"]),
        )
        outcome = evaluate_claim(claim, lambda ref: _claim_value(res, ref))
        out.append(
            {
                "text": claim.text,
                "paper": claim.paper,
                "verdict": outcome.verdict,
                "comparison": f"{claim.left.describe()} = {_side_text(outcome.left)} {claim.op} "
                f"{claim.right.describe()} = {_side_text(outcome.right)}",
                "cls": "ok" if outcome.verdict.startswith("holds") else "fail",
            }
        )
    return out


def _env() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ganeval.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = _fmt
    env.filters["anchor"] = _anchor
    return env


def render_report(results: str | Path, out_dir: str | Path | None = None) -> RenderOutcome:
    """Write ``index.html``, one CSV per table and the metric plots from a results file.

    Args:
        results: a ``results.jsonl`` written by :func:`ganeval.report.run_report`, or its folder.
        out_dir: where to write (default: the results file's folder; the analysis figures are
            referenced relative to it, so they must live there).

    Returns:
        the index path, the CSV paths and the number of failures shown in the report.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    results = Path(results)
    if results.is_dir():
        results = results / RESULTS_FILE
    if not results.is_file():
        raise GanevalValueError(f"Argument `results` must be an existing results.jsonl, but got {str(results)!r}.")
    out = check_writable_dir(Path(out_dir) if out_dir is not None else results.parent)
    records = read_records(results)
    res = _Results(records, results)
    if out.resolve() != results.parent.resolve():
        # a new folder must stay self-contained: bring the results and the figure files along,
        # but never over another report's files
        check_own_folder(out, read_records(out / RESULTS_FILE), res.run["config"]["name"], force=False)
        atomic_write(out / RESULTS_FILE, lambda tmp: shutil.copyfile(results, tmp))
        if (results.parent / "figures").is_dir():
            shutil.copytree(results.parent / "figures", out / "figures", dirs_exist_ok=True, ignore=_links)
    import jinja2

    try:
        return _render(res, out)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, jinja2.TemplateError) as exc:
        if isinstance(exc, GanevalValueError):
            raise
        raise GanevalValueError(
            f"{results} holds a malformed record ({type(exc).__name__}: {exc}); it was not "
            "written by this version of ganeval, or was edited."
        ) from None


def _links(folder: str, names: list[str]) -> list[str]:
    """Names ``copytree`` must not follow: symlinks (a link to a private file would be copied in
    as content) and anything that is neither a file nor a folder."""
    return [
        n
        for n in names
        if os.path.islink(os.path.join(folder, n))
        or not (os.path.isfile(os.path.join(folder, n)) or os.path.isdir(os.path.join(folder, n)))
    ]


def _render(res: _Results, out: Path) -> RenderOutcome:
    """Write the plots, CSV tables and ``index.html`` of the latest run in ``res`` to ``out``."""
    run = res.run

    tables = [_summary(res)]
    sections, plot_failures, all_metric_recs = [], [], []
    names = list(dict.fromkeys(m["name"] for m in run["config"]["metrics"]))
    for name in names:
        recs = _metric_records(res, name)
        all_metric_recs += recs
        if not recs:
            continue
        table = _metric_table(name, recs)
        plots = []
        for stem, caption, draw in _plots_for(name, recs):
            rel = f"plots/{stem}.png"
            try:
                _save_plot(draw(), out / rel)
            except Exception as exc:  # a plot error is reported in the failures section
                plot_failures.append(
                    {
                        "generator": "",
                        "metric_label": name,
                        "stage": "plot",
                        "key": stem,
                        "error_type": type(exc).__name__,
                        "message": f"{stem}: {exc}",
                        "traceback": "",
                    }
                )
                continue
            plots.append({"file": rel, "caption": caption})
        tables.append(table)
        section_tables = [table]
        attrs = _attribute_table(name, recs)
        if attrs is not None:
            tables.append(attrs)
            section_tables.append(attrs)
        sections.append(
            {"name": name, "title": _SECTION_TITLES.get(name, name), "tables": section_tables, "plots": plots}
        )

    figures: list[dict[str, Any]] = []
    kinds: dict[str, dict[str, Any]] = {}
    for g in run["generators"]:
        key = run["figures"].get(g["label"])
        recs = res.latest(key) if key else []
        if recs and recs[0]["record"] == "figures":
            figures.append({"generator": g["label"], "failure": None})
            for it in recs[0]["report"]["items"]:
                kinds.setdefault(it["name"], {"title": it["title"], "figs": []})["figs"].append(
                    it | {"scale": _scale(it), "generator": g["label"]}
                )
        elif recs:
            figures.append({"generator": g["label"], "failure": recs[0]["report"]})

    weights = _weights_table(res, all_metric_recs)
    walls = _wall_table(res)
    failures, failure_details, not_applicable = _failures(res, plot_failures)
    tables += [weights, walls, failures]
    for t in tables:
        t.write_csv(out)

    prov = run["provenance"]
    html = (
        _env()
        .get_template("report.html.j2")
        .render(
            name=run["config"]["name"],
            run=run,
            prov=prov,
            summary=tables[0],
            sections=sections,
            figures=figures,
            figure_kinds=list(kinds.values()),
            generators=run["generators"],
            weights=weights,
            walls=walls,
            failures=failures,
            failure_details=failure_details,
            not_applicable=not_applicable,
            findings=_findings(res),
            intro=[p.strip() for p in run["config"].get("intro", "").split("\n\n") if p.strip()],
            config_json=json.dumps(run["config"], indent=2, ensure_ascii=False),
            total_time=format_time(prov.get("wall_time") or 0.0),
        )
    )
    index = out / "index.html"
    data = html.encode("utf-8")
    atomic_write(index, lambda tmp: Path(tmp).write_bytes(data))
    return RenderOutcome(
        index=index, csv_files=[out / f"{t.slug}.csv" for t in tables], num_failures=len(failure_details)
    )

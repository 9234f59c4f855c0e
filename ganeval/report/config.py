"""The report configuration: a TOML file naming generators, metrics, figures, seed and output.

Schema (every key except ``name``, ``generators`` is optional)::

    name = "example"                 # report title; output defaults to reports/<name>/
    out = "."                        # output folder (relative to this file's folder)
    seed = 0                         # base seed of every metric and figure
    device = "auto"                  # auto | cpu | cuda[:N]
    intro = "..."                    # optional narrative shown at the top (plain text; a blank line
                                     # starts a paragraph)

    [[generators]]
    label = "shapes-stylegan"        # shown in tables; any text (it is escaped)
    source = "zoo:shapes-stylegan"   # anything ganeval.load_generator accepts

    [[metrics]]
    name = "ppl"                     # ppl | separability | fid (others become failure cells)
    label = "PPL W end"              # optional column title (default: preset or name)
    preset = "ppl_wend"              # every other key is passed to the metric function
    samples = 200                    # alias of num_samples (and keep of num_keep)

    [[metrics]]
    name = "fid"                     # ganeval.metrics.fid.evaluate: one feature pass, several results
    metrics = ["fid", "kid", "pr"]   # default ["fid"]
    real = "zoo:shapes"              # default; a folder, zip, .npy/.npz or statistics file also work
    extractor = "zoo:shapes-classifier"   # default (its Fréchet distance is named FD_shapes)
    samples = 2000

    [figures]
    enabled = true
    truncation = 0.7                 # psi of the analysis figures
    grid = 16                        # images in the uncurated grid

    [[claims]]                       # optional findings checked against the results: see
    text = "..."                     # ganeval.report.claims
    left = { generator = "a", metric = "PPL W end" }
    op = "<"
    right = { generator = "a", metric = "PPL Z end" }

Relative paths (``out``, generator sources, and the ``real``, ``classifier``, ``extractor`` and
``distance`` options) resolve against the configuration file's folder when that file exists
there. Omitted options take the offline defaults of :data:`METRIC_DEFAULTS` (recorded in the
resolved configuration, so they are part of every cell's cache key).
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._renamed import upgrade_options
from ..errors import GanevalTypeError, GanevalValueError
from .claims import ClaimSpec, parse_claims

__all__ = [
    "ReportConfig",
    "GeneratorSpec",
    "MetricSpec",
    "FigureSpec",
    "load_config",
    "parse_config",
    "KNOWN_METRICS",
    "OPTION_ALIASES",
    "METRIC_DEFAULTS",
]

KNOWN_METRICS: tuple[str, ...] = ("ppl", "separability", "fid", "equivariance")

# short option names accepted in the TOML -> keyword of the metric function
OPTION_ALIASES: dict[str, str] = {"samples": "num_samples", "keep": "num_keep"}

# options filled in when the TOML omits them: models shipped in the package, so a report runs offline
METRIC_DEFAULTS: dict[str, dict[str, Any]] = {
    "separability": {"classifier": "zoo:shapes-classifier"},
    "fid": {"metrics": ["fid"], "real": "zoo:shapes", "extractor": "zoo:shapes-classifier"},
}

# metric options that may name a file or folder (resolved like generator sources)
_PATH_OPTIONS = ("real", "classifier", "extractor", "distance")

_MAX_CONFIG_BYTES = 16 << 20
_TOP_KEYS = {"name", "out", "seed", "device", "generators", "metrics", "figures", "intro", "claims"}
_FIGURE_KEYS = {
    "enabled",
    "truncation",
    "grid",
    "mixing_rows",
    "mixing_cols",
    "noise_realisations",
    "std_realisations",
    "interpolation_steps",
    "interpolation_pairs",
}


@dataclass(frozen=True)
class GeneratorSpec:
    """One generator of the report: a display label and a ``load_generator`` source."""

    label: str
    source: str


@dataclass(frozen=True)
class MetricSpec:
    """One metric column: the metric name, its column label and its keyword options."""

    name: str
    label: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FigureSpec:
    """Settings of the StyleGAN analysis figures drawn for every generator."""

    enabled: bool = True
    truncation: float = 0.7
    grid: int = 16
    mixing_rows: int = 3
    mixing_cols: int = 4
    noise_realisations: int = 4
    std_realisations: int = 32
    interpolation_steps: int = 8
    interpolation_pairs: int = 2


@dataclass(frozen=True)
class ReportConfig:
    """A fully resolved report configuration (see the module docstring for the TOML schema)."""

    name: str
    out: Path
    seed: int = 0
    device: str = "auto"
    generators: tuple[GeneratorSpec, ...] = ()
    metrics: tuple[MetricSpec, ...] = ()
    figures: FigureSpec = field(default_factory=FigureSpec)
    intro: str = ""
    claims: tuple[ClaimSpec, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, as recorded in ``results.jsonl`` and shown in the provenance section."""
        d = asdict(self)
        d["out"] = str(self.out)
        d["generators"] = [asdict(g) for g in self.generators]
        d["metrics"] = [asdict(m) for m in self.metrics]
        d["claims"] = [asdict(c) for c in self.claims]
        return d


def load_config(path: str | Path) -> ReportConfig:
    """Read and validate a TOML report configuration."""
    path = Path(path)
    if not path.is_file():
        raise GanevalValueError(f"Argument `config` must be an existing TOML file, but got {str(path)!r} (not found).")
    if path.stat().st_size > _MAX_CONFIG_BYTES:
        raise GanevalValueError(
            f"Argument `config` must be a TOML file of at most {_MAX_CONFIG_BYTES >> 20} MiB, but "
            f"{str(path)!r} is larger."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise GanevalValueError(
            f"Argument `config` must be valid TOML, but {str(path)!r} fails to parse: {why}."
        ) from None
    return parse_config(data, base_dir=path.parent)


def _str(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GanevalTypeError(f"Config key `{where}` must be a non-empty string, but got {value!r}.")
    return value


def _table(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise GanevalTypeError(f"Config key `{where}` must be a table, but got {value!r}.")
    return value


def _shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (tidier provenance), else absolute."""
    rel = os.path.relpath(path.resolve(), Path.cwd())
    return str(path.resolve()) if rel.startswith("..") else rel


def _resolve_source(source: str, base_dir: Path | None) -> str:
    # registry names ("zoo:...") and names that are no file there stay as they are;
    # relative files resolve against the config folder
    if ":" in source.split("/")[0] or base_dir is None:
        return source
    p = Path(source).expanduser()
    try:
        here = not p.is_absolute() and (base_dir / p).exists()
    except (OSError, ValueError):  # a name too long or holding NUL names no file
        here = False
    return _shown_path(base_dir / p) if here else source


def _folder_name(name: str) -> str:
    """``name`` as the default folder ``reports/<name>``: refused when it is a path, not a name."""
    if any(c in name for c in "/\\\0:") or name.strip() in (".", "..") or any(ord(c) < 32 for c in name):
        raise GanevalValueError(
            f"Config key `name` names the output folder reports/<name> (no `out` is given), so "
            f"it must not contain '/', '\\', ':', control characters or be '..', but got "
            f"{name!r}; set `out` or choose a plain name."
        )
    return name


def _confined_out(value: str, base_dir: Path | None) -> Path:
    """``out`` resolved against the config's folder; refused when it leaves that folder.

    A config file may come from someone else: a relative ``out`` must not climb out of its folder
    (``../../x``). An absolute ``out`` names its place openly; the runner refuses a folder that
    holds anything but a report of the same name.
    """
    root = (base_dir if base_dir is not None else Path.cwd()).resolve()
    out = Path(value).expanduser()
    if out.is_absolute():  # spelled out in full: the writer names the place (a foreign report is refused later)
        return out
    target = (root / out).resolve()
    if target != root and root not in target.parents:
        raise GanevalValueError(
            f"Config key `out` must be a relative folder inside the config's folder "
            f"{str(root)!r}, but {value!r} points to {str(target)!r}; give another folder with "
            "--out instead."
        )
    return Path(_shown_path(target))


def _figures(data: Any) -> FigureSpec:
    data = _table("figures", data)
    unknown = sorted(set(data) - _FIGURE_KEYS)
    if unknown:
        raise GanevalValueError(
            f"Config table `figures` has unknown key(s) {unknown}; expected some of {sorted(_FIGURE_KEYS)}."
        )
    spec = FigureSpec(**data)
    if not isinstance(spec.enabled, bool):
        raise GanevalTypeError(f"Config key `figures.enabled` must be true or false, but got {spec.enabled!r}.")
    psi = spec.truncation
    if isinstance(psi, bool) or not isinstance(psi, (int, float)) or not math.isfinite(psi):
        raise GanevalTypeError(f"Config key `figures.truncation` must be a finite number, but got {psi!r}.")
    for key in _FIGURE_KEYS - {"enabled", "truncation"}:
        v = getattr(spec, key)
        if (
            isinstance(v, bool)
            or not isinstance(v, int)
            or v < (2 if key in ("std_realisations", "interpolation_steps") else 1)
        ):
            raise GanevalValueError(f"Config key `figures.{key}` must be a positive integer, but got {v!r}.")
    return FigureSpec(**{**asdict(spec), "truncation": float(psi)})


def parse_config(data: dict[str, Any], *, base_dir: Path | None = None) -> ReportConfig:
    """Validate a parsed TOML document and return the resolved :class:`ReportConfig`.

    Structural mistakes (missing names, wrong types, duplicate labels, unknown top-level keys)
    raise :class:`GanevalValueError`; an unknown *metric name* is not an error here: the runner
    turns it into a failure cell so the rest of the report is still produced.
    """
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise GanevalValueError(f"Config has unknown top-level key(s) {unknown}; expected some of {sorted(_TOP_KEYS)}.")
    name = _str("name", data.get("name"))
    out = _confined_out(_str("out", data["out"]), base_dir) if "out" in data else Path("reports") / _folder_name(name)
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise GanevalValueError(f"Config key `seed` must be a non-negative integer, but got {seed!r}.")
    device = _str("device", data.get("device", "auto"))

    gens_raw = data.get("generators")
    if not isinstance(gens_raw, list) or not gens_raw:
        raise GanevalValueError(
            "Config must list at least one generator as [[generators]] with `label` and `source`, "
            f"but got {gens_raw!r}."
        )
    generators = []
    for i, g in enumerate(gens_raw):
        g = _table(f"generators[{i}]", g)
        extra = sorted(set(g) - {"label", "source"})
        if extra:
            raise GanevalValueError(
                f"Config table `generators[{i}]` has unknown key(s) {extra}; expected `label`, `source`."
            )
        source = _resolve_source(_str(f"generators[{i}].source", g.get("source")), base_dir)
        generators.append(GeneratorSpec(label=_str(f"generators[{i}].label", g.get("label", source)), source=source))
    labels = [g.label for g in generators]
    if len(set(labels)) != len(labels):
        raise GanevalValueError(f"Config generator labels must be unique, but got {labels}.")

    metrics = []
    for i, m in enumerate(data.get("metrics", [])):
        m = _table(f"metrics[{i}]", m)
        mname = _str(f"metrics[{i}].name", m.get("name"))
        given = {OPTION_ALIASES.get(k, k): v for k, v in m.items() if k not in ("name", "label")}
        options = upgrade_options(mname, given, f"metrics[{i}]")
        defaults = dict(METRIC_DEFAULTS.get(mname, {}))
        if mname == "fid" and not str(options.get("real", "zoo:")).startswith("zoo:"):
            # the zoo classifier's features only suit the zoo data; any other real set gets the FID Inception
            defaults["extractor"] = "inception-v3-fid"
        options = {**defaults, **options}
        for k in _PATH_OPTIONS:
            if isinstance(options.get(k), str):
                options[k] = _resolve_source(options[k], base_dir)
        label = m.get("label") or options.get("preset") or mname
        metrics.append(MetricSpec(name=mname, label=_str(f"metrics[{i}].label", label), options=options))
    mlabels = [m.label for m in metrics]
    if len(set(mlabels)) != len(mlabels):
        raise GanevalValueError(f"Config metric labels must be unique (add `label = ...`), but got {mlabels}.")

    figures = _figures(data.get("figures", {}))
    intro = data.get("intro", "")
    if not isinstance(intro, str):
        raise GanevalTypeError(f"Config key `intro` must be a string, but got {intro!r}.")
    claims = parse_claims(data.get("claims", []), set(labels), set(mlabels))
    return ReportConfig(
        name=name,
        out=out,
        seed=seed,
        device=device,
        generators=tuple(generators),
        metrics=tuple(metrics),
        figures=figures,
        intro=intro,
        claims=claims,
    )

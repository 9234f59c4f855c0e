"""Linear separability of latent spaces (StyleGAN paper, Karras et al. 2019, section 4.2).

Reference: NVlabs/stylegan ``metrics/linear_separability.py`` (read for meaning; see
``docs/protocols.md`` section 2). Procedure, per run:

1. Sample ``num_samples`` latents ``z`` (stream ``(seed, "z", index)``), map them without
   truncation, synthesise with per-image noise drawn from ``(seed, "noise/k", index)`` (ganeval
   generators; other generators use their constant noise), box-downsample to the classifier's
   input size and classify every attribute. Only latents and logits are kept, never images.
2. Per attribute, keep the ``num_keep`` most confident samples. Confidence is
   ``max(p, 1 - p)`` with ``p = softmax([l, -l])[0] = sigmoid(2 l)`` computed in float32 as in the
   reference, so very confident samples tie at 1.0; ties are broken by ascending sample index
   (a stable sort on descending confidence). Label ``y = 1`` where ``l >= 0`` (the reference's
   class 0; entropies do not depend on which class is called 1).
3. Fit a linear SVM per attribute on the kept latents (space ``z``: the raw z; ``w``: ws at layer
   ``w_layer``, the last one by default as in the reference) to predict ``y``.
4. ``H(Y | X)`` in bits from the 2x2 joint table of SVM prediction X and label Y, clamped at 0;
   score = ``2 ** sum_i H_i`` (equal to the paper's ``exp`` of the sum in nats). Lower is better.

Splits (``split``, called ``protocol`` up to 0.1.0): ``"stylegan"`` fits and scores on the same
kept points (the reference); ``"heldout"`` fits on kept samples whose index is not a multiple
of 5 and scores on the others (entropy and accuracy on unseen points; the training accuracy is
reported too).
Solvers: ``"fast"`` (default; :mod:`ganeval.metrics._linear_svm`, LinearSVC's primal problem,
deterministic), ``"liblinear-dual"`` (``sklearn.svm.LinearSVC(dual=True, random_state=0)``:
the reference's settings, ``dual=True`` being the default of the scikit-learn versions NVIDIA
used) and ``"liblinear-primal"`` (``dual=False``). Preset ``ls_stylegan`` = the reference's
split with ``liblinear-dual``.

Fits that cannot be scored are never counted as perfect predictions (the reference replaced
them by the labels): an attribute whose kept labels hold a single class (``single_class``;
``constant`` when the classifier gives one class over all samples) or whose fit raised
(``failed``) gets NaN entropy and is **excluded** from the sum; the result says how many were
excluded and which. A solver that stops at its iteration limit is scored and flagged
``not_converged``.
"""

from __future__ import annotations

import functools
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from .._io import atomic_write
from .._validate import check_choice, check_float_images, check_positive_int, is_int
from ..errors import GanevalTypeError, GanevalValueError, NonFiniteOutputError, UnsupportedGeneratorError
from ..results import MetricResult

__all__ = [
    "separability",
    "SeparabilityResult",
    "SEPARABILITY_PRESETS",
    "conditional_entropy_bits",
    "joint_table",
    "confident_indices",
    "export_boundaries",
]

SPACES = ("z", "w")
SPLITS = ("stylegan", "heldout")
SOLVERS = ("fast", "liblinear-dual", "liblinear-primal")
SCORED = ("ok", "not_converged")
_CACHE_VERSION = 2  # 2: chunks also hold the per-sample `finite` flag
_MAX_SAMPLES = 100_000_000  # latents and logits of this many samples are kept in memory

SEPARABILITY_PRESETS: dict[str, dict[str, Any]] = {
    # NVIDIA's protocol exactly: LinearSVC defaults (dual=True then), fit and score on the same points.
    "ls_stylegan": {"num_samples": 200_000, "num_keep": 100_000, "split": "stylegan", "solver": "liblinear-dual"},
    # Same sampling, fast solver, entropy on held-out points.
    "ls_heldout": {"num_samples": 200_000, "num_keep": 100_000, "split": "heldout", "solver": "fast"},
}


# ------------------------------------------------------------------------- pure computations


def joint_table(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """2x2 joint frequencies ``P[x, y]`` (rows: prediction X, columns: label Y), summing to 1."""
    pred = np.asarray(pred).astype(np.int64)
    target = np.asarray(target).astype(np.int64)
    counts = np.bincount(pred * 2 + target, minlength=4).astype(np.float64)
    return (counts / max(counts.sum(), 1.0)).reshape(2, 2)


def conditional_entropy_bits(table: np.ndarray) -> float:
    """``H(Y | X) = H(Y) - I(X; Y)`` in bits for a 2-D joint table (rows X, columns Y), clamped at 0.

    The table is normalised to sum 1 first. E.g. ``[[0.5, 0], [0, 0.5]] -> 0`` and
    ``[[0.25, 0.25], [0.25, 0.25]] -> 1``.
    """
    p = np.asarray(table, dtype=np.float64)
    total = p.sum()
    if not np.isfinite(total) or total <= 0 or (p < 0).any():
        raise GanevalValueError(
            f"Argument `table` must hold non-negative frequencies with a positive sum, but got {p.tolist()}."
        )
    p = p / total
    px, py = p.sum(1), p.sum(0)
    h_y = -sum(v * math.log2(v) for v in py if v > 0)
    mi = sum(
        p[i, j] * math.log2(p[i, j] / (px[i] * py[j]))
        for i in range(p.shape[0])
        for j in range(p.shape[1])
        if p[i, j] > 0
    )
    return max(0.0, h_y - mi)


def confident_indices(logits: np.ndarray, num_keep: int) -> np.ndarray:
    """Per attribute, the ``num_keep`` most confident sample indices: int64 ``[A, num_keep]``.

    Confidence ``max(p, 1 - p)``, ``p = sigmoid(2 l)`` in float32 (the reference's two-class
    softmax); stable sort on descending confidence, so ties go to the lower sample index. Each
    row is returned in ascending index order.
    """
    logits = np.asarray(logits, dtype=np.float32)
    if logits.ndim != 2:
        raise GanevalValueError(f"Argument `logits` must have shape [N, A], but got {list(logits.shape)}.")
    if not 1 <= num_keep <= logits.shape[0]:
        raise GanevalValueError(f"Argument `num_keep` must be in [1, {logits.shape[0]}], but got {num_keep}.")
    p = torch.sigmoid(2.0 * torch.from_numpy(logits)).numpy()
    conf = np.maximum(p, np.float32(1.0) - p)
    out = np.empty((logits.shape[1], num_keep), dtype=np.int64)
    for a in range(logits.shape[1]):
        order = np.argsort(-conf[:, a], kind="stable")
        out[a] = np.sort(order[:num_keep])
    return out


def _fit(x: np.ndarray, y: np.ndarray, solver: str, moment: torch.Tensor | None) -> tuple[Any, bool]:
    """Fit one SVM; returns (object with predict/coef, converged)."""
    if solver == "fast":
        from ._linear_svm import fit_linear_svm

        fit = fit_linear_svm(x, y, moment=moment)
        return fit, fit.converged
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    svm = LinearSVC(dual=(solver == "liblinear-dual"), random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        svm.fit(x, y)
    return svm, not any(issubclass(w.category, ConvergenceWarning) for w in caught)


def _coef(model: Any) -> np.ndarray:
    return np.asarray(model.coef_ if hasattr(model, "coef_") else model.coef, dtype=np.float64).reshape(-1)


def _score_attribute(
    x: np.ndarray,
    y: np.ndarray,
    idx: np.ndarray,
    *,
    split: str,
    solver: str,
    moment: torch.Tensor | None,
    constant: bool,
) -> tuple[dict[str, Any], np.ndarray | None]:
    """One (attribute, space): row of the table and the unit SVM normal (None when not scored)."""
    test = (idx % 5 == 0) if split == "heldout" else np.ones(len(idx), dtype=bool)
    train = ~test if split == "heldout" else test
    row: dict[str, Any] = {
        "entropy_bits": math.nan,
        "svm_train_acc": math.nan,
        "heldout_acc": math.nan,
        "heldout_entropy_bits": math.nan,
        "class_balance": float(y.mean()),
        "kept": len(y),
    }
    if constant or y[train].min() == y[train].max():
        row["status"] = "constant" if constant else "single_class"
        return row, None
    try:
        model, converged = _fit(x[train], y[train], solver, moment)
        pred_train = np.asarray(model.predict(x[train]))
    except Exception as exc:  # any solver failure is reported per attribute, never scored
        row["status"] = f"failed: {type(exc).__name__}: {exc}"
        return row, None
    row["svm_train_acc"] = float((pred_train == y[train]).mean())
    if split == "heldout":
        pred_test = np.asarray(model.predict(x[test]))
        row["heldout_acc"] = float((pred_test == y[test]).mean())
        row["heldout_entropy_bits"] = conditional_entropy_bits(joint_table(pred_test, y[test]))
        row["entropy_bits"] = row["heldout_entropy_bits"]
    else:
        row["entropy_bits"] = conditional_entropy_bits(joint_table(pred_train, y[train]))
    row["status"] = "ok" if converged else "not_converged"
    normal = _coef(model)
    norm = np.linalg.norm(normal)
    return row, (normal / norm if norm > 0 else None)


# ------------------------------------------------------------------------- result


@dataclass(frozen=True)
class SeparabilityResult(MetricResult):
    """Linear separability result.

    ``value`` is the W score when ``"w"`` was evaluated, else the Z score; ``extra`` holds
    ``score_<space>``, ``num_scored_<space>`` and ``excluded_<space>`` (names of attributes
    left out of the sum) and ``attributes`` (the table as records, for the JSON line).

    Attributes:
        table: per (attribute, space) DataFrame with columns attribute, space, entropy_bits,
            svm_train_acc, heldout_acc, heldout_entropy_bits, class_balance (fraction with
            label 1 among the kept samples), kept, status.
        normals: ``{space: {attribute: unit SVM normal [dim]}}`` for the scored fits; the
            normal points towards label 1 (attribute present).
    """

    table: Any = field(default=None, repr=False, compare=False)
    normals: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False, compare=False)

    def scores(self) -> dict[str, float]:
        """``{space: score}``."""
        return {k[len("score_") :]: v for k, v in self.extra.items() if k.startswith("score_")}

    def per_attribute_frame(self) -> Any:
        """The per-attribute table (a copy)."""
        return self.table.copy()


def export_boundaries(result: SeparabilityResult, directory: str | Path, space: str | None = None) -> list[Path]:
    """Write InterFaceGAN-style boundaries ``boundary_<attr>.npy`` (float32 ``[1, dim]``, unit norm).

    Args:
        result: a :class:`SeparabilityResult`.
        directory: output folder (created).
        space: which space's normals; default ``"w"`` when evaluated, else ``"z"``.

    Returns:
        the written paths (only attributes whose fit was scored).
    """
    import re

    if space is None:
        space = "w" if "w" in result.normals else next(iter(result.normals), "z")
    if space not in result.normals:
        raise GanevalValueError(f"Argument `space` must be one of {sorted(result.normals)}, but got {space!r}.")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for attr, normal in result.normals[space].items():
        path = out / f"boundary_{re.sub(r'[^A-Za-z0-9_.-]', '_', attr)}.npy"
        vec = normal.astype(np.float32).reshape(1, -1)
        atomic_write(path, functools.partial(np.save, arr=vec))  # tmp ends in .npy: np.save adds nothing
        paths.append(path)
    return paths


# ------------------------------------------------------------------------- sampling


def _module_hash(module: Any) -> str:
    prov = getattr(module, "provenance", None)
    if isinstance(prov, dict) and prov.get("sha256"):
        return str(prov["sha256"])
    from ..classifiers.base import module_sha256

    return module_sha256(module)


def _classifier_hash(clf: Any) -> str:
    sha = clf.weights_sha256
    if isinstance(sha, dict):
        import json

        return json.dumps(sha, sort_keys=True)
    return str(sha)


def _default_cache_dir() -> Path:
    from ..weights import cache_root

    return cache_root() / "separability"


def _sample_fn(
    G: Any, clf: Any, seed: int, device: torch.device
) -> tuple[Callable[[np.ndarray], dict[str, np.ndarray]], str]:
    from .. import _seeding

    explicit_noise = hasattr(getattr(G, "synthesis", None), "noise_resolutions")
    r = clf.input_resolution

    @torch.no_grad()
    def fn(idx: np.ndarray) -> dict[str, np.ndarray]:
        z = _seeding.normal(seed, "z", idx, (G.z_dim,)).to(device)
        c = None
        if G.c_dim > 0:
            labels = _seeding.randint(seed, "label", idx, G.c_dim).to(device)
            c = torch.nn.functional.one_hot(labels, G.c_dim).float()
        ws = G.mapping(z, c)
        if explicit_noise:
            from ..models.control import make_noise

            noise = make_noise(G, len(idx), "random", seed=seed, device=device, indices=idx)
            img = G.synthesis(ws, noise_mode="const", noise=noise)
        else:
            img = G.synthesis(ws, noise_mode="const")
        _check_images(img, len(idx), r)
        if img.shape[-1] != r:
            img = torch.nn.functional.avg_pool2d(img.float(), img.shape[-1] // r)
        logits = clf(img).float()
        finite = torch.isfinite(img.flatten(1)).all(1) & torch.isfinite(logits).all(1)
        return {
            "z": z.cpu().numpy(),
            "w": ws[:, -1].float().cpu().numpy(),
            "logits": logits.cpu().numpy(),
            "finite": finite.cpu().numpy(),
        }

    return fn, ("per-image random (seed, index)" if explicit_noise else "const")


def _check_images(img: Any, n: int, r: int) -> None:
    """Refuse synthesis output that is not float images ``[n, C, H, H]`` with H a multiple of ``r``."""
    if not isinstance(img, torch.Tensor) or img.ndim != 4 or img.shape[0] != n or img.shape[-1] % r:
        got = list(img.shape) if isinstance(img, torch.Tensor) else type(img).__name__
        raise GanevalValueError(
            f"The generator's synthesis must return images [{n}, C, H, H] (H a multiple of "
            f"{r}) for {n} latents, but returned {got}."
        )
    check_float_images("the generator's images", img)


def _check_inputs(G: Any, clf: Any, spaces: Sequence[str], num_samples: int, num_keep: int, w_layer: int) -> None:
    for attr in ("z_dim", "c_dim", "w_dim", "num_ws", "img_resolution", "mapping", "synthesis"):
        if not hasattr(G, attr):
            raise UnsupportedGeneratorError(
                f"Argument `G` must be a style-based generator with `{attr}` "
                "(mapping + synthesis); load one with ganeval.load_generator."
            )
    for attr in ("z_dim", "w_dim", "num_ws", "img_resolution"):  # NumPy integers are integers too
        check_positive_int(f"G.{attr}", getattr(G, attr))
    check_positive_int("G.c_dim", G.c_dim, minimum=0)
    for attr in ("attribute_names", "input_resolution"):
        if not hasattr(clf, attr):
            raise GanevalTypeError(
                f"Argument `classifier` must provide `{attr}`; "
                "use ganeval.load_classifier or ganeval.classifiers.wrap_classifier."
            )
    if num_keep > num_samples:
        raise GanevalValueError(
            f"Argument `num_keep` must be at most `num_samples` ({num_samples}), but got {num_keep}."
        )
    if not spaces:
        raise GanevalValueError("Argument `spaces` must name at least one of 'z', 'w', but got an empty sequence.")
    for s in spaces:
        check_choice("spaces", s, SPACES)
    if len(set(spaces)) != len(spaces):
        raise GanevalValueError(f"Argument `spaces` must not repeat a space, but got {list(spaces)}.")
    if "w" in spaces and not getattr(G, "has_w_space", True):
        raise UnsupportedGeneratorError(
            f"Argument `spaces` includes 'w', but the generator {type(G).__name__} has no "
            "intermediate latent space (z feeds its synthesis input); use spaces=('z',)."
        )
    if not -G.num_ws <= w_layer < G.num_ws:
        raise GanevalValueError(f"Argument `w_layer` must be in [{-G.num_ws}, {G.num_ws - 1}], but got {w_layer}.")
    res, r = int(G.img_resolution), int(clf.input_resolution)
    if res < r or res % r:
        raise GanevalValueError(
            f"The generator's resolution ({res}) must be a multiple of the classifier's input "
            f"resolution ({r}) for box downsampling, but it is not."
        )


# ------------------------------------------------------------------------- the metric


def separability(
    G: Any,
    classifier: Any,
    *,
    spaces: Sequence[Literal["z", "w"]] | Literal["z", "w"] = ("z", "w"),
    num_samples: int = 200_000,
    num_keep: int = 100_000,
    seed: int = 0,
    batch_size: int = 64,
    device: str | torch.device = "auto",
    split: Literal["stylegan", "heldout"] = "stylegan",
    solver: Literal["fast", "liblinear-dual", "liblinear-primal"] = "fast",
    w_layer: int = -1,
    cache_dir: str | Path | Literal[False] | None = None,
    on_nan: Literal["stop", "skip"] = "stop",
    progress: bool | str | None = None,
    protocol: Literal["stylegan", "heldout"] | None = None,
) -> SeparabilityResult:
    """Linear separability of Z and/or W (see the module docstring for the procedure).

    Args:
        G: generator (``mapping``/``synthesis``, see :mod:`ganeval.models.base`), or its registry
            name or checkpoint path (:func:`ganeval.loaders.resolve_generator`).
        classifier: an attribute classifier (:func:`ganeval.load_classifier`) or a source for it.
        spaces: latent spaces to score: ``"z"`` and/or ``"w"``.
        num_samples: images generated and classified.
        num_keep: most confident samples kept per attribute (<= ``num_samples``).
        seed: every draw derives from (seed, stream, sample index).
        batch_size: samples per generator call (rounded up to a multiple of the classifier's
            ``group_size``); results do not depend on it.
        device: ``"auto"|"cpu"|"cuda[:N]"``.
        split: ``"stylegan"`` (fit and score on the same points) or ``"heldout"``.
        solver: ``"fast"``, ``"liblinear-dual"`` or ``"liblinear-primal"``.
        w_layer: which layer of W+ is the ``"w"`` space (default: the last, as the reference).
        cache_dir: folder of the sample cache (latents + logits, keyed by generator hash,
            classifier hash, seed, noise and device type; chunks named by sample range). ``None``:
            ``<ganeval cache root>/separability``; ``False``: no cache.
        on_nan: a generated image (or its logits) holding NaN/Inf: ``"stop"`` raises
            :class:`~ganeval.errors.NonFiniteOutputError` at the first such batch (how many, first
            sample indices); ``"skip"`` leaves those samples out and records them in ``extra``.
        progress: see :func:`ganeval.runtime.map_samples`.
        protocol: the old name of ``split`` (deprecated; removed in the next release).

    Returns:
        :class:`SeparabilityResult` (lower is better).

    >>> import ganeval
    >>> G = ganeval.load_generator("zoo:shapes-stylegan")                         # doctest: +SKIP
    >>> res = ganeval.separability(G, "zoo:shapes-classifier", num_samples=4000, num_keep=2000)  # doctest: +SKIP
    >>> res.scores(), res.table                                                  # doctest: +SKIP
    """
    from .._renamed import renamed_argument
    from ..classifiers import load_classifier
    from ..devices import resolve_device
    from ..loaders import resolve_generator

    t0 = time.time()
    split = renamed_argument("separability", "protocol", "split", protocol, split, "stylegan")
    opts = _check_options(
        spaces=spaces,
        num_samples=num_samples,
        num_keep=num_keep,
        seed=seed,
        batch_size=batch_size,
        split=split,
        solver=solver,
        w_layer=w_layer,
        cache_dir=cache_dir,
        on_nan=on_nan,
    )
    dev = resolve_device(device)
    G = resolve_generator(G, dev)
    clf = load_classifier(classifier, device=dev)
    _check_inputs(G, clf, opts.spaces, opts.num_samples, opts.num_keep, opts.w_layer)
    G = G.to(dev).eval()
    samples = _draw_samples(G, clf, opts, dev, progress)
    keep = confident_indices(samples.logits, opts.num_keep)
    rows, normals, extra = (
        [],
        {},
        {"num_nonfinite_skipped": len(samples.bad), "first_nonfinite_indices": samples.bad[:10].tolist()},
    )
    for space in opts.spaces:
        space_rows, normals[space], scores = _score_space(space, samples, keep, clf.attribute_names, opts)
        rows += space_rows
        extra.update(scores)
    return _result(
        G, clf, opts, samples, rows, normals, extra, dev, time.time() - t0, names=_input_names(G, classifier, clf)
    )


@dataclass(frozen=True)
class _Options:
    """The validated arguments of one :func:`separability` call (see there)."""

    spaces: tuple[str, ...]
    num_samples: int
    num_keep: int
    seed: int
    batch_size: int
    split: str
    solver: str
    w_layer: int
    cache_dir: str | os.PathLike[str] | Literal[False] | None
    on_nan: str


def _check_options(
    *,
    spaces: Any,
    num_samples: Any,
    num_keep: Any,
    seed: Any,
    batch_size: Any,
    split: Any,
    solver: Any,
    w_layer: Any,
    cache_dir: Any,
    on_nan: Any,
) -> _Options:
    """Validate every argument that does not need the generator or classifier (one error naming the argument)."""
    num_samples = check_positive_int("num_samples", num_samples, maximum=_MAX_SAMPLES)
    num_keep = check_positive_int("num_keep", num_keep)
    batch_size = check_positive_int("batch_size", batch_size)
    check_choice("split", split, SPLITS)
    check_choice("solver", solver, SOLVERS)
    check_choice("on_nan", on_nan, ("stop", "skip"))
    if not is_int(w_layer):
        raise GanevalTypeError(f"Argument `w_layer` must be an integer, but got {w_layer!r}.")
    seed = check_positive_int("seed", seed, minimum=0, maximum=2**63 - 1)
    if cache_dir is not None and cache_dir is not False and not isinstance(cache_dir, (str, os.PathLike)):
        raise GanevalTypeError(
            f"Argument `cache_dir` must be a folder path, None or False, but got {type(cache_dir).__name__}."
        )
    if isinstance(spaces, str):
        spaces = (spaces,)
    if not isinstance(spaces, (list, tuple)):
        raise GanevalTypeError(f"Argument `spaces` must be a sequence of 'z', 'w', but got {type(spaces).__name__}.")
    for s in spaces:
        check_choice("spaces", s, SPACES)
    return _Options(
        spaces=tuple(spaces),
        num_samples=num_samples,
        num_keep=num_keep,
        seed=seed,
        batch_size=batch_size,
        split=split,
        solver=solver,
        w_layer=int(w_layer),
        cache_dir=cache_dir,
        on_nan=on_nan,
    )


@dataclass(frozen=True)
class _Samples:
    """The drawn samples of one run, with the non-finite ones already left out (``on_nan="skip"``).

    Attributes:
        logits: float32 ``[n, A]`` classifier logits of the finite samples.
        latents: ``{space: float32 [n, dim]}`` (``"z"`` always; ``"w"`` at ``w_layer`` when scored).
        sample_index: int64 ``[n]``, the original sample index of each row (the held-out split uses it).
        bad: int64, the indices of the samples left out.
        config: the sample cache's configuration (generator and classifier hashes, seed, noise, ...).
        batch: samples per generator call (a multiple of the classifier's group size).
        run_dir: the cache folder, or None without a cache.
        resumed: samples read back from the cache.
    """

    logits: np.ndarray
    latents: dict[str, np.ndarray]
    sample_index: np.ndarray
    bad: np.ndarray
    config: dict[str, Any]
    batch: int
    run_dir: Path | None
    resumed: int


def _draw_samples(G: Any, clf: Any, opts: _Options, dev: torch.device, progress: Any) -> _Samples:
    """Generate and classify ``num_samples`` samples (through the sample cache), then apply ``on_nan``."""
    from ..runtime import config_hash, map_samples

    group = int(getattr(clf, "group_size", 1))
    batch = -(-opts.batch_size // group) * group
    fn, noise_desc = _sample_fn(G, clf, opts.seed, dev)
    sample_config = {
        "kind": "separability-samples",
        "version": _CACHE_VERSION,
        "generator": _module_hash(G),
        "classifier": _classifier_hash(clf),
        "attributes": list(clf.attribute_names),
        "seed": int(opts.seed),
        "noise": noise_desc,
        "device_type": dev.type,
        "classifier_group_size": group,
    }
    run_dir = None
    if opts.cache_dir is not False:
        root = Path(opts.cache_dir) if opts.cache_dir is not None else _default_cache_dir()
        run_dir = root / config_hash(sample_config)[:20]
    data = map_samples(
        fn,
        opts.num_samples,
        batch_size=batch,
        desc="separability",
        progress=progress,
        run_dir=run_dir,
        config=sample_config,
        batch_multiple=group,
        stop_when=(lambda g: not g["finite"].all()) if opts.on_nan == "stop" else None,
    )
    logits = data["logits"]
    latents = {"z": data["z"]}
    if "w" in opts.spaces:
        latents["w"] = (
            data["w"]
            if opts.w_layer in (-1, G.num_ws - 1)
            else _recompute_w(G, data["z"], opts.w_layer, opts.seed, batch, dev)
        )
    finite = data["finite"]
    bad = np.flatnonzero(~finite)
    if len(bad) and opts.on_nan == "stop":
        raise NonFiniteOutputError(
            f"The generator produced {len(bad)} non-finite image(s) or classifier outputs in the first "
            f"{len(finite)} samples (first sample indices: {bad[:10].tolist()}); pass on_nan='skip' "
            "(--on-nan skip) to leave them out."
        )
    if len(bad):
        warnings.warn(
            f"separability: left out {len(bad)} sample(s) with non-finite images or logits "
            f"(first sample indices: {bad[:10].tolist()}).",
            stacklevel=3,
        )
        logits = logits[finite]
        latents = {k: v[finite] for k, v in latents.items()}
        if opts.num_keep > len(logits):
            raise GanevalValueError(
                f"Only {len(logits)} finite samples remain, fewer than `num_keep` ({opts.num_keep})."
            )
    return _Samples(
        logits=logits,
        latents=latents,
        sample_index=np.flatnonzero(finite),
        bad=bad,
        config=sample_config,
        batch=batch,
        run_dir=run_dir,
        resumed=int(getattr(data, "resumed", 0)),
    )


def _score_space(
    space: str, samples: _Samples, keep: np.ndarray, names: Sequence[str], opts: _Options
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray], dict[str, Any]]:
    """Fit and score every attribute in one space: (table rows, unit SVM normals, score entries of ``extra``).

    ``keep`` is :func:`confident_indices` of the logits, int64 ``[A, num_keep]``; the score is
    ``2 ** sum(entropy_bits)`` over the attributes whose fit was scored (NaN when none was).
    """
    x = np.ascontiguousarray(samples.latents[space], dtype=np.float32)
    labels = samples.logits >= 0
    constant = np.asarray(labels.all(0) | (~labels).all(0), dtype=bool)
    moment = None
    if opts.solver == "fast":
        from ._linear_svm import second_moment

        moment = second_moment(torch.from_numpy(x))
    rows, normals = [], {}
    for a, attr in enumerate(names):
        idx = keep[a]
        row, normal = _score_attribute(
            x[idx],
            labels[idx, a].astype(np.int64),
            samples.sample_index[idx],
            split=opts.split,
            solver=opts.solver,
            moment=moment,
            constant=bool(constant[a]),
        )
        rows.append({"attribute": attr, "space": space, **row})
        if normal is not None:
            normals[attr] = normal
    scored = [r for r in rows if r["status"] in SCORED]
    excluded = [r["attribute"] for r in rows if r["status"] not in SCORED]
    if excluded:
        warnings.warn(
            f"separability ({space}): {len(excluded)} of {len(names)} attribute(s) excluded from the "
            f"score (no usable SVM fit): {excluded}; see the table's status column.",
            stacklevel=3,
        )
    scores = {
        f"score_{space}": float(2.0 ** sum(r["entropy_bits"] for r in scored)) if scored else math.nan,
        f"num_scored_{space}": len(scored),
        f"excluded_{space}": excluded,
    }
    return rows, normals, scores


def _result(
    G: Any,
    clf: Any,
    opts: _Options,
    samples: _Samples,
    rows: list[dict[str, Any]],
    normals: dict[str, dict[str, np.ndarray]],
    extra: dict[str, Any],
    dev: torch.device,
    wall: float,
    names: dict[str, Any],
) -> SeparabilityResult:
    """The result: the table, the configuration that defines the number (with ``names``: the generator
    and classifier as names that load again), and provenance."""
    import pandas as pd

    from ..results import collect_provenance

    table = pd.DataFrame(
        rows,
        columns=[
            "attribute",
            "space",
            "entropy_bits",
            "svm_train_acc",
            "heldout_acc",
            "heldout_entropy_bits",
            "class_balance",
            "kept",
            "status",
        ],
    )
    extra["attributes"] = table.to_dict(orient="records")
    value_space = "w" if "w" in opts.spaces else opts.spaces[0]
    sklearn_version = None
    if opts.solver != "fast":
        import sklearn

        sklearn_version = sklearn.__version__
    config = {
        "spaces": list(opts.spaces),
        "num_samples": opts.num_samples,
        "num_keep": opts.num_keep,
        "seed": opts.seed,
        "on_nan": opts.on_nan,
        "split": opts.split,
        "solver": opts.solver,
        "w_layer": opts.w_layer,
        "batch_size": samples.batch,
        "truncation_psi": 1.0,
        "noise": samples.config["noise"],
        "classifier_resolution": clf.input_resolution,
        "attributes": list(clf.attribute_names),
        "score_space": value_space,
        "svm": (
            "fast Newton-CG, LinearSVC primal problem (C=1, tol=1e-4)"
            if opts.solver == "fast"
            else f"sklearn LinearSVC(dual={opts.solver == 'liblinear-dual'}, random_state=0)"
        ),
        **names,
    }
    metric = (
        "ls_stylegan"
        if (opts.split, opts.solver) == ("stylegan", "liblinear-dual")
        else f"ls_{opts.split}_{opts.solver}"
    )
    weights: dict[str, Any] = {"generator": samples.config["generator"], "classifier": samples.config["classifier"]}
    prov = collect_provenance(
        device=dev,
        seed=opts.seed,
        weights=weights,
        wall_time=wall,
        generator_source=(getattr(G, "provenance", None) or {}).get("source"),
        classifier=clf.name,
        sklearn=sklearn_version,
        cache_dir=str(samples.run_dir) if samples.run_dir else None,
        samples_resumed=samples.resumed,
    )
    return SeparabilityResult(
        metric=metric,
        value=extra[f"score_{value_space}"],
        num_samples=len(samples.sample_index),
        higher_is_better=False,
        config=config,
        provenance=prov,
        extra=extra,
        table=table,
        normals=normals,
    )


def _input_names(G: Any, classifier: Any, clf: Any) -> dict[str, Any]:
    """The names that load the generator and the classifier again, and the classifier's description."""
    from .._names import description_of, generator_name, loadable_name

    name = loadable_name(classifier, clf)
    return {"generator": generator_name(G), "classifier": name, "classifier_description": description_of(clf, name)}


@torch.no_grad()
def _recompute_w(G: Any, z: np.ndarray, layer: int, seed: int, batch: int, device: torch.device) -> np.ndarray:
    """ws[:, layer] for cached z (the mapping alone; cheap next to synthesis)."""
    from .. import _seeding

    out = []
    for start in range(0, len(z), max(batch, 1024)):
        zz = torch.from_numpy(z[start : start + max(batch, 1024)]).to(device)
        c = None
        if G.c_dim > 0:
            idx = np.arange(start, start + len(zz))
            c = torch.nn.functional.one_hot(_seeding.randint(seed, "label", idx, G.c_dim).to(device), G.c_dim).float()
        out.append(G.mapping(zz, c)[:, layer].float().cpu().numpy())
    return np.concatenate(out)

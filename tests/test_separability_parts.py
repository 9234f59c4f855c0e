"""The named parts of :func:`ganeval.metrics.separability.separability`, each on its own."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from ganeval.errors import GanevalTypeError, GanevalValueError
from ganeval.metrics.separability import _check_options, _Options, _Samples, _score_space, confident_indices


def _samples(x: np.ndarray, logits: np.ndarray) -> _Samples:
    n = len(x)
    return _Samples(
        logits=logits.astype(np.float32),
        latents={"z": x},
        sample_index=np.arange(n),
        bad=np.zeros(0, np.int64),
        config={},
        batch=n,
        run_dir=None,
        resumed=0,
    )


def _options(**kw: object) -> _Options:
    base = {
        "spaces": ("z",),
        "num_samples": 400,
        "num_keep": 200,
        "seed": 0,
        "batch_size": 64,
        "split": "stylegan",
        "solver": "fast",
        "w_layer": -1,
        "cache_dir": False,
        "on_nan": "stop",
    }
    return _Options(**{**base, **kw})  # type: ignore[arg-type]


def test_score_space_separable_attribute_scores_one_and_constant_one_is_excluded():
    # attribute 0 is the sign of x . a (a linear SVM separates it: 0 bits); attribute 1 is
    # positive for every sample (no fit possible): excluded with a warning, not scored as perfect
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 6)).astype(np.float32)
    a = np.array([1.0, -2.0, 0.5, 0.0, 0.0, 1.0], np.float32)
    logits = np.stack([x @ a, np.full(400, 3.0, np.float32)], axis=1)
    samples = _samples(x, logits)
    keep = confident_indices(samples.logits, 200)
    with pytest.warns(UserWarning, match=r"separability \(z\): 1 of 2 attribute\(s\) excluded .*\['always'\]"):
        rows, normals, scores = _score_space("z", samples, keep, ["sign", "always"], _options())
    assert [r["status"] for r in rows] == ["ok", "constant"]
    assert rows[0]["entropy_bits"] == 0.0 and math.isnan(rows[1]["entropy_bits"])
    assert scores == {"score_z": 1.0, "num_scored_z": 1, "excluded_z": ["always"]}
    assert list(normals) == ["sign"]
    cos = float(normals["sign"] @ a / np.linalg.norm(a))  # the unit normal points along a, towards label 1
    assert cos > 0.95 and np.linalg.norm(normals["sign"]) == pytest.approx(1.0)


def test_score_space_with_nothing_scored_is_nan():
    x = np.random.default_rng(1).standard_normal((50, 3)).astype(np.float32)
    samples = _samples(x, np.full((50, 1), -1.0, np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, normals, scores = _score_space("z", samples, confident_indices(samples.logits, 20), ["off"], _options())
    assert math.isnan(scores["score_z"]) and scores["num_scored_z"] == 0 and normals == {}


@pytest.mark.parametrize(
    "kw, error, match",
    [
        ({"spaces": "z"}, None, None),
        ({"spaces": {"z"}}, GanevalTypeError, "Argument `spaces` must be a sequence"),
        ({"w_layer": 1.5}, GanevalTypeError, "Argument `w_layer` must be an integer"),
        ({"cache_dir": 3}, GanevalTypeError, "Argument `cache_dir` must be a folder path"),
        ({"solver": "svm"}, GanevalValueError, "Argument `solver` must be one of"),
    ],
)
def test_check_options_one_error_per_argument(kw, error, match):
    base = {
        "spaces": ("z", "w"),
        "num_samples": 400,
        "num_keep": 200,
        "seed": 0,
        "batch_size": 64,
        "split": "stylegan",
        "solver": "fast",
        "w_layer": -1,
        "cache_dir": None,
        "on_nan": "stop",
    }
    if error is None:
        assert _check_options(**{**base, **kw}).spaces == ("z",)
    else:
        with pytest.raises(error, match=match):
            _check_options(**{**base, **kw})

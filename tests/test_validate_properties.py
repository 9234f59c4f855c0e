"""Property tests (Hypothesis) of every validator in ganeval._validate and of public arguments.

Each property states what must hold for ALL inputs of a kind: a valid value comes back as the
right Python type and value; anything else raises a GanevalError (TypeError or ValueError
subclass) with a one-line message naming the argument: never another exception, never a hang.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganeval import _validate as v
from ganeval.errors import GanevalError, GanevalTypeError, GanevalValueError

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NP_INTS = st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64])
NOT_NUMBERS = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.just(object()),
)
ANYTHING = st.one_of(
    NOT_NUMBERS, st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.complex_numbers()
)


def _one_line(exc: BaseException, name: str) -> None:
    msg = str(exc)
    assert "\n" not in msg and f"`{name}`" in msg


# ------------------------------------------------------------------------------------ integers


@FAST
@given(value=st.integers(min_value=-(10**6), max_value=10**6), minimum=st.integers(-5, 5))
def test_positive_int_accepts_exactly_the_integers_at_or_above_minimum(value, minimum):
    if value >= minimum:
        out = v.check_positive_int("n", value, minimum=minimum)
        assert out == value and type(out) is int
    else:
        with pytest.raises(GanevalValueError) as err:
            v.check_positive_int("n", value, minimum=minimum)
        _one_line(err.value, "n")


@FAST
@given(dtype=NP_INTS, value=st.integers(0, 127))
def test_numpy_integers_are_integers(dtype, value):
    out = v.check_positive_int("z_dim", dtype(value), minimum=0)
    assert out == value and type(out) is int


@FAST
@given(value=st.integers(-100, 100), maximum=st.integers(0, 50))
def test_positive_int_maximum(value, maximum):
    ok = 0 <= value <= maximum
    if ok:
        assert v.check_positive_int("n", value, minimum=0, maximum=maximum) == value
    else:
        with pytest.raises(GanevalValueError):
            v.check_positive_int("n", value, minimum=0, maximum=maximum)


@FAST
@given(value=st.one_of(NOT_NUMBERS, st.booleans(), st.floats(), st.just(np.bool_(True)), st.just(np.float32(2))))
def test_positive_int_refuses_non_integers_by_type(value):
    with pytest.raises(GanevalTypeError) as err:
        v.check_positive_int("batch_size", value)
    _one_line(err.value, "batch_size")


# ------------------------------------------------------------------------------------ floats


@FAST
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**6), 10**6)))
def test_positive_float_accepts_exactly_finite_positive_numbers(value):
    if math.isfinite(value) and value > 0:
        out = v.check_positive_float("eps", value)
        assert out == float(value) and type(out) is float
    else:
        with pytest.raises(GanevalValueError) as err:
            v.check_positive_float("eps", value)
        _one_line(err.value, "eps")


@FAST
@given(value=st.floats(min_value=1e-300, max_value=1e300), maximum=st.floats(min_value=1e-6, max_value=1e6))
def test_positive_float_maximum(value, maximum):
    if value <= maximum:
        assert v.check_positive_float("eps", value, maximum=maximum) == value
    else:
        with pytest.raises(GanevalValueError):
            v.check_positive_float("eps", value, maximum=maximum)


@FAST
@given(value=ANYTHING, lo=st.floats(-10, 0), hi=st.floats(0, 10))
def test_finite_float_range(value, lo, hi):
    try:
        out = v.check_finite_float("psi", value, lo, hi)
    except (GanevalTypeError, GanevalValueError) as exc:
        _one_line(exc, "psi")
        real = isinstance(value, (int, float)) and not isinstance(value, bool)
        assert not real or not (math.isfinite(value) and lo <= value <= hi)
    else:
        assert math.isfinite(out) and lo <= out <= hi and out == float(value)


@FAST
@given(value=st.one_of(NOT_NUMBERS, st.booleans()))
def test_positive_float_refuses_non_numbers_by_type(value):
    with pytest.raises(GanevalTypeError):
        v.check_positive_float("eps", value)


# ------------------------------------------------------------------------------------ choices, shapes, finiteness

CHOICES = ("stop", "skip")


@FAST
@given(value=st.one_of(st.text(max_size=8), ANYTHING))
def test_choice_accepts_only_the_listed_strings(value):
    if isinstance(value, str) and value in CHOICES:
        assert v.check_choice("on_nan", value, CHOICES) == value
    else:
        with pytest.raises(GanevalValueError) as err:
            v.check_choice("on_nan", value, CHOICES)
        _one_line(err.value, "on_nan")
        assert "'stop', 'skip'" in str(err.value)


@FAST
@given(
    actual=st.lists(st.integers(0, 4), max_size=4), wanted=st.lists(st.one_of(st.none(), st.integers(0, 4)), max_size=4)
)
def test_tensor_shape_matches_rank_and_every_fixed_size(actual, wanted):
    x = torch.zeros(actual)
    ok = len(actual) == len(wanted) and all(w is None or w == a for a, w in zip(actual, wanted))
    if ok:
        assert v.check_tensor_shape("x", x, wanted) is x
    else:
        with pytest.raises(GanevalValueError) as err:
            v.check_tensor_shape("x", x, wanted)
        _one_line(err.value, "x")
        assert v.fmt_shape(actual) in str(err.value)


@FAST
@given(value=ANYTHING)
def test_tensor_shape_refuses_non_tensors(value):
    with pytest.raises(GanevalTypeError):
        v.check_tensor_shape("x", value, [None])


@FAST
@given(
    rows=st.integers(1, 6),
    cols=st.integers(1, 4),
    bad=st.sets(st.integers(0, 5), max_size=4),
    fill=st.sampled_from([math.nan, math.inf, -math.inf]),
)
def test_finite_counts_the_rows_holding_nan_or_inf(rows, cols, bad, fill):
    x = torch.zeros(rows, cols)
    bad_rows = sorted(b for b in bad if b < rows)
    for b in bad_rows:
        x[b, b % cols] = fill
    if not bad_rows:
        assert v.check_finite("ws", x) is x
    else:
        with pytest.raises(GanevalValueError) as err:
            v.check_finite("ws", x)
        assert f"{len(bad_rows)} row(s)" in str(err.value) and str(bad_rows[:5]) in str(err.value)


@FAST
@given(
    dtype=st.sampled_from(
        [
            torch.uint8,
            torch.int8,
            torch.int16,
            torch.int32,
            torch.int64,
            torch.bool,
            torch.float16,
            torch.bfloat16,
            torch.float32,
            torch.float64,
        ]
    )
)
def test_float_images_refuse_integer_and_bool_dtypes(dtype):
    x = torch.zeros(1, 3, 2, 2, dtype=dtype)
    if dtype.is_floating_point:
        assert v.check_float_images("images", x) is x
    else:
        with pytest.raises(GanevalTypeError, match="floating-point"):
            v.check_float_images("images", x)


@FAST
@given(value=ANYTHING, limit=st.integers(10, 80))
def test_short_repr_is_one_bounded_line(value, limit):
    text = v.short_repr(value, limit)
    assert "\n" not in text and len(text) <= limit


# ------------------------------------------------------------------------------------ public arguments

_INVALID_SIZES = st.one_of(
    st.integers(max_value=0), NOT_NUMBERS, st.booleans(), st.floats(allow_nan=True, allow_infinity=True)
)


@SLOW
@given(bs=_INVALID_SIZES)
def test_map_samples_refuses_invalid_batch_sizes_immediately(bs):
    from ganeval.runtime import map_samples

    with pytest.raises(GanevalError, match="`batch_size`"):
        map_samples(lambda i: {"x": i}, 4, batch_size=bs, progress="quiet")


@SLOW
@given(n=st.integers(0, 50), bs=st.integers(1, 60))
def test_map_samples_result_is_independent_of_batch_size(n, bs):
    from ganeval.runtime import map_samples

    out = map_samples(lambda i: {"x": (i * 3).astype(np.int64)}, n, batch_size=bs, progress="quiet")
    if n:
        np.testing.assert_array_equal(out["x"], np.arange(n) * 3)
    assert out.num_done == n


@SLOW
@given(
    name=st.sampled_from(
        ["num_samples", "batch_size", "bootstrap", "num_real", "pr_k", "kid_subsets", "kid_subset_size"]
    ),
    value=_INVALID_SIZES,
)
def test_evaluate_refuses_invalid_counts_before_any_work(name, value):
    from ganeval.metrics.fid import evaluate

    if name == "bootstrap" and isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return  # 0 bootstrap resamples is valid
    if name == "num_real" and value is None:
        return  # None: all real images
    with pytest.raises(GanevalError, match=f"`{name}`"):  # refused by name, before the sources are opened
        evaluate("no-such-generator", "no-such-real", metrics=("fid", "kid", "pr"), **{name: value})


@SLOW
@given(spec=st.text(alphabet="0123456789-, x", max_size=24))
def test_seed_lists_parse_or_refuse_in_bounded_time(spec):
    import click

    from ganeval.cli._options import MAX_SEEDS, parse_seeds

    try:
        seeds = parse_seeds(spec)
    except (click.BadParameter, ValueError):
        return
    assert 1 <= len(seeds) <= MAX_SEEDS


# ------------------------------------------------------------------------------------ the Fréchet step


def _psd(rng: np.random.Generator, d: int, rank: int) -> np.ndarray:
    a = rng.normal(size=(d, rank))
    return a @ a.T


@SLOW
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 12),
    r1=st.integers(1, 12),
    r2=st.integers(1, 12),
    scale=st.sampled_from([1e-6, 1.0, 1e6]),
)
def test_frechet_of_covariances_is_finite_nonnegative_and_symmetric(seed, d, r1, r2, scale):
    from ganeval.metrics.frechet import frechet_distance

    rng = np.random.default_rng(seed)
    s1, s2 = _psd(rng, d, min(r1, d)) * scale, _psd(rng, d, min(r2, d)) * scale
    m1, m2 = rng.normal(size=d), rng.normal(size=d)
    a, b = frechet_distance(m1, s1, m2, s2), frechet_distance(m2, s2, m1, s1)
    # the covariance part is a squared (Bures) distance: the value never falls below the mean part
    assert math.isfinite(a) and a >= float(((m1 - m2) ** 2).sum()) - 1e-6 * (1 + np.trace(s1) + np.trace(s2))
    assert a == pytest.approx(b, rel=1e-6, abs=1e-7 * (1 + np.trace(s1) + np.trace(s2)))
    assert frechet_distance(m1, s1, m1, s1) <= 1e-6 * (1 + np.trace(s1))


@SLOW
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(2, 10), which=st.sampled_from([0, 1]))
def test_frechet_refuses_a_matrix_with_a_clearly_negative_eigenvalue(seed, d, which):
    from ganeval.metrics.frechet import frechet_distance

    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    eig = rng.uniform(0.5, 2.0, size=d)
    eig[0] = -rng.uniform(0.1, 1.0)  # symmetric, and not a covariance
    bad = (q * eig) @ q.T
    good = _psd(rng, d, d) + np.eye(d)
    args = [np.zeros(d), good, np.zeros(d), good]
    args[1 + 2 * which] = 0.5 * (bad + bad.T)
    with pytest.raises(GanevalValueError, match=r"positive semi-definite|covariance"):
        frechet_distance(*args)


@SLOW
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 8), n=st.integers(2, 30))
def test_statistics_round_trip_exactly(seed, d, n, tmp_path_factory):
    from ganeval.features.stats import FeatureStatistics, StreamingMoments

    x = np.random.default_rng(seed).normal(size=(n, d))
    m = StreamingMoments(d)
    m.update(x)
    st_ = m.finalize()
    path = st_.save(tmp_path_factory.mktemp("s") / "s.npz")
    back = FeatureStatistics.load(path)
    assert np.array_equal(back.mu, st_.mu) and np.array_equal(back.sigma, st_.sigma) and back.num_items == n
    np.testing.assert_allclose(back.sigma, np.cov(x, rowvar=False).reshape(d, d), rtol=1e-9, atol=1e-12)


@SLOW
@given(name=st.sampled_from(["num_samples", "num_keep", "batch_size", "seed"]), value=_INVALID_SIZES)
def test_separability_refuses_invalid_counts_before_any_work(name, value):
    from ganeval.metrics.separability import separability

    if name == "seed" and isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return  # seed 0 is valid
    with pytest.raises(GanevalError, match=f"`{name}`"):
        separability(object(), "no-such-classifier", **{name: value})


@SLOW
@given(data=st.binary(max_size=300))
def test_npz_reader_refuses_arbitrary_bytes_in_one_line(data, tmp_path_factory):
    from ganeval._npfile import read_npz
    from ganeval.errors import CheckpointError

    path = tmp_path_factory.mktemp("b") / "x.npz"
    path.write_bytes(data)
    with pytest.raises(CheckpointError) as err:
        read_npz(path)
    assert "\n" not in str(err.value)

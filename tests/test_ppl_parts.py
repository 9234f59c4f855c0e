"""The named parts of :func:`ganeval.metrics.ppl.ppl` (preset resolution, stopping), each on its own."""

from __future__ import annotations

import numpy as np
import pytest

from ganeval.errors import GanevalValueError
from ganeval.metrics.ppl import _checkpoints, _Monitor, _plan, bootstrap_ci, filtered_mean


def _given(**kw):
    base = {"space": None, "sampling": None, "num_samples": None, "epsilon": None, "crop": None, "method": None}
    return {**base, **kw}


def _make_plan(preset=None, downsample=None, target_ci=None, on_nan="stop", **given):
    return _plan(preset, _given(**given), downsample, None, 16, 40, 0, on_nan, target_ci, 1000)


def test_plan_takes_the_preset_then_the_defaults_and_rounds_the_batch_to_chunks():
    p = _make_plan("ppl_zfull")
    assert (p.space, p.sampling, p.crop, p.num_samples, p.eps, p.downsample) == ("z", "full", True, 50_000, 1e-4, "tf")
    assert p.interpolation == "slerp" and p.batch_size == 48  # 40 rounded up to a multiple of the chunk (16)
    d = _make_plan(num_samples=np.int64(200))
    assert (d.space, d.sampling, d.crop, d.num_samples, d.interpolation) == ("w", "end", False, 200, "lerp")
    assert _make_plan("ppl_wend", downsample="ada-pytorch").downsample == "ada-pytorch"
    with pytest.raises(GanevalValueError, match="preset 'ppl_wend' fixes crop=True"):
        _make_plan("ppl_wend", crop=False)


def test_checkpoints_grow_by_ten_percent_and_end_at_the_maximum():
    assert _checkpoints(1000, 2000) == [1000, 1100, 1210, 1331, 1465, 1612, 1774, 1952, 2000]
    assert _checkpoints(100, 100) == [100]


def test_monitor_stops_at_the_first_checkpoint_whose_ci_is_tight_enough():
    rng = np.random.default_rng(0)
    d = rng.gamma(4.0, 1.0, 3000)
    plan = _make_plan(num_samples=3000, target_ci=0.05)
    monitor = _Monitor(plan)
    expected = next(
        n for n in _checkpoints(1000, 3000) if np.diff(bootstrap_ci(d[:n], seed=0))[0] / 2 < 0.05 * filtered_mean(d[:n])
    )
    ok = np.ones(3000, bool)
    assert not monitor({"finite": ok[:999], "path_length": d[:999]})  # before the first checkpoint
    assert monitor({"finite": ok, "path_length": d}) and monitor.stop_at == expected


def test_monitor_stops_on_non_finite_images_only_when_asked():
    d, ok = np.ones(200), np.ones(200, bool)
    ok[7] = False
    assert _Monitor(_make_plan(num_samples=200))({"finite": ok, "path_length": d})
    assert not _Monitor(_make_plan(num_samples=200, on_nan="skip"))({"finite": ok, "path_length": d})
    d[3] = np.nan  # a NaN distance of finite images always ends the loop
    assert _Monitor(_make_plan(num_samples=200, on_nan="skip"))({"finite": ok, "path_length": d})

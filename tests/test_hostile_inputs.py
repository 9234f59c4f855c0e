"""Hostile and careless input: refused in one line, converted correctly, or detected and recomputed.

Each test is one case of issue 17 (or one found beyond it) with the number that proves it: the
recomputed value equals a clean run's, the 16-bit conversion equals ``round(v / 257)``, the
file mode equals what the umask gives.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import stat
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from PIL import Image

from ganeval.cli import run
from ganeval.errors import CheckpointError, GanevalError, GanevalTypeError, GanevalValueError, OutputError
from ganeval.features.stats import FeatureStatistics
from ganeval.metrics.frechet import frechet_distance
from ganeval.runtime import map_samples


def _fn(idx: np.ndarray) -> dict[str, np.ndarray]:
    return {"x": np.stack([np.sin(idx * 0.1), idx * 0.5], 1).astype(np.float32), "i": idx.astype(np.int64)}


# ------------------------------------------------------------------------------------ the sample loop


@pytest.mark.parametrize("bs", [0, -3, 2.5, True, "8", None])
def test_batch_size_refused_not_looping(bs):
    with pytest.raises(GanevalError, match="batch_size"):
        map_samples(_fn, 10, batch_size=bs, progress="quiet")


def test_numpy_integers_are_accepted_as_sizes():
    out = map_samples(_fn, np.int64(10), batch_size=np.int32(4), progress="quiet")
    np.testing.assert_array_equal(out["i"], np.arange(10))


def test_fn_returning_twice_the_rows_is_refused():
    def double(idx):
        return {"x": np.zeros((2 * len(idx), 3), np.float32)}

    with pytest.raises(GanevalValueError, match="one row per index"):
        map_samples(double, 8, batch_size=4, progress="quiet")


def test_feature_width_changing_between_batches_is_refused():
    def varying(idx):
        return {"x": np.zeros((len(idx), 3 if idx[0] == 0 else 4), np.float32)}

    with pytest.raises(GanevalValueError, match="changed its outputs between batches"):
        map_samples(varying, 8, batch_size=4, progress="quiet")


def _chunks(run_dir):
    return sorted((run_dir / "chunks").glob("[0-9]*.npz"))


@pytest.mark.parametrize("damage", ["100 rows", "x1000", "garbage", "no record"])
def test_damaged_resume_chunk_is_reported_and_recomputed(tmp_path, caplog, damage):
    run_dir = tmp_path / "run"
    clean = map_samples(_fn, 480, batch_size=160, progress="quiet", run_dir=run_dir, config={"c": 1})
    victim = _chunks(run_dir)[1]
    with np.load(victim) as z:
        arrays = {k: z[k] for k in z.files}
    if damage == "100 rows":
        arrays = {k: (v if v.ndim == 0 else v[:100]) for k, v in arrays.items()}
    elif damage == "x1000":
        arrays["x"] = arrays["x"] * 1000
    elif damage == "no record":
        arrays = {k: v for k, v in arrays.items() if v.ndim}
    if damage == "garbage":
        victim.write_bytes(b"PK\x03\x04 not really")
    else:
        np.savez(victim, **arrays)
    caplog.set_level(logging.WARNING, logger="ganeval")
    again = map_samples(_fn, 480, batch_size=160, progress="quiet", run_dir=run_dir, config={"c": 1})
    assert again.resumed == 160  # the first chunk was reused, the damaged one and the rest recomputed
    assert again.discarded and str(victim) in again.discarded[0] and str(victim) in caplog.text
    for k in clean:
        np.testing.assert_array_equal(again[k], clean[k])
    third = map_samples(_fn, 480, batch_size=160, progress="quiet", run_dir=run_dir, config={"c": 1})
    assert third.resumed == 480 and not third.discarded  # the rewritten chunks verify


def test_chunk_of_another_configuration_is_not_reused(tmp_path, caplog):
    a, b = tmp_path / "a", tmp_path / "b"
    map_samples(_fn, 320, batch_size=160, progress="quiet", run_dir=a, config={"seed": 1})
    map_samples(
        lambda i: {k: v + 1 for k, v in _fn(i).items()},
        320,
        batch_size=160,
        progress="quiet",
        run_dir=b,
        config={"seed": 2},
    )
    os.replace(_chunks(b)[0], _chunks(a)[0])  # a chunk of seed 2 planted in seed 1's folder
    caplog.set_level(logging.WARNING, logger="ganeval")
    out = map_samples(_fn, 320, batch_size=160, progress="quiet", run_dir=a, config={"seed": 1})
    np.testing.assert_array_equal(out["x"], _fn(np.arange(320))["x"])
    assert "config_hash" in out.discarded[0]


# ------------------------------------------------------------------------------------ statistics


def _stats(tmp_path, name="s.npz", **over):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4))
    d = {"mu": x.mean(0), "sigma": np.cov(x, rowvar=False), **over}
    np.savez(tmp_path / name, **d)
    return tmp_path / name


def test_not_psd_sigma_with_positive_variances_is_refused():
    sigma = np.full((4, 4), 0.9) + 0.1 * np.eye(4)
    sigma[0, 1] = sigma[1, 0] = -0.9  # positive diagonal, symmetric, but an eigenvalue < 0
    assert np.linalg.eigvalsh(sigma).min() < -0.5
    with pytest.raises(GanevalValueError, match="positive semi-definite"):
        frechet_distance(np.zeros(4), np.eye(4), np.zeros(4), sigma)
    with pytest.raises(GanevalValueError, match="positive semi-definite"):
        frechet_distance(np.zeros(4), sigma, np.zeros(4), np.eye(4))


def test_rank_deficient_float32_covariance_is_still_accepted():
    """Fewer samples than dimensions, stored as float32: round-off negatives are not refusals."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 64)).astype(np.float32)
    s = np.cov(x, rowvar=False).astype(np.float32)
    fd = frechet_distance(x.mean(0), s, x.mean(0), s)
    assert 0.0 <= fd < 1e-3 * np.trace(s)


@pytest.mark.parametrize("scale", [1e300, 1e120])
def test_statistics_beyond_float64_are_refused(tmp_path, scale):
    path = _stats(tmp_path)
    with np.load(path) as z:
        np.savez(path, mu=z["mu"] * scale, sigma=z["sigma"] * scale)
    with pytest.raises(GanevalValueError, match="beyond any feature statistics"):
        FeatureStatistics.load(path)
    with pytest.raises(GanevalValueError, match="magnitude"):
        frechet_distance(np.zeros(2), np.eye(2) * scale, np.zeros(2), np.eye(2))


def test_zero_dimensional_features_are_refused(tmp_path):
    with pytest.raises(GanevalValueError, match="0-dimensional"):
        FeatureStatistics.load(_stats(tmp_path, mu=np.zeros(0), sigma=np.zeros((0, 0))))
    with pytest.raises(GanevalValueError, match="non-empty"):
        frechet_distance(np.zeros(0), np.zeros((0, 0)), np.zeros(0), np.zeros((0, 0)))


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x05\x06" + bytes(18)])
def test_unreadable_npz_is_one_line(tmp_path, content):
    (tmp_path / "s.npz").write_bytes(content)
    with pytest.raises(CheckpointError) as err:
        FeatureStatistics.load(tmp_path / "s.npz")
    assert "\n" not in str(err.value) and "s.npz" in str(err.value)


def test_pickle_with_string_num_items_is_refused(tmp_path):
    (tmp_path / "s.pkl").write_bytes(pickle.dumps({"num_items": "40", "raw_mean": np.zeros(3), "raw_cov": np.eye(3)}))
    with pytest.raises(CheckpointError, match="'num_items' must be an integer, but got '40'"):
        FeatureStatistics.load(tmp_path / "s.pkl")


def test_edited_statistics_fail_their_checksum(tmp_path):
    st = FeatureStatistics(mu=np.zeros(3), sigma=np.eye(3), num_items=10)
    path = st.save(tmp_path / "s.npz")
    with np.load(path) as z:
        d = {k: z[k] for k in z.files}
    d["sigma"] = d["sigma"] * 2
    np.savez(path, **d)
    with pytest.raises(CheckpointError, match="modified after ganeval wrote it"):
        FeatureStatistics.load(path)


def test_corrupt_statistics_cache_is_recomputed(tmp_path):
    from ganeval.features import load_extractor
    from ganeval.features.extract import source_statistics
    from ganeval.zoo.datasets import ShapesSource

    ext = load_extractor("zoo:shapes-classifier", device=torch.device("cpu"))
    src = ShapesSource(24)
    first, rep = source_statistics(src, ext, cache_dir=tmp_path, progress="quiet", batch_size=8)
    assert rep.cache == "written"
    cached = tmp_path / f"{first.meta['cache_key']}.npz"
    cached.write_bytes(cached.read_bytes()[:200])  # a truncated cache file: BadZipFile before
    with pytest.warns(UserWarning, match="corrupt.*recomputed"):
        again, rep2 = source_statistics(src, ext, cache_dir=tmp_path, progress="quiet", batch_size=8)
    assert rep2.cache == "written"
    np.testing.assert_allclose(again.sigma, first.sigma, rtol=1e-12, atol=1e-12)
    third, rep3 = source_statistics(src, ext, cache_dir=tmp_path, progress="quiet", batch_size=8)
    assert rep3.cache == "hit" and np.array_equal(third.mu, again.mu)


def test_precision_recall_k_zero_is_refused():
    from ganeval.metrics.fid import precision_recall_from_features

    x = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(GanevalValueError, match="`k`"):
        precision_recall_from_features(x, x, k=0)
    assert precision_recall_from_features(x, x, k=1) == (1.0, 1.0)  # a set lies inside its own manifold


# ------------------------------------------------------------------------------------ images


def test_16bit_png_is_scaled_not_clipped(tmp_path):
    from ganeval.features.sources import FolderSource

    v = (np.arange(32 * 32).reshape(32, 32) * 64).astype(np.uint16)  # 0 .. 65472
    Image.fromarray(v).save(tmp_path / "wide.png")
    img = FolderSource(tmp_path).load(np.array([0])).images[0]
    expected = np.round(v.astype(np.float64) / 257).astype(np.uint8)
    for ch in range(3):
        np.testing.assert_array_equal(img[ch].numpy(), expected)
    assert abs(float(img.float().mean()) - v.mean() / 257) < 0.5  # not all white (255) as before


class _Gen(torch.nn.Module):
    z_dim, c_dim, img_resolution = 4, 0, 8
    provenance: ClassVar[dict[str, Any]] = {"source": "test", "sha256": None}

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.p = torch.nn.Parameter(torch.zeros(1))

    def forward(self, z, c=None, noise_mode="const"):
        n = len(z)
        if self.mode == "double":
            n *= 2
        img = torch.zeros(n, 3, 8, 8)
        return img.to(torch.uint8) if self.mode == "uint8" else img > 0 if self.mode == "bool" else img


@pytest.mark.parametrize(
    "mode,match", [("double", "must return images"), ("uint8", "floating-point"), ("bool", "floating-point")]
)
def test_generator_output_shape_and_dtype_checked(mode, match):
    from ganeval.features.sources import GeneratorSource

    with pytest.raises(GanevalError, match=match):
        GeneratorSource(_Gen(mode), 8).generate(np.arange(4))


# ------------------------------------------------------------------------------------ outputs


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_atomic_write_honours_the_umask(tmp_path, mask):
    from ganeval._io import atomic_write

    old = os.umask(mask)
    try:
        atomic_write(tmp_path / "f.txt", lambda tmp: Path(tmp).write_text("x"))
        FeatureStatistics(mu=np.zeros(2), sigma=np.eye(2)).save(tmp_path / "s.npz")
    finally:
        os.umask(old)
    for name in ("f.txt", "s.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~mask


def test_output_file_checks(tmp_path):
    from ganeval._io import check_output_file

    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="must end in"):
        check_output_file(tmp_path / "s.txt", (".npz",))
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_file(tmp_path / "afile" / "s.npz", (".npz",))
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(OutputError, match="which is a folder"):
        check_output_file(tmp_path / "d.npz", (".npz",))
    with pytest.raises(OutputError):
        check_output_file("/proc/ganeval-test/x.npz", (".npz",))
    assert check_output_file(tmp_path / "new" / "ünï cödé.npz", (".npz",)).parent.is_dir()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folder_is_refused(tmp_path):
    from ganeval._io import check_writable_dir

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="Cannot write"):
            check_writable_dir(ro)
    finally:
        ro.chmod(0o755)


def test_sample_cli_refuses_bad_out_and_writes_atomically(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        assert run(["sample", "zoo:shapes-stylegan", "--seeds", "0-1", "--out", str(tmp_path / "s.txt")]) == 2
        assert (
            run(
                [
                    "sample",
                    "zoo:shapes-stylegan",
                    "--seeds",
                    "0-1",
                    "--truncation",
                    "nan",
                    "--out",
                    str(tmp_path / "g.png"),
                ]
            )
            == 2
        )
        assert run(["sample", "zoo:shapes-stylegan", "--seeds", "0-99999999", "--out", str(tmp_path / "g.png")]) == 2
        assert run(["sample", "zoo:shapes-stylegan", "--seeds", "0-1", "--out", str(tmp_path / "g.png")]) == 0
    finally:
        os.umask(old)
    err = capsys.readouterr().err
    assert "must end in" in err and "finite" in err and "4096" in err
    assert stat.S_IMODE((tmp_path / "g.png").stat().st_mode) == 0o644
    assert Image.open(tmp_path / "g.png").size[0] > 0
    assert [p.name for p in tmp_path.iterdir()] == ["g.png"]  # no temporary file left behind


@pytest.mark.parametrize("args", [["--batch-size", "0"], ["--batch-size", "-3"], ["-n", "0"], ["-n", "1"]])
def test_stats_cli_refuses_bad_counts_at_once(tmp_path, capsys, args):
    assert run(["stats", "zoo:shapes", "-o", str(tmp_path / "x.npz"), *args]) == 2
    assert not (tmp_path / "x.npz").exists()


def test_stats_cli_does_not_overwrite_without_force(tmp_path, capsys, tmp_home):
    out = tmp_path / "x.npz"
    out.write_bytes(b"precious")
    assert run(["stats", "zoo:shapes", "-n", "8", "-q", "-o", str(out)]) == 2
    assert out.read_bytes() == b"precious" and "--force" in capsys.readouterr().err
    assert run(["stats", "zoo:shapes", "-n", "8", "-q", "-o", str(out), "--force"]) == 0
    assert FeatureStatistics.load(out).num_items == 8


# ------------------------------------------------------------------------------------ reports


def _cfg(**over):
    base = {
        "name": "r",
        "generators": [{"label": "g", "source": "zoo:shapes-stylegan"}],
        "metrics": [{"name": "no-such-metric"}],
        "figures": {"enabled": False},
    }
    return {**base, **over}


def test_report_paths_are_confined(tmp_path):
    from ganeval.report import parse_config

    with pytest.raises(GanevalValueError, match="inside the config's folder"):
        parse_config(_cfg(out="../../x"), base_dir=tmp_path / "a" / "b")
    with pytest.raises(GanevalValueError, match="reports/<name>"):
        parse_config(_cfg(name="../../../x"), base_dir=tmp_path)
    assert parse_config(_cfg(out="sub/dir"), base_dir=tmp_path).out.resolve() == (tmp_path / "sub" / "dir").resolve()
    assert parse_config(_cfg(name="a/b title", out="o"), base_dir=tmp_path).name == "a/b title"  # a title is free


def test_report_refuses_another_reports_folder(tmp_path):
    from ganeval.report import parse_config, run_report

    run_report(parse_config(_cfg(name="first", out=str(tmp_path / "o"))))
    index_before = (tmp_path / "o" / "results.jsonl").read_bytes()
    with pytest.raises(OutputError, match="already holds the report 'first'"):
        run_report(parse_config(_cfg(name="second", out=str(tmp_path / "o"))))
    assert (tmp_path / "o" / "results.jsonl").read_bytes() == index_before
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "summary.csv").write_text("my own table")
    with pytest.raises(OutputError, match="not a ganeval report"):
        run_report(parse_config(_cfg(out=str(tmp_path / "mine"))))
    assert (tmp_path / "mine" / "summary.csv").read_text() == "my own table"
    run_report(parse_config(_cfg(out=str(tmp_path / "mine"))), force=True)  # --force: the user's choice
    # a folder holding only its config (and files it names) is a new report's home: nothing there is written
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "report.toml").write_text("kept")
    run_report(parse_config(_cfg(out=str(tmp_path / "home"))))
    assert (tmp_path / "home" / "report.toml").read_text() == "kept"


def test_report_cli_out_pointing_at_a_file(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'name = "r"\nout = "file"\n[[generators]]\nsource = "zoo:shapes-stylegan"\n[figures]\nenabled = false\n'
    )
    (tmp_path / "file").write_text("x")
    assert run(["report", str(cfg)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert run(["report", str(cfg), "--out", str(tmp_path / "file")]) == 2  # --out: click's own check


@pytest.mark.parametrize("line", ["[1, 2]", "3", '"x"', "null", '{"record": "metric"}', '{"no": "record"}'])
def test_results_lines_that_are_json_but_not_records(tmp_path, line):
    from ganeval.report.runner import read_records

    (tmp_path / "results.jsonl").write_text(line + "\n")
    with pytest.raises(GanevalValueError, match="line 1 is not a ganeval results record"):
        read_records(tmp_path / "results.jsonl")


def test_results_unterminated_last_line_is_skipped(tmp_path):
    from ganeval.report.runner import read_records

    ok = {"record": "failure", "report": {"key": "k"}}
    (tmp_path / "results.jsonl").write_text(json.dumps(ok) + "\n" + '{"record": "fai')
    with pytest.warns(UserWarning, match="unterminated last line 2"):
        assert read_records(tmp_path / "results.jsonl") == [ok]


# ------------------------------------------------------------------------------------ native configs


@pytest.fixture
def native(tmp_path):
    from ganeval.models.native import save_generator
    from ganeval.models.stylegan import StyleGAN

    save_generator(
        StyleGAN(z_dim=8, w_dim=8, img_resolution=8, mapping_layers=2, fmap_base=16, fmap_max=8), tmp_path / "g"
    )
    return tmp_path / "g.json"


@pytest.mark.parametrize(
    "key,value,match",
    [
        ("mapping_lr_mul", "0.01", "finite number"),
        ("z_dim", 10**7, r"integer in \[0, 65536\]"),
        ("z_dim", 60000, "bytes of weights"),
        ("mapping_layers", 10**5, r"integer in \[0, 64\]"),
    ],
)
def test_native_config_fields_checked_before_allocating(native, key, value, match):
    import resource

    from ganeval.models.native import load_native

    cfg = json.loads(native.read_text())
    cfg["init_kwargs"][key] = value
    native.write_text(json.dumps(cfg))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match=match):
        load_native(native)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: nothing big was allocated


def test_native_config_nested_without_bound(native):
    from ganeval.models.native import load_native

    native.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(CheckpointError, match="nested too deeply"):
        load_native(native)


def test_numpy_integer_dims_are_integers():
    from ganeval._validate import check_positive_int

    assert check_positive_int("z_dim", np.int64(512)) == 512
    with pytest.raises(GanevalTypeError, match="integer"):
        check_positive_int("z_dim", np.float64(512))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(GanevalTypeError):
            check_positive_int("z_dim", np.bool_(True))


def test_image_array_lying_header_refused_before_allocation(tmp_path):
    head = b"{'descr': '|u1', 'fortran_order': False, 'shape': (4000000000, 64, 64, 3), }"
    head = head + b" " * (118 - len(head)) + b"\n"
    (tmp_path / "a.npy").write_bytes(b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head + bytes(96))
    from ganeval.features.sources import ArraySource

    with pytest.raises(CheckpointError, match=r"header declares uint8 \[4000000000"):
        ArraySource(tmp_path / "a.npy")
    head = head.replace(b"4000000000", b"         3")
    (tmp_path / "b.npy").write_bytes(b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head + bytes(96))
    with pytest.raises(CheckpointError, match="but 96 bytes are stored"):  # 3*64*64*3 declared
        ArraySource(tmp_path / "b.npy")


def test_corrupt_separability_cache_chunk_is_recomputed(tmp_path, caplog):
    from torch import nn

    from ganeval.classifiers import wrap_classifier
    from ganeval.metrics.separability import separability
    from ganeval.models.stylegan import StyleGAN

    torch.manual_seed(0)
    G = StyleGAN(z_dim=16, w_dim=16, img_resolution=8, fmap_base=64, fmap_max=16, mapping_layers=2)
    clf = wrap_classifier(nn.Sequential(nn.AvgPool2d(2), nn.Flatten(), nn.Linear(3 * 4 * 4, 2)), ["x", "y"], 8)
    kw = dict(num_samples=400, num_keep=200, device="cpu", progress=False, batch_size=100, cache_dir=tmp_path)
    clean = separability(G, clf, **kw)
    chunk = sorted(tmp_path.glob("*/chunks/[0-9]*.npz"))[1]
    with np.load(chunk) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["logits"] = arrays["logits"] * 1000  # what a hand edit or bit rot leaves: valid npz, wrong values
    np.savez(chunk, **arrays)
    caplog.set_level(logging.WARNING, logger="ganeval")
    again = separability(G, clf, **kw)
    assert str(chunk) in caplog.text and again.provenance["samples_resumed"] < 400
    assert again.scores() == clean.scores()
    np.testing.assert_array_equal(again.table["entropy_bits"].to_numpy(), clean.table["entropy_bits"].to_numpy())


class _Wobbly(torch.nn.Module):
    """An extractor whose feature width changes after its first call."""

    name, feature_dim, input_resolution, weights_sha256 = "wobbly", 4, 8, None

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return torch.zeros(len(x), 4 if self.calls == 1 else 5)


def test_extractor_changing_feature_width_is_refused():
    from ganeval.features.extract import extract_features
    from ganeval.zoo.datasets import ShapesSource

    with pytest.raises(GanevalValueError, match=r"must return features \[4, 4\] .* returned \[4, 5\]"):
        extract_features(ShapesSource(12), _Wobbly(), batch_size=4, progress="quiet")


def test_zip_bomb_npz_is_refused_before_inflating(tmp_path):
    import resource
    import zipfile

    from ganeval.features.sources import ArraySource

    shape = (400, 512, 512, 3)  # 315 MB of zeros, streamed into the archive (never held in memory here)
    head = np.lib.format.header_data_from_array_1_0(np.zeros((0, 512, 512, 3), np.uint8))
    head["shape"] = shape
    with (
        zipfile.ZipFile(tmp_path / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open("images.npy", "w", force_zip64=True) as f,
    ):
        np.lib.format.write_array_header_1_0(f, head)
        block = bytes(1 << 24)
        for _ in range(int(np.prod(shape)) // len(block)):
            f.write(block)
        f.write(bytes(int(np.prod(shape)) % len(block)))
    assert (tmp_path / "bomb.npz").stat().st_size < 2 << 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match="zip bomb"):
        ArraySource(tmp_path / "bomb.npz")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB


def test_fifo_source_is_refused_not_blocking(tmp_path):
    from ganeval.features.sources import open_source

    os.mkfifo(tmp_path / "x.npy")
    with pytest.raises(GanevalValueError, match="neither a folder nor a regular file"):
        open_source(str(tmp_path / "x.npy"), role="generated", num_samples=4)


@pytest.mark.parametrize(
    "kw", [{"metrics": None}, {"metrics": "fid"}, {"metrics": []}, {"cache_dir": 5}, {"seed": -1}, {"resize": "bogus"}]
)
def test_evaluate_argument_types_refused_up_front(kw):
    from ganeval.metrics.fid import evaluate

    with pytest.raises(GanevalError, match=f"`{next(iter(kw))}`"):
        evaluate("no-such-generator", "no-such-real", **kw)


@pytest.mark.parametrize(
    "kw", [{"cache_dir": 5}, {"spaces": None}, {"spaces": "zw"}, {"w_layer": 1.0}, {"num_samples": 10**12}]
)
def test_separability_argument_types_refused_up_front(kw):
    from ganeval.metrics.separability import separability

    with pytest.raises(GanevalError, match=f"`{next(iter(kw))}`"):
        separability(object(), "zoo:shapes-classifier", num_keep=1, **kw)


def test_rerender_elsewhere_does_not_copy_symlinked_files(tmp_path):
    from ganeval.report import parse_config, render_report, run_report

    outcome = run_report(parse_config(_cfg(out=str(tmp_path / "o"))))
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    (tmp_path / "o" / "figures").mkdir()
    (tmp_path / "o" / "figures" / "leak.png").symlink_to(secret)
    render_report(outcome.results_path, out_dir=tmp_path / "copy")
    assert not (tmp_path / "copy" / "figures" / "leak.png").exists()
    assert (tmp_path / "copy" / "index.html").is_file()


def test_report_killed_before_its_run_record_resumes(tmp_path):
    from ganeval.report import parse_config, run_report
    from ganeval.report.runner import read_records

    cfg = parse_config(_cfg(out=str(tmp_path / "o")))
    run_report(cfg)
    path = tmp_path / "o" / "results.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")  # the run record is written last: a kill before it
    (tmp_path / "o" / "index.html").write_text("from the killed run")
    run_report(cfg)  # not refused as another report's folder
    assert read_records(path)[-1]["record"] == "run"

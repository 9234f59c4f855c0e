"""Image-set inputs, statistics files and the statistics cache, end to end with a tiny extractor."""

from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from ganeval.errors import GanevalValueError
from ganeval.features.extract import extract_features, source_statistics
from ganeval.features.sources import ArraySource, FolderSource, ZipSource, open_source, quantize
from ganeval.features.stats import FeatureStatistics, StreamingMoments, cache_key
from ganeval.metrics.fid import evaluate, fid


class TinyExtractor(torch.nn.Module):
    """A fixed random conv + pooling: 8-d features of 16x16 images."""

    name = "tiny"
    feature_dim = 8
    input_resolution = 16
    weights_sha256 = "0" * 64
    metric_name = "FD_tiny"

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(8, 3, 3, 3, generator=torch.Generator().manual_seed(0)))
            self.conv.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv(x)).mean(dim=(2, 3))


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (24, 16, 16, 3), dtype=np.uint8)


@pytest.fixture
def folder(tmp_path, images):
    root = tmp_path / "imgs"
    (root / "sub").mkdir(parents=True)
    for i, im in enumerate(images):
        Image.fromarray(im).save(root / ("sub" if i % 2 else "") / f"{i:03d}.png")
    return root


def test_folder_zip_npy_give_identical_features(tmp_path, folder, images):
    np.save(tmp_path / "a.npy", images)
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        for p in sorted(folder.rglob("*.png")):
            zf.write(p, p.relative_to(folder).as_posix())
    ext = TinyExtractor()
    feats = {}
    for name, src in [
        ("folder", FolderSource(folder)),
        ("zip", ZipSource(tmp_path / "a.zip")),
        ("npy", ArraySource(tmp_path / "a.npy")),
    ]:
        feats[name] = extract_features(src, ext, progress=False)[0]
    direct = ext(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1).detach().numpy()
    # folder/zip order: sorted relative paths (sub/ after the top-level files)
    order = [int(p.stem) for p in FolderSource(folder).files]
    np.testing.assert_allclose(feats["npy"], direct, atol=1e-6)
    np.testing.assert_allclose(feats["folder"], direct[order], atol=1e-6)
    np.testing.assert_array_equal(feats["folder"], feats["zip"])


def test_set_against_itself_is_zero_and_batch_size_does_not_matter(folder):
    r1 = fid(folder, folder, extractor=TinyExtractor(), device="cpu", cache=False, batch_size=5, progress=False)
    assert r1.metric == "FD_tiny" and r1.value == pytest.approx(0.0, abs=1e-10)
    a = extract_features(FolderSource(folder), TinyExtractor(), batch_size=3, progress=False)[0]
    b = extract_features(FolderSource(folder), TinyExtractor(), batch_size=24, progress=False)[0]
    np.testing.assert_array_equal(a, b)


def test_truncated_grayscale_rgba_are_counted(folder, images):
    Image.fromarray(images[0][..., 0]).save(folder / "gray.png")
    Image.fromarray(np.dstack([images[1], np.full((16, 16), 255, np.uint8)])).save(folder / "rgba.png")
    data = (folder / "000.png").read_bytes()
    (folder / "zz_truncated.png").write_bytes(data[: len(data) // 2])
    feats, _stats, rep = extract_features(FolderSource(folder), TinyExtractor(), progress=False)
    assert rep.num_requested == 27 and rep.num_used == 26 and rep.num_skipped == 1
    assert rep.skipped[0].endswith("zz_truncated.png")
    assert rep.converted == {"L": 1, "RGBA": 1}
    assert feats.shape == (26, 8) and np.isfinite(feats).all()
    with pytest.raises(GanevalValueError, match="unreadable"):
        extract_features(FolderSource(folder), TinyExtractor(), strict=True, progress=False)


def test_fewer_than_two_images_and_dimension_mismatch(tmp_path, folder, images):
    np.save(tmp_path / "one.npy", images[:1])
    with pytest.raises(GanevalValueError, match="At least 2"):
        fid(tmp_path / "one.npy", folder, extractor=TinyExtractor(), device="cpu", progress=False)
    FeatureStatistics(mu=np.zeros(5), sigma=np.eye(5), num_items=10).save(tmp_path / "five.npz")
    with pytest.raises(GanevalValueError, match="5-d"):
        fid(folder, tmp_path / "five.npz", extractor=TinyExtractor(), device="cpu", progress=False)


def test_stats_round_trip_and_foreign_formats(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 6)) * 3 + 100  # a large mean tests the shifted accumulation
    m = StreamingMoments(6)
    for i in range(0, 300, 7):
        m.update(x[i : i + 7])
    st = m.finalize(meta={"k": "v"})
    np.testing.assert_allclose(st.mu, x.mean(0), rtol=1e-13)
    np.testing.assert_allclose(st.sigma, np.cov(x, rowvar=False), rtol=1e-10)
    back = FeatureStatistics.load(st.save(tmp_path / "s.npz"))
    np.testing.assert_array_equal(back.mu, st.mu)
    np.testing.assert_array_equal(back.sigma, st.sigma)
    assert back.num_items == 300 and back.meta["k"] == "v"
    with np.load(tmp_path / "s.npz") as f:  # pytorch-fid reads exactly these two keys
        np.testing.assert_array_equal(f["mu"], st.mu)
    np.savez(tmp_path / "clean.npz", mu=st.mu.astype(np.float32), sigma=st.sigma)
    assert FeatureStatistics.load(tmp_path / "clean.npz").mu.dtype == np.float64
    # NVIDIA FeatureStats.__dict__: sums of x and of x x^T, population covariance
    nv = {
        "capture_all": False,
        "capture_mean_cov": True,
        "max_items": None,
        "num_items": 300,
        "num_features": 6,
        "all_features": None,
        "raw_mean": x.sum(0),
        "raw_cov": x.T @ x,
    }
    with open(tmp_path / "nv.pkl", "wb") as f:
        pickle.dump(nv, f)
    got = FeatureStatistics.load(tmp_path / "nv.pkl")
    np.testing.assert_allclose(got.mu, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(got.sigma, np.cov(x, rowvar=False, ddof=0), rtol=1e-8, atol=1e-9)
    assert got.ddof == 0


def test_cache_key_changes_with_every_input():
    base = dict(
        content_hash="a" * 64, extractor="inception-v3-fid", weights_sha256="b" * 64, resize="tf", num_items=50_000
    )
    k0 = cache_key(**base)
    for field, other in [
        ("content_hash", "c" * 64),
        ("extractor", "zoo:shapes-classifier"),
        ("weights_sha256", "d" * 64),
        ("resize", "clean"),
        ("num_items", 49_999),
    ]:
        assert cache_key(**{**base, field: other}) != k0, field
    assert cache_key(**base) == k0


def test_cache_hit_and_content_change(tmp_path, folder):
    cache = tmp_path / "cache"
    s1, r1 = source_statistics(FolderSource(folder), TinyExtractor(), cache_dir=cache, progress=False)
    s2, r2 = source_statistics(FolderSource(folder), TinyExtractor(), cache_dir=cache, progress=False)
    assert (r1.cache, r2.cache) == ("written", "hit")
    np.testing.assert_array_equal(s1.sigma, s2.sigma)
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(folder / "000.png")  # same name, new content
    _, r3 = source_statistics(FolderSource(folder), TinyExtractor(), cache_dir=cache, progress=False)
    assert r3.cache == "written" and len(list(cache.glob("*.npz"))) == 2


def test_no_partial_stats_file_on_failure(tmp_path, folder, monkeypatch):
    class Exploding(TinyExtractor):
        calls = 0

        def forward(self, x):
            Exploding.calls += 1
            if Exploding.calls > 2:
                raise RuntimeError("device lost")
            return super().forward(x)

    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="device lost"):
        source_statistics(FolderSource(folder), Exploding(), cache_dir=cache, batch_size=4, progress=False)
    assert not cache.exists() or not any(cache.iterdir())

    def disk_full(f, **arrays):
        f.write(b"PK partial")
        raise OSError("No space left on device")

    st = FeatureStatistics(mu=np.zeros(2), sigma=np.eye(2), num_items=3)
    target = tmp_path / "out" / "ref.npz"
    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match="No space"):
        st.save(target)
    assert not target.exists() and not list(target.parent.iterdir())


def test_open_source_dispatch(tmp_path, folder, images):
    np.savez(tmp_path / "imgs.npz", arr_0=images)
    assert isinstance(open_source(tmp_path / "imgs.npz", role="real", num_samples=10), ArraySource)
    FeatureStatistics(mu=np.zeros(2), sigma=np.eye(2), num_items=3).save(tmp_path / "st.npz")
    assert isinstance(open_source(tmp_path / "st.npz", role="real", num_samples=10), FeatureStatistics)
    with pytest.raises(GanevalValueError, match="does not exist"):
        open_source(tmp_path / "missing", role="real", num_samples=10)
    assert torch.equal(
        quantize(torch.tensor([-1.0, -0.99607843, 0.0, 1.0, 2.0])),
        torch.tensor([0, 1, 128, 255, 255], dtype=torch.uint8),
    )


def test_kid_and_pr_from_one_pass(folder, tmp_path, images):
    np.save(tmp_path / "g.npy", images[::-1].copy())
    res = evaluate(
        tmp_path / "g.npy",
        folder,
        metrics=["fid", "kid", "pr"],
        extractor=TinyExtractor(),
        device="cpu",
        kid_subset_size=10,
        kid_subsets=5,
        progress=False,
    )
    assert [r.metric for r in res] == ["FD_tiny", "KD_tiny", "precision"]
    assert res[0].value == pytest.approx(0.0, abs=1e-10)  # same images, other order
    assert res[2].precision == 1.0 and res[2].recall == 1.0
    assert res[0].config["resize"] == "tf" and res[0].config["extractor"] == "tiny"

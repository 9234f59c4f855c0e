"""Linear separability: entropy maths, pruning, the fast SVM vs LinearSVC, and the whole pipeline.

The pipeline test uses a generator whose image *is* its last-layer w and a linear classifier,
so each attribute is exactly sign(a . w): the W entropies must be ~0 and the W score ~1.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from ganeval.classifiers import wrap_classifier
from ganeval.errors import GanevalValueError
from ganeval.metrics._linear_svm import fit_linear_svm
from ganeval.metrics.separability import (
    _score_attribute,
    conditional_entropy_bits,
    confident_indices,
    export_boundaries,
    joint_table,
    separability,
)


def h2(p: float) -> float:
    return 0.0 if p in (0.0, 1.0) else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


# ----------------------------------------------------------------------------- entropy


@pytest.mark.parametrize(
    "table, expected",
    [
        ([[0.5, 0.0], [0.0, 0.5]], 0.0),  # perfect prediction
        ([[0.0, 0.5], [0.5, 0.0]], 0.0),  # perfectly inverted: still no uncertainty
        ([[0.25, 0.25], [0.25, 0.25]], 1.0),  # independent, balanced Y
        ([[0.4, 0.1], [0.1, 0.4]], h2(0.2)),  # each row: Y | X ~ Bernoulli(0.2)
        ([[0.3, 0.2], [0.0, 0.5]], 0.5 * h2(0.4)),  # row 1 certain, row 0 Bernoulli(0.4)
        ([[0.7, 0.3], [0.0, 0.0]], h2(0.3)),  # X constant: H(Y|X) = H(Y)
        ([[1.0, 0.0], [0.0, 0.0]], 0.0),  # single class
        ([[40, 10], [10, 40]], h2(0.2)),  # counts are normalised
    ],
)
def test_conditional_entropy_hand_tables(table, expected) -> None:
    assert conditional_entropy_bits(np.array(table, dtype=float)) == pytest.approx(expected, abs=1e-12)


def test_joint_table_rows_are_predictions() -> None:
    t = joint_table(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))
    np.testing.assert_array_equal(t, [[0.5, 0.0], [0.25, 0.25]])


# ----------------------------------------------------------------------------- pruning


def test_confident_indices_keeps_exactly_num_keep_with_index_tie_break() -> None:
    # float32 sigmoid(2 * 10) == 1.0 == sigmoid(2 * 20): those three samples tie at confidence 1
    logits = np.array([[0.1], [10.0], [-0.5], [-10.0], [20.0], [0.0]], dtype=np.float32)
    np.testing.assert_array_equal(confident_indices(logits, 2), [[1, 3]])
    np.testing.assert_array_equal(confident_indices(logits, 3), [[1, 3, 4]])
    np.testing.assert_array_equal(confident_indices(logits, 4), [[1, 2, 3, 4]])
    many = np.random.default_rng(0).standard_normal((1000, 5)).astype(np.float32)
    keep = confident_indices(many, 300)
    assert keep.shape == (5, 300)
    for a in range(5):
        assert len(set(keep[a])) == 300
        kept_min = np.abs(many[keep[a], a]).min()
        dropped = np.setdiff1d(np.arange(1000), keep[a])
        assert np.abs(many[dropped, a]).max() <= kept_min


# ----------------------------------------------------------------------------- SVM


def test_fast_svm_matches_linearsvc() -> None:
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4000, 24)) @ (np.eye(24) + 0.3 * rng.standard_normal((24, 24)))).astype(np.float32)
    a = rng.standard_normal(24)
    y = (x @ a + 0.3 + 2.0 * rng.standard_normal(4000) > 0).astype(np.int64)
    fast = fit_linear_svm(x, y)
    ref = LinearSVC(dual=False, tol=1e-8, random_state=0).fit(x, y)
    assert fast.converged
    acc_fast, acc_ref = (fast.predict(x) == y).mean(), ref.score(x, y)
    assert abs(acc_fast - acc_ref) <= 0.005
    cos = fast.coef @ ref.coef_[0] / np.linalg.norm(fast.coef) / np.linalg.norm(ref.coef_[0])
    assert cos > 0.9999
    assert fast.intercept == pytest.approx(ref.intercept_[0], abs=2e-3 * max(1.0, abs(ref.intercept_[0])))
    again = fit_linear_svm(x, y)
    np.testing.assert_array_equal(again.coef, fast.coef)  # deterministic


def test_independent_labels_give_entropy_of_labels() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((20000, 4)).astype(np.float32)
    y = (rng.random(20000) < 0.3).astype(np.int64)
    row, _ = _score_attribute(x, y, np.arange(20000), split="stylegan", solver="fast", moment=None, constant=False)
    assert row["status"] == "ok"
    assert row["entropy_bits"] == pytest.approx(h2(y.mean()), abs=0.01)


def test_failed_fit_is_reported_not_scored_as_perfect() -> None:
    x = np.ones((50, 3), np.float32)
    x[7, 1] = np.nan
    y = np.arange(50) % 2
    for solver in ("fast", "liblinear-primal"):
        row, normal = _score_attribute(
            x, y, np.arange(50), split="stylegan", solver=solver, moment=None, constant=False
        )
        assert row["status"].startswith("failed")
        assert math.isnan(row["entropy_bits"]) and normal is None


# ----------------------------------------------------------------------------- pipeline


class ImageIsW(nn.Module):
    """z [N, 48] -> w = tanh(z M) (all layers equal) -> image = w as a [3, 4, 4] picture."""

    def __init__(self) -> None:
        super().__init__()
        self.z_dim, self.w_dim, self.c_dim, self.num_ws, self.img_resolution, self.img_channels = 48, 48, 0, 2, 4, 3
        g = torch.Generator().manual_seed(0)
        self.register_buffer("m", torch.randn(48, 48, generator=g) / math.sqrt(48) * 2.0)

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, **_: object) -> torch.Tensor:
        return torch.tanh(z @ self.m).unsqueeze(1).repeat(1, self.num_ws, 1)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        return ws[:, -1].reshape(-1, 3, 4, 4)


def _linear_classifier() -> tuple[object, np.ndarray]:
    g = torch.Generator().manual_seed(1)
    a = torch.randn(2, 48, generator=g)
    lin = nn.Linear(48, 3)
    with torch.no_grad():
        lin.weight.zero_()
        lin.weight[:2] = a * 5.0
        lin.bias.copy_(torch.tensor([0.0, 0.0, 3.0]))  # attribute "always" is constant (+)
    net = nn.Sequential(nn.Flatten(), lin)
    return wrap_classifier(net, ["first", "second", "always"], 4), a.numpy()


def test_pipeline_sign_of_a_dot_w_is_perfectly_separable_in_w(tmp_path) -> None:
    clf, a = _linear_classifier()
    G = ImageIsW()
    with pytest.warns(UserWarning, match="1 of 3 attribute"):
        res = separability(
            G, clf, num_samples=3000, num_keep=1500, batch_size=256, device="cpu", cache_dir=tmp_path, progress=False
        )
    t = res.table.set_index(["space", "attribute"])
    for attr in ("first", "second"):
        assert t.loc[("w", attr), "status"] == "ok"
        assert t.loc[("w", attr), "entropy_bits"] < 0.01
        assert t.loc[("w", attr), "svm_train_acc"] > 0.999
        assert t.loc[("w", attr), "kept"] == 1500
    assert t.loc[("w", "always"), "status"] == "constant" and math.isnan(t.loc[("w", "always"), "entropy_bits"])
    assert res.extra["excluded_w"] == ["always"] and res.extra["num_scored_w"] == 2
    assert res.value == res.scores()["w"] == pytest.approx(1.0, abs=0.015)
    assert res.scores()["z"] > res.scores()["w"]  # z -> w is nonlinear
    # boundaries: unit norm, [1, 48], pointing to the attribute (cosine with a close to 1)
    paths = export_boundaries(res, tmp_path / "b")
    assert sorted(p.name for p in paths) == ["boundary_first.npy", "boundary_second.npy"]
    for k, attr in enumerate(("first", "second")):
        n = np.load(tmp_path / "b" / f"boundary_{attr}.npy")
        assert n.shape == (1, 48) and np.linalg.norm(n) == pytest.approx(1.0, abs=1e-6)
        assert float(n[0] @ a[k]) / np.linalg.norm(a[k]) > 0.95
    line = json.loads(res.to_json_line())
    assert line["metric"] == "ls_stylegan_fast" and line["results"]["ls_stylegan_fast"] == pytest.approx(res.value)
    # second run: other split, same cache -> no regeneration, held-out numbers present
    with pytest.warns(UserWarning):
        res2 = separability(
            G,
            clf,
            spaces=("w",),
            num_samples=3000,
            num_keep=1500,
            batch_size=100,
            device="cpu",
            cache_dir=tmp_path,
            progress=False,
            split="heldout",
        )
    assert res2.provenance["samples_resumed"] == 3000
    t2 = res2.table.set_index("attribute")
    assert t2.loc["first", "heldout_acc"] > 0.99 and t2.loc["first", "heldout_entropy_bits"] < 0.05


def test_results_identical_for_batch_sizes_and_with_cache(tmp_path) -> None:
    from ganeval.models.stylegan import StyleGAN

    torch.manual_seed(0)
    G = StyleGAN(z_dim=16, w_dim=16, img_resolution=8, fmap_base=64, fmap_max=16, mapping_layers=2)
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 3))
    clf = wrap_classifier(nn.Sequential(nn.AvgPool2d(2), net), ["x", "y", "z"], 8)
    kw = dict(num_samples=400, num_keep=200, device="cpu", progress=False)
    r1 = separability(G, clf, batch_size=32, cache_dir=False, **kw)
    r2 = separability(G, clf, batch_size=57, cache_dir=tmp_path, **kw)
    r3 = separability(G, clf, batch_size=400, cache_dir=tmp_path, **kw)  # read back from the cache
    assert r3.provenance["samples_resumed"] == 400
    for r in (r2, r3):
        assert r.scores() == r1.scores()
        np.testing.assert_array_equal(r.table["entropy_bits"].to_numpy(), r1.table["entropy_bits"].to_numpy())


def test_liblinear_solver_path_and_metric_name() -> None:
    clf, _ = _linear_classifier()
    with pytest.warns(UserWarning):
        res = separability(
            ImageIsW(),
            clf,
            spaces=("w",),
            num_samples=400,
            num_keep=200,
            batch_size=200,
            device="cpu",
            cache_dir=False,
            progress=False,
            solver="liblinear-dual",
        )
    assert res.metric == "ls_stylegan" and res.provenance["sklearn"]
    assert (res.table.set_index("attribute").loc[["first", "second"], "svm_train_acc"] > 0.97).all()


def test_bad_input_messages() -> None:
    clf, _ = _linear_classifier()
    G = ImageIsW()
    with pytest.raises(GanevalValueError, match=r"num_keep.*at most.*100.*200"):
        separability(G, clf, num_samples=100, num_keep=200, device="cpu", cache_dir=False)
    wrong = wrap_classifier(nn.Sequential(nn.Flatten(), nn.Linear(48, 3)), ["only", "two"], 4)
    with pytest.raises(GanevalValueError, match="one per attribute name"):
        separability(G, wrong, num_samples=20, num_keep=10, device="cpu", cache_dir=False, progress=False)
    with pytest.raises(GanevalValueError, match="spaces"):
        separability(G, clf, spaces=("x",), num_samples=20, num_keep=10, device="cpu", cache_dir=False)


def test_zoo_generator_w_score_with_table(tmp_path) -> None:
    import ganeval

    try:
        G = ganeval.load_generator("zoo:shapes-stylegan")
        clf = ganeval.load_classifier("zoo:shapes-classifier")
    except (ganeval.GanevalError, ImportError, AttributeError, FileNotFoundError) as exc:
        pytest.skip(f"zoo weights not available yet: {exc}")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = separability(
            G, clf, num_samples=1000, num_keep=500, batch_size=100, device="cpu", cache_dir=tmp_path, progress=False
        )
    print(res.table.to_string())
    print("zoo scores", res.scores())
    assert set(res.table["attribute"]) == set(clf.attribute_names)
    scored = res.table[(res.table["space"] == "w") & res.table["status"].isin(["ok", "not_converged"])]
    assert len(scored) == res.extra["num_scored_w"] > 0
    assert res.value == pytest.approx(2.0 ** scored["entropy_bits"].sum(), rel=1e-12)
    # conditioning cannot raise entropy, and Fano for two classes: H(Y | X) <= H_b(training error)
    for row in scored.itertuples():
        assert row.entropy_bits <= _binary_entropy(row.class_balance) + 1e-9, row.attribute
        assert row.entropy_bits <= _binary_entropy(1 - row.svm_train_acc) + 1e-9, row.attribute


def _binary_entropy(p: float) -> float:
    return 0.0 if p in (0.0, 1.0) else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))

"""The shipped zoo models: load by name, golden outputs, checksum refusal, classifier accuracy, quality cards."""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import pytest
import torch

import ganeval
from ganeval.errors import ChecksumError
from ganeval.zoo import shapes
from ganeval.zoo._load import generator_card_names, pretrained_dir, read_card, sha256_file
from ganeval.zoo.classifier import evaluate_classifier, load_zoo_classifier
from ganeval.zoo.perceptual import ShapesPerceptual, load_zoo_distance

GOLDEN = Path(__file__).parent / "golden"
sys.path.insert(0, str(GOLDEN))
from make_zoo_golden import generator_golden, golden_inputs  # noqa: E402 (after the sys.path insert above)

pytestmark = pytest.mark.usefixtures("one_thread")


#: Dataset seed never used by any shipped training run (they used 1, 2, 3) nor by the card evaluation.
FRESH_SEED = 424_242


@pytest.fixture(scope="module")
def golden() -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(GOLDEN / "zoo_golden.safetensors"))


def test_cards_list_every_model_with_checksums():
    root = pretrained_dir()
    total = 0
    for name, kind in (
        ("shapes-stylegan", "generator"),
        ("shapes-traditional", "generator"),
        ("shapes-classifier", "classifier"),
        ("shapes-perceptual", "distance"),
    ):
        card = read_card(f"zoo:{name}")
        assert card["name"] == name and card["kind"] == kind
        assert sha256_file(root / card["file"]) == card["sha256"]
        assert card["training"]["command"].startswith("python -m ganeval.zoo.train")
        total += (root / card["file"]).stat().st_size
    assert total < 20 * 2**20
    assert (root / "shapes-stylegan-samples.png").exists() and (root / "shapes-stylegan-mixing.png").exists()
    from ganeval import weights

    names = {e.name for e in weights.list_entries()}
    assert {"zoo:shapes-stylegan", "zoo:shapes-traditional", "zoo:shapes-classifier", "zoo:shapes-perceptual"} <= names


@pytest.mark.parametrize("name", generator_card_names())
def test_generator_loads_by_name_and_matches_golden(golden, name):
    G = ganeval.load_generator(f"zoo:{name}")
    assert (G.img_resolution, G.img_channels) == (32, 3)
    assert G.provenance["sha256"] == read_card(name)["sha256"]
    got = generator_golden(name)
    assert set(got) == {k for k in golden if k.startswith(name + ".")}, "regenerate tests/golden (a new card?)"
    for key, value in got.items():
        torch.testing.assert_close(value, golden[key], rtol=0, atol=1e-5 if key.endswith(".ws") else 1e-4)
    if G.has_w_space:
        assert G.num_ws == 8 and torch.count_nonzero(G.w_avg) == G.w_dim  # tracked during training
    else:
        assert G.num_ws == 1


def test_classifier_loads_by_name_and_matches_golden(golden):
    clf = ganeval.load_classifier("zoo:shapes-classifier")
    assert list(clf.attribute_names) == shapes.ATTRIBUTES and clf.input_resolution == 32
    a = golden_inputs(1)["a"]
    with torch.no_grad():
        torch.testing.assert_close(clf(a), golden["classifier_logits"], rtol=0, atol=1e-4)
        torch.testing.assert_close(clf.features(a), golden["classifier_features"], rtol=0, atol=1e-4)


def test_perceptual_loads_by_name_matches_golden_and_is_honestly_named(golden):
    dist = load_zoo_distance("zoo:shapes-perceptual")
    assert "NOT LPIPS" in dist.name and "shapes" in dist.name
    x = golden_inputs(1)
    with torch.no_grad():
        d = dist(x["a"], x["b"])
        torch.testing.assert_close(d, golden["perceptual"], rtol=0, atol=1e-5)
        assert torch.all(d > 0)
        torch.testing.assert_close(dist(x["a"], x["a"]), torch.zeros(8), rtol=0, atol=0)
        torch.testing.assert_close(dist(x["b"], x["a"]), d, rtol=1e-5, atol=1e-7)  # symmetric
    via_api = ganeval.load_distance("zoo:shapes-perceptual")
    with torch.no_grad():
        torch.testing.assert_close(via_api(x["a"], x["b"]).flatten(), d, rtol=1e-5, atol=1e-6)


def test_perceptual_matches_transcribed_formula():
    """d = sum_l mean_hw sum_c (unit-normalised f_a - f_b)^2 with uniform weights, written out here."""
    dist = load_zoo_distance("zoo:shapes-perceptual")
    x = golden_inputs(1)
    with torch.no_grad():
        fa, fb = dist.net.stage_outputs(x["a"]), dist.net.stage_outputs(x["b"])
        want = torch.zeros(8, dtype=torch.float64)
        for la, lb in zip(fa, fb):
            la, lb = la.double(), lb.double()
            na = la / (la.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            nb = lb / (lb.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            want += (na - nb).pow(2).sum(1).mean(dim=(1, 2))
        torch.testing.assert_close(dist(x["a"], x["b"]).double(), want, rtol=1e-5, atol=1e-7)
    assert all(torch.equal(getattr(dist, f"lin{k}"), torch.ones_like(getattr(dist, f"lin{k}"))) for k in range(3))


def _corrupt_copy(tmp_path: Path) -> Path:
    root = tmp_path / "pretrained"
    shutil.copytree(pretrained_dir(), root, ignore=shutil.ignore_patterns("*.png", "__pycache__"))
    for f in root.glob("*.safetensors"):
        data = bytearray(f.read_bytes())
        data[len(data) // 2] ^= 0x01  # one flipped bit in the tensor data
        f.write_bytes(bytes(data))
    return root


def test_corrupted_weights_are_refused_by_checksum(tmp_path):
    from ganeval.models.native import load_native

    root = _corrupt_copy(tmp_path)
    with pytest.raises(ChecksumError, match="sha256"):
        load_zoo_classifier("zoo:shapes-classifier", root=root)
    with pytest.raises(ChecksumError, match="sha256"):
        load_zoo_distance("zoo:shapes-perceptual", root=root)
    with pytest.raises(ChecksumError, match="sha256"):
        load_native(root / "shapes-stylegan.json")
    with pytest.raises(ChecksumError, match="sha256"):
        ganeval.load_generator(root / "shapes-stylegan.json")


def test_classifier_accuracy_on_unseen_renders():
    clf = load_zoo_classifier()
    acc = evaluate_classifier(clf, num=3000, seed=FRESH_SEED)
    low = {a: v for a, v in acc.items() if v < 0.95}
    assert not low, f"attributes below 95 % accuracy: {low}"


@pytest.mark.parametrize("name", generator_card_names())
def test_generator_card_quality_reproduces_from_the_weights(name):
    """The card's quality numbers, recomputed from the shipped weights under the card's own protocol (same z
    seed and sample count; the card does not record its noise draw, the only difference): the Fréchet
    distance within a quarter of the real-vs-real distance of two such sets (the sampling floor; a smaller
    sample would not do: FD's small-sample bias grows with the generated set's spread), the confident
    fraction within 4 binomial standard errors."""
    from ganeval.zoo.train import EVAL_SEED, generator_quality

    card = read_card(name)
    q = card["quality"]
    n = q["num"]
    assert (q["eval_seed"], n) == (EVAL_SEED, 2048)
    G = ganeval.load_generator(f"zoo:{name}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        got = generator_quality(G, load_zoo_classifier(), num=n, seed=q["z_seed"])
    assert abs(got["frechet_classifier_features"] - q["frechet_classifier_features"]) < got["frechet_real_vs_real"] / 4
    p = q["confident_fraction_generated"]
    assert abs(got["confident_fraction_generated"] - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert f" --seed {card['training']['seed']} " in card["training"]["command"]
    clf_card = read_card("shapes-classifier")
    assert set(clf_card["quality"]["per_attribute_accuracy"]) == set(shapes.ATTRIBUTES)
    json.dumps(card)  # the card stays plain JSON


def test_classifier_rejects_wrong_resolution():
    from ganeval.errors import GanevalValueError

    clf = load_zoo_classifier()
    with pytest.raises(GanevalValueError, match="images"):
        clf(torch.zeros(1, 3, 64, 64))
    dist = load_zoo_distance()
    assert isinstance(dist, ShapesPerceptual)
    with pytest.raises(GanevalValueError, match="img_b"):
        dist(torch.zeros(2, 3, 32, 32), torch.zeros(3, 3, 32, 32))

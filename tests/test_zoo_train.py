"""Each zoo training entry point runs a few steps and writes a checkpoint that loads."""

from __future__ import annotations

import json

import pytest
import torch

from ganeval.errors import GanevalValueError
from ganeval.zoo import shapes
from ganeval.zoo.classifier import load_zoo_classifier
from ganeval.zoo.perceptual import load_zoo_distance
from ganeval.zoo.train import EVAL_SEED, export_generator, main

pytestmark = pytest.mark.usefixtures("one_thread")


def test_classifier_and_perceptual_entry_points(tmp_path):
    card = main(
        ["classifier", "--out", str(tmp_path), "--seed", "11", "--steps", "3", "--batch", "8", "--eval-num", "32"]
    )
    assert card["kind"] == "classifier" and card["training"]["steps"] == 3
    clf = load_zoo_classifier("shapes-classifier", root=tmp_path)
    images, _ = shapes.render(list(range(4)), 0)
    assert clf(images).shape == (4, len(shapes.ATTRIBUTES)) and clf.features(images).shape == (4, 128)

    main(["perceptual", "--out", str(tmp_path), "--seed", "12", "--steps", "3", "--batch", "8"])
    dist = load_zoo_distance("shapes-perceptual", root=tmp_path)
    d = dist(images, images.flip(0))  # pairs (0, 3), (1, 2), (2, 1), (3, 0)
    assert d.shape == (4,) and torch.equal(d, d.flip(0)) and torch.all(d > 0)
    assert torch.equal(dist(images, images), torch.zeros(4))
    on_disk = json.loads((tmp_path / "shapes-perceptual.json").read_text())
    assert "NOT LPIPS" in on_disk["display_name"]


def test_generator_entry_point_checkpoint_resume_and_export(tmp_path):
    from ganeval.models.native import load_native

    run, out = tmp_path / "run", tmp_path / "out"
    args = ["generator", "--out", str(run), "--seed", "13", "--batch", "4", "--ckpt-every", "2", "--fmap-base", "64"]
    main([*args, "--steps", "2"])
    first = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert first["step"] == 2
    main([*args, "--steps", "3", "--resume"])
    state = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert state["step"] == 3
    assert not torch.equal(first["G"]["synthesis.const"], state["G"]["synthesis.const"])
    assert torch.count_nonzero(state["G"]["mapping.w_avg"]) > 0

    main(["classifier", "--out", str(out), "--seed", "11", "--steps", "2", "--batch", "8", "--eval-num", "16"])
    card = export_generator(run, out, classifier_root=out, quality_num=16)
    assert card["name"] == "shapes-stylegan" and card["training"]["steps_done"] == 3
    G = load_native(out / "shapes-stylegan.json")
    assert G(torch.randn(2, G.z_dim)).shape == (2, 3, 32, 32)
    assert (out / "shapes-stylegan-samples.png").exists() and (out / "shapes-stylegan-mixing.png").exists()


def test_training_refuses_the_evaluation_seed(tmp_path):
    with pytest.raises(GanevalValueError, match="evaluation seed"):
        main(["classifier", "--out", str(tmp_path), "--seed", str(EVAL_SEED), "--steps", "1"])


def test_traditional_generator_trains_and_exports_with_its_history(tmp_path):
    from ganeval.models.native import load_native

    run, out = tmp_path / "run", tmp_path / "out"
    main(
        [
            "generator",
            "--arch",
            "traditional",
            "--mixing-prob",
            "0",
            "--out",
            str(run),
            "--seed",
            "14",
            "--batch",
            "4",
            "--steps",
            "4",
            "--ckpt-every",
            "2",
            "--snapshot-every",
            "2",
            "--eval-every",
            "2",
            "--eval-num",
            "8",
            "--fmap-base",
            "64",
        ]
    )
    rows = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4] and (run / "checkpoint-2.pt").exists()
    main(["classifier", "--out", str(out), "--seed", "11", "--steps", "2", "--batch", "8", "--eval-num", "16"])
    card = export_generator(run, out, classifier_root=out, quality_num=16, checkpoint=run / "checkpoint-2.pt")
    assert card["name"] == "shapes-traditional" and card["training"]["steps_done"] == 2
    assert str(tmp_path) not in json.dumps(card) and " --out RUN " in card["training"]["command"]
    assert [r["step"] for r in card["training"]["quality_history"]] == [2]
    G = load_native(out / "shapes-traditional.json")
    assert not G.has_w_space and G.num_ws == 1
    assert G(torch.randn(2, G.z_dim)).shape == (2, 3, 32, 32)
    assert (out / "shapes-traditional-samples.png").exists() and not (out / "shapes-traditional-mixing.png").exists()
    assert main(["curves", "--out", str(out)])["curves"] == str(out / "shapes-training-curves.png")
    assert (out / "shapes-training-curves.png").stat().st_size > 1000


def test_traditional_generator_refuses_style_mixing(tmp_path):
    with pytest.raises(GanevalValueError, match="mixing-prob 0"):
        main(["generator", "--arch", "traditional", "--out", str(tmp_path), "--seed", "14", "--steps", "1"])


@pytest.mark.parametrize("lr_mul", [0.01, 1.0])
def test_mapping_lr_multiplier_scales_the_mappings_first_step(tmp_path, lr_mul):
    """Adam with beta1 = 0 moves a stored weight by lr * |g| / (|g| + eps) on its first step, so the
    mapping's effective weights move by at most lr * lr_mul * gain / sqrt(fan_in), reached where |g| >> eps
    (with lr_mul 0.01 the stored gradients are small enough that eps = 1e-8 visibly slows many of them)."""
    from ganeval.models.stylegan import StyleGAN

    run = tmp_path / "run"
    args = ["generator", "--out", str(run), "--seed", "15", "--batch", "4", "--ckpt-every", "1", "--steps", "1"]
    main([*args, "--fmap-base", "64", "--fmap-max", "32", "--mapping-layers", "2", "--mapping-lr-mul", str(lr_mul)])
    main([*args[:-2], "--steps", "1", "--mbstd-group", "2", "--out", str(tmp_path / "run2")])
    state = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=True)
    assert state["G_init_kwargs"]["mapping_lr_mul"] == lr_mul and state["G_init_kwargs"]["mapping_layers"] == 2
    assert state["G_init_kwargs"]["fmap_max"] == 32 and state["config"]["mbstd_group"] == 4
    assert torch.load(tmp_path / "run2" / "checkpoint.pt", weights_only=True)["config"]["mbstd_group"] == 2
    torch.manual_seed(15)  # training builds G first from this seed: the same initial weights
    G0 = StyleGAN(**state["G_init_kwargs"])
    moved = state["G"]["mapping.fc0.weight"] - G0.mapping.fc0.weight.detach()
    step = moved.abs() * G0.mapping.fc0.weight_gain
    lr = 0.002
    expected = lr * G0.mapping.fc0.weight_gain
    assert (moved != 0).float().mean() > 0.9
    assert step.max() <= expected * 1.01
    torch.testing.assert_close(step.max(), torch.tensor(expected), rtol=1e-2, atol=0)


def test_a_named_export_adds_a_generator_variant_to_the_zoo(tmp_path):
    from ganeval.models.native import load_native
    from ganeval.zoo._load import generator_card_names, zoo_cards
    from ganeval.zoo.train import write_readme

    run, out = tmp_path / "run", tmp_path / "out"
    args = ["generator", "--out", str(run), "--seed", "16", "--batch", "4", "--steps", "1", "--fmap-base", "64"]
    main([*args, "--eval-every", "1", "--eval-num", "8"])
    main(["classifier", "--out", str(out), "--seed", "11", "--steps", "2", "--batch", "8", "--eval-num", "16"])
    main(["perceptual", "--out", str(out), "--seed", "12", "--steps", "1", "--batch", "8"])
    state = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=True)
    for name in (None, "shapes-stylegan-map8"):
        card = export_generator(run, out, classifier_root=out, quality_num=16, name=name)
    assert card["name"] == "shapes-stylegan-map8" and card["file"] == "shapes-stylegan-map8.safetensors"
    assert "Mapping network: 8 dense layers, learning-rate multiplier 0.01." in card["description"]
    (row,) = card["training"]["quality_history"]
    assert row["step"] == 1 and 1.0 <= row["w_participation_ratio"] <= 64.0
    assert generator_card_names(out) == ["shapes-stylegan", "shapes-stylegan-map8"]
    assert set(zoo_cards(out)) >= {"shapes-stylegan", "shapes-stylegan-map8"}
    G = load_native(out / "shapes-stylegan-map8.json")
    for key, value in G.state_dict().items():  # both cards hold the run's EMA weights
        assert torch.equal(value, state["G_ema"][key]), key
    assert "`zoo:shapes-stylegan-map8` (generator)" in write_readme(out).read_text()
    for bad in ("stylegan2", "shapes-", "shapes-Map8", "shapes--x", "shapes-x/../y"):
        with pytest.raises(GanevalValueError, match="Argument `name`"):
            export_generator(run, out, classifier_root=out, quality_num=16, name=bad)


def test_w_participation_ratio_is_the_effective_dimension():
    """Isotropic W -> about w_dim; W on a line -> 1; W on k equal axes -> k (analytic values)."""
    from ganeval.zoo.train import w_participation_ratio

    class Mapped(torch.nn.Module):
        z_dim = 16

        def __init__(self, transform):
            super().__init__()
            self.transform = transform

        def mapping(self, z):
            return self.transform(z)[:, None, :].expand(-1, 2, -1)

    iso = w_participation_ratio(Mapped(lambda z: z), num=20000)
    assert 15.0 < iso <= 16.0
    line = w_participation_ratio(Mapped(lambda z: z[:, :1] * torch.ones(1, 16)))
    assert line == pytest.approx(1.0, abs=1e-9)
    axes = torch.zeros(16, 16)
    axes[[0, 1, 2], [3, 7, 9]] = 1.0
    assert w_participation_ratio(Mapped(lambda z: z @ axes), num=50000) == pytest.approx(3.0, rel=0.02)

"""``ganeval separability`` end to end on a small native generator and a TF D_basic classifier pickle."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganeval.cli import run

pytest.importorskip("ganeval.loaders.safe_pickle")


def test_cli_json_out_and_boundaries(tmp_path, capsys) -> None:
    from test_separability_classifiers import KW, _tf_pickle, random_variables

    from ganeval.models.native import save_generator
    from ganeval.models.stylegan import StyleGAN

    torch.manual_seed(0)
    G = StyleGAN(z_dim=16, w_dim=16, img_resolution=32, fmap_base=64, fmap_max=16, mapping_layers=2)
    gen_path = tmp_path / "g.safetensors"
    save_generator(G, gen_path)
    clf_path = tmp_path / "celebahq-classifier-01-smiling.pkl"
    var = {k: (v * 0 if k.endswith("bias") else v) for k, v in random_variables(KW, seed=3).items()}
    clf_path.write_bytes(_tf_pickle(var, KW))  # 16x16 input: box-downsample by 2
    out = tmp_path / "out"
    code = run(
        [
            "separability",
            "--generator",
            str(gen_path),
            "--classifier",
            str(clf_path),
            "--samples",
            "96",
            "--keep",
            "48",
            "--device",
            "cpu",
            "--json",
            "--quiet",
            "--out",
            str(out),
            "--export-boundaries",
            str(tmp_path / "b"),
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    line = json.loads(captured.out.strip().splitlines()[-1])
    assert line["metric"] == "ls_stylegan_fast" and line["config"]["attributes"] == ["smiling"]
    assert line["extra"]["attributes"][0]["kept"] == 48
    assert (out / "entropy.png").stat().st_size > 0 and (out / "attributes.csv").exists()
    assert line["extra"]["num_scored_w"] == 1  # zero biases: the random classifier outputs both classes
    b = np.load(tmp_path / "b" / "w" / "boundary_smiling.npy")
    assert b.shape == (1, 16) and np.linalg.norm(b) == pytest.approx(1.0, abs=1e-6)


def test_cli_bad_keep_is_one_line_error(tmp_path, capsys) -> None:
    from test_separability_classifiers import KW, _tf_pickle, random_variables

    from ganeval.models.native import save_generator
    from ganeval.models.stylegan import StyleGAN

    G = StyleGAN(z_dim=16, w_dim=16, img_resolution=16, fmap_base=64, fmap_max=16, mapping_layers=2)
    save_generator(G, tmp_path / "g.safetensors")
    (tmp_path / "c.pkl").write_bytes(_tf_pickle(random_variables(KW), KW))
    code = run(
        [
            "separability",
            "--generator",
            str(tmp_path / "g.safetensors"),
            "--classifier",
            str(tmp_path / "c.pkl"),
            "--samples",
            "10",
            "--keep",
            "20",
            "--device",
            "cpu",
            "--no-cache",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Error: Argument `num_keep` must be at most `num_samples` (10), but got 20." in err


def test_cli_preset_refuses_a_contradicting_solver(capsys) -> None:
    code = run(["separability", "--preset", "ls_stylegan", "--solver", "fast", "--device", "cpu"])
    err = capsys.readouterr().err
    assert (
        code == 2
        and (
            "Error: Option `--preset ls_stylegan` fixes split='stylegan' and "
            "solver='liblinear-dual'; omit --solver fast."
        )
        in err
    )

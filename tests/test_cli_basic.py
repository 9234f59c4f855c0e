"""`ganeval info | sample | mix` on a small native generator, and their one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from ganeval import _seeding
from ganeval.cli import run
from ganeval.models.control import crossover
from ganeval.models.native import load_native, save_generator
from ganeval.models.stylegan import StyleGAN
from ganeval.viz.grid import to_uint8


def _max_diff(a: np.ndarray, b: np.ndarray) -> int:
    """Largest 8-bit difference (1 allowed: float rounding may differ between batch sizes)."""
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


@pytest.fixture(scope="module")
def gen_path(tmp_path_factory):
    torch.manual_seed(0)
    G = StyleGAN(z_dim=16, w_dim=16, img_resolution=16, fmap_base=64, fmap_max=16)
    G.mapping.w_avg.normal_()
    path = tmp_path_factory.mktemp("gen") / "tiny"
    save_generator(G, path)
    return str(path) + ".safetensors"


def test_info_text_and_json(gen_path, capsys):
    assert run(["info", gen_path, "--json", "--device", "cpu"]) == 0
    info = json.loads(capsys.readouterr().out)
    G = load_native(gen_path)
    assert info["architecture"] == "stylegan" and info["resolution"] == 16 and info["num_ws"] == 6
    assert info["z_dim"] == 16 and info["w_dim"] == 16 and info["c_dim"] == 0
    assert info["parameters"] == sum(p.numel() for p in G.parameters())
    assert info["provenance"]["sha256"] == G.provenance["sha256"]
    assert info["layer_groups"] == {"coarse": [0, 1, 2, 3], "middle": [4, 5], "fine": []}
    assert run(["info", gen_path]) == 0
    assert "parameters" in capsys.readouterr().out


def test_sample_grid_matches_generator(gen_path, tmp_path, capsys):
    out = tmp_path / "grid.png"
    code = run(
        [
            "sample",
            gen_path,
            "--seeds",
            "2-5",
            "--truncation",
            "0.7",
            "--out",
            str(out),
            "--ncols",
            "2",
            "--device",
            "cpu",
            "--seed",
            "9",
        ]
    )
    assert code == 0 and capsys.readouterr().out.strip() == str(out)
    grid = np.asarray(Image.open(out))
    assert grid.shape == (32, 32, 3)
    G = load_native(gen_path)
    z = _seeding.normal(9, "z", [2, 3, 4, 5], [16])
    with torch.no_grad():
        expected = to_uint8(G(z, truncation_psi=0.7))
    assert _max_diff(grid[16:, :16], expected[2]) <= 1  # row-major: seed 4 is row 1, col 0
    # a seed's image does not depend on the grid it is rendered in, nor on the batch size
    run(
        [
            "sample",
            gen_path,
            "--seeds",
            "4",
            "--truncation",
            "0.7",
            "--out",
            str(tmp_path / "one.png"),
            "--device",
            "cpu",
            "--seed",
            "9",
            "--noise-mode",
            "const",
        ]
    )
    assert _max_diff(np.asarray(Image.open(tmp_path / "one.png")), expected[2]) <= 1
    for bs in ("1", "3"):
        run(
            [
                "sample",
                gen_path,
                "--seeds",
                "2-5",
                "--noise-mode",
                "random",
                "--batch-size",
                bs,
                "--out",
                str(tmp_path / f"r{bs}.png"),
                "--device",
                "cpu",
            ]
        )
    assert _max_diff(np.asarray(Image.open(tmp_path / "r1.png")), np.asarray(Image.open(tmp_path / "r3.png"))) <= 1


def test_mix_grid_cells_are_crossovers(gen_path, tmp_path, capsys):
    from ganeval.cli.mix import render_mix

    out = tmp_path / "mix.png"
    assert (
        run(
            [
                "mix",
                gen_path,
                "--rows",
                "1,2",
                "--cols",
                "3,4,5",
                "--layers",
                "middle",
                "--out",
                str(out),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert Image.open(out).size[1] > 3 * 16
    G = load_native(gen_path)
    rows, _cols, cells = render_mix(
        G, [1, 2], [3, 4, 5], "middle", seed=0, truncation=1.0, class_index=None, device=torch.device("cpu")
    )
    ws = G.mapping(_seeding.normal(0, "z", [1, 2, 3, 4, 5], [16]))
    expected = G.synthesis(crossover(ws[1:2], ws[4:5], "middle", G=G))  # row 2, column 5
    assert (cells[1 * 3 + 2] - expected[0]).abs().max() < 1e-4
    assert (rows[0] - G.synthesis(ws[:1])[0]).abs().max() < 1e-4


@pytest.mark.parametrize(
    "args, message",
    [
        (["sample", "{gen}", "--seeds", "a-b"], "Option `--seeds` must be"),
        (["mix", "{gen}", "--layers", "9-12"], "Argument `--layers` must hold layer indices from 0 to 5"),
        (["info", "{gen}", "--device", "tpu"], "Argument `device` must be 'auto', 'cpu' or 'cuda[:N]'"),
        (["info", "/nonexistent/gen.safetensors"], "/nonexistent/gen.safetensors"),
        (["sample", "{gen}", "--class", "1"], "Option `--class` must be omitted"),
    ],
)
def test_bad_input_one_line_exit_2(gen_path, args, message, capsys):
    code = run([a.format(gen=gen_path) for a in args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Error: ") and message in err and err.count("\n") == 1


def test_exit_status_in_subprocess(gen_path):
    proc = subprocess.run(
        [sys.executable, "-m", "ganeval", "mix", gen_path, "--layers", "bogus"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "`--layers`" in proc.stderr


def test_warnings_and_log_lines_reach_cli_users_as_one_clean_line():
    import subprocess
    import sys

    code = (
        "import warnings, logging, sys\n"
        "from ganeval.cli import main\n"
        "sys.argv = ['ganeval', 'weights', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "warnings.warn('a small sample', UserWarning)\n"
        "logging.getLogger('ganeval').warning('skipped %d pairs', 3)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert lines == ["Warning: a small sample", "Warning: skipped 3 pairs"], proc.stderr

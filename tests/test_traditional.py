"""The traditional (input-latent) generator: protocol, invariances, native round trip, W refused."""

from __future__ import annotations

import pytest
import torch

import ganeval
from ganeval.errors import UnsupportedGeneratorError
from ganeval.models.native import load_native, save_generator
from ganeval.models.traditional import TraditionalGenerator


@pytest.fixture(scope="module")
def G() -> TraditionalGenerator:
    torch.manual_seed(0)
    return TraditionalGenerator(z_dim=16, img_resolution=16, fmap_base=64, fmap_max=16).eval()


def test_images_depend_on_the_direction_of_z_only(G):
    # z enters through pixel norm: positive rescaling must not change the image (up to rounding)
    z = torch.randn(4, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a, b = G(z), G(3.5 * z)
    torch.testing.assert_close(a, b, rtol=0, atol=1e-5)
    assert a.shape == (4, 3, 16, 16) and not torch.allclose(a[0], a[1])


def test_truncation_pulls_towards_the_zero_mean(G):
    z = torch.randn(3, 16, generator=torch.Generator().manual_seed(2))
    ws = G.mapping(z, truncation_psi=0.25)
    torch.testing.assert_close(ws, 0.25 * G.mapping(z), rtol=0, atol=1e-7)
    assert G.mapping(z).norm(dim=-1).sub(4.0).abs().max() < 1e-4  # pixel norm: |z| = sqrt(z_dim)


def test_native_round_trip_is_exact(G, tmp_path):
    path = save_generator(G, tmp_path / "trad")
    H = load_native(path)
    z = torch.randn(2, 16, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(G(z), H(z))
    assert type(H) is TraditionalGenerator and not H.has_w_space


def test_w_space_metrics_refuse_it_in_one_line(G):
    with pytest.raises(UnsupportedGeneratorError, match="no intermediate latent space"):
        ganeval.ppl(G, space="w", num_samples=128, distance="zoo:shapes-perceptual")
    with pytest.raises(UnsupportedGeneratorError, match="no intermediate latent space"):
        ganeval.separability(G, "zoo:shapes-classifier", spaces=("z", "w"), num_samples=200, num_keep=100)


def test_ppl_in_z_does_not_depend_on_batch_size():
    big = TraditionalGenerator(z_dim=16, img_resolution=32, fmap_base=64, fmap_max=16).eval()
    runs = [
        ganeval.ppl(
            big,
            space="z",
            sampling="end",
            num_samples=128,
            batch_size=b,
            seed=5,
            distance="zoo:shapes-perceptual",
            progress=False,
        )
        for b in (16, 128)
    ]
    assert runs[0].value == runs[1].value and runs[0].value > 0


def test_cli_refuses_w_and_style_mixing_for_the_zoo_traditional_generator(tmp_path, capsys):
    from ganeval.cli import main

    def run(args: list[str]) -> int:
        try:
            return main(args, standalone_mode=False) or 0
        except SystemExit as exc:
            return int(exc.code or 0)

    assert run(["ppl", "--generator", "zoo:shapes-traditional", "--space", "w", "--samples", "200"]) == 2
    assert run(["mix", "zoo:shapes-traditional", "--rows", "1,2", "--cols", "3", "--out", str(tmp_path / "m.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("Error:") == 2 and "no intermediate latent space" in err and "has none" in err
    assert "zoo:shapes-perceptual" in err  # a zoo generator gets the zoo distance, not an offline download
    assert not (tmp_path / "m.png").exists()

"""One registry of names: lookups and their one error, duplicates, third-party registration (in-process and
through an entry point), and the layering it allows (nothing below the zoo imports it; nothing imports the
zoo's training code)."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import ganeval
from ganeval import registry
from ganeval.classifiers import wrap_classifier
from ganeval.errors import GanevalValueError
from ganeval.metrics.ppl import path_images, percentile_filter
from ganeval.models.adapter import ZOnlyGenerator

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ganeval"

# the three lines a third-party package needs (README, "Extending ganeval")
THIRD_PARTY = textwrap.dedent("""
    from ganeval.registry import register
    register("distance", "mypkg:pixel-l2", lambda: lambda a, b: (a - b).square().flatten(1).sum(1))
    register("classifier", "mypkg:colour", lambda: __import__("mypkg_nets").Colour())
""")

# a classifier with one logit per colour channel: its mean minus the image mean
NETS = textwrap.dedent("""
    import torch
    class Colour(torch.nn.Module):
        attribute_names = ["red", "green", "blue"]
        input_resolution = 8
        def forward(self, images):
            return images.mean(dim=(2, 3)) - images.mean(dim=(1, 2, 3))[:, None]
""")


@pytest.fixture
def mypkg(tmp_path, monkeypatch):
    """Import the third-party package (it registers its names); unregister them afterwards."""
    (tmp_path / "mypkg.py").write_text(THIRD_PARTY)
    (tmp_path / "mypkg_nets.py").write_text(NETS)
    monkeypatch.syspath_prepend(str(tmp_path))
    import mypkg  # noqa: F401 (importing it registers its names)

    yield
    for kind, name in (("distance", "mypkg:pixel-l2"), ("classifier", "mypkg:colour")):
        registry.unregister(kind, name)
    for module in ("mypkg", "mypkg_nets"):
        sys.modules.pop(module, None)


def _imported_zoo_modules(statement: str) -> list[str]:
    code = f"import sys\n{statement}\nprint(sorted(m for m in sys.modules if m.startswith('ganeval.zoo')))"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return ast.literal_eval(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "statement",
    ["import ganeval.metrics.ppl", "import ganeval", "import ganeval.metrics.separability, ganeval.metrics.fid"],
)
def test_importing_the_metrics_imports_no_zoo_module(statement):
    assert _imported_zoo_modules(statement) == []


def test_loading_every_zoo_model_never_imports_the_training_code():
    loaded = _imported_zoo_modules(
        "import ganeval\n"
        "from ganeval import registry\n"
        "for kind in ('generator', 'distance', 'classifier', 'extractor'):\n"
        "    for name in registry.names(kind):\n"
        "        if name.startswith('zoo:'):\n"
        "            {'generator': ganeval.load_generator, 'distance': ganeval.load_distance,\n"
        "             'classifier': ganeval.load_classifier, 'extractor': ganeval.load_extractor}[kind](name)\n"
        "import numpy as np\n"
        "from ganeval.features.sources import open_source\n"
        "open_source('zoo:shapes:4', role='real', num_samples=8).load(np.arange(2))\n"
    )
    assert "ganeval.zoo._register" in loaded and "ganeval.zoo.classifier" in loaded
    assert "ganeval.zoo.train" not in loaded


def _imports(path: Path) -> list[str]:
    """Every module an import statement in ``path`` names (relative ones resolved), at any depth."""
    package = list(path.relative_to(ROOT).parts[:-1])  # a module's package; an __init__'s own package
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            out += [module, *(f"{module}.{a.name}" for a in node.names)]
    return out


@pytest.mark.parametrize(
    "layer",
    ["distances", "classifiers", "features", "metrics", "models", "loaders", "weights", "registry.py", "_builtins.py"],
)
def test_no_layer_below_the_zoo_imports_it(layer):
    files = [PACKAGE / layer] if layer.endswith(".py") else sorted((PACKAGE / layer).rglob("*.py"))
    assert files
    for path in files:
        zoo = [m for m in _imports(path) if m == "ganeval.zoo" or m.startswith("ganeval.zoo.")]
        assert zoo == [], f"{path.relative_to(ROOT)} imports {zoo}"


def test_only_its_entry_point_imports_the_zoo_training_code():
    importers = [
        p.relative_to(ROOT).as_posix()
        for p in sorted(PACKAGE.rglob("*.py"))
        if any(m == "ganeval.zoo.train" or m.startswith("ganeval.zoo.train.") for m in _imports(p))
    ]
    assert importers == []


def test_unknown_name_is_one_error_listing_the_names():
    for kind, load in (
        ("distance", ganeval.load_distance),
        ("classifier", ganeval.load_classifier),
        ("extractor", ganeval.load_extractor),
    ):
        with pytest.raises(registry.UnknownNameError) as info:
            load("no-such-name")
        msg = str(info.value)
        assert isinstance(info.value, GanevalValueError) and "\n" not in msg
        assert msg.startswith(f"Argument `{kind}` must be one of ") and msg.endswith("but got 'no-such-name'.")
        assert all(repr(name) in msg for name in registry.names(kind))
    assert {"lpips-vgg16", "nvidia-vgg16", "zoo:shapes-perceptual"} <= set(registry.names("distance"))
    with pytest.raises(registry.UnknownNameError, match="must be one of 'zoo:shapes', but got 'zoo:nope'"):
        registry.get("dataset", "zoo:nope")
    with pytest.raises(GanevalValueError, match="`kind` must be one of generator, distance"):
        registry.names("distances")


def test_zoo_entries_come_from_the_cards():
    from ganeval.zoo._load import zoo_cards

    cards = zoo_cards()
    assert cards, "no zoo cards found"
    for base, card in cards.items():
        kinds = {"classifier": ("classifier", "extractor")}.get(card["kind"], (card["kind"],))
        assert all(f"zoo:{base}" in registry.names(kind) for kind in kinds)
    assert "zoo:shapes" in registry.names("dataset")


def test_a_new_card_is_a_zoo_name_without_code(tmp_path):
    import json

    from ganeval.zoo._load import read_card, zoo_cards

    card = {"name": "shapes-new", "kind": "generator", "file": "shapes-new.safetensors", "sha256": "0" * 64}
    (tmp_path / "shapes-new.json").write_text(json.dumps(card))
    (tmp_path / "notes.json").write_text(json.dumps({"not": "a card"}))
    assert zoo_cards(tmp_path) == {"shapes-new": card}
    assert read_card("zoo:shapes-new", tmp_path) == card
    with pytest.raises(GanevalValueError, match="must be one of 'zoo:shapes-new', but got 'zoo:shapes-old'"):
        read_card("zoo:shapes-old", tmp_path)


def test_registering_a_name_twice_needs_replace():
    first = registry.register("distance", "test:twice", lambda: lambda a, b: (a - b).abs().flatten(1).sum(1))
    try:
        with pytest.raises(
            GanevalValueError, match="'test:twice', which is already registered as a distance; pass replace=True"
        ):
            registry.register("distance", "test:twice", lambda: None)
        with pytest.raises(GanevalValueError, match="already registered"):
            registry.register("distance", "lpips-vgg16", lambda: None)  # built-in names too
        second = registry.register("distance", "test:twice", lambda: None, replace=True)
        assert registry.get("distance", "test:twice") is second is not first
    finally:
        registry.unregister("distance", "test:twice")
    assert "test:twice" not in registry.names("distance")


def test_third_party_distance_drives_ppl_exactly(mypkg):
    """Through an identity generator z -> image, the pixel-L2 path length of each pair is known in
    closed form: slerp moves a unit vector by the chord 2 sin(eps theta / 2) for an angle theta between
    the endpoints, so d / eps^2 = (2 sin(eps theta / 2) / eps)^2. The endpoints come from the same
    draws as the metric's (path_images)."""
    G = ZOnlyGenerator(nn.Unflatten(1, (3, 4, 4)), z_dim=48, img_resolution=4)
    eps, n = 1e-2, 200
    res = ganeval.ppl(
        G,
        space="z",
        sampling="end",
        num_samples=n,
        epsilon=eps,
        distance="mypkg:pixel-l2",
        device="cpu",
        progress=False,
    )
    ends = path_images(G, space="z", indices=range(n), steps=2, device="cpu").double().flatten(2)  # [n, 2, 48]
    theta = torch.acos((ends[:, 0] * ends[:, 1]).sum(1).clamp(-1, 1)).numpy()
    expected = (2 * np.sin(eps * theta / 2) / eps) ** 2
    np.testing.assert_allclose(res.per_sample, expected, rtol=1e-3)
    assert res.value == pytest.approx(expected[percentile_filter(expected)].mean(), rel=1e-3)
    assert res.config["distance"] == "mypkg:pixel-l2"  # the name that loads it again
    assert math.isfinite(res.value) and res.value > 0


def test_third_party_classifier_drives_separability(mypkg):
    """Separability by the registered name equals separability with the same module passed directly,
    and the loaded classifier carries the registered name (what a result records)."""
    from mypkg_nets import Colour

    from ganeval.models.stylegan import StyleGAN

    torch.manual_seed(0)
    G = StyleGAN(z_dim=16, w_dim=16, img_resolution=8, fmap_base=64, fmap_max=16, mapping_layers=2)
    kw = {"num_samples": 200, "num_keep": 100, "device": "cpu", "cache_dir": False, "progress": False}
    by_name = ganeval.separability(G, "mypkg:colour", **kw)
    direct = ganeval.separability(G, wrap_classifier(Colour(), Colour.attribute_names, 8), **kw)
    assert by_name.scores() == direct.scores()
    np.testing.assert_array_equal(by_name.table["entropy_bits"].to_numpy(), direct.table["entropy_bits"].to_numpy())
    assert list(by_name.table["attribute"].unique()) == ["red", "green", "blue"]
    assert ganeval.load_classifier("mypkg:colour").name == "mypkg:colour"


def test_entry_point_plugins_load_lazily_and_a_broken_one_only_warns(tmp_path):
    site = tmp_path / "site"
    (site / "ep_plugin").mkdir(parents=True)
    (site / "ep_plugin" / "__init__.py").write_text(
        "from ganeval.registry import register\n"
        "register('distance', 'ep:l1', lambda: lambda a, b: (a - b).abs().flatten(1).sum(1))\n"
    )
    info = site / "ep_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[ganeval.plugins]\nep = ep_plugin\nbroken = no_such_module_xyz\n")
    code = textwrap.dedent("""
        import sys, warnings
        import torch, ganeval
        assert "ep_plugin" not in sys.modules
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            d = ganeval.load_distance("ep:l1", device="cpu")
        a, b = torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4)
        print(d.name, d(a, b).tolist(), "ep_plugin" in sys.modules)
        print([str(w.message).split(":")[0] for w in caught if "ganeval plugin" in str(w.message)])
    """)
    env_path = f"{site}:{ROOT}"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.strip().splitlines()[-2:]
    assert first == "ep:l1 [48.0, 48.0] True"
    assert second == "[\"ganeval plugin 'broken' (no_such_module_xyz) failed to load, its names are unavailable\"]"

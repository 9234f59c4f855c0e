"""One public API contract across the metrics, the report and the CLI.

Every metric takes the same generator sources (a loaded generator, a registry name, a checkpoint
path) through :func:`ganeval.loaders.resolve_generator` and fails the same way for the same
mistake; integer arguments accept NumPy integers with results identical to Python ints; the
CLI's default sample counts equal the library's or a note names the difference; the settings
once called ``protocol`` keep working under their old name for one release.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import ganeval
from ganeval.cli import run
from ganeval.errors import CheckpointError, GanevalError, GanevalTypeError, WeightsNotFoundError
from ganeval.loaders import resolve_generator
from ganeval.loaders.stylegan3_torch import build_stylegan3
from ganeval.metrics.equivariance import equivariance
from ganeval.metrics.fid import evaluate, inception_score, kid, precision_recall
from ganeval.models.native import save_generator
from ganeval.models.stylegan import StyleGAN

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def squared_l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).double().square().flatten(1).sum(1)


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    G = StyleGAN(z_dim=16, w_dim=16, img_resolution=16, fmap_base=64, fmap_max=16, mapping_layers=2).eval()
    return Path(save_generator(G, tmp_path_factory.mktemp("gen") / "tiny"))


# --------------------------------------------------------------------------- one resolver, one error per mistake

# each entry point called with the generator source under test; the other arguments are valid and
# cheap, so the only thing that can fail is the source
ENTRY_POINTS = {
    "ppl": lambda src: ganeval.ppl(src, num_samples=100, distance=squared_l2, device="cpu", progress=False),
    "separability": lambda src: ganeval.separability(
        src, "zoo:shapes-classifier", num_samples=20, num_keep=10, device="cpu", cache_dir=False, progress=False
    ),
    "fid": lambda src: ganeval.fid(
        src, "zoo:shapes", num_samples=8, extractor="zoo:shapes-classifier", device="cpu", progress=False
    ),
    "kid": lambda src: kid(
        src, "zoo:shapes", num_samples=8, extractor="zoo:shapes-classifier", device="cpu", progress=False
    ),
    "precision_recall": lambda src: precision_recall(
        src, "zoo:shapes", num_samples=8, extractor="zoo:shapes-classifier", device="cpu", progress=False
    ),
    "evaluate": lambda src: evaluate(
        src,
        "zoo:shapes",
        metrics=["fid", "kid"],
        num_samples=8,
        extractor="zoo:shapes-classifier",
        device="cpu",
        progress=False,
    ),
    "inception_score": lambda src: inception_score(src, num_samples=8, device="cpu", progress=False),
    "equivariance": lambda src: equivariance(src, kind="eqt_int", num_samples=2, device="cpu", progress=False),
    "load_generator": lambda src: ganeval.load_generator(src),
}


def _junk(tmp_path: Path) -> Path:
    path = tmp_path / "junk.pt"
    path.write_bytes(b"this is not a checkpoint")
    return path


# mistake -> (the source, the exception type every entry point raises)
MISTAKES = {
    "missing path": (lambda tmp: str(tmp / "no-such-file.pkl"), WeightsNotFoundError),
    "missing PathLike": (lambda tmp: tmp / "no-such-dir" / "g.pt", WeightsNotFoundError),
    "unknown registry name": (lambda tmp: "zoo:no-such-model", WeightsNotFoundError),
    "not a checkpoint": (_junk, CheckpointError),
    "wrong type": (lambda tmp: 3.5, GanevalTypeError),
    "module that is no generator": (lambda tmp: torch.nn.Linear(2, 2), GanevalTypeError),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_same_mistake_same_exception_in_every_metric(entry, mistake, tmp_path, tmp_home):
    make, expected = MISTAKES[mistake]
    with pytest.raises(expected) as err:
        ENTRY_POINTS[entry](make(tmp_path))
    assert type(err.value) is expected, f"{entry} raised {type(err.value).__name__} for a {mistake}"
    message = str(err.value)
    assert "\n" not in message, message
    if expected is not CheckpointError:  # a checkpoint error names the file first
        assert message.startswith("Argument `"), message


@pytest.mark.parametrize("mistake", [m for m, (_, exc) in MISTAKES.items() if exc is not GanevalTypeError])
def test_report_records_the_same_exception_for_a_bad_source(mistake, tmp_path, tmp_home):
    from ganeval.report import parse_config, run_report
    from ganeval.report.runner import read_records

    make, expected = MISTAKES[mistake]
    cfg = parse_config(
        {
            "name": "contract",
            "out": str(tmp_path / "rep"),
            "device": "cpu",
            "generators": [{"label": "bad", "source": str(make(tmp_path))}],
            "metrics": [{"name": "ppl", "samples": 100}],
            "figures": {"enabled": False},
        }
    )
    outcome = run_report(cfg)
    (failure,) = [r for r in read_records(outcome.results_path) if r["record"] == "failure"]
    assert failure["report"]["error_type"] == expected.__name__
    assert "\n" not in failure["report"]["message"]


@pytest.mark.parametrize(
    "command",
    [
        ["ppl", "--samples", "100"],
        ["separability", "--samples", "20", "--keep", "10", "--no-cache", "--classifier", "zoo:shapes-classifier"],
        ["fid", "--samples", "8"],
        ["eq", "--samples", "2"],
    ],
)
def test_cli_bad_generator_is_one_line_and_exit_2(command, tmp_path, tmp_home, capsys):
    code = run([*command, "--generator", str(tmp_path / "missing.pkl"), "--device", "cpu", "--quiet"])
    err = capsys.readouterr().err
    error_lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert code == 2 and len(error_lines) == 1 and "is neither" in error_lines[0], err


def test_resolver_returns_a_loaded_generator_as_is_and_loads_names_and_paths(tiny_file):
    G = ganeval.load_generator(str(tiny_file))
    assert resolve_generator(G) is G
    assert resolve_generator(tiny_file).provenance["sha256"] == G.provenance["sha256"]  # a PathLike
    zoo = resolve_generator("zoo:shapes-stylegan", "cpu")
    assert zoo.provenance["registry"] == "zoo:shapes-stylegan"


def test_every_source_kind_gives_the_same_result(tiny_file, tmp_home):
    """A loaded generator, its checkpoint path (str and Path) give the same PPL and FD; a registry name
    gives the same separability as the generator it names."""
    G = ganeval.load_generator(str(tiny_file))
    kw = {"num_samples": 100, "distance": squared_l2, "device": "cpu", "progress": False}
    ref = ganeval.ppl(G, **kw)
    for src in (str(tiny_file), tiny_file):
        assert np.array_equal(ganeval.ppl(src, **kw).per_sample, ref.per_sample)
    fkw = {"num_samples": 16, "extractor": "zoo:shapes-classifier", "device": "cpu", "progress": False}
    assert ganeval.fid(str(tiny_file), "zoo:shapes", **fkw).value == ganeval.fid(G, "zoo:shapes", **fkw).value
    skw = {"num_samples": 60, "num_keep": 30, "spaces": ("w",), "device": "cpu", "cache_dir": False, "progress": False}
    by_name = ganeval.separability("zoo:shapes-stylegan", "zoo:shapes-classifier", **skw)
    loaded = ganeval.separability(ganeval.load_generator("zoo:shapes-stylegan"), "zoo:shapes-classifier", **skw)
    _same(by_name, loaded)


# --------------------------------------------------------------------------- NumPy integers everywhere


def _same(a: ganeval.MetricResult, b: ganeval.MetricResult) -> None:
    """Identical results, up to wall times and timestamps."""

    def strip(r: ganeval.MetricResult) -> str:
        line = json.loads(r.to_json_line())
        for key in ("total_time", "total_time_str", "timestamp", "provenance"):
            line.pop(key)
        if isinstance(line["extra"].get("real_input"), dict):  # the second call reads the first one's cache
            line["extra"]["real_input"].pop("cache", None)
        return json.dumps(line, sort_keys=True)  # NaN == NaN as text

    assert strip(a) == strip(b)
    assert (a.per_sample is None) == (b.per_sample is None)
    if a.per_sample is not None:
        assert np.array_equal(a.per_sample, b.per_sample, equal_nan=True)


def _sg3():
    folder = FIXTURES / "stylegan3-t"
    cfg = json.loads((folder / "config.json").read_text())
    return build_stylegan3(cfg["init_kwargs"], load_file(str(folder / "weights.safetensors")), "stylegan3-t")


# metric -> (call, the integer arguments)
INT_CALLS = {
    "ppl": (
        lambda G, **k: ganeval.ppl(G, distance=squared_l2, device="cpu", progress=False, target_ci=1e-9, **k),
        {"num_samples": 120, "batch_size": 40, "seed": 3, "chunk_size": 8, "min_samples": 100},
    ),
    "separability": (
        lambda G, **k: ganeval.separability(
            G, "zoo:shapes-classifier", device="cpu", cache_dir=False, progress=False, spaces=("z", "w"), **k
        ),
        {"num_samples": 60, "num_keep": 30, "seed": 2, "batch_size": 16, "w_layer": 1},
    ),
    "fid": (
        lambda G, **k: ganeval.fid(
            G, "zoo:shapes", extractor="zoo:shapes-classifier", device="cpu", progress=False, **k
        ),
        {"num_samples": 12, "num_real": 10, "seed": 1, "batch_size": 5, "bootstrap": 4},
    ),
    "kid": (
        lambda G, **k: kid(G, "zoo:shapes", extractor="zoo:shapes-classifier", device="cpu", progress=False, **k),
        {"num_samples": 12, "num_real": 10, "seed": 1, "batch_size": 5, "num_subsets": 3, "subset_size": 4},
    ),
    "precision_recall": (
        lambda G, **k: precision_recall(
            G, "zoo:shapes", extractor="zoo:shapes-classifier", device="cpu", progress=False, **k
        ),
        {"num_samples": 12, "num_real": 10, "seed": 1, "batch_size": 5, "k": 2},
    ),
    "equivariance": (
        lambda G, **k: equivariance(_sg3(), kind="eqt_int", device="cpu", progress=False, **k),
        {"num_samples": 3, "seed": 4, "batch_size": 2},
    ),
}


@pytest.mark.parametrize("metric", list(INT_CALLS))
def test_numpy_integers_give_identical_results(metric, tiny_file, tmp_home):
    call, ints = INT_CALLS[metric]
    G = "zoo:shapes-stylegan" if metric == "separability" else str(tiny_file)
    as_numpy = {k: (np.int64, np.int32)[i % 2](v) for i, (k, v) in enumerate(ints.items())}  # both widths
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small-sample warnings, the same for both calls
        plain = call(G, **ints)
        numpy = call(G, **as_numpy)
    _same(plain, numpy)


class _TinyLogits(torch.nn.Module):
    """Stands in for the FID Inception (the extractor is not under test): class logits of 8 px images."""

    name, input_resolution, weights_sha256 = "tiny-logits", 8, None

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(3 * 8 * 8, 5)

    def logits(self, images: torch.Tensor, no_output_bias: bool = True) -> torch.Tensor:
        return images.flatten(1) @ self.fc.weight.T


def test_numpy_integers_in_the_inception_score(tmp_path):
    torch.manual_seed(0)
    images = np.random.default_rng(0).integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
    np.save(tmp_path / "imgs.npy", images)
    kw = {"extractor": _TinyLogits(), "device": "cpu", "progress": False}
    plain = inception_score(str(tmp_path / "imgs.npy"), num_samples=6, splits=2, seed=1, batch_size=4, **kw)
    numpy = inception_score(
        str(tmp_path / "imgs.npy"),
        num_samples=np.int64(6),
        splits=np.int32(2),
        seed=np.int64(1),
        batch_size=np.int64(4),
        **kw,
    )
    _same(plain, numpy)


# --------------------------------------------------------------------------- CLI defaults vs library defaults


@pytest.mark.parametrize(
    "command, option, cli_default, library, function",
    [
        (
            ["ppl"],
            "--samples",
            "ganeval.cli.ppl:DEFAULT_SAMPLES",
            "ganeval.metrics.ppl:DEFAULT_NUM_SAMPLES",
            "ganeval.ppl()",
        ),
        (
            ["eq"],
            "--samples",
            "ganeval.cli.equivariance:DEFAULT_SAMPLES",
            "ganeval.metrics.equivariance:DEFAULT_NUM_SAMPLES",
            "ganeval.equivariance()",
        ),
        (
            ["separability"],
            "--samples",
            "ganeval.cli.separability:ZOO_SAMPLES",
            "separability:num_samples",
            "ganeval.separability() (num_samples)",
        ),
        (
            ["separability"],
            "--keep",
            "ganeval.cli.separability:ZOO_KEEP",
            "separability:num_keep",
            "ganeval.separability() (num_keep)",
        ),
    ],
)
def test_cli_sample_defaults_that_differ_from_the_library_are_printed(
    command, option, cli_default, library, function, tmp_path, tmp_home, capsys
):
    import importlib
    import inspect

    from ganeval.metrics.separability import separability

    def value(spec: str) -> int:
        module, name = spec.split(":")
        if module == "separability":  # the library function's signature default
            return inspect.signature(separability).parameters[name].default
        return getattr(importlib.import_module(module), name)

    cli, lib = value(cli_default), value(library)
    assert cli != lib  # (a CLI default equal to the library's needs no note; see the FID test below)
    # a generator that does not exist ends the command right after the note (exit 2, nothing computed);
    # separability's zoo defaults apply with no generator named, so it stops at num_keep > num_samples instead
    # (the other count is given, far out of range)
    args = [*command, "--device", "cpu", "--quiet"]
    if command == ["separability"]:
        args += ["--keep", str(10 * cli)] if option == "--samples" else ["--samples", "100"]
    else:
        args += ["--generator", str(tmp_path / "none.pkl")]
    code = run(args)
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("Note:") and option in line]
    assert code == 2
    assert notes == [
        (
            f"Note: {option} defaults to {cli:,} here but {function} defaults to {lib:,}; "
            f"pass {option} {lib} for the library's count."
        )
    ]


def test_fid_cli_default_sample_count_is_the_library_default():
    import inspect

    from ganeval.cli.fid import fid_command

    option = next(p for p in fid_command.params if p.name == "samples")
    assert option.default == inspect.signature(ganeval.fid).parameters["num_samples"].default == 50_000


# --------------------------------------------------------------------------- `protocol` renamed, still accepted


@pytest.mark.parametrize(
    "call, new_key, value",
    [
        (
            lambda G, **k: ganeval.ppl(G, num_samples=100, distance=squared_l2, device="cpu", progress=False, **k),
            "downsample",
            "ada-pytorch",
        ),
        (
            lambda G, **k: ganeval.fid(
                G, "zoo:shapes", num_samples=8, extractor="zoo:shapes-classifier", device="cpu", progress=False, **k
            ),
            "resize",
            "pytorch-fid",
        ),
    ],
)
def test_old_protocol_keyword_warns_and_gives_the_same_result(call, new_key, value, tiny_file, tmp_home):
    new = call(str(tiny_file), **{new_key: value})
    with pytest.warns(DeprecationWarning, match=f"argument `protocol` is renamed `{new_key}`"):
        old = call(str(tiny_file), protocol=value)
    _same(new, old)
    assert new.config[new_key] == value and "protocol" not in new.config
    with pytest.raises(GanevalError, match="disagree"):
        call(str(tiny_file), protocol=value, **{new_key: "tf"} if new_key == "downsample" else {new_key: "clean"})


def test_old_separability_protocol_keyword_warns(tmp_home):
    kw = {"num_samples": 60, "num_keep": 30, "device": "cpu", "cache_dir": False, "progress": False}
    new = ganeval.separability("zoo:shapes-stylegan", "zoo:shapes-classifier", split="heldout", **kw)
    with pytest.warns(DeprecationWarning, match="argument `protocol` is renamed `split`"):
        old = ganeval.separability("zoo:shapes-stylegan", "zoo:shapes-classifier", protocol="heldout", **kw)
    _same(new, old)
    assert new.config["split"] == "heldout" and new.metric == "ls_heldout_fast"


def test_old_cli_option_warns_in_one_line(tmp_path, tmp_home, capsys):
    code = run(["ppl", "--protocol", "ada-pytorch", "--generator", str(tmp_path / "none.pkl"), "--samples", "100"])
    err = capsys.readouterr().err
    assert (
        code == 2
        and ("Warning: option --protocol is renamed --downsample; --protocol will be removed in the next release.")
        in err.splitlines()
    )
    assert run(["fid", "--protocol", "clean", "--resize", "torchmetrics", "--samples", "8"]) == 2
    assert "disagree" in capsys.readouterr().err


def test_results_and_report_configs_written_with_protocol_read_back_renamed(tmp_path):
    from ganeval._renamed import upgrade_config
    from ganeval.report import parse_config

    assert upgrade_config({"space": "w", "sampling": "end", "protocol": "tf", "crop": False}) == {
        "space": "w",
        "sampling": "end",
        "downsample": "tf",
        "crop": False,
    }
    assert list(upgrade_config({"protocol": "tf", "extractor": "x"})) == ["resize", "extractor"]
    assert upgrade_config({"spaces": ["w"], "protocol": "heldout", "solver": "fast"})["split"] == "heldout"
    assert upgrade_config({"kind": "eqt_int", "seed": 0}) == {"kind": "eqt_int", "seed": 0}
    with pytest.warns(FutureWarning, match=r"metrics\[0\]`: key `protocol` is renamed `downsample`"):
        cfg = parse_config(
            {
                "name": "old",
                "generators": [{"source": "zoo:shapes-stylegan"}],
                "metrics": [{"name": "ppl", "protocol": "ada-pytorch"}],
            }
        )
    assert cfg.metrics[0].options == {"downsample": "ada-pytorch"}

"""`import ganeval` is silent, light and side-effect free; the public API is pinned."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import ganeval

PUBLIC_API = [
    "__version__",
    "CheckpointError",
    "ChecksumError",
    "EQ_PRESETS",
    "GanevalError",
    "GanevalValueError",
    "GeneratorProtocol",
    "MetricResult",
    "OfflineError",
    "PPL_PRESETS",
    "ReplayOutcome",
    "StyleGAN",
    "StyleGAN2",
    "StyleGAN3",
    "UnsafePickleError",
    "WeightsNotFoundError",
    "ZOnlyGenerator",
    "eqr",
    "eqt_frac",
    "eqt_int",
    "equivariance",
    "fid",
    "frechet_distance",
    "inception_score",
    "kid",
    "layer_groups",
    "load_classifier",
    "load_distance",
    "load_extractor",
    "load_generator",
    "load_results",
    "make_noise",
    "mix_styles",
    "ppl",
    "precision_recall",
    "replay",
    "save_generator",
    "separability",
]

# Runs in a fresh interpreter: record every file opened for anything but reading Python code,
# every socket and every subprocess while `import ganeval` executes.
PROBE = textwrap.dedent("""
    import os, sys
    events = []
    CODE = (".py", ".pyc", ".pth", ".so", ".typed")
    def hook(event, args):
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            if not path.endswith(CODE) and not os.path.isdir(path):
                events.append(("open", path))
        elif event.startswith(("socket.", "subprocess.", "os.system", "os.exec", "os.fork")):
            events.append((event, str(args)[:80]))
    sys.addaudithook(hook)
    import ganeval
    heavy = sorted(m for m in ("torch", "numpy", "click", "PIL", "safetensors", "ganeval.models.stylegan")
                   if m in sys.modules)
    result = repr((list(events), heavy))
    with open(sys.argv[1], "w") as f:
        f.write(result)
""")


def test_import_is_silent_light_and_does_no_io(tmp_path):
    import ast

    out = tmp_path / "probe.txt"
    proc = subprocess.run([sys.executable, "-c", PROBE, str(out)], capture_output=True, text=True, timeout=120)
    report = out.read_text() if out.exists() else ""
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    events, heavy = ast.literal_eval(report)
    # metadata files read by importlib to find the package are not ganeval's I/O
    events = [e for e in events if not (e[0] == "open" and (".dist-info" in e[1] or ".egg-info" in e[1]))]
    assert events == []
    assert heavy == []


def test_cuda_is_not_initialised_by_using_a_generator():
    code = (
        "import torch, ganeval\n"
        "G = ganeval.StyleGAN(z_dim=8, w_dim=8, img_resolution=8, fmap_base=16, fmap_max=8)\n"
        "G(torch.randn(1, 8))\n"
        "assert not torch.cuda.is_initialized()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", proc.stderr


def test_public_api_is_pinned():
    assert ganeval.__all__ == PUBLIC_API
    assert sorted(set(dir(ganeval)) & set(PUBLIC_API)) == sorted(PUBLIC_API)


def test_generator_names_resolve():
    from ganeval.models import adapter, control, native, stylegan

    assert ganeval.StyleGAN is stylegan.StyleGAN
    assert ganeval.ZOnlyGenerator is adapter.ZOnlyGenerator
    assert ganeval.save_generator is native.save_generator
    assert (ganeval.mix_styles, ganeval.layer_groups, ganeval.make_noise) == (
        control.mix_styles,
        control.layer_groups,
        control.make_noise,
    )
    assert issubclass(ganeval.GanevalValueError, ValueError) and issubclass(
        ganeval.GanevalValueError, ganeval.GanevalError
    )

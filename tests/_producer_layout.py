"""Write checkpoints in the producers' exact layouts from the vendored fixtures (no third-party code).

``tests/fixtures/ada-*/records.json.gz`` is the pickled record tree of every module of a snapshot
written by NVIDIA's own code (tools/fixtures/ada.py), with tensors replaced by references and the
defining source replaced by nothing. :func:`ada_snapshot_bytes` turns it back into a pickle stream
of the same layout: ``torch_utils.persistence._reconstruct_persistent_obj(meta)`` with BARE class
names, a placeholder ``module_src`` string per source file (shared through the memo, as in real
files), ``dnnlib.util.EasyDict`` kwargs, numpy scalars under ``numpy.core.multiarray`` (NumPy 1.x
writers) or ``numpy._core.multiarray`` (NumPy 2), tensors pickled as torch pickles them, and the
pickle protocol asked for. ``G_ema`` tensors come from ``weights.safetensors``; ``G`` gets those
plus 0.5 (so a loader that picked ``G`` would fail), ``D`` and the augment pipe seeded values.

:func:`rosinality_checkpoint` writes the three rosinality layouts with ``torch.save``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import pickle
import sys
import types
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _loaders_util import nvidia_modules
from safetensors.torch import load_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NUMPY_PATHS = ("numpy.core.multiarray", "numpy._core.multiarray")


def fixture_dir(name: str) -> Path:
    return FIXTURES / name


def config(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name / "config.json").read_text())


def records(name: str) -> dict[str, Any]:
    return json.loads(gzip.decompress((FIXTURES / name / "records.json.gz").read_bytes()))


@contextmanager
def _numpy_scalar_global(module: str):
    """A callable that pickles as ``<module>.scalar`` (registered only while writing)."""
    if module == "numpy._core.multiarray":
        yield np._core.multiarray.scalar
        return

    def scalar(dtype, data):  # pragma: no cover - never called when writing
        raise RuntimeError("stand-in")

    scalar.__module__, scalar.__qualname__ = module, "scalar"
    saved = sys.modules.get(module)
    fake = types.ModuleType(module)
    fake.scalar = scalar
    sys.modules[module] = fake
    try:
        yield scalar
    finally:
        if saved is None:
            sys.modules.pop(module, None)
        else:
            sys.modules[module] = saved


class _Record:
    """Reduces exactly as a torch_utils.persistence object does: reconstruct(meta)."""

    def __init__(self, reconstruct: Any, meta: dict[str, Any]) -> None:
        self.reconstruct, self.meta = reconstruct, meta

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        return (self.reconstruct, (self.meta,))


def _decode(node: Any, ctx: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_decode(v, ctx) for v in node]
    if not isinstance(node, dict):
        return node
    if "record" in node:
        rec = node["record"]
        src = ctx["sources"].setdefault(rec["source_file"], f"# {rec['source_file']}: source not stored\n")
        meta = {
            "type": "class",
            "version": rec["version"],
            "module_src": src,
            "class_name": rec["class_name"],
            "state": _decode(rec["state"], ctx),
        }
        return _Record(ctx["reconstruct"], meta)
    if "tensor" in node:
        t = ctx["tensor"](node)
        return torch.nn.Parameter(t, requires_grad=False) if node["parameter"] else t
    if "np_scalar" in node:
        return np.dtype(node["np_scalar"]).type(node["value"])
    if "np_array" in node:
        return np.array(node["values"], dtype=node["np_array"]).reshape(node["shape"])
    if "tuple" in node:
        return tuple(_decode(v, ctx) for v in node["tuple"])
    if "set" in node:
        return set(_decode(v, ctx) for v in node["set"])
    for kind, factory in (("OrderedDict", OrderedDict), ("EasyDict", ctx["EasyDict"]), ("dict", dict)):
        if kind in node and len(node) == 1:
            return factory((k, _decode(v, ctx)) for k, v in node[kind])
    return {k: _decode(v, ctx) for k, v in node.items()}  # plain JSON dicts (training_set_kwargs)


def ada_snapshot_bytes(
    name: str, *, protocol: int, numpy_path: str = "numpy.core.multiarray", tree: dict[str, Any] | None = None
) -> bytes:
    """The snapshot of fixture ``name`` as NVIDIA's training loop pickles it (see module docstring)."""
    tree = records(name) if tree is None else tree
    wpath = FIXTURES / name / "weights.safetensors"
    weights = load_file(str(wpath)) if wpath.exists() else {}
    gen = torch.Generator().manual_seed(5)

    def tensor_for(network: str):
        def make(node: dict[str, Any]) -> torch.Tensor:
            dtype = getattr(torch, node["dtype"])
            if network in ("G_ema", "G") and node["tensor"] in weights:
                t = weights[node["tensor"]].clone()
                if network == "G" and not node["tensor"].endswith("resample_filter"):
                    t += 0.5
                return t.to(dtype)
            if dtype.is_floating_point:
                return torch.randn(node["shape"], generator=gen).to(dtype)
            return torch.zeros(node["shape"], dtype=dtype)

        return make

    with nvidia_modules() as (_Network, EasyDict, reconstruct), _numpy_scalar_global(numpy_path) as scalar:
        sources: dict[str, str] = {}
        data = {}
        for key, node in tree.items():
            ctx = {"sources": sources, "reconstruct": reconstruct, "EasyDict": EasyDict, "tensor": tensor_for(key)}
            data[key] = _decode(node, ctx)

        class Writer(pickle.Pickler):
            def reducer_override(self, obj: Any) -> Any:
                if isinstance(obj, np.generic):
                    return (scalar, (obj.dtype, obj.tobytes()))
                return NotImplemented

        buf = io.BytesIO()
        Writer(buf, protocol=protocol).dump(data)
    return buf.getvalue()


def rosinality_checkpoint(name: str, path: Path) -> Path:
    """``torch.save`` of fixture ``name`` in its producer layout (train.py / convert_weight.py / state dict)."""
    cfg = config(name)
    g_ema = load_file(str(FIXTURES / name / "weights.safetensors"))
    layout = cfg["layout"]
    if layout == "state":
        obj: Any = g_ema
    elif layout == "convert":
        obj = {"g_ema": g_ema, "latent_avg": load_file(str(FIXTURES / name / "io.safetensors"))["latent_avg"]}
    else:
        g = {k: (v + 0.5 if not k.endswith("kernel") else v.clone()) for k, v in g_ema.items()}
        d = {"convs.0.0.weight": torch.randn(4, 3, 1, 1), "final_linear.1.bias": torch.zeros(1)}
        obj = {
            "g": g,
            "d": d,
            "g_ema": g_ema,
            "g_optim": _adam_state(g),
            "d_optim": _adam_state(d),
            "args": argparse.Namespace(**cfg["train_args"]),
            "ada_aug_p": 0.125,
        }
    torch.save(obj, path)
    return path


def _adam_state(params: dict[str, torch.Tensor]) -> dict[str, Any]:
    """A real Adam state_dict after one step (what train.py's optimisers hold)."""
    ps = [torch.nn.Parameter(v.clone()) for v in params.values()]
    opt = torch.optim.Adam(ps, lr=0.002, betas=(0.0, 0.99))
    for p in ps:
        p.grad = torch.ones_like(p)
    opt.step()
    return opt.state_dict()

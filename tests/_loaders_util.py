"""Test helpers for the loader tests: write NVIDIA-style pickles with stand-in classes.

The stand-ins are registered under NVIDIA's module paths only while a pickle is written, so the
file references exactly the globals a real one does; nothing NVIDIA-like is importable later.
"""

from __future__ import annotations

import pickle
import sys
import types
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch


@contextmanager
def nvidia_modules():
    """Yield (Network, EasyDict, reconstruct) registered as dnnlib / torch_utils globals."""

    class Network:
        def __init__(self, **state: Any) -> None:
            self.__dict__.update(state)

    class EasyDict(dict):
        pass

    def _reconstruct_persistent_obj(meta):  # pragma: no cover - never called by ganeval
        raise RuntimeError("must not run")

    Network.__module__, Network.__qualname__ = "dnnlib.tflib.network", "Network"
    EasyDict.__module__, EasyDict.__qualname__ = "dnnlib.util", "EasyDict"
    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    mods = {
        name: types.ModuleType(name)
        for name in (
            "dnnlib",
            "dnnlib.tflib",
            "dnnlib.tflib.network",
            "dnnlib.util",
            "torch_utils",
            "torch_utils.persistence",
        )
    }
    mods["dnnlib.tflib.network"].Network = Network
    mods["dnnlib.util"].EasyDict = EasyDict
    mods["torch_utils.persistence"]._reconstruct_persistent_obj = _reconstruct_persistent_obj
    saved = {name: sys.modules.get(name) for name in mods}
    sys.modules.update(mods)
    try:
        yield Network, EasyDict, _reconstruct_persistent_obj
    finally:
        for name, mod in saved.items():
            if mod is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = mod


def tf_network(
    Network, name: str, func: str, kwargs: dict, variables: list, components: dict | None = None, version: int = 4
):
    return Network(
        version=version,
        name=name,
        static_kwargs=dict(kwargs),
        components=components or {},
        build_module_src="# no code",
        build_func_name=func,
        variables=variables,
    )


def np32(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32))


def v1_tf_variables(G) -> tuple[list, list, list]:
    """(Gs own, mapping, synthesis) TF variable lists of a ganeval StyleGAN v1, in the documented
    TF layout: dense [in, out], conv HWIO, unscaled weights, noise [1, 1, H, W], all ToRGB_lod{L}."""
    sd = {k: v.detach() for k, v in G.state_dict().items()}
    own = [("lod", np.float32(0.0)), ("dlatent_avg", np32(sd["mapping.w_avg"]))]
    mapping = []
    for i in range(G.mapping.num_layers):
        mapping += [
            (f"Dense{i}/weight", np32(sd[f"mapping.fc{i}.weight"].t())),
            (f"Dense{i}/bias", np32(sd[f"mapping.fc{i}.bias"])),
        ]
    if G.c_dim > 0:
        mapping.append(("LabelConcat/weight", np32(sd["mapping.embed.weight"].t())))
    log2 = G.log2_resolution
    synth = [(f"noise{k}", np32(sd[f"synthesis.layers.{k}.noise_const"][None, None])) for k in range(G.num_ws)]
    scopes = ["4x4/Const", "4x4/Conv"] + [
        s for r in range(3, log2 + 1) for s in (f"{2**r}x{2**r}/Conv0_up", f"{2**r}x{2**r}/Conv1")
    ]
    for k, scope in enumerate(scopes):
        p = f"synthesis.layers.{k}."
        if k == 0:
            synth.append(("4x4/Const/const", np32(sd["synthesis.const"][None])))
        else:
            synth.append((f"{scope}/weight", np32(sd[p + "conv.weight"].permute(2, 3, 1, 0))))
        synth += [
            (f"{scope}/Noise/weight", np32(sd[p + "noise.weight"])),
            (f"{scope}/bias", np32(sd[p + "bias"])),
            (f"{scope}/StyleMod/weight", np32(sd[p + "adain.affine.weight"].t())),
            (f"{scope}/StyleMod/bias", np32(sd[p + "adain.affine.bias"])),
        ]
    # lod 0 is the real output; lower-resolution ToRGBs of progressive growing get random values
    synth += [
        ("ToRGB_lod0/weight", np32(sd["synthesis.torgb.weight"].permute(2, 3, 1, 0))),
        ("ToRGB_lod0/bias", np32(sd["synthesis.torgb.bias"])),
    ]
    for lod in range(1, log2 - 1):
        c = G.channels[-1 - lod]
        synth += [
            (f"ToRGB_lod{lod}/weight", np.random.randn(1, 1, c, G.img_channels).astype(np.float32)),
            (f"ToRGB_lod{lod}/bias", np.zeros(G.img_channels, np.float32)),
        ]
    return own, mapping, synth


def write_tf_pickle(
    path: Path,
    own,
    mapping,
    synth,
    kwargs: dict,
    *,
    version: int,
    synth_func: str,
    with_d: bool = True,
    only_d: bool = False,
) -> Path:
    with nvidia_modules() as (Network, EasyDict, _):

        def gen(name):
            comps = {
                "synthesis": tf_network(Network, "G_synthesis", synth_func, kwargs, synth, version=version),
                "mapping": tf_network(Network, "G_mapping", "G_mapping", kwargs, mapping, version=version),
            }
            return tf_network(
                Network, name, "G_style" if version == 3 else "G_main", EasyDict(kwargs), own, comps, version=version
            )

        D = tf_network(
            Network,
            "D",
            "D_basic" if version == 3 else "D_stylegan2",
            kwargs,
            [("4x4/Dense0/weight", np.zeros((4, 4), np.float32))],
            version=version,
        )
        obj = D if only_d else (gen("G"), D, gen("Gs")) if with_d else gen("Gs")
        path.write_bytes(pickle.dumps(obj, protocol=4))
    return path


def persistent_records(
    module: torch.nn.Module,
    reconstruct,
    class_name: str,
    init_kwargs: dict,
    child_class: str = "training.networks.Layer",
):
    """A torch_utils.persistence-style reduce tree mirroring ``module``'s submodules."""

    class Rec:
        def __init__(self, meta):
            self.meta = meta

        def __reduce__(self):
            return (reconstruct, (self.meta,))

    def build(m: torch.nn.Module, cls: str, kwargs: dict) -> Rec:
        state = {
            "training": False,
            "_parameters": OrderedDict(
                (k, torch.nn.Parameter(v.detach().clone(), requires_grad=False)) for k, v in m._parameters.items()
            ),
            "_buffers": OrderedDict((k, v.detach().clone()) for k, v in m._buffers.items()),
            "_modules": OrderedDict((k, build(c, child_class, {})) for k, c in m._modules.items()),
            "_init_args": (),
            "_init_kwargs": kwargs,
        }
        return Rec(
            dict(
                type="class",
                version=6,
                module_src="raise SystemExit('module source must not run')",
                class_name=cls,
                state=state,
            )
        )

    return build(module, class_name, init_kwargs)

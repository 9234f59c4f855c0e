"""Rebuild NVIDIA TensorFlow network pickles, in the producers' exact layout, from vendored data.

``tests/fixtures/tf-<name>/`` holds what ``tools/fixtures/tf.py`` recorded from pickles that
NVlabs/stylegan (v1) and NVlabs/stylegan2 wrote with their own code: ``networks.json`` (each
network's pickled state without values: version, name, build_func_name, static_kwargs, component
layouts, variable order), ``weights.safetensors`` (every variable, keyed
``<net>/<component>/<TF name>``) and ``io.safetensors`` (inputs and the producer's outputs).

:func:`build_pickle` writes the same object graph the producers' ``misc.save_pkl`` writes: a
``(G, D, Gs)`` tuple (or a lone network) of ``dnnlib.tflib.network.Network`` objects stored as
NEWOBJ + BUILD with the dict their ``__getstate__`` returns (keys ``version, name,
static_kwargs, components, build_module_src, build_func_name, variables``; ``variables`` a list of
(TF name, float32 array) in creation order, 0-d variables as numpy float32 scalars as
``session.run`` returns them). ``build_module_src`` holds a placeholder comment: NVIDIA's source
text is never stored here. NumPy globals are written under ``numpy.core.*`` (what NumPy 1.x, and
so every real TF pickle, wrote) unless ``numpy_prefix="numpy._core"`` asks for NumPy 2's paths.
"""

from __future__ import annotations

import io
import json
import pickle
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from _loaders_util import nvidia_modules
from safetensors.numpy import load_file

FIXTURES = Path(__file__).parent / "fixtures"
STATE_KEYS = ("version", "name", "static_kwargs", "components", "build_module_src", "build_func_name", "variables")


def tf_fixture_dirs(prefix: str) -> list[Path]:
    """The vendored folders ``tests/fixtures/tf-<prefix>*`` (sorted)."""
    return sorted(p for p in FIXTURES.glob(f"tf-{prefix}*") if (p / "networks.json").is_file())


def load_fixture(folder: Path) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(layout, weights as float32, io) of one vendored folder."""
    layout = json.loads((folder / "networks.json").read_text())
    weights = {k: v.astype(np.float32) for k, v in load_file(str(folder / "weights.safetensors")).items()}
    return layout, weights, load_file(str(folder / "io.safetensors"))


class _Pickler(pickle._Pickler):  # the pure-Python pickler, so NumPy's global paths can be chosen
    def __init__(self, file: io.BytesIO, protocol: int, numpy_prefix: str) -> None:
        super().__init__(file, protocol)
        self.numpy_prefix = numpy_prefix

    def save_global(self, obj: Any, name: str | None = None) -> None:
        module = getattr(obj, "__module__", None) or ""
        if self.proto >= 4 and module.startswith("numpy._core") and self.numpy_prefix != "numpy._core":
            self.save(self.numpy_prefix + module[len("numpy._core") :])
            self.save(name or obj.__qualname__)
            self.write(pickle.STACK_GLOBAL)
            self.memoize(obj)
            return
        super().save_global(obj, name)

    # the base class dispatches Python functions (NumPy 2's `_frombuffer`) straight to its own
    # save_global; route them through the override above
    dispatch: ClassVar[dict[type, Any]] = {**pickle._Pickler.dispatch, types.FunctionType: save_global}


def _value(arr: np.ndarray) -> Any:
    """What TF's ``session.run`` returned for a variable: 0-d -> numpy float32 scalar."""
    arr = np.array(arr, dtype=np.float32, order="C")  # (np.ascontiguousarray would make 0-d 1-d)
    return np.float32(arr) if arr.ndim == 0 else arr  # np.array copied: one array per network, as TF gives


def _weight(weights: dict[str, np.ndarray], key: str) -> np.ndarray:
    """A variable's value; G's non-trainables (noise inputs, lod, dlatent_avg) equal Gs's, as the
    training loop's moving average copies them, and are vendored once under ``Gs/``."""
    if key in weights:
        return weights[key]
    if not key.startswith("G/"):
        raise KeyError(key)
    return weights["Gs/" + key[2:]]


def _network(
    Network: type, layout: dict, weights: dict[str, np.ndarray], prefix: str, edit: Callable[[str, dict], None] | None
) -> Any:
    state = {
        "version": layout["version"],
        "name": layout["name"],
        "static_kwargs": dict(layout["static_kwargs"]),
        "components": {
            key: _network(Network, comp, weights, f"{prefix}/{key}", edit) for key, comp in layout["components"].items()
        },
        "build_module_src": "# placeholder: the producer stores its module source here; none is kept",
        "build_func_name": layout["build_func_name"],
        "variables": [(name, _value(_weight(weights, f"{prefix}/{name}"))) for name in layout["variables"]],
    }
    if edit is not None:
        edit(prefix, state)
    return Network(**{k: state[k] for k in STATE_KEYS})


def build_pickle(
    folder: Path, *, protocol: int, numpy_prefix: str = "numpy.core", edit: Callable[[str, dict], None] | None = None
) -> bytes:
    """The pickle bytes of ``(G, D, Gs)`` (or the lone ``D`` of a classifier folder).

    ``edit(prefix, state)`` may change a network's state dict before it is pickled (``prefix`` is
    ``"Gs"``, ``"Gs/synthesis"``, ...), e.g. to write a lying static kwarg.
    """
    layout, weights, _ = load_fixture(folder)
    with nvidia_modules() as (Network, _, _):
        nets = [_network(Network, layout[key], weights, key, edit) for key in layout]
        obj = tuple(nets) if len(nets) == 3 else nets[0]
        buf = io.BytesIO()
        _Pickler(buf, protocol, numpy_prefix).dump(obj)
    return buf.getvalue()

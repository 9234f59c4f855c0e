"""The restricted unpickler refuses code-executing globals and reads the data NVIDIA pickles hold."""

from __future__ import annotations

import builtins
import io
import os
import pickle
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest
import torch

from ganeval.errors import CheckpointError, UnsafePickleError
from ganeval.loaders.safe_pickle import EasyDict, PersistentRecord, TFNetworkStub, safe_load


class _Evil:
    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return (self.func, (self.arg,))


@pytest.mark.parametrize(
    "func, global_name",
    [
        (os.system, f"{os.system.__module__}.system"),
        (builtins.exec, "builtins.exec"),
        (builtins.eval, "builtins.eval"),
    ],
)
def test_code_executing_reduce_is_refused_and_nothing_runs(tmp_path, func, global_name):
    marker = tmp_path / "pwned"
    arg = f"touch {marker}" if func is os.system else f"open({str(marker)!r}, 'w').write('x')"
    payload = pickle.dumps({"G_ema": _Evil(func, arg)}, protocol=2)
    path = tmp_path / "evil.pkl"
    path.write_bytes(payload)
    with pytest.raises(UnsafePickleError, match=f"`{global_name}`") as info:
        safe_load(path)
    assert str(path) in str(info.value)
    assert not marker.exists()
    # the same payload really does run under plain pickle (so the test is meaningful)
    pickle.loads(payload)
    assert marker.exists()


def test_nested_and_protocol0_globals_are_refused(tmp_path):
    marker = tmp_path / "pwned0"
    payload = pickle.dumps([1, 2, _Evil(os.system, f"touch {marker}")], protocol=0)
    with pytest.raises(UnsafePickleError, match="system"):
        safe_load(payload)
    assert not marker.exists()


def test_tensors_numpy_and_containers_round_trip():
    p = torch.nn.Parameter(torch.randn(3, 2))
    buf = torch.arange(10.0)[2:7]  # a view: storage offset and stride must survive
    obj = {
        "p": p,
        "buf": buf,
        "arr": np.arange(6, dtype=np.float32).reshape(2, 3),
        "scalar": np.float32(1.5),
        "od": OrderedDict(a=1),
        "s": {1, 2},
        "dtype": torch.float32,
    }
    for proto in (2, 4, 5):
        out = safe_load(pickle.dumps(obj, protocol=proto))
        assert isinstance(out["p"], torch.nn.Parameter) and torch.equal(out["p"], p)
        assert torch.equal(out["buf"], buf)
        np.testing.assert_array_equal(out["arr"], obj["arr"])
        assert out["scalar"] == np.float32(1.5) and out["scalar"].dtype == np.float32
        assert out["od"] == OrderedDict(a=1) and out["s"] == {1, 2} and out["dtype"] is torch.float32


def _install_fake_modules(monkeypatch):
    """Register stand-ins under NVIDIA's module paths so pickle.dumps writes those globals."""
    net = types.ModuleType("dnnlib.tflib.network")
    util = types.ModuleType("dnnlib.util")
    pers = types.ModuleType("torch_utils.persistence")

    class Network:
        def __getstate__(self):
            return dict(self.__dict__)

    class EDict(dict):
        pass

    def _reconstruct_persistent_obj(meta):  # never called by safe_load
        raise RuntimeError("the real reconstructor must not run")

    Network.__module__, Network.__qualname__ = "dnnlib.tflib.network", "Network"
    EDict.__module__, EDict.__qualname__ = "dnnlib.util", "EasyDict"
    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    net.Network, util.EasyDict, pers._reconstruct_persistent_obj = Network, EDict, _reconstruct_persistent_obj
    for name, mod in {
        "dnnlib": types.ModuleType("dnnlib"),
        "dnnlib.tflib": types.ModuleType("dnnlib.tflib"),
        "dnnlib.tflib.network": net,
        "dnnlib.util": util,
        "torch_utils": types.ModuleType("torch_utils"),
        "torch_utils.persistence": pers,
    }.items():
        monkeypatch.setitem(sys.modules, name, mod)
    return Network, EDict, _reconstruct_persistent_obj


def test_nvidia_stubs(monkeypatch, tmp_path):
    Network, EDict, recon = _install_fake_modules(monkeypatch)
    marker = tmp_path / "src-ran"
    n = Network()
    n.__dict__.update(
        version=4,
        name="Gs",
        static_kwargs=EDict(resolution=32),
        components={},
        build_module_src=f"open({str(marker)!r}, 'w')",
        build_func_name="G_main",
        variables=[("lod", np.float32(0.0))],
    )

    class Module:
        def __reduce__(self):
            meta = dict(
                type="class",
                version=6,
                module_src=f"open({str(marker)!r}, 'w')",
                class_name="training.networks.Generator",
                state={
                    "_parameters": OrderedDict(w=torch.nn.Parameter(torch.ones(2))),
                    "_buffers": OrderedDict(b=torch.zeros(1)),
                    "_modules": OrderedDict(),
                    "_init_kwargs": EDict(z_dim=8),
                },
            )
            return (recon, (meta,))

    data = pickle.dumps((n, {"G_ema": Module()}), protocol=4)
    monkeypatch.undo()  # the stand-in modules are gone: nothing NVIDIA-like is importable now
    tf, d = safe_load(data)
    assert isinstance(tf, TFNetworkStub) and tf.version == 4 and tf.static_kwargs == {"resolution": 32}
    assert isinstance(tf.static_kwargs, EasyDict) and tf.static_kwargs.resolution == 32
    rec = d["G_ema"]
    assert isinstance(rec, PersistentRecord) and rec.class_name == "training.networks.Generator"
    assert rec.init_kwargs == {"z_dim": 8} and set(rec.tensors()) == {"w", "b"}
    # module_src is kept as text (to read, e.g. for the network family) and never executed
    assert rec.module_src == f"open({str(marker)!r}, 'w')" and rec.version == 6 and not marker.exists()


def test_truncated_and_garbage():
    data = pickle.dumps({"a": np.zeros(100, np.float32)}, protocol=4)
    with pytest.raises(CheckpointError, match=r"ends early|expected a valid pickle"):
        safe_load(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        safe_load(io.BytesIO(b"\x80\x04garbage-not-a-pickle"))


def test_storage_pickled_on_a_gpu_loads_on_cpu():
    """Networks pickled straight from a CUDA module name a cuda location in each storage."""
    import warnings

    from torch.storage import _load_from_bytes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TypedStorage: what tensors pickle their data as
        storage = torch.arange(4.0).storage()
    buf = io.BytesIO()
    torch.save(storage, buf, _use_new_zipfile_serialization=False)
    raw = buf.getvalue()
    assert raw.count(b"X\x03\x00\x00\x00cpu") == 1
    cuda_bytes = raw.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")

    class Storage:
        def __reduce__(self):
            return (_load_from_bytes, (cuda_bytes,))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = safe_load(pickle.dumps({"s": Storage()}, protocol=4))
        assert list(out["s"]) == [0.0, 1.0, 2.0, 3.0] and out["s"].device.type == "cpu"

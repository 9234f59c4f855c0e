"""Classifier interface and the TF D_basic re-implementation (NVIDIA's CelebA-HQ classifier layout).

The reference is a direct NumPy transcription of the TF ops D_basic uses (conv2d 'SAME',
depthwise blur, 2x2 average downscale, fused stride-2 conv with the padded-and-summed kernel,
TF's strided minibatch-stddev groups), written here independently of the torch module.
"""

from __future__ import annotations

import math
import pickle
import sys
import types

import numpy as np
import pytest
import torch

from ganeval.classifiers import AttributeClassifier, load_classifier, wrap_classifier
from ganeval.classifiers.tf_dbasic import DBasic, dbasic_from_tf, tf_variable_shapes
from ganeval.errors import CheckpointError, GanevalValueError

KW = {"num_channels": 3, "resolution": 16, "label_size": 0, "fmap_base": 64, "fmap_max": 16}


# ----------------------------------------------------------------------------- numpy reference


def tf_conv2d(x: np.ndarray, w: np.ndarray, stride: int = 1) -> np.ndarray:
    """tf.nn.conv2d NCHW, HWIO kernel, padding 'SAME' (cross-correlation)."""
    n, _, h, wd = x.shape
    kh, kw, _, o = w.shape
    oh, ow = math.ceil(h / stride), math.ceil(wd / stride)
    ph, pw = max((oh - 1) * stride + kh - h, 0), max((ow - 1) * stride + kw - wd, 0)
    xp = np.pad(x, ((0, 0), (0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)))
    out = np.zeros((n, o, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride]
            out += np.einsum("nchw,co->nohw", patch, w[i, j])
    return out


def tf_depthwise(x: np.ndarray, f: np.ndarray, stride: int) -> np.ndarray:
    c = x.shape[1]
    w = np.zeros((*f.shape, c, c))
    for k in range(c):
        w[:, :, k, k] = f
    return tf_conv2d(x, w, stride)


def lrelu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.2 * x)


def reference_dbasic(images: np.ndarray, var: dict[str, np.ndarray], kw: dict, fused: bool) -> np.ndarray:
    res_log2 = int(math.log2(kw["resolution"]))

    def wt(name: str, gain: float = math.sqrt(2)) -> np.ndarray:
        w = var[name + "/weight"].astype(np.float64)
        return w * gain / math.sqrt(np.prod(w.shape[:-1]))

    def b(name: str) -> np.ndarray:
        return var[name + "/bias"].astype(np.float64).reshape(1, -1, 1, 1)

    x = lrelu(tf_conv2d(images, wt("FromRGB_lod0")) + b("FromRGB_lod0"))
    blur = np.outer([1, 2, 1], [1, 2, 1]) / 16.0
    for res in range(res_log2, 2, -1):
        s = f"{2**res}x{2**res}"
        x = lrelu(tf_conv2d(x, wt(f"{s}/Conv0")) + b(f"{s}/Conv0"))
        x = tf_depthwise(x, blur, 1)
        w = wt(f"{s}/Conv1_down")
        if fused:
            w = np.pad(w, ((1, 1), (1, 1), (0, 0), (0, 0)))
            w = (w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]) * 0.25
            x = tf_conv2d(x, w, stride=2)
        else:
            x = tf_depthwise(tf_conv2d(x, w), np.full((2, 2), 0.25), 2)
        x = lrelu(x + b(f"{s}/Conv1_down"))
    # minibatch stddev exactly as TF: reshape [G, M, ...] (strided groups)
    g = min(4, x.shape[0])
    y = x.reshape(g, -1, 1, x.shape[1], *x.shape[2:])
    y = np.sqrt(((y - y.mean(0, keepdims=True)) ** 2).mean(0) + 1e-8).mean(axis=(2, 3, 4), keepdims=True).mean(2)
    y = np.tile(y, (g, 1, x.shape[2], x.shape[3]))
    x = np.concatenate([x, y], axis=1)
    x = lrelu(tf_conv2d(x, wt("4x4/Conv")) + b("4x4/Conv"))
    x = lrelu(x.reshape(x.shape[0], -1) @ wt("4x4/Dense0") + var["4x4/Dense0/bias"])
    return x @ wt("4x4/Dense1", 1.0) + var["4x4/Dense1/bias"]


def random_variables(kw: dict, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in tf_variable_shapes(kw).items():
        out[name] = np.float32(0.0) if name == "lod" else rng.standard_normal(shape).astype(np.float32)
    return out


class _Network:
    """Stand-in for dnnlib.tflib.network.Network: pickles the same state dict as NVIDIA's."""

    def __init__(self, state: dict) -> None:
        self.state = state

    def __getstate__(self) -> dict:
        return self.state


def _tf_pickle(variables: dict, kw: dict, func: str = "D_basic") -> bytes:
    mod = types.ModuleType("dnnlib.tflib.network")
    _Network.__module__, _Network.__qualname__, _Network.__name__ = "dnnlib.tflib.network", "Network", "Network"
    mod.Network = _Network
    saved = {k: sys.modules.get(k) for k in ("dnnlib", "dnnlib.tflib", "dnnlib.tflib.network")}
    sys.modules.update(
        {
            "dnnlib": types.ModuleType("dnnlib"),
            "dnnlib.tflib": types.ModuleType("dnnlib.tflib"),
            "dnnlib.tflib.network": mod,
        }
    )
    try:
        state = {
            "version": 3,
            "name": "D",
            "static_kwargs": dict(kw),
            "components": {},
            "build_module_src": "raise RuntimeError('must never run')",
            "build_func_name": func,
            "variables": list(variables.items()),
        }
        return pickle.dumps(_Network(state), protocol=2)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize("fused", [False, True])
def test_dbasic_matches_numpy_transcription(fused: bool) -> None:
    kw = {**KW, "fused_scale": fused}
    var = random_variables(kw, seed=1)
    net = DBasic(kw).requires_grad_(False)
    net.load_tf_variables(var)
    images = np.random.default_rng(2).uniform(-1, 1, (4, 3, 16, 16))
    ref = reference_dbasic(images, var, kw, fused)
    out = net(torch.from_numpy(images).float()).double().numpy()
    assert out.shape == (4, 1)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_fused_auto_rule_and_groups_of_consecutive_images() -> None:
    kw = {**KW, "resolution": 8}
    var = random_variables(kw, seed=3)
    net = DBasic(kw).requires_grad_(False)
    net.load_tf_variables(var)
    images = np.random.default_rng(4).uniform(-1, 1, (8, 3, 8, 8))
    out = net(torch.from_numpy(images).float()).double().numpy()
    # two groups of 4 consecutive images, each equal to running that group alone (TF with N=4)
    for g in range(2):
        ref = reference_dbasic(images[4 * g : 4 * g + 4], var, kw, fused=False)
        np.testing.assert_allclose(out[4 * g : 4 * g + 4], ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_pickle_round_trip_through_safe_unpickler(tmp_path) -> None:
    pytest.importorskip("ganeval.loaders.safe_pickle")
    var = random_variables(KW, seed=5)
    path = tmp_path / "celebahq-classifier-00-male.pkl"
    path.write_bytes(_tf_pickle(var, KW))
    clf = load_classifier(path)
    assert isinstance(clf, AttributeClassifier)
    assert clf.attribute_names == ["male"] and clf.input_resolution == 16 and clf.group_size == 4
    net = clf.network
    for name, value in var.items():
        if name != "lod":
            np.testing.assert_array_equal(net.params[name.replace("/", "__")].numpy(), value)
    images = np.random.default_rng(6).uniform(-1, 1, (4, 3, 16, 16))
    ref = reference_dbasic(images, var, KW, fused=False)
    np.testing.assert_allclose(
        clf(torch.from_numpy(images).float()).numpy(), ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max()
    )


def test_refuses_other_build_function_and_unknown_variables(tmp_path) -> None:
    pytest.importorskip("ganeval.loaders.safe_pickle")
    from ganeval.loaders.safe_pickle import safe_load

    var = random_variables(KW)
    with pytest.raises(CheckpointError, match="'G_style'"):
        dbasic_from_tf(safe_load(_tf_pickle(var, KW, func="G_style")))
    extra = {**var, "4x4/Dense2/weight": np.zeros((1, 1), np.float32)}
    with pytest.raises(CheckpointError, match="4x4/Dense2/weight"):
        dbasic_from_tf(safe_load(_tf_pickle(extra, KW)))
    bad_shape = {**var, "4x4/Dense1/weight": np.zeros((3, 1), np.float32)}
    with pytest.raises(CheckpointError, match="4x4/Dense1/weight"):
        dbasic_from_tf(safe_load(_tf_pickle(bad_shape, KW)))
    with pytest.raises(CheckpointError, match="lod"):
        dbasic_from_tf(safe_load(_tf_pickle({**var, "lod": np.float32(1.0)}, KW)))
    with pytest.raises(CheckpointError, match="unsupported_kw"):
        dbasic_from_tf(safe_load(_tf_pickle(var, {**KW, "unsupported_kw": 1})))


def test_wrap_classifier_checks_output_width() -> None:
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 3))
    clf = wrap_classifier(net, ["a", "b"], 4)
    with pytest.raises(GanevalValueError, match=r"shape \[2, 2\].*\[2, 3\]"):
        clf(torch.zeros(2, 3, 4, 4))
    with pytest.raises(GanevalValueError, match="shape"):
        wrap_classifier(net, ["a", "b", "c"], 4)(torch.zeros(2, 3, 8, 8))
    with pytest.raises(GanevalValueError, match="unique"):
        wrap_classifier(net, ["a", "a", "b"], 4)
    out = wrap_classifier(net, ["a", "b", "c"], 4)(torch.ones(2, 3, 4, 4))
    torch.testing.assert_close(out, net(torch.ones(2, 3, 4, 4)))


def test_load_classifier_rejects_unknown_source() -> None:
    with pytest.raises(GanevalValueError, match=r"no-such-file\.pkl"):
        load_classifier("no-such-file.pkl")

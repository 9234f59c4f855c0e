"""Device resolution: ``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` -> :class:`torch.device`."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator

import torch

from .errors import GanevalValueError

__all__ = ["resolve_device", "full_fp32", "PRECISION"]

PRECISION = "fp32 (TF32 off: cuDNN conv/RNN and CUDA matmul at IEEE float32)"
"""What every metric records in ``provenance["precision"]``."""

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda|cuda:\d+|mps)$")


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn a user device spec into a :class:`torch.device`.

    ``None`` and ``"auto"`` pick CUDA when it is available (the GPU of ``LOCAL_RANK`` under
    torchrun), else the CPU. CUDA is only
    initialised when this function is called, never at import.
    """
    if isinstance(device, torch.device):
        spec = str(device)
    elif device is None:
        spec = "auto"
    elif isinstance(device, str):
        spec = device.strip().lower()
    else:
        raise GanevalValueError(f"Argument `device` must be 'auto', 'cpu' or 'cuda[:N]', but got {device!r}.")
    if not _DEVICE_RE.match(spec):
        raise GanevalValueError(f"Argument `device` must be 'auto', 'cpu' or 'cuda[:N]', but got {device!r}.")
    if spec == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        # under torchrun each process takes the GPU of its local rank
        return torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0')) % torch.cuda.device_count()}")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise GanevalValueError(
                f"Argument `device` is {spec!r}, but CUDA is not available on this machine; use 'cpu' or 'auto'."
            )
        index = int(spec.split(":")[1]) if ":" in spec else 0
        if index >= torch.cuda.device_count():
            raise GanevalValueError(
                f"Argument `device` is {spec!r}, but only {torch.cuda.device_count()} CUDA device(s) exist."
            )
    if spec == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise GanevalValueError("Argument `device` is 'mps', but MPS is not available on this machine.")
    return torch.device(spec)


def _tf32_switches() -> list[tuple[str, object, str]]:
    """The (object, attribute) pairs that select TF32 for cuDNN and CUDA matmuls.

    PyTorch >= 2.9 has per-backend ``fp32_precision`` settings (``"ieee"`` or ``"tf32"``) and
    raises if they are mixed with the legacy ``allow_tf32`` flags, so only one API is used.
    """
    b = torch.backends
    if hasattr(b.cudnn, "conv") and hasattr(b.cudnn.conv, "fp32_precision"):
        return [
            ("cuda.matmul", b.cuda.matmul, "fp32_precision"),
            ("cudnn.conv", b.cudnn.conv, "fp32_precision"),
            ("cudnn.rnn", b.cudnn.rnn, "fp32_precision"),
        ]
    return [("cuda.matmul", b.cuda.matmul, "allow_tf32"), ("cudnn", b.cudnn, "allow_tf32")]  # torch < 2.9


@contextlib.contextmanager
def full_fp32() -> Iterator[None]:
    """Run the body in true float32: TF32 off for cuDNN convolutions and CUDA matmuls, float32
    matmul precision ``"highest"``; the caller's settings are restored afterwards, also on error.

    On Ampere and newer GPUs PyTorch runs cuDNN convolutions in TF32 (10 mantissa bits) by
    default, which moves per-sample PPL by far more than its fp32 noise floor; NVIDIA's metric
    scripts turn it off too. On CPUs the switches have no effect.
    """
    switches = _tf32_switches()
    saved = [getattr(obj, attr) for _, obj, attr in switches]
    saved_matmul = torch.get_float32_matmul_precision()
    try:
        for _, obj, attr in switches:
            setattr(obj, attr, "ieee" if attr == "fp32_precision" else False)
        torch.set_float32_matmul_precision("highest")
        yield
    finally:
        # the matmul precision first: it also writes the matmul switch, which is restored after it
        torch.set_float32_matmul_precision(saved_matmul)
        for (_, obj, attr), value in zip(switches, saved):
            setattr(obj, attr, value)


def fp32_state() -> dict[str, object]:
    """The current TF32-related settings (for tests and provenance)."""
    state: dict[str, object] = {f"{label}.{attr}": getattr(obj, attr) for label, obj, attr in _tf32_switches()}
    state["float32_matmul_precision"] = torch.get_float32_matmul_precision()
    return state

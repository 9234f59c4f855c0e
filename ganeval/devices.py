"""Device resolution: ``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` -> :class:`torch.device`."""

from __future__ import annotations

import os
import re

import torch

from .errors import GanevalValueError

__all__ = ["resolve_device"]

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

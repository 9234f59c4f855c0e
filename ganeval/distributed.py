"""torch.distributed helpers: one code path for 1 process, torchrun on CPU (gloo) or GPUs (nccl).

Metrics shard samples by index across ranks and gather the per-sample results in index order
on every rank (see :func:`ganeval.runtime.map_samples`); only rank 0 writes files and prints.
"""

from __future__ import annotations

import atexit
import os
from typing import Any

__all__ = [
    "init_from_env",
    "is_initialized",
    "rank",
    "world_size",
    "is_main",
    "all_gather_object",
    "barrier",
    "local_rank",
]


def is_initialized() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def init_from_env() -> bool:
    """Join the process group torchrun describes (``WORLD_SIZE`` > 1); no-op otherwise.

    The backend is NCCL when CUDA is available, else gloo. Returns True when running
    distributed after the call.
    """
    if is_initialized():
        return True
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    import torch
    import torch.distributed as dist

    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank())
    dist.init_process_group(backend=backend)
    # tear the group down before interpreter exit: a live gloo thread at exit aborts the process
    atexit.register(_destroy)
    return True


def _destroy() -> None:
    import torch.distributed as dist

    if is_initialized():  # no barrier: a rank leaving on an error must not wait for the others
        dist.destroy_process_group()


def rank() -> int:
    if not is_initialized():
        return 0
    import torch.distributed as dist

    return dist.get_rank()


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def world_size() -> int:
    if not is_initialized():
        return 1
    import torch.distributed as dist

    return dist.get_world_size()


def is_main() -> bool:
    """True on rank 0 (and in a single process): the rank that writes files and prints."""
    return rank() == 0


def all_gather_object(obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order, on every rank (``[obj]`` when not distributed)."""
    if not is_initialized():
        return [obj]
    import torch.distributed as dist

    out: list[Any] = [None] * world_size()
    dist.all_gather_object(out, obj)
    return out


def barrier() -> None:
    if is_initialized():
        import torch.distributed as dist

        dist.barrier()

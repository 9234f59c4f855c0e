"""The sample loop every metric runs on: per-sample work over index batches.

A metric supplies ``fn(indices) -> {name: array}``, a pure function of the sample indices
(every random draw inside derives from (seed, index), see :mod:`ganeval._seeding`).
:func:`map_samples` calls it over ``[0, num_samples)`` in batches and returns the arrays
concatenated in index order. Because ``fn`` depends only on the indices, the result is the
same for any batch size; the loop is also the one place that handles progress reporting,
and (as they land) sharding across processes and resuming interrupted runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

__all__ = ["map_samples", "ChunkFn"]

ChunkFn = Callable[[np.ndarray], dict[str, np.ndarray]]


def map_samples(
    fn: ChunkFn,
    num_samples: int,
    *,
    batch_size: int,
    desc: str = "samples",
    progress: bool | None = None,
    stop_when: Callable[[dict[str, np.ndarray]], bool] | None = None,
    min_samples: int = 0,
) -> dict[str, np.ndarray]:
    """Run ``fn`` over sample indices ``0 .. num_samples - 1`` in batches of ``batch_size``.

    Args:
        fn: maps an int64 index array ``[B]`` to arrays whose first dimension is ``B``.
        num_samples: total number of samples (upper bound when ``stop_when`` is given).
        batch_size: indices per call of ``fn``.
        desc: label of the progress bar.
        progress: show a tqdm bar on stderr; ``None`` shows it only on a terminal.
        stop_when: called after each batch with everything gathered so far (index order);
            returning True ends the loop early (never before ``min_samples``).
        min_samples: lower bound on the number of samples before ``stop_when`` may stop.

    Returns:
        ``{name: array}`` concatenated in index order, first dimension = samples done.
    """
    from tqdm.auto import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    parts: dict[str, list[np.ndarray]] = {}
    done = 0
    with tqdm(total=num_samples, desc=desc, unit="sample", disable=not show, file=sys.stderr,
              dynamic_ncols=True) as bar:
        while done < num_samples:
            idx = np.arange(done, min(done + batch_size, num_samples), dtype=np.int64)
            out = fn(idx)
            for k, v in out.items():
                parts.setdefault(k, []).append(np.asarray(v))
            done += len(idx)
            bar.update(len(idx))
            if stop_when is not None and done >= min_samples:
                gathered = {k: np.concatenate(v) for k, v in parts.items()}
                if stop_when(gathered):
                    return gathered
    return {k: np.concatenate(v) for k, v in parts.items()}

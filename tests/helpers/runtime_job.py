"""A job for the runtime tests: squares of seeded draws, optionally slow, under torchrun or not.

Usage: python -m tests.helpers.runtime_job OUT.npy NUM_SAMPLES BATCH [RUN_DIR] [SLEEP_S]
"""

import sys
import time

import numpy as np

from ganeval import _seeding, distributed, runtime

runtime._CHUNK_SAMPLES = 20  # flush often so a kill leaves chunks behind


def main() -> None:
    out, n, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    run_dir = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != "-" else None
    sleep = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    distributed.init_from_env()

    def fn(idx: np.ndarray) -> dict[str, np.ndarray]:
        time.sleep(sleep)
        z = _seeding.normal(7, "job", idx, (3,)).numpy()
        return {"sq": (z**2).sum(1), "idx": idx}

    res = runtime.map_samples(fn, n, batch_size=batch, run_dir=run_dir, config={"job": 1, "n": n}, progress="lines")
    if distributed.is_main():
        np.save(out, np.stack([res["idx"].astype(np.float64), res["sq"]]))
        print(f"done {res.num_done} resumed {res.resumed}", flush=True)


if __name__ == "__main__":
    main()

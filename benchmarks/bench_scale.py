"""Scale benchmark (issue 9): wall time and peak memory against the sample count, 1 vs 2 processes.

Runs PPL (W, full) on the zoo generator + zoo distance when ``--zoo`` is given (else a 32 px
stand-in StyleGAN with a squared-L2 distance), each run in a fresh process so its peak RSS is
its own. Prints, from one invocation:

- wall time and peak RSS for each sample count, and the per-sample time ratio largest/smallest
  (1.0 = perfectly linear) and the RSS ratio (1.0 = perfectly flat);
- one process with 2 threads vs 2 torchrun processes (gloo) with 1 thread each on the same
  work: the speed-up ratio, and whether the two results are equal.

    python benchmarks/bench_scale.py [--zoo] [--counts 500,1000,2000,4000] [--batch 32]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(n: int, batch: int, zoo: bool, *, nproc: int = 1, threads: int = 2) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(REPO)}
    job = [str(REPO / "benchmarks" / "_scale_job.py"), str(n), str(batch), "zoo" if zoo else "standin"]
    cmd = (
        [sys.executable, *job]
        if nproc == 1
        else [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *job]
    )
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", action="store_true", help="use the embedded zoo generator and distance")
    ap.add_argument("--counts", default="500,1000,2000,4000")
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    what = "zoo:shapes-stylegan + zoo:shapes-perceptual" if args.zoo else "stand-in StyleGAN 32 px + squared L2"
    print(f"PPL (W, full), {what}, batch {args.batch}, CPU, 2 threads, load {os.getloadavg()[0]:.1f}")
    rows = [_run(n, args.batch, args.zoo) for n in counts]
    for r in rows:
        print(
            f"  n={r['n']:>6}  wall {r['wall_s']:7.2f} s  {r['n'] / r['wall_s']:7.1f} samples/s  "
            f"peak RSS {r['peak_rss_mib']:7.1f} MiB"
        )
    per = [r["wall_s"] / r["n"] for r in rows]
    print(f"linearity: per-sample time at n={counts[-1]} / n={counts[0]} = {per[-1] / per[0]:.2f} (1.0 = linear)")
    print(
        f"memory: peak RSS at n={counts[-1]} / n={counts[0]} = "
        f"{rows[-1]['peak_rss_mib'] / rows[0]['peak_rss_mib']:.2f} (1.0 = flat)"
    )
    n = counts[-1]
    one = rows[-1]
    two = _run(n, args.batch, args.zoo, nproc=2, threads=1)
    same = abs(one["value"] - two["value"]) <= 1e-6 * abs(one["value"])
    print(
        f"processes: 1 process x 2 threads {one['wall_s']:.2f} s, 2 processes x 1 thread {two['wall_s']:.2f} s, "
        f"speed-up {one['wall_s'] / two['wall_s']:.2f}x; same result: {same}"
    )


if __name__ == "__main__":
    main()

"""Benchmark of the separability SVM stage and of a streamed 200k-sample run's peak memory.

Stage 1 (``svm``): ganeval's fast Newton-CG solver vs scikit-learn ``LinearSVC()`` with its
current defaults, on the same synthetic 100,000 x 512 latents (correlated Gaussian, like W)
with labels from noisy linear rules (different noise levels and class balances, one per
attribute). Prints wall time, ratio and training accuracy per attribute.

Stage 2 (``memory``): peak resident memory of ``separability`` over 200,000 samples of a
generator (the zoo generator when its weights are present, else a random-init StyleGAN with
512-d latents at 32x32) and a 10-attribute classifier; images are never all in memory, only
latents and logits are. Run each stage in its own process (peak RSS is per process).

    python benchmarks/bench_svm.py svm --attributes 3
    python benchmarks/bench_svm.py memory --samples 200000
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import torch


def synthetic(n: int, d: int, attributes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Latents ``[n, d]`` float32 and labels ``[attributes, n]`` from noisy linear rules."""
    rng = np.random.default_rng(seed)
    mix = np.eye(d) + 0.1 * rng.standard_normal((d, d))
    x = (rng.standard_normal((n, d)) @ mix).astype(np.float32)
    ys = []
    for k in range(attributes):
        a = rng.standard_normal(d)
        score = x @ a / np.linalg.norm(a)
        noise = (0.2 + 0.3 * k) * score.std() * rng.standard_normal(n)
        threshold = np.quantile(score, [0.5, 0.7, 0.85][k % 3])  # balanced, 30 %, 15 % positives
        ys.append((score + noise > threshold).astype(np.int64))
    return x, np.stack(ys)


def bench_svm(n: int, d: int, attributes: int) -> None:
    import sklearn
    from sklearn.svm import LinearSVC

    from ganeval.metrics._linear_svm import fit_linear_svm, second_moment

    x, ys = synthetic(n, d, attributes)
    print(
        f"data: {n} x {d}, {attributes} attributes; torch threads {torch.get_num_threads()}; "
        f"sklearn {sklearn.__version__}",
        flush=True,
    )
    t0 = time.perf_counter()
    moment = second_moment(torch.from_numpy(x))
    fast = []
    for y in ys:
        fit = fit_linear_svm(x, y, moment=moment)
        fast.append(((fit.predict(x) == y).mean(), fit.n_iter))
    t_fast = time.perf_counter() - t0
    print(f"fast Newton-CG: {t_fast:.1f} s total", flush=True)
    t0 = time.perf_counter()
    ref = []
    for y in ys:
        svm = LinearSVC().fit(x, y)
        ref.append(svm.score(x, y))
    t_ref = time.perf_counter() - t0
    print(f"LinearSVC():    {t_ref:.1f} s total", flush=True)
    for k, ((acc_f, it), acc_r) in enumerate(zip(fast, ref)):
        print(
            f"  attribute {k}: train acc fast {acc_f:.5f} ({it} Newton its)  LinearSVC {acc_r:.5f}  "
            f"diff {100 * (acc_f - acc_r):+.3f} points"
        )
    print(
        f"speed-up: {t_ref / t_fast:.1f}x  (fast {t_fast / attributes:.2f} s/attribute, "
        f"LinearSVC {t_ref / attributes:.2f} s/attribute)"
    )


def bench_memory(samples: int, keep: int) -> None:
    import warnings

    import ganeval
    from ganeval.classifiers import wrap_classifier
    from ganeval.metrics.separability import separability

    try:
        G = ganeval.load_generator("zoo:shapes-stylegan")
        clf = ganeval.load_classifier("zoo:shapes-classifier")
        what = "zoo:shapes-stylegan + zoo:shapes-classifier"
    except (ganeval.GanevalError, ImportError, AttributeError, FileNotFoundError):
        from ganeval.models.stylegan import StyleGAN

        torch.manual_seed(0)
        G = StyleGAN(z_dim=512, w_dim=512, img_resolution=32, fmap_base=256, fmap_max=32)
        net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.LeakyReLU(0.2), torch.nn.Flatten(), torch.nn.LazyLinear(10)
        )
        net(torch.zeros(1, 3, 32, 32))
        clf = wrap_classifier(net, [f"attr{k}" for k in range(10)], 32)
        what = "random-init StyleGAN (512-d z/w, 32x32, 32 channels) + random 10-attribute classifier"
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = separability(
            G, clf, num_samples=samples, num_keep=keep, batch_size=256, device="cpu", cache_dir=False, progress="lines"
        )
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    arrays = samples * (G.z_dim + G.w_dim + len(clf.attribute_names)) * 4 / 2**20
    print(f"{what}: {samples} samples, keep {keep}: {wall:.0f} s; scores {res.scores()}")
    print(
        f"peak RSS {peak:.0f} MiB (before the run {rss0:.0f} MiB); latents+logits arrays {arrays:.0f} MiB; "
        f"all images would be {samples * 3 * G.img_resolution**2 * 4 / 2**20:.0f} MiB"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stage", choices=["svm", "memory"])
    p.add_argument("--samples", type=int, default=100_000, help="svm: points; memory: generated samples")
    p.add_argument("--keep", type=int, default=None, help="memory: kept per attribute (default samples/2)")
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--attributes", type=int, default=3)
    args = p.parse_args()
    if args.stage == "svm":
        bench_svm(args.samples, args.dim, args.attributes)
    else:
        bench_memory(args.samples, args.keep or args.samples // 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

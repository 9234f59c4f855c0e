"""Training entry points of the zoo models (CPU-friendly, reproducible from a seed).

Usage (the shipped models; commands and wall times are also in each card)::

    python -m ganeval.zoo.train classifier --out DIR --seed 1 --steps 2500 --threads 1
    python -m ganeval.zoo.train perceptual --out DIR --seed 2 --steps 2000 --threads 1
    python -m ganeval.zoo.train generator  --out RUN --seed 3 --steps 16000 --threads 1 --mapping-layers 2 \\
        --mixing-prob 0
    python -m ganeval.zoo.train export-generator --run RUN --out pretrained [--name shapes-stylegan-VARIANT]
    python -m ganeval.zoo.train readme --out pretrained
    python -m ganeval.zoo.train curves --out pretrained      # quality history of the generator cards

One torch thread: on a shared 2-core machine two threads were several times slower (they
spin waiting for each other while other processes hold a core).

Every run draws fresh renders from :mod:`ganeval.zoo.shapes` (dataset seed = ``--seed``,
images ``step * batch ... step * batch + batch - 1``), never a fixed training set, and writes
``<name>.safetensors`` plus a JSON card ``<name>.json`` into ``--out``. The generator run also
writes ``checkpoint.pt`` every ``--ckpt-every`` steps (resumed with ``--resume``) and exports
the EMA generator at each checkpoint, so an interrupted run still leaves usable weights.
Evaluation uses :data:`EVAL_SEED`, which training refuses to use.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import shlex
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import GanevalValueError
from . import shapes
from ._load import sha256_file, write_card
from .classifier import ShapesClassifier, evaluate_classifier
from .networks import Discriminator
from .perceptual import REGRESSION_TARGETS, ShapesPerceptual, regression_targets

if TYPE_CHECKING:
    from ..models.stylegan import StyleGAN
    from ..models.traditional import TraditionalGenerator

__all__ = ["EVAL_SEED", "train_classifier", "train_perceptual", "train_generator", "main"]

#: Dataset seed reserved for evaluation (accuracy, Fréchet distance); training refuses it.
EVAL_SEED = 1_000_003


def _check_seed(seed: int) -> None:
    if seed == EVAL_SEED:
        raise GanevalValueError(f"Argument `seed` must differ from the evaluation seed {EVAL_SEED}, but got {seed}.")


def _command(argv: Sequence[str] | None = None) -> str:
    """The command line that reproduces a run (``argv`` as given to :func:`main`, else the process's)."""
    return "python -m ganeval.zoo.train " + shlex.join(sys.argv[1:] if argv is None else argv)


def _lr_at(step: int, steps: int, lr: float) -> float:
    """Cosine decay from ``lr`` to 5 % of it."""
    return lr * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * step / max(steps, 1))))


def _save_safetensors(module: torch.nn.Module, path: Path) -> str:
    from safetensors.torch import save_file

    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    save_file(state, str(path))
    return sha256_file(path)


def train_classifier(
    out: Path,
    *,
    seed: int,
    steps: int,
    batch: int = 64,
    lr: float = 2e-3,
    eval_num: int = 4096,
    log_every: int = 100,
    command: str | None = None,
) -> dict[str, Any]:
    """Train :class:`ShapesClassifier` on ground-truth labels; write ``shapes-classifier.{safetensors,json}``."""
    _check_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = ShapesClassifier(attribute_names=list(shapes.ATTRIBUTES))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    t0 = time.time()
    for step in range(steps):
        images, labels = shapes.render(np.arange(step * batch, (step + 1) * batch), seed)
        for group in opt.param_groups:
            group["lr"] = _lr_at(step, steps, lr)
        loss = F.binary_cross_entropy_with_logits(model(images), labels.float())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % log_every == 0 or step == steps - 1:
            print(f"[classifier] step {step} loss {loss.item():.4f} t {time.time() - t0:.0f}s", flush=True)
    wall = time.time() - t0
    model.eval()
    accuracy = evaluate_classifier(model, num=eval_num, seed=EVAL_SEED)
    sha = _save_safetensors(model, out / "shapes-classifier.safetensors")
    card = {
        "name": "shapes-classifier",
        "kind": "classifier",
        "file": "shapes-classifier.safetensors",
        "sha256": sha,
        "description": "Attribute classifier for the procedural shapes dataset (ganeval.zoo.shapes), "
        "one logit per attribute; features() gives the 128-d penultimate layer.",
        "architecture": "ganeval.zoo.networks.ShapesNet",
        "init_kwargs": model.init_kwargs,
        "attribute_names": list(shapes.ATTRIBUTES),
        "input_resolution": shapes.RESOLUTION,
        "feature_dim": model.init_kwargs["feature_dim"],
        "training": {
            "command": command or _command(),
            "seed": seed,
            "steps": steps,
            "batch": batch,
            "lr": lr,
            "optimizer": "Adam, cosine decay",
            "data": f"shapes.render(seed={seed}), fresh per step",
            "wall_time_s": round(wall, 1),
            "threads": torch.get_num_threads(),
        },
        "quality": {
            "eval_seed": EVAL_SEED,
            "eval_num": eval_num,
            "per_attribute_accuracy": accuracy,
            "min_accuracy": min(accuracy.values()),
        },
    }
    write_card(out / "shapes-classifier.json", card)
    print(json.dumps(card["quality"], indent=1), flush=True)
    return card


def train_perceptual(
    out: Path,
    *,
    seed: int,
    steps: int,
    batch: int = 64,
    lr: float = 2e-3,
    log_every: int = 100,
    command: str | None = None,
) -> dict[str, Any]:
    """Train the perceptual trunk (attributes + scene geometry/colour regression); write ``shapes-perceptual.*``."""
    _check_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    num_attr = len(shapes.ATTRIBUTES)
    model = ShapesPerceptual(num_outputs=num_attr + len(REGRESSION_TARGETS))
    net = model.net
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    t0 = time.time()
    for step in range(steps):
        idx = np.arange(step * batch, (step + 1) * batch)
        images, labels = shapes.render(idx, seed)
        target = regression_targets(idx, seed)
        for group in opt.param_groups:
            group["lr"] = _lr_at(step, steps, lr)
        pred = net(images)
        loss_attr = F.binary_cross_entropy_with_logits(pred[:, :num_attr], labels.float())
        loss_reg = F.mse_loss(pred[:, num_attr:], target)
        loss = loss_attr + loss_reg
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % log_every == 0 or step == steps - 1:
            print(
                f"[perceptual] step {step} bce {loss_attr.item():.4f} mse {loss_reg.item():.4f} "
                f"t {time.time() - t0:.0f}s",
                flush=True,
            )
    wall = time.time() - t0
    model.eval()
    sha = _save_safetensors(model, out / "shapes-perceptual.safetensors")
    card = {
        "name": "shapes-perceptual",
        "kind": "distance",
        "file": "shapes-perceptual.safetensors",
        "sha256": sha,
        "display_name": ShapesPerceptual.name,
        "description": "LPIPS-style distance on a CNN trained on the shapes dataset (NOT LPIPS-VGG16): "
        "unit-normalised features of 3 stages, squared differences, per-channel weights "
        "(uniform 1, not fitted to human judgements), spatial mean, sum over stages.",
        "architecture": "ganeval.zoo.perceptual.ShapesPerceptual",
        "init_kwargs": model.init_kwargs,
        "input_resolution": shapes.RESOLUTION,
        "training": {
            "command": command or _command(),
            "seed": seed,
            "steps": steps,
            "batch": batch,
            "lr": lr,
            "objective": "BCE on the 11 attributes + MSE on " + ", ".join(REGRESSION_TARGETS),
            "wall_time_s": round(wall, 1),
            "threads": torch.get_num_threads(),
        },
    }
    write_card(out / "shapes-perceptual.json", card)
    return card


# ---------------------------------------------------------------------------------------------- generator


def _mixed_ws(
    G: StyleGAN | TraditionalGenerator, z: torch.Tensor, z2: torch.Tensor, prob: float, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """ws for z, with the layers from a random cutoff on taken from z2 (probability ``prob``); also the unmixed ws."""
    ws = G.mapping(z)
    out = ws
    if prob > 0 and torch.rand((), generator=gen).item() < prob:
        cutoff = int(torch.randint(1, G.num_ws, (), generator=gen).item())
        ws2 = G.mapping(z2)
        out = torch.cat([ws[:, :cutoff], ws2[:, cutoff:]], dim=1)
    return out, ws


def _build_generator(
    arch: str,
    *,
    z_dim: int,
    w_dim: int,
    mapping_layers: int,
    mapping_lr_mul: float,
    fmap_base: int,
    fmap_max: int,
) -> StyleGAN | TraditionalGenerator:
    """The zoo generator of ``arch`` ("stylegan" or "traditional") at the shapes resolution."""
    if arch == "traditional":
        from ..models.traditional import TraditionalGenerator

        return TraditionalGenerator(
            z_dim=z_dim, img_resolution=shapes.RESOLUTION, fmap_base=fmap_base, fmap_max=fmap_max
        )
    from ..models.stylegan import StyleGAN

    return StyleGAN(
        z_dim=z_dim,
        w_dim=w_dim,
        img_resolution=shapes.RESOLUTION,
        mapping_layers=mapping_layers,
        mapping_lr_mul=mapping_lr_mul,
        fmap_base=fmap_base,
        fmap_max=fmap_max,
    )


def train_generator(
    out: Path,
    *,
    seed: int,
    steps: int,
    batch: int = 32,
    lr: float = 2e-3,
    r1_gamma: float = 1.0,
    r1_every: int = 16,
    mixing_prob: float = 0.9,
    ema_kimg: float = 2.0,
    z_dim: int = 64,
    w_dim: int = 64,
    mapping_layers: int = 8,
    mapping_lr_mul: float = 0.01,
    fmap_base: int = 256,
    fmap_max: int = 64,
    d_widths: Sequence[int] = (16, 32, 64, 64),
    mbstd_group: int = 4,
    ckpt_every: int = 250,
    resume: bool = False,
    log_every: int = 50,
    max_minutes: float | None = None,
    arch: str = "stylegan",
    eval_every: int = 0,
    eval_num: int = 1024,
    snapshot_every: int = 0,
    command: str | None = None,
) -> Path:
    """Train a zoo generator (StyleGAN v1 or the traditional baseline) on shapes renders.

    Returns the path of ``OUT/checkpoint.pt``. The checkpoint (written every ``ckpt_every``
    steps, at the end, and when ``max_minutes`` of wall time are used up) holds G, the EMA copy
    G_ema, D, optimiser and RNG states; :func:`export_generator` turns its G_ema into the shipped
    native weights and card. ``eval_every > 0`` appends :func:`generator_quality` of G_ema
    (``eval_num`` images) to ``OUT/history.jsonl`` at those steps; ``snapshot_every > 0`` keeps
    a copy ``OUT/checkpoint-<step>.pt`` at those steps (for comparisons at equal budgets).
    """
    _check_seed(seed)
    if arch == "traditional" and mixing_prob > 0:
        raise GanevalValueError("The traditional generator has no per-layer styles to mix: pass --mixing-prob 0.")
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    G = _build_generator(
        arch,
        z_dim=z_dim,
        w_dim=w_dim,
        mapping_layers=mapping_layers,
        mapping_lr_mul=mapping_lr_mul,
        fmap_base=fmap_base,
        fmap_max=fmap_max,
    )
    if len(d_widths) != 4:
        raise GanevalValueError(
            f"Argument `d_widths` must give 4 channel counts (32, 16, 8, 4 px), but got {list(d_widths)}."
        )
    D = Discriminator(widths=(d_widths[0], d_widths[1], d_widths[2], d_widths[3]), mbstd_group=mbstd_group)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.0, 0.99), eps=1e-8)
    # Lazy R1: scale the D step's betas/lr as in StyleGAN2 so lazy regularisation matches the eager one.
    c = r1_every / (r1_every + 1)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr * c, betas=(0.0, 0.99**c), eps=1e-8)
    gen = torch.Generator().manual_seed(seed)
    ema_beta = 0.5 ** (batch / (ema_kimg * 1000.0))
    start, wall_prev = 0, 0.0
    ckpt_path = out / "checkpoint.pt"
    if resume and ckpt_path.exists():
        state = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        G.load_state_dict(state["G"]), G_ema.load_state_dict(state["G_ema"]), D.load_state_dict(state["D"])
        opt_g.load_state_dict(state["opt_g"]), opt_d.load_state_dict(state["opt_d"])
        gen.set_state(state["gen"])
        torch.set_rng_state(state["torch_rng"])
        start, wall_prev = state["step"], state["wall_time_s"]
        print(f"[generator] resumed at step {start}", flush=True)
    t0 = time.time()
    config = dict(
        arch=arch,
        seed=seed,
        steps=steps,
        batch=batch,
        lr=lr,
        r1_gamma=r1_gamma,
        r1_every=r1_every,
        mixing_prob=mixing_prob,
        ema_kimg=ema_kimg,
        d_widths=list(d_widths),
        mbstd_group=mbstd_group,
        threads=torch.get_num_threads(),
    )
    classifier = None
    if eval_every > 0:
        from .classifier import load_zoo_classifier

        classifier = load_zoo_classifier("shapes-classifier")

    fixed_z = torch.randn(64, z_dim, generator=torch.Generator().manual_seed(seed + 1))

    def export(step: int) -> Path:
        wall = wall_prev + time.time() - t0
        torch.save(
            {
                "G": G.state_dict(),
                "G_ema": G_ema.state_dict(),
                "D": D.state_dict(),
                "opt_g": opt_g.state_dict(),
                "opt_d": opt_d.state_dict(),
                "gen": gen.get_state(),
                "torch_rng": torch.get_rng_state(),
                "step": step,
                "wall_time_s": wall,
                "G_init_kwargs": G.init_kwargs,
                "config": config,
                "command": command or _command(),
            },
            ckpt_path.with_suffix(".tmp"),
        )
        ckpt_path.with_suffix(".tmp").replace(ckpt_path)
        if snapshot_every > 0 and step % snapshot_every == 0:
            shutil.copyfile(ckpt_path, out / f"checkpoint-{step}.pt")
        if classifier is not None and step % eval_every == 0:
            with torch.random.fork_rng(devices=[]):  # the evaluation's noise must not shift training's RNG
                quality = generator_quality(G_ema, classifier, num=eval_num, seed=seed + 7)
            if G_ema.has_w_space:  # the mapping network can collapse W onto a few directions
                quality["w_participation_ratio"] = round(w_participation_ratio(G_ema, seed=seed + 7), 2)
            with open(out / "history.jsonl", "a") as fh:
                fh.write(
                    json.dumps({"step": step, "images_seen": step * batch, "wall_time_s": round(wall, 1), **quality})
                    + "\n"
                )
            print(
                f"[generator] step {step} FD {quality['frechet_classifier_features']:.1f} "
                f"confident {quality['confident_fraction_generated']:.3f}",
                flush=True,
            )
        with torch.no_grad():
            _save_grid(G_ema(fixed_z, noise_mode="const"), out / "samples_latest.png")
        print(f"[generator] checkpoint at step {step}, {wall:.0f}s", flush=True)
        return ckpt_path

    for step in range(start, steps):
        real, _ = shapes.render(np.arange(step * batch, (step + 1) * batch), seed)
        z = torch.randn(4, batch, z_dim, generator=gen)

        # D step: non-saturating logistic loss, lazy R1 on reals.
        with torch.no_grad():
            ws, _ = _mixed_ws(G, z[0], z[1], mixing_prob, gen)
            fake = G.synthesis(ws, noise_mode="random")
        do_r1 = r1_gamma > 0 and step % r1_every == 0
        real_in = real.detach().requires_grad_(do_r1)
        d_real, d_fake = D(real_in), D(fake)
        loss_d = F.softplus(d_fake).mean() + F.softplus(-d_real).mean()
        if do_r1:
            (grad,) = torch.autograd.grad(d_real.sum(), real_in, create_graph=True)
            loss_d = loss_d + grad.square().sum(dim=(1, 2, 3)).mean() * (r1_gamma / 2) * r1_every
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        # G step: non-saturating loss; w_avg tracks the unmixed ws.
        ws, ws_plain = _mixed_ws(G, z[2], z[3], mixing_prob, gen)
        G.update_w_avg(ws_plain.detach(), beta=0.995)
        loss_g = F.softplus(-D(G.synthesis(ws, noise_mode="random"))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

        with torch.no_grad():
            for p_ema, p in zip(G_ema.parameters(), G.parameters()):
                p_ema.lerp_(p, 1.0 - ema_beta)
            for b_ema, b in zip(G_ema.buffers(), G.buffers()):
                b_ema.copy_(b)
        if step % log_every == 0:
            print(
                f"[generator] step {step} loss_d {loss_d.item():.3f} loss_g {loss_g.item():.3f} "
                f"d_real {d_real.mean().item():.2f} d_fake {d_fake.mean().item():.2f} "
                f"t {wall_prev + time.time() - t0:.0f}s",
                flush=True,
            )
        done = step + 1
        over_time = max_minutes is not None and (time.time() - t0) > 60 * max_minutes
        if done % ckpt_every == 0 or done == steps or over_time:
            export(done)
        if over_time:
            print(f"[generator] time budget of {max_minutes} min reached at step {done}", flush=True)
            break
    return ckpt_path


def _save_grid(images: torch.Tensor, path: Path, nrow: int = 8) -> None:
    """Save images ``[N, 3, H, W]`` in [-1, 1] as a PNG grid (1-px gaps)."""
    from torchvision.utils import save_image

    save_image(images.clamp(-1, 1) * 0.5 + 0.5, str(path), nrow=nrow, padding=1)


@torch.no_grad()
def generator_quality(
    G: StyleGAN | TraditionalGenerator,
    classifier: ShapesClassifier,
    *,
    num: int = 2048,
    seed: int = 0,
    batch: int = 256,
) -> dict[str, Any]:
    """Quality of a 32x32 shapes generator, judged by the zoo classifier.

    Returns the Fréchet distance between classifier features (``features()``, 128-d) of ``num``
    generated images (z ~ N(0, I) from ``seed``, no truncation, random noise) and ``num`` real
    renders of :data:`EVAL_SEED`; the same distance between two disjoint real sets (the floor
    due to sampling); and the fraction of images whose every attribute probability is
    confident (|p - 0.5| > 0.4), for generated and for real images.
    """
    from ..metrics.frechet import frechet_distance

    def stats(feats: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        f = feats.double().numpy()
        return f.mean(0), np.cov(f, rowvar=False)

    gen = torch.Generator().manual_seed(seed)
    fake_f: list[torch.Tensor] = []
    real_f: list[torch.Tensor] = []
    real2_f: list[torch.Tensor] = []
    fake_conf: list[torch.Tensor] = []
    real_conf: list[torch.Tensor] = []
    for start in range(0, num, batch):
        n = min(batch, num - start)
        fake = G(torch.randn(n, G.z_dim, generator=gen), noise_mode="random")
        real, _ = shapes.render(np.arange(start, start + n), EVAL_SEED)
        real2, _ = shapes.render(np.arange(num + start, num + start + n), EVAL_SEED)
        for images, feats, conf in ((fake, fake_f, fake_conf), (real, real_f, real_conf), (real2, real2_f, None)):
            f = classifier.features(images)
            feats.append(f)
            if conf is not None:
                p = torch.sigmoid(classifier.head(f))
                conf.append(((p - 0.5).abs() > 0.4).all(dim=1))
    mu_f, s_f = stats(torch.cat(fake_f))
    mu_r, s_r = stats(torch.cat(real_f))
    mu_r2, s_r2 = stats(torch.cat(real2_f))
    return {
        "frechet_classifier_features": round(frechet_distance(mu_f, s_f, mu_r, s_r), 4),
        "frechet_real_vs_real": round(frechet_distance(mu_r2, s_r2, mu_r, s_r), 4),
        "confident_fraction_generated": round(float(torch.cat(fake_conf).float().mean()), 4),
        "confident_fraction_real": round(float(torch.cat(real_conf).float().mean()), 4),
        "num": num,
        "eval_seed": EVAL_SEED,
        "z_seed": seed,
        "confidence_rule": "all attributes |p - 0.5| > 0.4",
        "feature_network": "zoo:shapes-classifier features() (128-d)",
    }


@torch.no_grad()
def w_participation_ratio(G: StyleGAN | TraditionalGenerator, *, num: int = 4096, seed: int = 0) -> float:
    """Effective dimension of W: the participation ratio ``(sum l)^2 / sum l^2`` of the covariance
    eigenvalues ``l`` of ``num`` mapped latents (z ~ N(0, I) from ``seed``).

    1 when W lies on a line, ``w_dim`` when it is isotropic. A training diagnostic: a mapping network
    that learns too fast can collapse W onto a few directions, and the generator's diversity with it.
    """
    z = torch.randn(num, G.z_dim, generator=torch.Generator().manual_seed(seed))
    w = G.mapping(z)[:, 0].double()
    eig = torch.linalg.svdvals(w - w.mean(0)).square()
    return float(eig.sum().square() / eig.square().sum())


@torch.no_grad()
def _mixing_grid(G: StyleGAN | TraditionalGenerator, path: Path, seed: int, num: int = 6) -> None:
    """Style-mixing figure: row 0 = sources A, column 0 = sources B; cell = B with A's coarse (4-8 px) styles."""
    gen = torch.Generator().manual_seed(seed)
    ws_a = G.mapping(torch.randn(num, G.z_dim, generator=gen))
    ws_b = G.mapping(torch.randn(num, G.z_dim, generator=gen))
    coarse = sum(1 for r in G.ws_resolutions if r <= 8)
    img_a, img_b = G.synthesis(ws_a), G.synthesis(ws_b)
    cells = [torch.ones_like(img_a[:1]), *img_a.split(1)]
    for j in range(num):
        mixed = torch.cat([ws_a[:, :coarse], ws_b[j : j + 1, coarse:].expand(num, -1, -1)], dim=1)
        cells += [img_b[j : j + 1], *G.synthesis(mixed).split(1)]
    _save_grid(torch.cat(cells), path, nrow=num + 1)


#: arch -> (default zoo name, card description, architecture class)
_GENERATOR_CARDS: dict[str, tuple[str, str, str]] = {
    "stylegan": (
        "shapes-stylegan",
        "StyleGAN (v1) trained by ganeval on the procedural 32x32 shapes dataset (ganeval.zoo.shapes); EMA weights.",
        "ganeval.models.stylegan.StyleGAN",
    ),
    "traditional": (
        "shapes-traditional",
        "The StyleGAN paper's traditional generator (z at the input layer, no "
        "mapping network, styles or noise; Table 4's 'traditional, 0 mapping layers') trained by ganeval "
        "exactly like zoo:shapes-stylegan except for style mixing, which it cannot do; EMA weights.",
        "ganeval.models.traditional.TraditionalGenerator",
    ),
}


def _card_description(arch: str, init_kwargs: dict[str, Any]) -> str:
    """The card's description: the architecture's, plus the mapping network's depth for style-based ones."""
    text = _GENERATOR_CARDS[arch][1]
    if arch == "stylegan":
        text += (
            f" Mapping network: {init_kwargs['mapping_layers']} dense layers, "
            f"learning-rate multiplier {init_kwargs['mapping_lr_mul']:g}."
        )
    return text


def _check_card_name(name: str) -> str:
    """A zoo card name: ``shapes-`` and lower-case letters, digits and hyphens (it names files and ``zoo:`` ids)."""
    import re

    if not re.fullmatch(r"shapes-[a-z0-9]+(-[a-z0-9]+)*", name):
        raise GanevalValueError(
            "Argument `name` must be 'shapes-' followed by lower-case letters, digits and single hyphens "
            f"(e.g. 'shapes-stylegan-map2'), but got {name!r}."
        )
    return name


def _portable_command(command: str) -> str:
    """The training command with its ``--out`` folder written as ``RUN``: a card holds no machine paths."""
    words = shlex.split(command)
    for i, word in enumerate(words[:-1]):
        if word == "--out":
            words[i + 1] = "RUN"
    return shlex.join(words)


def _training_record(state: dict[str, Any], history: Path) -> dict[str, Any]:
    """The card's ``training`` field from a checkpoint (and its quality history, when recorded)."""
    cfg = state["config"]
    record: dict[str, Any] = {
        "command": _portable_command(state["command"]),
        "seed": cfg["seed"],
        "steps_done": state["step"],
        "steps_planned": cfg["steps"],
        "batch": cfg["batch"],
        "images_seen": state["step"] * cfg["batch"],
        "loss": "non-saturating logistic, lazy R1 on reals",
        "r1_gamma": cfg["r1_gamma"],
        "r1_every": cfg["r1_every"],
        "optimizer": f"Adam lr {cfg['lr']} betas (0, 0.99)",
        "style_mixing_prob": cfg["mixing_prob"],
        "w_avg_beta": 0.995,
        "ema_kimg": cfg["ema_kimg"],
        "wall_time_s": round(state["wall_time_s"], 1),
        "threads": cfg.get("threads"),
    }
    if history.exists():
        rows = [json.loads(line) for line in history.read_text().splitlines() if line.strip()]
        keys = ("step", "images_seen", "frechet_classifier_features", "confident_fraction_generated")
        record["quality_history"] = [
            {k: row[k] for k in (*keys, "w_participation_ratio") if k in row}
            for row in rows
            if row["step"] <= state["step"]
        ]
    return record


def export_generator(
    run: Path,
    out: Path,
    *,
    classifier_root: Path | None = None,
    quality_num: int = 2048,
    checkpoint: Path | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Turn a training run's checkpoint into the shipped ``out/<name>.{safetensors,json}`` (EMA weights).

    ``checkpoint`` defaults to ``run/checkpoint.pt`` (a snapshot ``run/checkpoint-<step>.pt``
    exports the run at an earlier, equal budget). ``<name>`` defaults to ``shapes-stylegan`` or
    ``shapes-traditional`` by the run's architecture (another name adds a variant to the zoo,
    e.g. ``shapes-stylegan-map2``). The JSON is the native-format config
    (readable by :func:`ganeval.models.native.load_native`) extended with the zoo card keys
    (name, kind, file, training, quality). Also writes ``<name>-samples.png`` (8x8, noise
    const) and, for the style-based generator, ``<name>-mixing.png``.
    """
    from ..models.native import architecture_class, native_paths, save_generator
    from .classifier import load_zoo_classifier

    state = torch.load(checkpoint or run / "checkpoint.pt", map_location="cpu", weights_only=True)
    cfg = state["config"]
    arch = cfg.get("arch", "stylegan")
    default_name, _, architecture = _GENERATOR_CARDS[arch]
    name = _check_card_name(name or default_name)
    G = architecture_class(arch)(**state["G_init_kwargs"])
    G.load_state_dict(state["G_ema"])
    G.eval().requires_grad_(False)
    classifier = load_zoo_classifier("shapes-classifier", root=classifier_root)
    quality = generator_quality(G, classifier, num=quality_num, seed=cfg["seed"] + 7)
    quality["classifier_min_accuracy"] = read_card_quality(classifier_root)
    weights = save_generator(G, out / name, provenance={"source": f"zoo:{name}", "trained_by": "ganeval.zoo.train"})
    _, config_path = native_paths(weights)
    config = json.loads(config_path.read_text())
    card = {
        "name": name,
        "kind": "generator",
        "file": weights.name,
        "sha256": config["sha256"],
        "description": _card_description(arch, state["G_init_kwargs"]),
        "architecture": architecture,
        "discriminator": {
            "class": "ganeval.zoo.networks.Discriminator",
            "widths": cfg["d_widths"],
            "mbstd_group": cfg.get("mbstd_group", 4),
        },
        "training": _training_record(state, run / "history.jsonl"),
        "quality": quality,
        **config,
    }
    write_card(config_path, card)
    with torch.no_grad():
        z = torch.randn(64, G.z_dim, generator=torch.Generator().manual_seed(cfg["seed"] + 1))
        _save_grid(G(z, noise_mode="const"), out / f"{name}-samples.png")
    if G.has_w_space:
        _mixing_grid(G, out / f"{name}-mixing.png", seed=cfg["seed"] + 2)
    print(json.dumps(quality, indent=1), flush=True)
    return card


def plot_training_curves(root: Path) -> Path:
    """Write ``root/shapes-training-curves.png``: each zoo generator's recorded quality history.

    Two panels against images seen: the Fréchet distance in classifier features (log scale,
    with the card's real-versus-real floor) and the confidently classified fraction (with the
    real renders' fraction). Reads only the cards, so it can be redrawn from a clone.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ._load import generator_card_names, read_card

    fig, (ax_fd, ax_conf) = plt.subplots(1, 2, figsize=(10, 3.6))
    floor = None
    for name in generator_card_names(root):
        card = read_card(name, root)
        rows = card["training"].get("quality_history", [])
        if not rows:
            continue
        kimg = [r["images_seen"] / 1000 for r in rows]
        ax_fd.plot(kimg, [r["frechet_classifier_features"] for r in rows], marker=".", label=f"zoo:{name}")
        ax_conf.plot(kimg, [r["confident_fraction_generated"] for r in rows], marker=".", label=f"zoo:{name}")
        floor = card["quality"]
    if floor is not None:
        ax_fd.axhline(floor["frechet_real_vs_real"], color="gray", ls="--", lw=1, label="real vs real")
        ax_conf.axhline(floor["confident_fraction_real"], color="gray", ls="--", lw=1, label="real renders")
    ax_fd.set(
        xlabel="training images (thousands)",
        ylabel="FD in classifier features",
        yscale="log",
        title="Fréchet distance (lower is better)",
    )
    ax_conf.set(
        xlabel="training images (thousands)",
        ylabel="fraction",
        ylim=(0, 1),
        title="confidently classified (higher is better)",
    )
    for ax in (ax_fd, ax_conf):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = root / "shapes-training-curves.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def read_card_quality(root: Path | None) -> float:
    """The classifier card's minimum per-attribute accuracy."""
    from ._load import read_card

    return float(read_card("shapes-classifier", root)["quality"]["min_accuracy"])


def write_readme(root: Path) -> Path:
    """Write ``root/README.md``: the attribute table (definitions, frequencies, classifier accuracy) and
    model summaries."""
    from ._load import generator_card_names, read_card

    freq = shapes.attribute_frequencies(100_000, seed=0)
    clf, per = read_card("shapes-classifier", root), read_card("shapes-perceptual", root)
    gens = [read_card(name, root) for name in generator_card_names(root)]
    acc = clf["quality"]["per_attribute_accuracy"]
    doc = shapes.__doc__ or ""
    defs = {}
    for line in doc.splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[0].isdigit() and parts[1] in shapes.ATTRIBUTES:
            defs[parts[1]] = " ".join(parts[2:-1])
    lines = [
        "# ganeval zoo: models trained by ganeval on the procedural shapes dataset",
        "",
        "Everything here was trained on CPU by `python -m ganeval.zoo.train` on renders of",
        "`ganeval.zoo.shapes` (32x32 RGB, chosen so a GAN trains in one to two hours on one CPU core).",
        'Load by name: `ganeval.load_generator("zoo:shapes-stylegan")`, '
        '`ganeval.load_classifier("zoo:shapes-classifier")`,',
        '`ganeval.load_distance("zoo:shapes-perceptual")`. Each `<name>.json` card records the architecture,',
        "the training command, seed, wall time, the sha256 of `<name>.safetensors` (checked on load) "
        "and measured quality.",
        "",
        "**`zoo:shapes-perceptual` is NOT LPIPS-VGG16**: it is an LPIPS-style distance on a small CNN trained on",
        "these shapes, with uniform channel weights. PPL numbers computed with it are comparable only with each other.",
        "",
        f"## Attributes (frequency over 100k renders, seed 0; classifier accuracy on {clf['quality']['eval_num']} "
        f"unseen renders, seed {clf['quality']['eval_seed']})",
        "",
        "| idx | attribute | definition | frequency | classifier accuracy |",
        "|---:|---|---|---:|---:|",
    ]
    for k, a in enumerate(shapes.ATTRIBUTES):
        lines.append(f"| {k} | `{a}` | {defs.get(a, '')} | {freq[a]:.3f} | {acc[a]:.4f} |")
    lines += [
        "",
        "Correlations: see the `ganeval.zoo.shapes` docstring (outline|square, upper|large, dark|warm, dot|small).",
        "",
        "## Models",
        "",
    ]
    for card in (*gens, clf, per):
        t = card["training"]
        lines.append(f"- `zoo:{card['name']}` ({card['kind']}): {card['description']}  ")
        lines.append(
            f"  trained with `{t['command']}` in {t['wall_time_s'] / 60:.1f} min; sha256 `{card['sha256'][:16]}...`"
        )
        if card["kind"] == "generator":
            q = card["quality"]
            lines.append(
                f"  Fréchet distance in classifier-feature space, generated vs real: "
                f"{q['frechet_classifier_features']} (real vs real: {q['frechet_real_vs_real']}); "
                f"confidently classified: {q['confident_fraction_generated']:.3f} generated vs "
                f"{q['confident_fraction_real']:.3f} real ({q['confidence_rule']})."
            )
            figures = f"  Samples: `{card['name']}-samples.png`"
            if (root / f"{card['name']}-mixing.png").exists():
                figures += (
                    f"; style mixing (top row A, left column B, cells: B with A's 4-8 px styles): "
                    f"`{card['name']}-mixing.png`"
                )
            lines.append(figures + ".")
    path = root / "README.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ganeval.zoo.train", description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["generator", "classifier", "perceptual", "export-generator", "readme", "curves"])
    p.add_argument("--run", type=Path, default=None, help="export-generator: the training run folder")
    p.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="export-generator: a snapshot of the run to export (default RUN/checkpoint.pt)",
    )
    p.add_argument(
        "--name",
        default=None,
        help="export-generator: zoo name of the card (default shapes-stylegan / shapes-traditional by architecture)",
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--ckpt-every", type=int, default=250, help="generator: checkpoint/export period in steps")
    p.add_argument("--resume", action="store_true", help="generator: continue from OUT/checkpoint.pt")
    p.add_argument("--r1-gamma", type=float, default=1.0)
    p.add_argument("--arch", choices=["stylegan", "traditional"], default="stylegan", help="generator: architecture")
    p.add_argument("--mixing-prob", type=float, default=0.9, help="generator: style-mixing probability")
    p.add_argument("--ema-kimg", type=float, default=2.0, help="generator: EMA half-life in thousands of images")
    p.add_argument("--mapping-layers", type=int, default=8, help="generator (stylegan): mapping depth")
    p.add_argument("--eval-every", type=int, default=0, help="generator: log quality to history.jsonl this often")
    p.add_argument("--snapshot-every", type=int, default=0, help="generator: keep checkpoint-<step>.pt this often")
    p.add_argument(
        "--mapping-lr-mul", type=float, default=0.01, help="generator (stylegan): mapping learning-rate multiplier"
    )
    p.add_argument("--fmap-base", type=int, default=256)
    p.add_argument("--fmap-max", type=int, default=64)
    p.add_argument("--mbstd-group", type=int, default=4, help="generator: D minibatch-stddev group size")
    p.add_argument("--d-widths", type=str, default="16,32,64,64", help="generator: D channels at 32,16,8,4 px")
    p.add_argument("--max-minutes", type=float, default=None, help="generator: stop (and checkpoint) after this")
    p.add_argument(
        "--eval-num",
        type=int,
        default=4096,
        help="classifier: renders for the accuracy check; generator: images per quality evaluation",
    )
    return p


def main(argv: Sequence[str] | None = None) -> dict[str, Any] | Path:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.what == "readme":
        return {"readme": str(write_readme(args.out))}
    if args.what == "curves":
        return {"curves": str(plot_training_curves(args.out))}
    if args.what == "export-generator":
        if args.run is None:
            parser.error("export-generator needs --run")
        return export_generator(args.run, args.out, checkpoint=args.checkpoint, name=args.name)
    if args.seed is None or args.steps is None:
        parser.error(f"{args.what} needs --seed and --steps")
    if args.threads:
        torch.set_num_threads(args.threads)
    common: dict[str, Any] = {"seed": args.seed, "steps": args.steps, "command": _command(argv)}
    if args.batch:
        common["batch"] = args.batch
    if args.lr:
        common["lr"] = args.lr
    if args.what == "classifier":
        return train_classifier(args.out, eval_num=args.eval_num, **common)
    if args.what == "perceptual":
        return train_perceptual(args.out, **common)
    return train_generator(
        args.out,
        ckpt_every=args.ckpt_every,
        resume=args.resume,
        r1_gamma=args.r1_gamma,
        fmap_base=args.fmap_base,
        max_minutes=args.max_minutes,
        arch=args.arch,
        mixing_prob=args.mixing_prob,
        ema_kimg=args.ema_kimg,
        mapping_layers=args.mapping_layers,
        mapping_lr_mul=args.mapping_lr_mul,
        fmap_max=args.fmap_max,
        mbstd_group=args.mbstd_group,
        eval_every=args.eval_every,
        snapshot_every=args.snapshot_every,
        eval_num=args.eval_num,
        d_widths=tuple(int(v) for v in args.d_widths.split(",")),
        **common,
    )


if __name__ == "__main__":
    main()

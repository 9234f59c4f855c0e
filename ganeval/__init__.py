"""ganeval: measure and explain the latent spaces of StyleGAN-family generators.

Importing this package does no I/O, no downloads and no CUDA initialisation, and prints
nothing: every public name is resolved lazily on first access.

>>> import ganeval
>>> G = ganeval.load_generator("zoo:shapes-stylegan")        # doctest: +SKIP
>>> result = ganeval.ppl(G, space="w", num_samples=1000)     # doctest: +SKIP
>>> result.to_frame()                                        # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

# public name -> module that defines it
_LAZY: dict[str, str] = {
    # errors
    "GanevalError": "ganeval.errors",
    "GanevalValueError": "ganeval.errors",
    "CheckpointError": "ganeval.errors",
    "UnsafePickleError": "ganeval.errors",
    "ChecksumError": "ganeval.errors",
    "WeightsNotFoundError": "ganeval.errors",
    "OfflineError": "ganeval.errors",
    # generators
    "GeneratorProtocol": "ganeval.models.base",
    "StyleGAN": "ganeval.models.stylegan",
    "StyleGAN2": "ganeval.models.stylegan2",
    "StyleGAN3": "ganeval.models.stylegan3",
    "ZOnlyGenerator": "ganeval.models.adapter",
    "load_generator": "ganeval.loaders",
    "save_generator": "ganeval.models.native",
    "mix_styles": "ganeval.models.control",
    "layer_groups": "ganeval.models.control",
    "make_noise": "ganeval.models.control",
    # results
    "MetricResult": "ganeval.results",
    "load_results": "ganeval.results",
    "replay": "ganeval._replay",
    "ReplayOutcome": "ganeval._replay",
    # metrics
    "ppl": "ganeval.metrics.ppl",
    "PPL_PRESETS": "ganeval.metrics.ppl",
    "separability": "ganeval.metrics.separability",
    "fid": "ganeval.metrics.fid",
    "kid": "ganeval.metrics.fid",
    "precision_recall": "ganeval.metrics.fid",
    "inception_score": "ganeval.metrics.fid",
    "frechet_distance": "ganeval.metrics.frechet",
    "equivariance": "ganeval.metrics.equivariance",
    "eqt_int": "ganeval.metrics.equivariance",
    "eqt_frac": "ganeval.metrics.equivariance",
    "eqr": "ganeval.metrics.equivariance",
    "EQ_PRESETS": "ganeval.metrics.equivariance",
    # networks used by metrics
    "load_distance": "ganeval.distances",
    "load_classifier": "ganeval.classifiers",
    "load_extractor": "ganeval.features",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ganeval' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

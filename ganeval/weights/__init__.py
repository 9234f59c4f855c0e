"""Weights registry: typed entries, one cache root, verified atomic downloads, offline mode.

>>> from ganeval import weights
>>> weights.get_entry("stylegan2-ffhq-config-f").urls[0]
'https://nvlabs-fi-cdn.nvidia.com/stylegan2/networks/stylegan2-ffhq-config-f.pkl'
>>> path = weights.resolve("zoo:shapes-stylegan")     # doctest: +SKIP

Network code lives only in :mod:`ganeval.weights.download`.
"""

from ._catalog import CELEBAHQ_ATTRIBUTES
from ._entry import FORMATS, KINDS, WeightsEntry
from ._registry import (
    VerifyResult,
    cache_root,
    get_entry,
    is_cached,
    is_offline,
    list_entries,
    load_zoo_cards,
    local_path,
    register,
    resolve,
    sha256_file,
    unregister,
    verify,
    weights_dir,
)

__all__ = [
    "CELEBAHQ_ATTRIBUTES",
    "FORMATS",
    "KINDS",
    "VerifyResult",
    "WeightsEntry",
    "cache_root",
    "get_entry",
    "is_cached",
    "is_offline",
    "list_entries",
    "load_zoo_cards",
    "local_path",
    "register",
    "resolve",
    "sha256_file",
    "unregister",
    "verify",
    "weights_dir",
]

"""Names changed so that ``protocol`` means one thing: a whole, named evaluation procedure.

``protocol`` is kept for the complete procedures behind a number (``docs/protocols.md``; the
presets such as ``ppl_wend`` or ``ls_stylegan`` name them). Three settings that were also
called ``protocol`` have their own names after 0.1.0:

- PPL: ``downsample`` (``"tf"`` | ``"ada-pytorch"``), which resolution the box-downsampling
  factor is taken from;
- separability: ``split`` (``"stylegan"`` | ``"heldout"``), which points the SVM is scored on;
- FID, KID, precision/recall, IS and feature statistics: ``resize`` (``"tf"`` | ``"pytorch-fid"``
  | ``"clean"`` | ``"torchmetrics"``), how images reach the extractor's input size.

The old keyword (``protocol=``) still works for this release with a :class:`DeprecationWarning`
(for the programmer), the old CLI option (``--protocol``) with a ``Warning:`` line and the old
report-config key with a :class:`FutureWarning` (both for the user, who sees them); result
configurations written before the rename are read back with the new keys by :func:`upgrade_config`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from .errors import GanevalValueError

__all__ = ["RENAMED_ARGUMENTS", "renamed_argument", "upgrade_config", "upgrade_options"]

#: metric family -> (old argument / config key, new one)
RENAMED_ARGUMENTS: dict[str, tuple[str, str]] = {
    "ppl": ("protocol", "downsample"),
    "separability": ("protocol", "split"),
    "fid": ("protocol", "resize"),
}


def renamed_argument(function: str, old: str, new: str, old_value: Any, new_value: Any, default: Any) -> Any:
    """The value of argument ``new`` of ``function`` when the caller may still use its old name ``old``.

    ``old_value`` is ``None`` when the old name was not used; ``default`` is the new argument's
    default (a given ``new_value`` equal to it counts as not given). Using the old name warns
    (:class:`DeprecationWarning`); giving both with different values raises.
    """
    if old_value is None:
        return new_value
    if new_value != default and new_value != old_value:
        raise GanevalValueError(
            f"Arguments `{old}` (the old name of `{new}`) and `{new}` disagree: {old_value!r} vs "
            f"{new_value!r}; pass only {new}={old_value!r}."
        )
    warnings.warn(
        f"{function}(): argument `{old}` is renamed `{new}`; `{old}` will be removed in the next release.",
        DeprecationWarning,
        stacklevel=3,
    )
    return old_value


def _family(config: Mapping[str, Any]) -> str | None:
    """Which metric family wrote a result configuration, told by the keys only that family writes."""
    if "extractor" in config:
        return "fid"
    if "solver" in config:
        return "separability"
    if "space" in config and "sampling" in config:
        return "ppl"
    return None


def upgrade_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A result configuration (``MetricResult.config``) with the key names of this release.

    Configurations written by 0.1.0 hold ``protocol`` where PPL now writes ``downsample``,
    separability ``split`` and the feature metrics ``resize``; other configurations are
    returned unchanged (as a new dict). The key's position is kept.
    """
    family = _family(config)
    if family is None or "protocol" not in config:
        return dict(config)
    old, new = RENAMED_ARGUMENTS[family]
    return {(new if k == old else k): v for k, v in config.items()}


def upgrade_options(metric: str, options: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Report-config options of ``metric`` with a renamed key replaced by its new name (a :class:`FutureWarning`,
    which reaches CLI users, unlike a :class:`DeprecationWarning`).

    ``where`` names the table in messages (e.g. ``metrics[0]``); both names given raises.
    """
    if metric not in RENAMED_ARGUMENTS:
        return dict(options)
    old, new = RENAMED_ARGUMENTS[metric]
    if old not in options:
        return dict(options)
    if new in options:
        raise GanevalValueError(
            f"Config table `{where}` gives both `{old}` (the old name of `{new}`) and `{new}`; keep only `{new}`."
        )
    warnings.warn(
        f"Config table `{where}`: key `{old}` is renamed `{new}`; `{old}` will be removed in the next release.",
        FutureWarning,
        stacklevel=3,
    )
    return {(new if k == old else k): v for k, v in options.items()}

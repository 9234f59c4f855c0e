"""The exception hierarchy.

Every error ganeval raises on purpose derives from :class:`GanevalError`. Subclasses also
inherit the builtin they refine (``ValueError``, ``FileNotFoundError``, ...), so callers that
catch the builtin keep working. Messages follow one pattern: what was wrong, what was
expected, what was given, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "GanevalError",
    "GanevalValueError",
    "GanevalTypeError",
    "CheckpointError",
    "UnsafePickleError",
    "ChecksumError",
    "WeightsNotFoundError",
    "OfflineError",
    "NonFiniteOutputError",
    "UnsupportedGeneratorError",
    "OutputError",
    "RunFolderMismatchError",
]


class GanevalError(Exception):
    """Base class of every error raised deliberately by ganeval."""


class GanevalValueError(GanevalError, ValueError):
    """An argument has the right type but an invalid value (shape, range, NaN, ...)."""


class GanevalTypeError(GanevalError, TypeError):
    """An argument has the wrong type."""


class UnsupportedGeneratorError(GanevalValueError):
    """The generator lacks a capability the operation needs (e.g. a mapping network for W)."""


class CheckpointError(GanevalError, ValueError):
    """A checkpoint file could not be read: truncated, unknown format, mismatched shapes."""


class UnsafePickleError(CheckpointError):
    """A pickle references a global outside the allow-list; nothing from it was executed."""


class ChecksumError(GanevalError, ValueError):
    """A weights file's sha256 (or size) differs from the registry's record."""


class WeightsNotFoundError(GanevalError, FileNotFoundError):
    """A weights file is missing from the cache and cannot be downloaded."""


class OfflineError(WeightsNotFoundError):
    """A download was needed while offline mode (``GANEVAL_OFFLINE=1`` / ``--offline``) is on."""


class NonFiniteOutputError(GanevalError, FloatingPointError):
    """A generator or distance produced NaN or Inf values."""


class OutputError(GanevalError, OSError):
    """An output folder cannot be written (read-only, missing permissions, disk full)."""


class RunFolderMismatchError(GanevalValueError):
    """A run folder holds chunks of a run with a different configuration; they are not mixed in."""

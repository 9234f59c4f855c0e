"""One registry of named things: generators, distances, classifiers, feature extractors, datasets.

Every name a user can pass as a string (``"lpips-vgg16"``, ``"zoo:shapes-classifier"``,
``"stylegan2-ffhq-config-f"``, ``"zoo:shapes"``) is an :class:`Entry` here, and every loader
(:func:`ganeval.load_distance`, :func:`~ganeval.load_classifier`, :func:`~ganeval.load_extractor`,
:func:`~ganeval.load_generator`, the FID image sources) looks names up through :func:`get`,
which raises one error type, :class:`UnknownNameError`, listing the names of that kind.

A third-party package adds a name in one call (a factory builds the object on first use)::

    from ganeval.registry import register
    register("distance", "mypkg:pixel-l2", lambda: lambda a, b: (a - b).square().flatten(1).sum(1))

What a factory is called with and returns, per kind:

- ``generator``: ``factory() -> path`` of a checkpoint :func:`ganeval.load_generator` reads;
- ``distance``: ``factory() -> Distance | callable (img_a, img_b) -> [N]`` (images in [-1, 1]);
- ``classifier``: ``factory() -> AttributeClassifier | nn.Module`` with ``attribute_names`` and
  ``input_resolution``;
- ``extractor``: ``factory(device) -> nn.Module`` mapping images ``[N, 3, H, W]`` in [-1, 1] to ``[N, F]``;
- ``dataset``: ``factory(num, seed) -> ImageSet`` (real images; ``"<name>:N"`` asks for N of them).

Plugins. Low layers never import the packages that register names. On the first lookup (or
registration) the registry imports, by name, :data:`PLUGINS` (ganeval's built-in names, then the
zoo's) and then every ``ganeval.plugins`` entry point of the installed distributions; a plugin
module registers its names when imported (an entry point naming a callable has it called).
Importing this module imports nothing but :mod:`ganeval.errors`.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .errors import GanevalTypeError, GanevalValueError

__all__ = [
    "ENTRY_POINT_GROUP",
    "KINDS",
    "PLUGINS",
    "Entry",
    "Kind",
    "UnknownNameError",
    "create",
    "get",
    "has",
    "names",
    "register",
    "unknown",
    "unregister",
]

Kind = Literal["generator", "distance", "classifier", "extractor", "dataset"]
KINDS: tuple[str, ...] = ("generator", "distance", "classifier", "extractor", "dataset")

#: Plugin modules imported (in this order) before the first lookup: name -> module.
PLUGINS: dict[str, str] = {"ganeval": "ganeval._builtins", "zoo": "ganeval.zoo._register"}
#: Entry-point group through which installed distributions add their own plugin modules.
ENTRY_POINT_GROUP = "ganeval.plugins"


class UnknownNameError(GanevalValueError):
    """A name is not registered for its kind; the message lists the names that are."""


@dataclass(frozen=True)
class Entry:
    """One registered name.

    Attributes:
        kind: one of :data:`KINDS`.
        name: the name users pass (unique per kind).
        factory: builds the object (call convention per kind: see the module docstring).
        description: one line shown in listings.
    """

    kind: str
    name: str
    factory: Callable[..., Any]
    description: str = ""


_ENTRIES: dict[str, dict[str, Entry]] = {k: {} for k in KINDS}
_plugins_state = "pending"  # -> "loading" -> "loaded"


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise GanevalValueError(f"Argument `kind` must be one of {', '.join(KINDS)}, but got {kind!r}.")
    return kind


def _load_plugins() -> None:
    """Import the plugin modules once; registrations made while they load do not recurse here."""
    global _plugins_state
    if _plugins_state != "pending":
        return
    _plugins_state = "loading"
    try:
        for module in PLUGINS.values():
            importlib.import_module(module)
        _load_entry_points()
    except BaseException:
        _plugins_state = "pending"  # the next lookup raises the same error instead of missing names
        raise
    _plugins_state = "loaded"


def _load_entry_points() -> None:
    """Import every ``ganeval.plugins`` entry point; a broken third-party plugin warns, never breaks ganeval."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            if callable(obj):
                obj()
        except Exception as exc:  # any failure of foreign code is reported, not raised
            warnings.warn(
                f"ganeval plugin {ep.name!r} ({ep.value}) failed to load, its names are unavailable: "
                f"{type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=2,
            )


def register(
    kind: Kind | str, name: str, factory: Callable[..., Any], *, description: str = "", replace: bool = False
) -> Entry:
    """Register ``factory`` under ``name`` for ``kind``; returns the entry.

    Raises:
        GanevalValueError: unknown kind, empty name, or ``name`` already registered for ``kind``
            (pass ``replace=True`` to replace it).
        GanevalTypeError: ``factory`` is not callable.
    """
    _check_kind(kind)
    if not isinstance(name, str) or not name.strip():
        raise GanevalValueError(f"Argument `name` must be a non-empty string, but got {name!r}.")
    if not callable(factory):
        raise GanevalTypeError(f"Argument `factory` must be callable, but got {type(factory).__name__}.")
    _load_plugins()  # a user's name that clashes with a plugin's is refused here, not when the plugin loads
    if name in _ENTRIES[kind] and not replace:
        raise GanevalValueError(
            f"Argument `name` is {name!r}, which is already registered as a {kind}; pass replace=True to replace it."
        )
    entry = Entry(kind, name, factory, description)
    _ENTRIES[kind][name] = entry
    return entry


def unregister(kind: Kind | str, name: str) -> Entry:
    """Remove ``name`` from ``kind`` and return its entry (for tests and plugins)."""
    entry = get(kind, name)
    del _ENTRIES[kind][name]
    return entry


def names(kind: Kind | str) -> list[str]:
    """Registered names of ``kind``, in registration order (built-in, zoo, third-party)."""
    _check_kind(kind)
    _load_plugins()
    return list(_ENTRIES[kind])


def has(kind: Kind | str, name: Any) -> bool:
    """Whether ``name`` is registered for ``kind``."""
    _check_kind(kind)
    _load_plugins()
    return isinstance(name, str) and name in _ENTRIES[kind]


def unknown(kind: Kind | str, name: Any, *, argument: str | None = None, alternatives: str = "") -> UnknownNameError:
    """The error for a name not registered for ``kind``: one line listing the registered names, as
    :func:`ganeval._validate.check_choice` words a bad choice.

    Args:
        argument: the argument name in the message (default: ``kind``).
        alternatives: what else the argument accepts, e.g. ``"an existing TF classifier pickle"``.
    """
    known = ", ".join(repr(n) for n in names(kind))
    choices = f"one of {known}" if known else f"a registered {kind} name (none are registered)"
    also = f", or {alternatives}" if alternatives else ""
    return UnknownNameError(f"Argument `{argument or kind}` must be {choices}{also}, but got {name!r}.")


def get(kind: Kind | str, name: Any, *, argument: str | None = None, alternatives: str = "") -> Entry:
    """The entry of ``name``; raises :class:`UnknownNameError` (see :func:`unknown`) if there is none."""
    if not has(kind, name):
        raise unknown(kind, name, argument=argument, alternatives=alternatives)
    return _ENTRIES[kind][name]


def create(kind: Kind | str, name: Any, *args: Any, **kwargs: Any) -> Any:
    """``get(kind, name).factory(*args, **kwargs)``: build the named object."""
    return get(kind, name).factory(*args, **kwargs)

"""A restricted unpickler: read NVIDIA network pickles without executing code from them.

Python's pickle resolves every class or function a file names through ``find_class`` and may
then call it; a malicious (or merely foreign) pickle can therefore run anything, e.g.
``os.system``. :class:`SafeUnpickler` resolves names only from an explicit allow-list:

- NumPy array, scalar and dtype reconstruction (``numpy.core.*`` paths written by NumPy 1.x,
  ``numpy._core.*`` written by NumPy 2);
- ``collections.OrderedDict`` and a few harmless builtins that protocols 0-2 spell as globals;
- torch tensor, parameter and storage rebuild helpers, as plain ``pickle.dump`` of torch
  tensors writes them (the storage bytes are read with ``torch.load(weights_only=True)``);
- stand-ins for NVIDIA's classes: ``dnnlib.tflib.network.Network`` -> :class:`TFNetworkStub`
  (a plain attribute container, so ``build_module_src`` is kept as text and never executed),
  ``dnnlib.util.EasyDict`` -> :class:`EasyDict` (a dict), and
  ``torch_utils.persistence._reconstruct_persistent_obj`` -> :class:`PersistentRecord`
  (bare class name, the pickled module state and the embedded ``module_src`` kept as text only;
  it is read, e.g. to tell network families apart, and never executed).

NumPy's array constructors are guarded: a pickle that calls ``numpy.ndarray(shape, ...)`` or
``_reconstruct`` with a huge shape, or embeds a torch storage whose header claims more data than
it holds, is refused before anything of that size is allocated.

Anything else raises :class:`~ganeval.errors.UnsafePickleError` naming the global before it
is called, so nothing from the file has run.
"""

from __future__ import annotations

import _compat_pickle
import functools
import io
import os
import pickle
import re
import struct
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from ..errors import CheckpointError, UnsafePickleError

__all__ = [
    "safe_load",
    "SafeUnpickler",
    "check_legacy_torch_stream",
    "dry_run_torch_pickle",
    "element_size",
    "TFNetworkStub",
    "PersistentRecord",
    "EasyDict",
    "allowed_globals",
]


class TFNetworkStub:
    """Stand-in for ``dnnlib.tflib.network.Network`` (TensorFlow network pickles).

    pickle's default BUILD stores the network's pickled state dict in ``__dict__``, giving the
    attributes ``version`` (3: StyleGAN v1, 4: StyleGAN2), ``name``, ``static_kwargs``,
    ``components`` (name -> :class:`TFNetworkStub`), ``build_module_src`` (text, never
    executed), ``build_func_name`` and ``variables`` (list of (TF name, numpy array)).
    """

    version: int
    name: str
    static_kwargs: dict[str, Any]
    components: dict[str, TFNetworkStub]
    build_func_name: str
    variables: list[tuple[str, Any]]

    def __repr__(self) -> str:
        return (
            f"TFNetworkStub(name={getattr(self, 'name', '?')!r}, version={getattr(self, 'version', '?')!r}, "
            f"build_func_name={getattr(self, 'build_func_name', '?')!r})"
        )


class EasyDict(dict):
    """Stand-in for ``dnnlib.util.EasyDict``: a dict that also allows attribute reads."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class PersistentRecord:
    """What ``torch_utils.persistence._reconstruct_persistent_obj(meta)`` becomes: data only.

    Attributes: ``class_name`` (as the file stores it: the bare name, e.g. ``"Generator"``, in
    files NVIDIA's code wrote), ``state`` (the pickled ``__dict__`` of the module:
    ``_parameters``, ``_buffers``, ``_modules``, ``_init_args``, ``_init_kwargs``, plain
    attributes), ``version`` (the persistence format version, 6 in every released repository)
    and ``module_src`` (the text of the defining source file, or ``None``; never executed).
    """

    def __init__(
        self, class_name: str, state: dict[str, Any], version: int | None = None, module_src: str | None = None
    ) -> None:
        self.class_name = class_name
        self.state = state
        self.version = version
        self.module_src = module_src

    @property
    def init_kwargs(self) -> dict[str, Any]:
        """The keyword arguments the original module was constructed with."""
        return dict(self.state.get("_init_kwargs") or {})

    def tensors(self, prefix: str = "") -> dict[str, Any]:
        """All parameters and buffers under dotted names, as ``named_parameters()`` would give them."""
        out: dict[str, Any] = {}
        for group in ("_parameters", "_buffers"):
            for name, value in (self.state.get(group) or {}).items():
                if value is not None:
                    out[prefix + name] = value
        for name, child in (self.state.get("_modules") or {}).items():
            if isinstance(child, PersistentRecord):
                out.update(child.tensors(prefix + name + "."))
            elif child is not None:
                raise CheckpointError(
                    f"Submodule `{prefix + name}` is a {type(child).__name__}, expected a persistent module record."
                )
        return out

    def __repr__(self) -> str:
        return f"PersistentRecord(class_name={self.class_name!r})"


def _reconstruct_persistent_obj(meta: Any) -> PersistentRecord:
    if not isinstance(meta, Mapping) or meta.get("type") != "class" or "class_name" not in meta:
        raise CheckpointError("A torch_utils.persistence record is malformed (expected type 'class' with class_name).")
    state = meta.get("state") or {}
    if not isinstance(state, dict):
        raise CheckpointError(f"Persistent object {meta['class_name']!r} has a state of type {type(state).__name__}.")
    src = meta.get("module_src")
    version = meta.get("version")
    return PersistentRecord(
        str(meta["class_name"]),
        state,
        version if isinstance(version, int) else None,
        src if isinstance(src, str) else None,
    )


def _storage_from_bytes(data: bytes, source: str = "<stream>") -> Any:
    """Replacement for ``torch.storage._load_from_bytes`` that refuses non-tensor content.

    The bytes are a legacy ``torch.save`` stream; its storage headers are checked against the
    data actually present before torch reads (and allocates) them.
    """
    import torch

    if not isinstance(data, (bytes, bytearray)):
        raise CheckpointError(
            f"Cannot read {source}: a torch storage must be stored as bytes, but got {type(data).__name__}."
        )
    check_legacy_torch_stream(io.BytesIO(data), len(data), source)
    try:
        # snapshots pickled from a GPU module name a cuda location: read them onto the CPU
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = _unsupported_global(str(exc))
        raise UnsafePickleError(
            f"Refusing to load {source}: an embedded torch storage (nested pickle) holds more than tensor data"
            f"{f' (it references `{found}`)' if found else ''}; nothing from the file was executed."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, struct.error) as exc:
        raise CheckpointError(
            f"Cannot read {source}: an embedded torch storage is corrupt or truncated ({_first_line(exc)})."
        ) from None


def _unsupported_global(message: str) -> str | None:
    """The global named in torch's weights_only refusal (its text suggests unsafe remedies: not repeated)."""
    m = re.search(r"(?:Unsupported global: GLOBAL|Unsupported class|global) `?([\w.]+)`?", message)
    return m.group(1) if m else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].split(". ")[0][:200] if text else type(exc).__name__


class _Inert(dict):
    """What every global becomes in a dry run: accepts any call, BUILD, item or append, does nothing
    (a dict subclass so that SETITEM(S) on e.g. an OrderedDict stand-in works)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def append(self, item: Any) -> None:
        pass

    def extend(self, items: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> _Inert:
        return _Inert()


class _StorageRef(_Inert):
    """A persistent storage id seen in a dry run: its key and claimed element count."""

    def __init__(self, key: str, type_name: str, numel: int) -> None:
        self.key, self.type_name, self.numel = key, type_name, numel


class _DryRun(pickle.Unpickler):
    """Walks a pickle WITHOUT resolving any global (each is an inert stand-in; nothing from the
    file is called), recording torch's persistent storage ids and the tensor views built on them."""

    _VIEW_BUILDERS = (("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"))

    def __init__(self, file: IO[bytes]) -> None:
        super().__init__(file, encoding="latin1")
        self.storages: dict[str, _StorageRef] = {}
        self.views: list[tuple[Any, Any, Any, Any]] = []

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._VIEW_BUILDERS:
            return self._record_view
        return type(name, (_Inert,), {})

    def _record_view(
        self, storage: Any = None, offset: Any = 0, size: Any = (), stride: Any = (), *rest: Any
    ) -> _Inert:
        self.views.append((storage, offset, size, stride))
        return _Inert()

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage":
            ref = _StorageRef(str(pid[2]), getattr(pid[1], "__name__", "?"), pid[4] if isinstance(pid[4], int) else -1)
            self.storages[ref.key] = ref
            return ref
        return _Inert()

    def check_views(self, source: str) -> None:
        """Every tensor view must fit in the element count its storage claims."""
        for storage, offset, size, stride in self.views:
            if isinstance(storage, _StorageRef):
                needed = _view_extent(offset, size, stride)
                if needed > storage.numel:
                    raise CheckpointError(
                        f"Cannot read {source}: a tensor of size {list(size)} and stride "
                        f"{list(stride)} needs {needed} elements, but its storage holds "
                        f"{storage.numel} (corrupt file)."
                    )


def dry_run_torch_pickle(data: bytes, source: str) -> _DryRun:
    """Dry-run a torch pickle (a zip's ``data.pkl``): storages and views, nothing called or allocated."""
    run = _DryRun(io.BytesIO(data))
    try:
        run.load()
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        UnicodeDecodeError,
        MemoryError,
        RecursionError,
        OverflowError,
        struct.error,
    ) as exc:
        raise CheckpointError(
            f"Cannot read {source}: expected a torch pickle, but it is corrupt "
            f"({type(exc).__name__}: {str(exc)[:100]})."
        ) from None
    run.check_views(source)
    return run


def element_size(type_name: str) -> int:
    """Bytes per element of a typed storage class name (1, a lower bound, when unknown)."""
    return _ELEMENT_SIZES.get(type_name, 1)


# bytes per element of the legacy typed storages (unknown names count as 1: a lower bound)
_ELEMENT_SIZES = {
    "DoubleStorage": 8,
    "FloatStorage": 4,
    "HalfStorage": 2,
    "BFloat16Storage": 2,
    "LongStorage": 8,
    "IntStorage": 4,
    "ShortStorage": 2,
    "CharStorage": 1,
    "ByteStorage": 1,
    "BoolStorage": 1,
    "ComplexFloatStorage": 8,
    "ComplexDoubleStorage": 16,
}


def check_legacy_torch_stream(f: IO[bytes], total: int, source: str) -> None:
    """Refuse a legacy (pre-zip) ``torch.save`` stream whose storages claim more data than it holds.

    Layout: five pickles (magic number, protocol, system info, the object with persistent ids
    ``('storage', type, key, location, numel)``, the storage keys), then per storage an int64
    element count and the raw data. torch allocates each storage from ``numel`` and re-sizes it
    from the count before reading: both must match and fit in the ``total`` bytes of the stream,
    which is checked here by a dry run that calls nothing from the file.
    """
    start = f.tell()
    try:
        for _ in range(3):
            _DryRun(f).load()
        main = _DryRun(f)
        main.load()
        keys = _DryRun(f).load()
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or len(keys) > total:
            raise CheckpointError(
                f"Cannot read {source}: expected a list of torch storage keys, but found "
                f"{type(keys).__name__} (corrupt file)."
            )
        main.check_views(source)
        for key in keys:
            ref = main.storages.get(key)
            type_name, numel = (ref.type_name, ref.numel) if ref is not None else ("?", -1)
            head = f.read(8)
            if len(head) < 8:
                raise CheckpointError(f"Cannot read {source}: a torch storage header is missing (truncated file?).")
            (count,) = struct.unpack("<q", head)
            size = _ELEMENT_SIZES.get(type_name, 1)
            left = total - (f.tell() - start)
            if count < 0 or count != numel or count * size > left:
                raise CheckpointError(
                    f"Cannot read {source}: a torch storage header claims {count} elements (the object says "
                    f"{numel}), but only {left} bytes follow (corrupt file)."
                )
            f.seek(count * size, io.SEEK_CUR)
    except CheckpointError:
        raise
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        UnicodeDecodeError,
        MemoryError,
        RecursionError,
        OverflowError,
        struct.error,
    ) as exc:
        raise CheckpointError(
            f"Cannot read {source}: expected a legacy torch stream, but it is corrupt "
            f"({type(exc).__name__}: {str(exc)[:100]})."
        ) from None
    finally:
        f.seek(start)


def _view_extent(storage_offset: Any, size: Any, stride: Any) -> int:
    """Elements a strided view needs from its storage (0 for an empty view); malformed -> error."""
    import torch

    if (
        not all(isinstance(d, (tuple, list, torch.Size)) for d in (size, stride))
        or len(size) != len(stride)
        or not all(isinstance(n, int) and n >= 0 for n in (storage_offset, *size, *stride))
    ):
        raise CheckpointError(
            f"expected a pickled tensor's offset, size and stride as non-negative integers, but got "
            f"{storage_offset!r:.30}, {size!r:.60}, {stride!r:.60}"
        )
    if 0 in size:
        return 0
    return storage_offset + sum((n - 1) * st for n, st in zip(size, stride)) + 1


def _check_view(storage: Any, storage_offset: Any, size: Any, stride: Any) -> None:
    """A tensor view must lie inside its storage: torch's ``set_`` would otherwise silently GROW
    the storage (uninitialised memory, or gigabytes for a lying size) instead of failing."""
    import torch

    if not isinstance(storage, (torch.UntypedStorage, torch.TypedStorage)):
        raise CheckpointError(f"expected a torch storage under a pickled tensor, but got {type(storage).__name__}")
    needed = _view_extent(storage_offset, size, stride)
    # TypedStorage's own size methods warn of deprecation: read the untyped storage beneath
    itemsize = storage.dtype.itemsize if isinstance(storage, torch.TypedStorage) else 1
    nbytes = getattr(storage, "_untyped_storage", storage).nbytes()
    if needed * itemsize > nbytes:
        raise CheckpointError(
            f"a pickled tensor of size {list(size)} and stride {list(stride)} needs {needed} "
            f"elements, but its storage holds {nbytes // itemsize} (corrupt file)"
        )


def _guarded_rebuild_tensor_v2(storage: Any, storage_offset: Any, size: Any, stride: Any, *args: Any) -> Any:
    import torch._utils as tu

    _check_view(storage, storage_offset, size, stride)
    return tu._rebuild_tensor_v2(storage, storage_offset, size, stride, *args)


def _guarded_rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any) -> Any:
    import torch._utils as tu

    _check_view(storage, storage_offset, size, stride)
    return tu._rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_from_type_v2(func: Callable[..., Any], new_type: type, args: tuple, state: Any) -> Any:
    """Guarded ``torch._tensor._rebuild_from_type_v2``: only plain tensors and parameters."""
    import torch

    if new_type not in (torch.Tensor, torch.nn.Parameter):
        raise UnsafePickleError(f"Tensor subclass {new_type!r} is not allowed in a pickle.")
    from torch._tensor import _rebuild_from_type_v2 as original

    return original(func, new_type, args, state)


class _NdarrayGlobal:
    """``numpy.ndarray`` as a pickle global. NumPy's own pickles only pass the class to
    ``_reconstruct`` (the data comes later through ``__setstate__``, which checks its length);
    calling it directly would allocate an uninitialised array of any claimed shape, so it is refused."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise CheckpointError(
            f"expected numpy arrays pickled as NumPy writes them, but the pickle calls numpy.ndarray{args!r:.60} "
            "directly (an uninitialised allocation; corrupt or hostile file)"
        )


_NDARRAY = _NdarrayGlobal()


def _guarded_reconstruct(reconstruct: Callable[..., Any]) -> Callable[..., Any]:
    """NumPy's ``_reconstruct(ndarray, (0,), b'b')``: refuse any other class or a non-empty shape."""
    import numpy as np

    def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> Any:
        if subtype is not _NDARRAY and subtype is not np.ndarray:
            raise CheckpointError(f"expected numpy.ndarray in a pickled array, but got {subtype!r:.60}")
        if (
            not isinstance(shape, tuple)
            or len(shape) > 1
            or any(not isinstance(n, int) or not 0 <= n <= 1 for n in shape)
        ):
            raise CheckpointError(f"expected the placeholder shape (0,) in a pickled array, but got {shape!r:.60}")
        return reconstruct(np.ndarray, shape, dtype)

    return _reconstruct


def _numpy_names() -> dict[tuple[str, str], Any]:
    import importlib

    import numpy as np

    core = "numpy._core" if hasattr(np, "_core") else "numpy.core"  # renamed in NumPy 2
    multiarray = importlib.import_module(f"{core}.multiarray")
    numeric = importlib.import_module(f"{core}.numeric")
    out: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): np.dtype,
    }
    for pkg in ("numpy.core", "numpy._core"):
        out[(f"{pkg}.multiarray", "_reconstruct")] = _guarded_reconstruct(multiarray._reconstruct)
        out[(f"{pkg}.multiarray", "scalar")] = multiarray.scalar
        if hasattr(numeric, "_frombuffer"):
            out[(f"{pkg}.numeric", "_frombuffer")] = numeric._frombuffer
    # NumPy >= 1.25 pickles dtypes of scalars via these classes (e.g. numpy.dtypes.Float32DType).
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        for name in dir(dtypes):
            if name.endswith("DType") and name != "StringDType":
                out[("numpy.dtypes", name)] = getattr(dtypes, name)
    return out


def _torch_names() -> dict[tuple[str, str], Any]:
    import torch
    import torch._utils as tu

    out: dict[tuple[str, str], Any] = {
        ("torch._utils", "_rebuild_tensor"): _guarded_rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v2"): _guarded_rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): tu._rebuild_parameter,
        ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
        ("torch", "Size"): torch.Size,
        ("torch", "device"): torch.device,
    }
    for name in ("float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "bool"):
        out[("torch", name)] = getattr(torch, name)
    return out


def allowed_globals() -> dict[tuple[str, str], Any]:
    """The full allow-list: (module, name) -> the object the unpickler hands back."""
    import codecs
    import copyreg

    out: dict[tuple[str, str], Any] = {
        ("collections", "OrderedDict"): OrderedDict,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "slice"): slice,
        ("builtins", "complex"): complex,
        # protocols < 3 write bytes as _codecs.encode(text, 'latin1')
        ("_codecs", "encode"): codecs.encode,
        # protocols < 2 rebuild objects through this; its class arguments are checked globals too
        ("copyreg", "_reconstructor"): copyreg._reconstructor,  # type: ignore[attr-defined]  # private: not in typeshed
        ("dnnlib.tflib.network", "Network"): TFNetworkStub,
        ("dnnlib.util", "EasyDict"): EasyDict,
        ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    }
    out.update(_numpy_names())
    out.update(_torch_names())
    return out


class SafeUnpickler(pickle.Unpickler):
    """An unpickler whose ``find_class`` only hands out allow-listed objects.

    ``extra_allowed`` maps (module, name) to the object to use instead; it extends (and may
    override) the default list.
    """

    def __init__(
        self, file: IO[bytes], *, extra_allowed: Mapping[tuple[str, str], Any] | None = None, source: str = "<stream>"
    ) -> None:
        super().__init__(file, encoding="latin1")
        self._allowed = allowed_globals()
        self._allowed[("torch.storage", "_load_from_bytes")] = functools.partial(_storage_from_bytes, source=source)
        if extra_allowed:
            self._allowed.update(extra_allowed)
        self._source = source
        self.seen: set[str] = set()

    def find_class(self, module: str, name: str) -> Any:
        self.seen.add(f"{module}.{name}")
        # Python 2 era names (protocols < 3), e.g. __builtin__ -> builtins; no Python 3 module uses them
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"Refusing to load {self._source}: the pickle references the global `{module}.{name}`, which is not "
                "on ganeval's allow-list (NumPy/torch tensor data and NVIDIA network stubs); nothing from the file "
                "was executed."
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(
            f"Refusing to load {self._source}: the pickle uses persistent ids ({str(pid)[:40]!r}), which plain "
            "network pickles do not; if this is a torch.save file, load it as a state dict instead."
        )


def safe_load(
    file_or_path: str | os.PathLike[str] | IO[bytes] | bytes,
    extra_allowed: Mapping[tuple[str, str], Any] | None = None,
    seen: set[str] | None = None,
) -> Any:
    """Unpickle a file, path or bytes object with :class:`SafeUnpickler`.

    ``seen``, if given, receives every global the pickle names (``"module.name"``), e.g. to tell
    which NumPy wrote its scalars.

    Returns the object graph, with NVIDIA classes replaced by :class:`TFNetworkStub`,
    :class:`EasyDict` and :class:`PersistentRecord`. Raises
    :class:`~ganeval.errors.UnsafePickleError` for a global outside the allow-list and
    :class:`~ganeval.errors.CheckpointError` for a truncated or corrupt pickle.
    """
    if isinstance(file_or_path, (bytes, bytearray, memoryview)):
        return _load_stream(io.BytesIO(bytes(file_or_path)), extra_allowed, "<bytes>", seen)
    if isinstance(file_or_path, (str, os.PathLike)):
        path = Path(file_or_path)
        with open(path, "rb") as f:
            return _load_stream(f, extra_allowed, str(path), seen)
    return _load_stream(file_or_path, extra_allowed, getattr(file_or_path, "name", "<stream>"), seen)


def _load_stream(
    f: IO[bytes], extra_allowed: Mapping[tuple[str, str], Any] | None, source: str, seen: set[str] | None = None
) -> Any:
    try:
        unpickler = SafeUnpickler(f, extra_allowed=extra_allowed, source=source)
        if seen is not None:
            unpickler.seen = seen
        return unpickler.load()
    except CheckpointError as exc:
        if source in str(exc):
            raise
        raise type(exc)(f"Cannot read {source}: {exc}") from None
    except EOFError:
        raise CheckpointError(
            f"Cannot read {source}: expected a complete pickle, but the data ends early (truncated file?)."
        ) from None
    except (
        pickle.UnpicklingError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        UnicodeDecodeError,
        MemoryError,
        RuntimeError,
        OverflowError,
        struct.error,
    ) as exc:
        raise CheckpointError(f"Cannot read {source}: expected a valid pickle, but unpickling failed: {exc}") from None

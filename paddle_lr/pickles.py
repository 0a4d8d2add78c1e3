"""Reading Paddle's pickles (``.pdparams``, ``.pdopt``) without running code from them.

``paddle.save``, ``paddle.static.save`` and fluid's ``fluid.io.save`` write
pickles, and unpickling a file can call any function it names: a
``.pdparams`` whose ``__reduce__`` asks for ``os.system`` runs it when
``paddle.load`` reads it. Paddle has no safe way of its own to read these
files (3.x's ``paddle.static.io_utils._safe_load_pickle`` is a plain
``pickle.Unpickler``; its ``safetensors=True`` reads another format that the
2.6 and fluid checkpoints are not in).

:func:`loads` is Python's ``pickle.Unpickler`` with ``find_class`` answered
from a fixed table, as torch's ``weights_only`` unpickler does: only the
globals Paddle's savers write on fluid 1.8.5, 2.6 and 3.x are admitted, each
as a function that checks its arguments and accepts exactly what those
savers pass:

====================================================  ==========================================
global                                                written by
====================================================  ==========================================
``numpy._core.multiarray._reconstruct`` (numpy 2),    every numpy array (``np.ndarray.__reduce__``)
``numpy.core.multiarray._reconstruct`` (numpy 1)
``numpy.ndarray``, ``numpy.dtype``                    the same, with the array's numeric dtype
``numpy._core.multiarray.scalar`` (and numpy 1's)     numpy scalars in a state dict
``_codecs.encode`` (``latin1`` only)                  bytes under protocol 2 (fluid, ``protocol=2``)
``builtins.tuple``                                    a dygraph Tensor: ``(name, ndarray)``
``builtins.eval`` (only ``eval('data', {'data': a})``) a static ``DenseTensor`` / ``LoDTensor``
``builtins.set``, ``builtins.frozenset``              sets under protocol 2 and 3
``collections.OrderedDict``                           Paddle 2.0's state dicts
====================================================  ==========================================

Anything else (``os.system``, ``subprocess.Popen``, ``builtins.exec``, a
class of the saver's program) is an :class:`UntrustedPickleError` naming the
file and the global, raised before the global is looked up, so nothing it
names is imported or called. The loaded object is then walked (iteratively,
at most :data:`MAX_DEPTH` deep): it must be containers, scalars, strings and
numeric numpy arrays only.

``trusted=True`` skips all of this and reads the file with Paddle's own
``paddle.load`` / ``paddle.static.load_program_state``: for files you made
or trust that hold more than Paddle's savers write.
"""
import _compat_pickle
import collections
import io
import os
import pickle
from typing import Any, Dict

import numpy as np

from . import rules

__all__ = ["UntrustedPickleError", "MAX_DEPTH", "ADMITTED", "loads", "load", "paddle_load", "load_program_state"]

#: The deepest nesting of containers a checked pickle may hold (Paddle's state dicts are 3 deep).
MAX_DEPTH = 32

#: How an opt-out reads, in every refusal.
_OPT_OUT = "load it with trusted=True (train.py: --trust-checkpoint) only if you trust the file"


class UntrustedPickleError(rules.ConfigError):
    """A pickle asks for something Paddle's savers never write; nothing was loaded. One line."""


class _Refused(Exception):
    """Raised inside the unpickler; :func:`loads` turns it into one line naming the file."""


def _numpy_core():
    try:
        from numpy._core import multiarray  # numpy 2
    except ImportError:  # numpy 1
        from numpy.core import multiarray  # type: ignore[no-redef]
    return multiarray


_MULTIARRAY = _numpy_core()
_NUMERIC_KINDS = "biufc"  # bool, signed, unsigned, float, complex: what a tensor holds


class _NdarrayClass:
    """What ``numpy.ndarray`` resolves to: a token ``_reconstruct`` accepts, not the class (whose
    ``__new__`` would allocate any shape a ``NEWOBJ`` asks for)."""

    def __repr__(self):
        return "numpy.ndarray"


_NDARRAY = _NdarrayClass()


def _numeric(dtype, what):
    if not isinstance(dtype, np.dtype) or dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None:
        shown = dtype if isinstance(dtype, np.dtype) else rules.shown(dtype)
        raise _Refused(f"{what} of dtype {shown} (Paddle saves numeric tensors only)")
    return dtype


def _reconstruct(cls, shape, typecode):
    # numpy writes exactly _reconstruct(ndarray, (0,), b'b'); the data and real shape come in BUILD.
    if cls is not _NDARRAY or shape != (0,) or typecode not in (b"b", "b"):
        raise _Refused(f"numpy's _reconstruct with arguments {rules.shown((cls, shape, typecode))}")
    return _MULTIARRAY._reconstruct(np.ndarray, (0,), b"b")


def _dtype(spec, align=False, copy=False):
    if not isinstance(spec, str):
        raise _Refused(f"numpy.dtype of {rules.shown(spec)}")
    try:
        dtype = np.dtype(spec, bool(align), bool(copy))
    except TypeError as exc:
        raise _Refused(f"numpy.dtype of {rules.shown(spec)} ({exc})") from None
    return _numeric(dtype, "an array")


def _scalar(dtype, data):
    _numeric(dtype, "a numpy scalar")
    if not isinstance(data, (bytes, str)):
        raise _Refused(f"a numpy scalar of data {rules.shown(data)}")
    return _MULTIARRAY.scalar(dtype, data)


def _encode(text, encoding="utf-8"):
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refused(f"_codecs.encode with arguments {rules.shown((text, encoding))}")
    return text.encode("latin1")


def _eval(source, namespace=None, *rest):
    # Paddle's reduce_DenseTensor / reduce_LoDTensor: (eval, ('data', {'data': ndarray})).
    if source != "data" or rest or type(namespace) is not dict or list(namespace) != ["data"]:
        raise _Refused(f"builtins.eval with arguments {rules.shown((source, namespace) + rest)} "
                       "(Paddle writes only eval('data', {'data': array}))")
    return namespace["data"]


#: "module.name" -> what it loads as. numpy 1's names are numpy 2's objects (no deprecation import).
ADMITTED = {
    "numpy.ndarray": _NDARRAY,
    "numpy.dtype": _dtype,
    "_codecs.encode": _encode,
    "builtins.tuple": tuple,
    "builtins.set": set,
    "builtins.frozenset": frozenset,
    "builtins.eval": _eval,
    "collections.OrderedDict": collections.OrderedDict,
}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    ADMITTED[f"{_module}._reconstruct"] = _reconstruct
    ADMITTED[f"{_module}.scalar"] = _scalar


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        # Python 2's names (__builtin__, copy_reg), as the default find_class maps them.
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        key = f"{module}.{name}"
        if key not in ADMITTED:
            raise _Refused(f"the global {rules.shown(key)[1:-1]}")
        return ADMITTED[key]

    def persistent_load(self, pid):
        raise _Refused(f"a persistent id {rules.shown(pid)}")


_LEAVES = (str, bytes, int, float, bool, type(None), complex)
_CONTAINERS = (dict, list, tuple, set, frozenset)


def _check_tree(obj):
    """Containers, scalars, strings and numeric arrays only, at most MAX_DEPTH deep (no recursion)."""
    seen = set()
    stack = [(obj, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, np.ndarray):
            _numeric(value.dtype, "an array")
            continue
        if isinstance(value, (np.generic,) + _LEAVES):
            continue
        if type(value) not in _CONTAINERS and type(value) is not collections.OrderedDict:
            raise _Refused(f"an object of type {type(value).__name__}")
        if id(value) in seen:
            raise _Refused("a container that holds itself")
        seen.add(id(value))
        if depth >= MAX_DEPTH:
            raise _Refused(f"containers nested more than {MAX_DEPTH} deep")
        items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
        for key, item in items:
            stack.append((key, depth + 1))
            stack.append((item, depth + 1))


def loads(data: bytes, path) -> Any:
    """Unpickle ``data`` (read from ``path``) admitting only what Paddle's savers write.

    Args:
        data (bytes): the pickle.
        path (str or Path): where it came from, for the message.

    Returns:
        the object: dicts, lists, tuples, sets, scalars, strings and numeric
        numpy arrays.

    Raises:
        UntrustedPickleError: one line naming ``path`` and the global (or the
            object) refused; nothing was loaded.
    """
    try:
        obj = _Unpickler(io.BytesIO(data), encoding="latin1").load()
        _check_tree(obj)
    except _Refused as exc:
        raise UntrustedPickleError(
            f"{path}: refused to unpickle {exc}, which Paddle's save never writes "
            f"(loading it could run code); {_OPT_OUT}"
        ) from None
    return obj


def load(path, name="checkpoint file") -> Any:
    """Read a regular file and unpickle it with :func:`loads`.

    Args:
        path (str or Path): the pickle.
        name (str): its role, for messages.

    Returns:
        the object.

    Raises:
        UntrustedPickleError: a global Paddle never writes.
        ConfigError: not a regular file (a FIFO, a device), unreadable.
        Exception: the pickle module's own errors for a damaged file
            (``UnpicklingError``, ``EOFError``, ...); callers word them.
    """
    return loads(rules.read_regular(name, path), path)


def paddle_load(path, trusted=False, name="checkpoint file"):
    """``paddle.load(path)``, after checking the file with :func:`loads` unless ``trusted``.

    The file is read once; the bytes checked are the bytes Paddle then loads
    (``paddle.load`` of a ``BytesIO``), so nothing can swap the file in between.

    Args:
        path (str or Path): a ``paddle.save`` file.
        trusted (bool): skip the check (the file may then run code).
        name (str): its role, for messages.

    Returns:
        what ``paddle.load`` returns.
    """
    import paddle

    data = rules.read_regular(name, path)
    if not trusted:
        loads(data, path)
    return paddle.load(io.BytesIO(data))


def load_program_state(prefix, trusted=False) -> Dict[str, np.ndarray]:
    """``paddle.static.load_program_state(prefix)`` for a ``paddle.static.save`` prefix, checked.

    Reads ``PREFIX.pdparams`` and, when present, ``PREFIX.pdopt`` as Paddle
    does (a protocol-2/3 save's split parameters joined again), each through
    :func:`load` unless ``trusted``.

    Args:
        prefix (str or Path): the prefix; ``PREFIX.pdparams`` must exist.
        trusted (bool): read with Paddle's own loader (the files may then run code).

    Returns:
        dict: name -> numpy array.
    """
    import paddle
    from paddle.framework.io_utils import _pack_loaded_dict  # how Paddle joins a split parameter

    if trusted:
        return dict(paddle.static.load_program_state(str(prefix)))
    state = {}
    for suffix in (".pdparams", ".pdopt"):
        path = f"{prefix}{suffix}"
        if suffix == ".pdopt" and not os.path.lexists(path):
            continue
        part = load(path, f"checkpoint file {os.path.basename(path)}")
        if not isinstance(part, dict):
            raise rules.ConfigError(f"{path}: holds a {type(part).__name__}, not the dict paddle.static.save writes")
        state.update(_pack_loaded_dict(part))
    return state

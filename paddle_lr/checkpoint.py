"""Static checkpoints that load on either Paddle version, in today's and fluid's formats.

:func:`load_checkpoint` reads

* ``paddle.static.save`` checkpoints (``PREFIX.pdparams`` and ``PREFIX.pdopt``)
  written on either IR: PIR puts the step counter and the lr variable in
  ``.pdparams``, the legacy IR in ``.pdopt``, under the same names, so the two
  files are read as one;
* fluid's one-file-per-persistable directories (``save_persistables``,
  ``paddle.static.save_vars``), written on either version (the tensor file
  format is the same);
* the demo trainer's static snapshots (:mod:`paddle_lr.demo.snapshot`), after
  checking their manifest.

The pickles (``.pdparams``, ``.pdopt``) are read by :mod:`paddle_lr.pickles`,
which admits only what Paddle's savers write, so that a checkpoint cannot run
code; ``trusted=True`` reads them with Paddle's own loader instead.

Everything is read and checked against the program before anything is
written into the scope: a checkpoint that does not fit (missing, unexpected,
shape- or dtype-mismatched variables) or cannot be read is a
:class:`CheckpointError` of one line, and the scope is left as it was. The
branch-free schedules' tables are not taken from the checkpoint: they are
rewritten from the program's own schedule (:func:`paddle_lr.reload_tables`),
as the switch lowering computes its lr from the program's schedule too.

:func:`save_checkpoint` is ``paddle.static.save`` under a scope; any
``paddle.static.save`` checkpoint loads the same way.
"""
import dataclasses
import os
import pathlib
from typing import Dict, Optional, Tuple

import numpy as np
import paddle

from . import pickles, rules
from .graph import ir, tables as _tables
from .schedules import warmup_piecewise as _schedule

__all__ = ["CheckpointError", "LoadedCheckpoint", "load_checkpoint", "save_checkpoint", "read_checkpoint", "misfit"]

#: Files of a per-variable directory that are not variables: a fluid
#: inference model's program, a program saved next to the variables.
_NOT_VARIABLES = ("__model__",)
_PROGRAM_SUFFIXES = (".pdmodel", ".json")
_SUFFIXES = (".pdparams", ".pdopt", ".pdmodel")
_MANIFEST = "manifest.json"
_NAMES_SHOWN = 8


class CheckpointError(rules.ConfigError):
    """A checkpoint cannot be read or does not fit the program; the message is one line."""


@dataclasses.dataclass(frozen=True)
class LoadedCheckpoint:
    """What :func:`load_checkpoint` loaded.

    Attributes:
        path (pathlib.Path): the checkpoint read (a ``paddle.static.save``
            prefix, a per-variable directory or a snapshot directory).
        format (str): ``"static.save"``, ``"per-variable"`` or ``"snapshot"``.
        state (dict): name -> the numpy array written into the scope, exactly
            as saved (parameters, optimizer accumulators, the step counter,
            the lr variable).
        tables (tuple): the branch-free tables rewritten from the program's
            own schedule (their saved values are not used).
        paddle_version (str or None): the Paddle version that wrote it, when
            the checkpoint records it (snapshots).
    """

    path: pathlib.Path
    format: str
    state: Dict[str, np.ndarray]
    tables: Tuple[str, ...] = ()
    paddle_version: Optional[str] = None


def save_checkpoint(program, path, executor=None, scope=None, protocol: int = 4) -> pathlib.Path:
    """Save every persistable of ``program`` with ``paddle.static.save``.

    Args:
        program: the main program.
        path (str or Path): the prefix; ``PATH.pdparams`` and ``PATH.pdopt`` are written.
        executor (optional): unused, for symmetry with :func:`load_checkpoint`.
        scope (optional): the scope holding the persistables (the global scope by default).
        protocol (int): the pickle protocol (Paddle's default, 4).

    Returns:
        pathlib.Path: the prefix.
    """
    del executor
    path = pathlib.Path(path)
    with paddle.static.scope_guard(scope or paddle.static.global_scope()):
        paddle.static.save(program, str(path), protocol=protocol)
    return path


def _one_line(exc):
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def _static_prefix(path):
    """The ``paddle.static.save`` prefix ``path`` names, or None."""
    text = str(path)
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and os.path.isfile(text):
            return pathlib.Path(text[: -len(suffix)])
    if os.path.isfile(text + ".pdparams"):
        return pathlib.Path(text)
    if path.is_dir():
        prefixes = sorted(p.with_suffix("") for p in path.glob("*.pdparams") if p.is_file())
        if len(prefixes) == 1:
            return prefixes[0]
    return None


def _read_static(prefix, trusted):
    params = pathlib.Path(f"{prefix}.pdparams")
    if not params.is_file():
        raise CheckpointError(f"checkpoint {prefix}: {params.name} is missing")
    try:
        state = pickles.load_program_state(prefix, trusted)
    except rules.ConfigError:  # refused (a global Paddle never writes, a FIFO): its own line
        raise
    except Exception as exc:  # pickle, EOF, Paddle's own errors: all mean unreadable
        raise CheckpointError(
            f"checkpoint {prefix}: {params.name}/.pdopt is unreadable ({_one_line(exc)})"
        ) from None
    return {name: np.asarray(value) for name, value in state.items()}


def _variable_files(directory):
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or name in _NOT_VARIABLES or name.endswith(_PROGRAM_SUFFIXES):
                continue
            path = pathlib.Path(root) / name
            yield path.relative_to(directory).as_posix(), path


def _read_per_variable(directory):
    state = {}
    for name, path in _variable_files(directory):
        rules.open_regular(f"checkpoint {directory}: {name}", path).close()  # a FIFO would block Paddle's reader
        try:
            array, end = ir.read_tensor_file(path)
        except Exception as exc:
            raise CheckpointError(
                f"checkpoint {directory}: {name} is not a tensor file ({_one_line(exc)})"
            ) from None
        size = path.stat().st_size
        if end != size:
            raise CheckpointError(
                f"checkpoint {directory}: {name} has {size} bytes, the tensor in it "
                + ("needs more (truncated)" if end < 0 else f"ends at byte {end} (trailing data)")
            )
        state[name] = array
    if not state:
        raise CheckpointError(f"checkpoint {directory}: holds no variable files")
    return state


def read_checkpoint(path, trusted=False):
    """Read a checkpoint into memory, without a program or a scope.

    Args:
        path (str or Path): a ``paddle.static.save`` prefix (or one of its
            files), a per-variable directory, or a static snapshot directory.
        trusted (bool): read the pickles with Paddle's own loader, which runs
            whatever code they name (:mod:`paddle_lr.pickles`); only for files you trust.

    Returns:
        tuple: ``(path, format, state, paddle_version)`` with ``state`` a dict
        name -> numpy array, as saved.

    Raises:
        CheckpointError: one line: nothing there, an unreadable or truncated
            file, a damaged or dygraph snapshot.
        UntrustedPickleError: a pickle names a global Paddle's save never
            writes (code it would run); nothing was loaded.
    """
    path = pathlib.Path(rules.path_text("checkpoint path", path))
    try:
        return _read(path, trusted)
    except OSError as exc:  # a directory that cannot be listed or searched, an unreadable file
        where = exc.filename if exc.filename is not None else path
        raise CheckpointError(f"checkpoint {path}: cannot read {where}: {exc.strerror or exc}") from None


def _read(path, trusted):
    if path.is_dir() and (path / _MANIFEST).is_file():
        from .demo import snapshot  # the trainer's format; imported only when met

        manifest = snapshot.verify_snapshot(path)
        if manifest["mode"] != "static":
            raise CheckpointError(
                f"checkpoint {path}: a {manifest['mode']} snapshot (paddle.save state dicts); "
                "load_checkpoint reads static programs' checkpoints"
            )
        prefix = _static_prefix(path)
        if prefix is None:
            raise CheckpointError(f"checkpoint {path}: the snapshot holds no .pdparams file")
        return path, "snapshot", _read_static(prefix, trusted), manifest.get("paddle_version")
    prefix = _static_prefix(path)
    if prefix is not None:
        return prefix, "static.save", _read_static(prefix, trusted), None
    if path.is_dir():
        return path, "per-variable", _read_per_variable(path), None
    raise CheckpointError(
        f"checkpoint {path}: no such checkpoint (expected a paddle.static.save prefix, "
        "a directory of per-variable files or a snapshot directory)"
    )


def _names(names):
    names = sorted(names)
    shown = ", ".join(names[:_NAMES_SHOWN])
    return shown + (f", ... ({len(names) - _NAMES_SHOWN} more)" if len(names) > _NAMES_SHOWN else "")


def _shape_fits(saved, expected):
    return len(saved) == len(expected) and all(e < 0 or s == e for s, e in zip(saved, expected))


def misfit(saved, expected):
    """How saved tensors do not fit the ones a program or a layer holds, as message parts.

    Args:
        saved (dict): name -> ``(shape, dtype name)`` of what a checkpoint holds.
        expected (dict): name -> ``(shape, dtype name)`` of what is to be restored
            (a dimension < 0 matches any size).

    Returns:
        list[str]: ``["missing a, b", "unexpected c", "shape mismatch ...",
        "dtype mismatch ..."]``, only the non-empty ones; empty when it fits.
    """
    parts = []
    missing = set(expected) - set(saved)
    unexpected = set(saved) - set(expected)
    if missing:
        parts.append(f"missing {_names(missing)}")
    if unexpected:
        parts.append(f"unexpected {_names(unexpected)}")
    shapes, dtypes = [], []
    for name in sorted(set(saved) & set(expected)):
        (shape, dtype), (want_shape, want_dtype) = saved[name], expected[name]
        if not _shape_fits(tuple(shape), tuple(want_shape)):
            shapes.append(f"{name} saved {list(shape)}, expected {list(want_shape)}")
        if dtype != want_dtype:
            dtypes.append(f"{name} saved {dtype}, expected {want_dtype}")
    for label, found in (("shape mismatch", shapes), ("dtype mismatch", dtypes)):
        if found:
            more = f", ... ({len(found) - _NAMES_SHOWN} more)" if len(found) > _NAMES_SHOWN else ""
            parts.append(f"{label} {', '.join(found[:_NAMES_SHOWN])}{more}")
    return parts


def _problems(state, expected, tables, scope):
    """Every way ``state`` does not fit the program and the scope, as message parts."""
    saved = {name: (array.shape, array.dtype.name) for name, array in state.items() if name not in tables}
    parts = misfit(saved, {name: meta for name, meta in expected.items() if name not in tables})
    if not parts:
        touched = set(saved) | (set(expected) & tables)
        absent = [name for name in sorted(touched) if scope.find_var(name) is None]
        if absent:
            parts.append(f"not in the scope (run the startup program first): {_names(absent)}")
    return parts


def _place_of(tensor, executor):
    try:
        place = tensor._place()
        if place.is_gpu_place():
            return paddle.CUDAPlace(place.gpu_device_id())
        if place.is_cpu_place():
            return paddle.CPUPlace()
    except Exception:  # an uninitialised tensor has no place yet
        pass
    if executor is not None:
        return executor.place
    return paddle.CPUPlace()


def load_checkpoint(program, path, executor=None, scope=None, trusted=False) -> LoadedCheckpoint:
    """Restore a static program's persistables from a checkpoint of either Paddle version.

    Reads ``paddle.static.save`` checkpoints (either IR), fluid's
    one-file-per-persistable directories (``save_persistables`` /
    ``paddle.static.save_vars``, either version) and the demo trainer's static
    snapshots; restores the parameters, the optimizer accumulators, the step
    counter and the lr variable, then rewrites the branch-free tables from
    ``program``'s own schedule. Everything is checked before anything is
    written: on any error the scope is untouched.

    Args:
        program: the main program, built as the one that was saved.
        path (str or Path): a ``paddle.static.save`` prefix (or its
            ``.pdparams``/``.pdopt`` file), a directory of per-variable files,
            or a snapshot directory.
        executor (optional): gives the place for tensors not yet initialised
            (those run by the startup program keep their own place).
        scope (optional): the scope holding the program's persistables (the
            global scope by default); run the startup program in it first.
        trusted (bool): the ``.pdparams``/``.pdopt`` pickles are read admitting
            only what Paddle's savers write, so that a file cannot run code
            (:mod:`paddle_lr.pickles`); ``True`` reads them with Paddle's own
            loader, which runs whatever they name: only for files you trust.

    Returns:
        LoadedCheckpoint: the path read, its format, the arrays written and the
        tables rewritten.

    Raises:
        CheckpointError: (a :class:`~paddle_lr.rules.ConfigError`) one line
            naming every missing, unexpected, shape- or dtype-mismatched
            variable, or the file that cannot be read.
        UntrustedPickleError: (a ``ConfigError``) one line naming the file and
            the global it asks for that Paddle's save never writes; nothing loaded.

    Example:
        >>> import numpy as np, paddle, paddle_lr, tempfile, os
        >>> paddle.enable_static()
        >>> main, startup = paddle.static.Program(), paddle.static.Program()
        >>> with paddle.static.program_guard(main, startup):
        ...     lr = paddle_lr.exponential_with_warmup_decay(0.1, [3], [0.1, 0.01], 2, 1 / 3)
        >>> exe, scope = paddle.static.Executor(paddle.CPUPlace()), paddle.static.Scope()
        >>> with paddle.static.scope_guard(scope):
        ...     _ = exe.run(startup)
        ...     _ = [exe.run(main, fetch_list=[lr]) for _ in range(3)]
        >>> prefix = os.path.join(tempfile.mkdtemp(), "model")
        >>> _ = paddle_lr.save_checkpoint(main, prefix, scope=scope)
        >>> fresh = paddle.static.Scope()
        >>> with paddle.static.scope_guard(fresh):
        ...     _ = exe.run(startup)
        >>> loaded = paddle_lr.load_checkpoint(main, prefix, exe, fresh)
        >>> int(loaded.state["@LR_DECAY_COUNTER@"][0])
        2
        >>> with paddle.static.scope_guard(fresh):
        ...     print(f"{exe.run(main, fetch_list=[lr])[0][0]:.6g}")
        0.01
        >>> paddle.disable_static()
    """
    scope = scope or paddle.static.global_scope()
    where, form, state, version = read_checkpoint(path, trusted)
    expected = ir.persistables(program)
    tables = {name for name in set(expected) | set(state) if _tables.is_table(name)}
    parts = _problems(state, expected, tables, scope)
    if parts:
        raise CheckpointError(f"checkpoint {where}: does not fit the program: {'; '.join(parts)}")
    written = {}
    for name in sorted(set(state) - tables):
        tensor = scope.find_var(name).get_tensor()
        array = np.ascontiguousarray(state[name])
        tensor.set(array, _place_of(tensor, executor))
        written[name] = array
    rewritten = _schedule.reload_tables(program, scope)  # the program's tables, from its schedule
    return LoadedCheckpoint(where, form, written, tuple(sorted(rewritten)), version)

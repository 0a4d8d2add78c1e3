"""Static checkpoints that load on either Paddle version, in today's and fluid's formats.

:func:`load_checkpoint` reads

* ``paddle.static.save`` checkpoints (``PREFIX.pdparams`` and ``PREFIX.pdopt``)
  written on either IR: PIR puts the step counter and the lr variable in
  ``.pdparams``, the legacy IR in ``.pdopt``, under the same names, so the two
  files are read as one;
* ``fluid.save`` checkpoints of fluid 1.x (the same two pickles, the counter
  and the lr variables in ``.pdopt``);
* fluid's one-file-per-persistable directories (``save_persistables``,
  ``save_vars``, ``save_params``; ``paddle.static.save_vars``), written by
  fluid 1.x or either version (the tensor file format is the same);
* fluid's combined files (``filename=``: ``save_combine``'s tensors one after
  another, without names), named after the program's persistables in fluid's
  order (sorted by name);
* a list of those, one checkpoint split over them (``save_params`` here,
  ``save_vars`` of the rest there);
* the demo trainer's static snapshots, after checking their manifest
  (:mod:`paddle_lr.manifest`).

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

Both are derived from the schedule and the step counter, so a checkpoint of
the other lowering loads: a program's Switch writes its lr variable at every
run before anything reads it, so a checkpoint need not hold it, and a switch
checkpoint's lr variable (``learning_rate``, ``learning_rate_warmup``, with or
without a ``_N`` suffix) is skipped in a program whose branch-free tables
stand in its place. This is what resumes a snapshot made under the former
default (``impl="auto"`` was the Switch up to
:data:`~paddle_lr.schedules.lowerings.SWITCH_MAX_CASES` boundaries) in a program
built with today's (the lookup).

:func:`save_checkpoint` is ``paddle.static.save`` under a scope; any
``paddle.static.save`` checkpoint loads the same way.
"""
import dataclasses
import os
import pathlib
import re
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import paddle

from . import atomic, pickles, rules
from .graph import ir, tables as _tables
from .manifest import MANIFEST as _MANIFEST, verify_snapshot
from .schedules import warmup_piecewise as _schedule

__all__ = ["CheckpointError", "LoadedCheckpoint", "load_checkpoint", "save_checkpoint", "read_checkpoint", "misfit"]

#: Files of a per-variable directory that are not variables: a fluid
#: inference model's program, a program saved next to the variables.
_NOT_VARIABLES = ("__model__",)
_PROGRAM_SUFFIXES = (".pdmodel", ".json")
_SUFFIXES = (".pdparams", ".pdopt", ".pdmodel")
_NAMES_SHOWN = 8


class CheckpointError(rules.ConfigError):
    """A checkpoint cannot be read or does not fit the program; the message is one line."""


@dataclasses.dataclass(frozen=True)
class LoadedCheckpoint:
    """What :func:`load_checkpoint` loaded.

    Attributes:
        path (pathlib.Path or tuple): the checkpoint read (a ``paddle.static.save``
            or ``fluid.save`` prefix, a directory, a combined file or a snapshot
            directory); a tuple of them for a checkpoint given as a list.
        format (str): ``"static.save"`` (``fluid.save`` too: the same files),
            ``"per-variable"``, ``"combined"``, ``"per-variable+combined"`` or
            ``"snapshot"``; for a list, its paths' formats joined by ``+``.
        state (dict): name -> the numpy array written into the scope, exactly
            as saved (parameters, optimizer accumulators, the step counter,
            the lr variable).
        tables (tuple): the branch-free tables rewritten from the program's
            own schedule (their saved values are not used).
        paddle_version (str or None): the Paddle version that wrote it, when
            the checkpoint records it (snapshots).
        renamed (dict): the program's name -> the name saved, for the
            schedule's lr variables saved under fluid's names
            (``{"learning_rate_0": "learning_rate"}``).
        replaced (tuple): a switch checkpoint's lr variables that the
            program's branch-free tables stand for (not loaded).
    """

    path: Union[pathlib.Path, Tuple[pathlib.Path, ...]]
    format: str
    state: Dict[str, np.ndarray]
    tables: Tuple[str, ...] = ()
    paddle_version: Optional[str] = None
    renamed: Dict[str, str] = dataclasses.field(default_factory=dict)
    replaced: Tuple[str, ...] = ()


def save_checkpoint(program: Any, path: Union[str, os.PathLike], executor: Any = None, scope: Any = None,
                    protocol: int = 4) -> pathlib.Path:
    """Save every persistable of ``program`` with ``paddle.static.save``, replacing the old files as a set.

    The files are written into a temporary directory beside ``path``, checked
    and fsynced, then committed and renamed into place (:mod:`paddle_lr.atomic`):
    a kill at any moment leaves the previous checkpoint or the new one, whole,
    as :func:`load_checkpoint` reads it, and a failed write (a full disk)
    raises, leaving the previous checkpoint and no temporary files.

    Args:
        program: the main program.
        path (str or Path): the prefix; ``PATH.pdparams`` and ``PATH.pdopt`` are written.
        executor (optional): unused, for symmetry with :func:`load_checkpoint`.
        scope (optional): the scope holding the persistables (the global scope by default).
        protocol (int): the pickle protocol (Paddle's default, 4).

    Returns:
        pathlib.Path: the prefix.

    Raises:
        CheckpointError: one line naming the file that could not be written
            (no space, read-only, permission); the previous checkpoint is kept.
    """
    del executor
    path = pathlib.Path(rules.path_text("checkpoint path", path))

    def write(tmp_prefix):
        with paddle.static.scope_guard(scope or paddle.static.global_scope()):
            paddle.static.save(program, str(tmp_prefix), protocol=protocol)

    try:
        atomic.replace_set(path, write)
    except OSError as exc:  # Paddle's pickle writes name no file: the directory they were written into
        where = exc.filename if exc.filename is not None else atomic.saving_dir(path)
        raise CheckpointError(f"checkpoint {path}: cannot write {where}: {exc.strerror or exc}") from None
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


def _raise(exc):
    raise exc


def _variable_files(directory):
    for root, dirs, files in os.walk(directory, onerror=_raise):  # a directory that cannot be listed: its line
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or name in _NOT_VARIABLES or name.endswith(_PROGRAM_SUFFIXES):
                continue
            path = pathlib.Path(root) / name
            yield path.relative_to(directory).as_posix(), path


def _read_combined(where, path, label):
    """The tensors of the ``save_combine`` file ``path``, in the file's order."""
    data = rules.read_regular(f"checkpoint {where}: {label}", path)
    try:
        return ir.read_tensor_records(data)
    except ir.TensorFileError as exc:
        raise CheckpointError(f"checkpoint {where}: {label} is not a combined tensor file ({exc})") from None


@dataclasses.dataclass
class _Read:
    """One path of a checkpoint, read: named tensors, and combined files' unnamed ones."""

    where: pathlib.Path
    form: str
    named: Dict[str, np.ndarray]
    combined: List[Tuple[str, List[np.ndarray]]] = dataclasses.field(default_factory=list)
    version: Optional[str] = None


def _read_directory(directory):
    """A directory of per-variable files, combined files (``filename=``), or both."""
    read = _Read(directory, "per-variable", {})
    for name, path in _variable_files(directory):
        rules.open_regular(f"checkpoint {directory}: {name}", path).close()  # a FIFO would block Paddle's reader
        try:
            array, end = ir.read_tensor_file(path)
        except ir.TensorFileError as exc:  # its header, read first: damaged, or claiming more than the file holds
            raise CheckpointError(f"checkpoint {directory}: {name} is not a tensor file ({exc})") from None
        except OSError:  # permission: _read_checked's line
            raise
        except Exception as exc:  # Paddle's own reader
            raise CheckpointError(
                f"checkpoint {directory}: {name} is not a tensor file ({_one_line(exc)})"
            ) from None
        size = path.stat().st_size
        if end == size:
            read.named[name] = array
        else:  # more than one tensor: a save_combine file
            read.combined.append((name, _read_combined(directory, path, name)))
    if not read.named and not read.combined:
        raise CheckpointError(f"checkpoint {directory}: holds no variable files")
    if read.combined:
        read.form = "combined" if not read.named else "per-variable+combined"
    return read


def _read(path, trusted):
    text = str(path)
    # a save_checkpoint that a kill interrupted after its commit is completed first
    atomic.settle(next((text[: -len(s)] for s in _SUFFIXES if text.endswith(s)), text))
    if path.is_dir() and (path / _MANIFEST).is_file():
        manifest = verify_snapshot(path)
        if manifest["mode"] != "static":
            raise CheckpointError(
                f"checkpoint {path}: a {manifest['mode']} snapshot (paddle.save state dicts); "
                "load_checkpoint reads static programs' checkpoints"
            )
        prefix = _static_prefix(path)
        if prefix is None:
            raise CheckpointError(f"checkpoint {path}: the snapshot holds no .pdparams file")
        return _Read(path, "snapshot", _read_static(prefix, trusted), version=manifest.get("paddle_version"))
    prefix = _static_prefix(path)
    if prefix is not None:
        return _Read(prefix, "static.save", _read_static(prefix, trusted))
    if path.is_dir():
        return _read_directory(path)
    if path.is_file():
        return _Read(path, "combined", {}, [(path.name, _read_combined(path, path, path.name))])
    raise CheckpointError(
        f"checkpoint {path}: no such checkpoint (expected a paddle.static.save or fluid.save prefix, "
        "a directory of per-variable or combined files, a combined file or a snapshot directory)"
    )


def _read_checked(path, trusted):
    path = pathlib.Path(rules.path_text("checkpoint path", path))
    try:
        return _read(path, trusted)
    except OSError as exc:  # a directory that cannot be listed or searched, an unreadable file
        where = exc.filename if exc.filename is not None else path
        raise CheckpointError(f"checkpoint {path}: cannot read {where}: {exc.strerror or exc}") from None


def read_checkpoint(path, trusted=False):
    """Read a checkpoint into memory, without a program or a scope.

    Args:
        path (str or Path): a ``paddle.static.save``/``fluid.save`` prefix (or
            one of its files), a per-variable directory, or a static snapshot
            directory. Combined files hold no names: read them with
            :func:`load_checkpoint`, which takes the names from the program.
        trusted (bool): read the pickles with Paddle's own loader, which runs
            whatever code they name (:mod:`paddle_lr.pickles`); only for files you trust.

    Returns:
        tuple: ``(path, format, state, paddle_version)`` with ``state`` a dict
        name -> numpy array, as saved.

    Raises:
        CheckpointError: one line: nothing there, an unreadable or truncated
            file, a damaged or dygraph snapshot, a combined file.
        UntrustedPickleError: a pickle names a global Paddle's save never
            writes (code it would run); nothing was loaded.
    """
    read = _read_checked(path, trusted)
    if read.combined:
        raise CheckpointError(
            f"checkpoint {read.where}: {read.combined[0][0]} is a combined file (its tensors have no names); "
            "load it with load_checkpoint(program, ...), which names them after the program's persistables"
        )
    return read.where, read.form, read.named, read.version


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


#: paddle_lr's schedules name their lr variables as fluid did, plus a unique-name suffix
#: (fluid's ``learning_rate`` is ``learning_rate_0`` here).
_UNIQUE_SUFFIX = re.compile(r"_[0-9]+$")


def _fluid_name(name):
    return _UNIQUE_SUFFIX.sub("", name)


def _is_lr_like(array):
    return array.shape == (1,) and array.dtype == np.float32


@dataclasses.dataclass(frozen=True)
class _Expected:
    """What a program holds, as load_checkpoint matches a checkpoint against it."""

    persistables: Dict[str, tuple]  # name -> (shape, dtype name), tables included
    tables: frozenset
    parameters: Tuple[str, ...]
    #: The schedule's lr variables: written by the schedule at every run, so never needed from a checkpoint.
    recomputed: frozenset

    @classmethod
    def of(cls, program):
        persistables = ir.persistables(program)
        tables = frozenset(name for name in persistables if _tables.is_table(name))
        recomputed = frozenset(name for name in ir.schedule_outputs(program)
                               if persistables.get(name) == ((1,), "float32"))
        return cls(persistables, tables, tuple(sorted(ir.parameter_names(program))), recomputed)

    def fluid_order(self, names):
        """fluid's ``save_combine`` order: sorted by name, an lr variable under fluid's name for it."""
        return sorted(names, key=lambda n: (_fluid_name(n) if n in self.recomputed else n, n))


def _fits(array, meta):
    shape, dtype = meta
    return _shape_fits(array.shape, shape) and array.dtype.name == dtype


#: The lr variables fluid's Switch graphs wrote (``piecewise_decay``; ``linear_lr_warmup`` over a number; the seed
#: and ``linear_lr_warmup`` over a Switch), which a branch-free program's tables stand for: a combined file of
#: fluid's holds them among the rest, unnamed, so only their count and place are known.
_FLUID_SWITCH_LR = (("learning_rate",), ("learning_rate_warmup",), ("learning_rate", "learning_rate_warmup"))
_LR_META = ((1,), "float32")


def _combined_names(arrays, expected, taken):
    """The names for a combined file's tensors, or None when no list of them fits.

    For a branch-free program the names may include fluid's Switch lr variables (``_FLUID_SWITCH_LR``), which
    the program does not hold; ``_drop_replaced`` drops them after the match.
    """
    everything = set(expected.persistables) - expected.tables
    parameters = set(expected.parameters)
    remaining = everything - taken
    groups = (everything, parameters, everything - parameters,
              remaining, remaining & parameters, remaining - parameters)
    extras: List[Tuple[str, ...]] = [()]
    if expected.tables:
        extras += [names for names in _FLUID_SWITCH_LR if not set(names) & (everything | taken)]
    for group in groups:
        if group & taken:
            continue
        for extra in extras:
            names = group | set(extra)
            if len(names) != len(arrays):
                continue
            for order in (expected.fluid_order(names), sorted(names)):
                if all(_fits(a, expected.persistables.get(n, _LR_META)) for a, n in zip(arrays, order)):
                    return order
    return None


def _combined_misfit(where, label, arrays, expected):
    kinds = ", ".join(f"{a.dtype.name}{list(a.shape)}" for a in arrays[:_NAMES_SHOWN])
    more = f", ... ({len(arrays) - _NAMES_SHOWN} more)" if len(arrays) > _NAMES_SHOWN else ""
    others = len(expected.persistables) - len(expected.parameters)
    return (
        f"checkpoint {where}: {label} is a combined file (save_combine) of {len(arrays)} tensors ({kinds}{more}) "
        "that fits no list of the program's persistables in fluid's order (sorted by name): expected all "
        f"{len(expected.persistables)} persistables ({_names(expected.persistables)}), its "
        f"{len(expected.parameters)} parameters or its {others} other persistables"
    )


def _named_state(reads, expected):
    """Every tensor of the checkpoint's paths under the program's name for it."""
    state: Dict[str, Any] = {}
    source: Dict[str, Any] = {}

    def add(where, name, array):
        if name in state:
            raise CheckpointError(f"checkpoint {where}: {name} is also in {source[name]}")
        state[name], source[name] = array, where

    for read in reads:
        for name, array in read.named.items():
            add(read.where, name, array)
    for read in reads:
        for label, arrays in read.combined:
            names = _combined_names(arrays, expected, set(state))
            if names is None:
                raise CheckpointError(_combined_misfit(read.where, label, arrays, expected))
            for name, array in zip(names, arrays):
                add(read.where, name, array)
    return state


def _rename_lr_variables(state, expected):
    """Give the schedule's lr variables saved under fluid's names the program's names.

    Returns:
        dict: the program's name -> the saved name, for those renamed.
    """
    strays = sorted(n for n in state if n not in expected.persistables and _is_lr_like(state[n]))
    renamed = {}
    for name in sorted(expected.recomputed - set(state)):
        match = next((s for s in strays if _fluid_name(s) == _fluid_name(name)), None)
        if match is not None:
            strays.remove(match)
            renamed[name] = match
    for name, saved in renamed.items():
        state[name] = state.pop(saved)
    return renamed


#: The lr variable a Switch lowering writes (fluid, 2.6: ``learning_rate``, ``learning_rate_warmup``;
#: paddle_lr: the same with a ``_N`` suffix).
_SWITCH_LR = re.compile(r"^learning_rate(?:_warmup)?(?:_[0-9]+)?$")


def _drop_replaced(state, expected):
    """Drop a switch checkpoint's lr variables that the program's branch-free tables stand for.

    Returns:
        tuple: their names (none unless the program has tables).
    """
    if not expected.tables:
        return ()
    replaced = sorted(n for n in state if n not in expected.persistables and _SWITCH_LR.match(n)
                      and _is_lr_like(state[n]))
    for name in replaced:
        del state[name]
    return tuple(replaced)


def _problems(state, expected, params_only, scope):
    """Every way ``state`` does not fit the program and the scope, as one message, and the names to restore."""
    want = {n: m for n, m in expected.persistables.items() if n not in expected.tables}
    if params_only:
        want = {n: want[n] for n in expected.parameters}
    else:
        for name in expected.recomputed - set(state):  # written by the schedule before anything reads it
            del want[name]
    saved = {name: (array.shape, array.dtype.name) for name, array in state.items()
             if not _tables.is_table(name) and (not params_only or name in want)}
    parts = misfit(saved, want)
    missing = set(want) - set(saved)
    if not params_only and missing and set(saved) == set(expected.parameters):
        return (f"holds the parameters only (fluid's save_params): missing {_names(missing)}; "
                "load_checkpoint(..., params_only=True) loads the parameters alone (fine-tuning)"), set(saved)
    if not parts:
        touched = set(saved) | expected.tables
        absent = [name for name in sorted(touched) if scope.find_var(name) is None]
        if absent:
            parts.append(f"not in the scope (run the startup program first): {_names(absent)}")
    return (f"does not fit the program: {'; '.join(parts)}" if parts else ""), set(saved)


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


def _paths(path):
    if not isinstance(path, (list, tuple)):
        return [path]
    if not path:
        raise CheckpointError("checkpoint: an empty list of paths")
    return list(path)


def load_checkpoint(program: Any, path: Any, executor: Any = None, scope: Any = None, trusted: bool = False, *,
                    params_only: bool = False) -> LoadedCheckpoint:
    """Restore a static program's persistables from a checkpoint of fluid 1.x, Paddle 2.6 or Paddle 3.x.

    Reads ``paddle.static.save`` and ``fluid.save`` checkpoints (either IR),
    fluid's one-file-per-persistable directories (``save_persistables``,
    ``save_vars``, ``save_params``), fluid's combined files (``filename=``),
    and the demo trainer's static snapshots; a list of paths is one checkpoint
    split over them (``save_params`` into one directory or file,
    ``save_vars`` of the rest into another). It restores the parameters, the
    optimizer accumulators, the step counter and the lr variables, then
    rewrites the branch-free tables from ``program``'s own schedule.
    Everything is read and checked before anything is written: on any error
    the scope is untouched.

    Combined files hold no names: their tensors are named after the
    program's persistables in the order fluid wrote them (sorted by name),
    all of them, the parameters only or the others; a file that none of these
    lists fits is refused in one line. The lr variables of the program's
    Switch schedules are written by the schedule at every run before anything
    reads them: a checkpoint may lack them, or hold them under fluid's names
    (``learning_rate``, ``learning_rate_warmup`` for ``learning_rate_0``,
    ``learning_rate_warmup_0``). A switch checkpoint's lr variables are
    skipped in a program whose branch-free tables stand for them (another
    lowering: ``LoadedCheckpoint.replaced``).

    Args:
        program: the main program, built as the one that was saved.
        path (str, Path or list of them): a ``paddle.static.save``/``fluid.save``
            prefix (or its ``.pdparams``/``.pdopt`` file), a directory of
            per-variable or combined files, a combined file, a snapshot
            directory, or a list of those that together hold the checkpoint.
        executor (optional): gives the place for tensors not yet initialised
            (those run by the startup program keep their own place).
        scope (optional): the scope holding the program's persistables (the
            global scope by default); run the startup program in it first.
        trusted (bool): the ``.pdparams``/``.pdopt`` pickles are read admitting
            only what Paddle's savers write, so that a file cannot run code
            (:mod:`paddle_lr.pickles`); ``True`` reads them with Paddle's own
            loader, which runs whatever they name: only for files you trust.
        params_only (bool): restore the parameters only (fine-tuning from a
            ``save_params`` checkpoint, or from a full one): the optimizer's
            accumulators and the step counter keep their startup values.
            Without it, a checkpoint of the parameters alone is refused.

    Returns:
        LoadedCheckpoint: the path read, its format, the arrays written and the
        tables rewritten.

    Raises:
        CheckpointError: (a :class:`~paddle_lr.rules.ConfigError`) one line
            naming every missing, unexpected, shape- or dtype-mismatched
            variable, the combined file that fits no list of the program's
            persistables, or the file that cannot be read.
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
    rules.boolean("params_only", params_only)
    scope = scope or paddle.static.global_scope()
    reads = [_read_checked(p, trusted) for p in _paths(path)]
    if len(reads) == 1:
        where, form, version = reads[0].where, reads[0].form, reads[0].version
    else:
        where = tuple(read.where for read in reads)
        form = "+".join(read.form for read in reads)
        version = next((read.version for read in reads if read.version), None)
    label = " + ".join(str(read.where) for read in reads)
    expected = _Expected.of(program)
    state = _named_state(reads, expected)
    renamed = _rename_lr_variables(state, expected)
    replaced = _drop_replaced(state, expected)
    problem, restored = _problems(state, expected, params_only, scope)
    if problem:
        raise CheckpointError(f"checkpoint {label}: {problem}")
    written = {}
    for name in sorted(restored):
        tensor = scope.find_var(name).get_tensor()
        array = np.ascontiguousarray(state[name])
        tensor.set(array, _place_of(tensor, executor))
        written[name] = array
    rewritten = _schedule.reload_tables(program, scope)  # the program's tables, from its schedule
    return LoadedCheckpoint(where, form, written, tuple(sorted(rewritten)), version, renamed, replaced)

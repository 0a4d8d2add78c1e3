"""Persistable lookup tables for the branch-free lowerings, recognisable by their names.

A table is a persistable float32 (or int64) vector that the startup program
fills once and the main program only reads (``searchsorted`` /
``index_select``). Its contents are a function of the schedule alone, so they
are never state to restore from a checkpoint: they are derived. To let any
code that holds only the program (a clone, :func:`paddle_lr.load_checkpoint`,
a resume) rewrite them, a table's persistable name says what it holds::

    paddle_lr_table_<sha1 of dtype, shape and bytes, 16 hex>[_<n>]

and this module keeps, per process, the contents of every digest it has
built. Nothing is stored on Paddle's objects. A checkpoint made with another
schedule holds tables of other names, which loaders skip (:func:`is_table`);
a plain ``paddle.static.load`` of such a checkpoint fails on the missing
names instead of silently running the old schedule.
"""
import hashlib
import re
from typing import Dict, List

import numpy as np
import paddle
from paddle.utils import unique_name

from . import ir

__all__ = ["PREFIX", "create", "is_table", "contents", "names", "rewrite"]

PREFIX = "paddle_lr_table_"
_NAME = re.compile(rf"^{PREFIX}([0-9a-f]{{16}})(?:_\d+)?$")
_CONTENTS: Dict[str, np.ndarray] = {}


def _digest(array: np.ndarray) -> str:
    h = hashlib.sha1()
    h.update(f"{array.dtype.str}{array.shape}".encode())
    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()[:16]


def create(array: np.ndarray):
    """A persistable, non-trainable table holding ``array``, filled by the startup program.

    Args:
        array (numpy.ndarray): a float32 or int64 vector.

    Returns:
        The table tensor of the main program.
    """
    array = np.ascontiguousarray(array)
    digest = _digest(array)
    _CONTENTS[digest] = array
    return paddle.static.create_parameter(
        list(array.shape),
        str(array.dtype),
        attr=paddle.ParamAttr(name=unique_name.generate(PREFIX + digest), trainable=False),
        default_initializer=paddle.nn.initializer.Assign(array),
    )


def is_table(name: str) -> bool:
    """Whether a persistable's name is a branch-free table's."""
    return _NAME.match(name) is not None


def contents(name: str) -> np.ndarray:
    """The contents of the table ``name``, as built in this process.

    Raises:
        KeyError: no schedule in this process built a table of that name.
    """
    match = _NAME.match(name)
    if match is None or match.group(1) not in _CONTENTS:
        raise KeyError(f"{name}: no branch-free table of that name was built in this process")
    return _CONTENTS[match.group(1)]


def names(program) -> List[str]:
    """The tables of ``program`` (its persistables named as tables), sorted."""
    return sorted(name for name in ir.persistables(program) if is_table(name))


def rewrite(program, scope=None) -> List[str]:
    """Write every table of ``program`` into ``scope`` from its name.

    Loaders call this after restoring a checkpoint (:func:`paddle_lr.load_checkpoint`
    and the trainer's resume do), so that the program's own schedule applies.

    Args:
        program: a main program.
        scope (optional): the scope holding its persistables; the global scope by default.

    Returns:
        list[str]: the names of the tables written.
    """
    scope = scope or paddle.static.global_scope()
    written = names(program)
    for name in written:
        tensor = scope.find_var(name).get_tensor()
        place = tensor._place()
        place = paddle.CUDAPlace(place.gpu_device_id()) if place.is_gpu_place() else paddle.CPUPlace()
        tensor.set(contents(name), place)
    return written

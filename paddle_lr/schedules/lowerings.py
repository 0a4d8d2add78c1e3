"""The names of the graph lowerings a schedule can be built with (plain data, no Paddle).

``switch``
    fluid's own graph: a persistable lr written by a :class:`~paddle_lr.Switch`,
    one case per piece.
``branchless``
    no control flow: one lookup in persistable tables filled by the startup program.
"""

__all__ = ["IMPLS"]

IMPLS = ("switch", "branchless")

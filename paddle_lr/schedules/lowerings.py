"""The names of the graph lowerings a schedule can be built with (plain data, no Paddle).

``switch``
    fluid's own graph: a persistable lr written by a :class:`~paddle_lr.Switch`,
    one case per piece.
``branchless``
    no control flow: one lookup in persistable tables filled by the startup program.
``auto`` (the default)
    ``switch`` up to :data:`paddle_lr.graph.switch.SWITCH_MAX_CASES` boundaries,
    ``branchless`` past it (a Switch's memory grows with the square of its cases on PIR).
"""

__all__ = ["IMPLS"]

IMPLS = ("auto", "switch", "branchless")

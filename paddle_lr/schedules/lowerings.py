"""The names of the graph lowerings a schedule can be built with (plain data, no Paddle).

``switch``
    fluid's own graph: a persistable lr written by a :class:`~paddle_lr.Switch`,
    one case per piece.
``branchless``
    no control flow: one lookup in persistable tables filled by the startup program.
``auto`` (the default)
    ``switch`` up to :data:`SWITCH_MAX_CASES` boundaries, ``branchless`` past it
    (a Switch's memory grows with the square of its cases on PIR).
"""

__all__ = ["IMPLS", "SWITCH_MAX_CASES", "auto_lowering"]

IMPLS = ("auto", "switch", "branchless")

SWITCH_MAX_CASES = 100
"""The most boundaries a schedule's default lowering (``impl="auto"``) builds as a Switch.

Past this count the default is the bit-identical branch-free lowering; an
explicit ``impl="switch"`` past it warns (:class:`~paddle_lr.ScheduleWarning`)
with :func:`paddle_lr.graph.switch.expected_memory`. See docs/scaling.md for
the measurements.
"""


def auto_lowering(cases: int) -> str:
    """What ``impl="auto"`` builds for ``cases`` boundaries.

    >>> auto_lowering(2), auto_lowering(2000)
    ('switch', 'branchless')
    """
    return "switch" if cases <= SWITCH_MAX_CASES else "branchless"

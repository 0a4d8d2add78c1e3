"""The graph lowerings a schedule can be built with, and the policy that picks one.

``switch``
    fluid's own graph: a persistable lr written by a :class:`~paddle_lr.Switch`,
    one case per piece.
``branchless``
    no control flow: one lookup in persistable tables filled by the startup program.
``auto`` (the default)
    ``switch`` up to :data:`SWITCH_MAX_CASES` boundaries, ``branchless`` past it
    (a Switch's memory grows with the square of its cases on PIR).
"""

import warnings

from ..graph import ir
from ..graph.switch import expected_memory
from ..rules import ScheduleWarning

__all__ = ["IMPLS", "SWITCH_MAX_CASES", "auto_lowering", "resolve_lowering"]

IMPLS = ("auto", "switch", "branchless")

SWITCH_MAX_CASES = 100
"""The most boundaries a schedule's default lowering (``impl="auto"``) builds as a Switch.

Past this count the default is the bit-identical branch-free lowering; an
explicit ``impl="switch"`` past it warns (:class:`~paddle_lr.ScheduleWarning`)
with :func:`paddle_lr.graph.switch.expected_memory` (:func:`resolve_lowering`). See docs/scaling.md for
the measurements.
"""


def auto_lowering(cases: int) -> str:
    """What ``impl="auto"`` builds for ``cases`` boundaries.

    >>> auto_lowering(2), auto_lowering(2000)
    ('switch', 'branchless')
    """
    return "switch" if cases <= SWITCH_MAX_CASES else "branchless"


def resolve_lowering(impl: str, cases: int, name: str = "boundaries") -> str:
    """The lowering a schedule builds: ``impl``, with ``"auto"`` resolved by the count.

    ``"auto"`` is ``"switch"`` up to :data:`SWITCH_MAX_CASES` cases and
    ``"branchless"`` past it. An explicit ``"switch"`` past the count warns
    (:class:`~paddle_lr.ScheduleWarning`, naming ``name``) with the expected
    memory, before any op is built.

    Args:
        impl (str): ``"auto"``, ``"switch"`` or ``"branchless"`` (checked by the caller).
        cases (int): the number of boundaries.
        name (str): the argument or cfg key that holds them, for the message.

    Returns:
        str: ``"switch"`` or ``"branchless"``.

    >>> resolve_lowering("auto", 2), resolve_lowering("auto", 2000), resolve_lowering("branchless", 2)
    ('switch', 'branchless', 'branchless')
    """
    if impl == "auto":
        return auto_lowering(cases)
    if impl == "switch" and cases > SWITCH_MAX_CASES:
        warnings.warn(
            f"{name}: {cases} boundaries as a Switch (impl='switch') need about "
            f"{expected_memory(cases):.1f} GB and a first run that grows with their square "
            f"on this Paddle ({ir.ir_name()} IR); impl='branchless' (the default past "
            f"{SWITCH_MAX_CASES}) gives the same values in constant memory",
            ScheduleWarning,
            stacklevel=3,
        )
    return impl

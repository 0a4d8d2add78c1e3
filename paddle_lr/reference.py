"""The pure-numpy reference of fluid's ``exponential_with_warmup_decay``.

:func:`lr_at` is the single source of truth for the schedule's values: the
graph lowerings, the dygraph twin, the tools and the docs are all checked
against it. It mirrors the original graph op for op, in float32:

==========================  ==================================================
step ``s``                  learning rate
==========================  ==================================================
``s < warmup_iter``         ``learning_rate * (warmup_factor * (1 - a) + a)``
                            with ``a = s / warmup_iter``
``s < boundaries[i]``       ``values[i]`` (first such ``i``)
otherwise                   ``values[-1]``
==========================  ==================================================

The step, the warmup length and the boundaries are compared as float32, as
the original cast its int64 counter to float32 before comparing, so past
2**24 steps a boundary can fire a step early, exactly as in the original.

Example, the ``tiny`` golden case (warmup 4 from a third, steps at 6 and 9)::

    >>> vals = boundary_values(0.01, 0.1, 2)
    >>> [float(lr_at(s, 0.01, [6, 9], vals, 4, 1 / 3)) for s in (0, 2, 4, 6, 9)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [0.0033333334140479565, 0.006666666828095913, 0.009999999776482582,
     0.0010000000474974513, 9.999999747378752e-05]
"""
import numpy as np

__all__ = ["lr_at", "boundary_values"]

_F32 = np.float32


def boundary_values(learning_rate, lr_gamma, num_boundaries):
    """The piecewise values of the R-CNN recipe, as the original derived them.

    Args:
        learning_rate (float): the base learning rate.
        lr_gamma (float): the factor applied at each boundary.
        num_boundaries (int): ``len(lr_steps)``.

    Returns:
        list[float]: ``[learning_rate * lr_gamma ** i for i in range(num_boundaries + 1)]``,
        in Python floats (float64), exactly as the original cfg code computed them.
    """
    return [learning_rate * lr_gamma ** i for i in range(num_boundaries + 1)]


def lr_at(step, learning_rate, boundaries, values, warmup_iter, warmup_factor):
    """The learning rate that fluid's warmup + piecewise graph gives at ``step``.

    Args:
        step (int or array of int): the value of the step counter (0 at the
            first run of the main program). An array gives an array.
        learning_rate (float): the base learning rate, the target of the warmup.
        boundaries (sequence of int): absolute steps at which the value changes.
        values (sequence of float): ``len(boundaries) + 1`` piecewise values.
        warmup_iter (float): warmup length in steps; 0 means no warmup.
        warmup_factor (float): the lr multiplier at step 0 of the warmup.

    Returns:
        numpy.float32 (or a float32 array shaped like ``step``): the learning rate,
        bit-identical to the original graph.
    """
    s = np.asarray(step, dtype=np.int64).astype(_F32)
    warm = _F32(warmup_iter)
    piece = np.full(s.shape, _F32(values[-1]), dtype=_F32)
    # Walk the cases backwards so that the first true case wins, as in a Switch.
    for bound, value in reversed(list(zip(boundaries, values))):
        piece = np.where(s < _F32(bound), _F32(value), piece)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = (s / warm).astype(_F32)
        one_minus = (_F32(1) - alpha).astype(_F32)
        factor = ((_F32(warmup_factor) * one_minus).astype(_F32) + alpha).astype(_F32)
        ramp = (_F32(learning_rate) * factor).astype(_F32)
    out = np.where(s < warm, ramp, piece).astype(_F32)
    return out[()] if out.ndim == 0 else out

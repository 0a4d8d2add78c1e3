"""fluid's in-graph learning-rate schedules, one module each, registered by fluid name (:mod:`.registry`).

Every family function (``piecewise_decay``, ``exponential_decay``, ...,
``linear_lr_warmup``) keeps fluid's signature and:

* in static mode returns the float32 [1] lr tensor, read from the one
  ``@LR_DECAY_COUNTER@`` of the program;
* in dynamic mode returns a :class:`~paddle_lr.FluidScheduler`, an
  ``LRScheduler`` whose value after ``k`` calls of ``step()`` is the graph's
  ``k``-th run;
* raises a one-line :class:`~paddle_lr.ConfigError` (a ``ConfigTypeError``
  for a wrong type) naming the argument, the rule and the value, before any
  op is built.

A module holds the schedule's numpy ``reference`` (the values), its
``check``, its graph (``ops`` or its lowerings) and its public function, and
ends with one :func:`~paddle_lr.schedules.registry.register_module` call.
Importing this package imports every schedule module (below), in the order the
registry, and so the docs table, lists them; the registry itself imports none.
"""
from . import (  # noqa: F401  (each registers its schedule)
    piecewise,
    exponential,
    natural_exp,
    inverse_time,
    polynomial,
    cosine,
    noam,
    linear_warmup,
    cosine_skip,
    warmup_piecewise,
)

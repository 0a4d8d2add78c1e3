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
ends with one :func:`~paddle_lr.schedules.registry.register_module` call that
also gives its argument kinds and example arguments. Importing this package
imports every module in it (:func:`discover`): a new schedule is its module,
found without a list; the registry keeps the schedules in the order of their
names, and itself imports none of them.
"""
import importlib
import pkgutil
from typing import List


def discover() -> List[str]:
    """Import every module of this package (each schedule module registers its schedule).

    Returns:
        list[str]: the modules' names, in order.
    """
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.ispkg)
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names


MODULES = discover()
"""The modules of this package, all imported."""

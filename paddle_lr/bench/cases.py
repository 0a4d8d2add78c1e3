"""What the bench runs: one program per (impl, workload, boundaries), built in the current program guard.

``impl`` names, by schedule:

``floor``
    the decay counter alone (``bare``), or the model with a float lr (``train``).
``switch`` / ``branchless`` / ``auto``
    :func:`paddle_lr.exponential_with_warmup_decay` with that lowering.
``lrscheduler``
    Paddle's host-side ``LinearWarmup(PiecewiseDecay(...))`` (boundaries shifted
    by the warmup so that its values are the in-graph schedule's), written into
    the lr variable before each run and stepped after it.
``pw_<lowering>`` / ``wpw_<lowering>``
    ``piecewise_decay`` and ``linear_lr_warmup(piecewise_decay(...))`` with
    ``<lowering>`` among ``switch``, ``branchless``, ``auto``, or ``fluid``:
    Paddle's own originals, ``paddle.optimizer.lr.piecewise_decay`` and
    ``linear_lr_warmup`` (they build only in the legacy IR, paddlepaddle 2.6).
    ``auto`` is the default lowering (today ``branchless``), built by the
    public functions as user code calls them (the inner schedule first, its
    tensor passed on); ``wpw_spec`` is the same default built from a spec, as
    a cfg is (``registry.build``: nobody else holds the inner lr).
``<schedule>`` / ``<schedule>_fluid``
    the family's arithmetic schedules (:data:`ARITHMETIC`: every registered
    schedule of fluid's own with plain ops, no lowerings: ``cosine_decay``,
    ``exponential_decay``, ..., ``polynomial_decay``), ``paddle_lr``'s and
    Paddle's own; they have no boundaries and are measured once, as 0.
``<schedule>_ops``
    for those that settle (built as one lookup by default), their ops as fluid
    built them (the schedule's ``ops`` on the float32 counter).
``<schedule>_horizon``
    the same schedule built from its spec with a known training length
    (``registry.build(spec, horizon=HORIZON)``): one ``index_select`` of the
    counter into its values up to :data:`HORIZON`.
"""
from typing import Any, Optional, Tuple

from ..schedules.registry import FLUID, REGISTRY
from ..schedules.registry import build as build_spec

__all__ = ["IMPLS", "WORKLOADS", "FAMILY", "ARITHMETIC", "ARITHMETIC_IMPLS", "HORIZON", "available", "boundless", "schedule", "build",
           "kind", "fluid_spec", "train_feed"]

FAMILY = tuple(f"{p}_{l}" for p in ("pw", "wpw") for l in ("fluid", "switch", "branchless", "auto")) + ("wpw_spec",)

# The arithmetic schedules' arguments: each record's ``typical``, the detection,
# classification and transformer settings their users run (the counts are steps).
ARITHMETIC = {name: dict(s.typical) for name, s in REGISTRY.items() if s.origin == FLUID and not s.impls}
ARITHMETIC_IMPLS = tuple(f"{name}{suffix}" for name in ARITHMETIC for suffix in ("", "_fluid")) + tuple(
    f"{name}_ops" for name in ARITHMETIC if REGISTRY[name].settles is not None) + tuple(
    f"{name}_horizon" for name in ARITHMETIC)
IMPLS = ("floor", "switch", "branchless", "auto", "lrscheduler") + FAMILY + ARITHMETIC_IMPLS
WORKLOADS = ("bare", "train")

HORIZON = 180000
"""The ``<schedule>_horizon`` tables' last counter: the R-CNN cfg's default ``max_iter``."""

# The schedule every configuration runs: warmup, then boundaries every 100 steps.
LR = 0.01
WARMUP = 50
WARMUP_FACTOR = 1.0 / 3.0
GAMMA = 0.99  # keeps 2000 values well inside float32's normal range
SPACING = 100

# The train workload: a fixed batch through fc(relu) -> fc -> softmax cross entropy.
_BATCH, _FEATURES, _HIDDEN, _CLASSES = 32, 64, 64, 10


def available(impl: str) -> bool:
    """Whether ``impl`` can be built on the installed Paddle (``*_fluid`` only on the legacy IR)."""
    from ..graph import ir

    return not (impl.endswith("_fluid") and ir.is_pir())


def _arithmetic(impl: str) -> str:
    """The schedule of an arithmetic ``impl`` (``<schedule>``, ``<schedule>_fluid``, ``<schedule>_ops``,
    ``<schedule>_horizon``); any other ``impl`` itself."""
    for suffix in ("_fluid", "_ops", "_horizon"):
        if impl.endswith(suffix) and impl[: -len(suffix)] in ARITHMETIC:
            return impl[: -len(suffix)]
    return impl


def boundless(impl: str) -> bool:
    """Whether ``impl`` has no boundaries (measured once, at the count 0)."""
    return impl == "floor" or _arithmetic(impl) in ARITHMETIC


def kind(impl: str) -> Optional[str]:
    """The schedule ``impl`` builds, as fluid 1.8.5's side of the bench names it, or None (no fluid counterpart).

    ``floor``; ``seed`` (``switch``, ``branchless``, ``auto``: the R-CNN
    schedule); ``pw`` and ``wpw`` (the family's ``pw_*``, ``wpw_*``); an
    arithmetic schedule's name. Paddle's host-side ``lrscheduler`` and Paddle
    2.6's own ``*_fluid`` have none.

    >>> kind("auto"), kind("wpw_switch"), kind("cosine_decay"), kind("pw_fluid")
    ('seed', 'wpw', 'cosine_decay', None)
    """
    if impl.endswith("_fluid") or impl == "lrscheduler":
        return None
    if impl in ("switch", "branchless", "auto"):
        return "seed"
    if impl in FAMILY:
        return impl.split("_", 1)[0]
    return _arithmetic(impl)  # floor, or an arithmetic schedule


def fluid_spec(name: str, kind_: str, workload: str, boundaries: int) -> dict:
    """What ``tools/fluid18/bench_fluid.py`` builds for one configuration: fluid 1.8.5's graph of ``kind_``.

    The same schedule arguments and model as :func:`build` uses, as plain data.
    """
    bounds, values = schedule(boundaries) if not boundless(kind_) else ([], [])
    values = [float(v) for v in values]
    warmup = dict(warmup_steps=WARMUP, start_lr=LR * WARMUP_FACTOR, end_lr=LR)
    if kind_ == "floor":
        fn, args = "floor", {"learning_rate": LR}
    elif kind_ == "seed":
        fn, args = "seed", dict(learning_rate=LR, boundaries=bounds, values=values, warmup_iter=WARMUP,
                                warmup_factor=WARMUP_FACTOR)
    elif kind_ == "pw":
        fn, args = "piecewise_decay", dict(boundaries=bounds, values=values)
    elif kind_ == "wpw":
        fn, args = "linear_lr_warmup", dict(learning_rate={"fn": "piecewise_decay", "args": dict(
            boundaries=bounds, values=values)}, **warmup)
    else:
        fn, args = kind_, dict(ARITHMETIC[kind_])
    train = None
    if workload == "train":
        x, label = train_feed()
        train = dict(batch=_BATCH, features=_FEATURES, hidden=_HIDDEN, classes=_CLASSES, x=x.tolist(),
                     label=label.tolist())
    return {"impl": name, "workload": workload, "boundaries": boundaries, "schedule": fn, "args": args,
            "train": train}


def train_feed():
    """The train workload's fixed batch: ``(x, label)``."""
    import numpy as np

    rng = np.random.default_rng(0)
    return (rng.standard_normal((_BATCH, _FEATURES)).astype("float32"),
            rng.integers(0, _CLASSES, (_BATCH, 1)).astype("int64"))


def schedule(boundaries: int):
    """``(boundaries, values)`` of the bench schedule with ``boundaries`` boundaries."""
    import paddle_lr

    bounds = [WARMUP + SPACING * (i + 1) for i in range(boundaries)]
    return bounds, paddle_lr.boundary_values(LR, GAMMA, boundaries)


def _family(paddle, impl, boundaries):
    from ..schedules.linear_warmup import linear_lr_warmup
    from ..schedules.piecewise import piecewise_decay

    kind, lowering = impl.split("_", 1)
    bounds, values = schedule(boundaries)
    if lowering == "fluid":
        pw, warm = paddle.optimizer.lr.piecewise_decay, paddle.optimizer.lr.linear_lr_warmup
        lr = pw(bounds, values)
        return lr if kind == "pw" else warm(lr, WARMUP, LR * WARMUP_FACTOR, LR)
    if lowering == "spec":  # as a cfg builds it: the registry, inner schedule first
        from ..schedules.registry import build

        return build({"fn": "linear_lr_warmup", "args": {
            "learning_rate": {"fn": "piecewise_decay", "args": {"boundaries": bounds, "values": values}},
            "warmup_steps": WARMUP, "start_lr": LR * WARMUP_FACTOR, "end_lr": LR}})
    lr = piecewise_decay(bounds, values, impl=lowering)
    if kind == "pw":
        return lr
    return linear_lr_warmup(lr, WARMUP, LR * WARMUP_FACTOR, LR, impl=lowering)


def _lr(paddle, impl, boundaries) -> Tuple[Any, Optional[Any]]:
    """The learning rate of ``impl`` in the current program, and the scheduler to step."""
    import paddle_lr

    if impl == "floor":
        return LR, None
    if impl in FAMILY:
        return _family(paddle, impl, boundaries), None
    if boundless(impl):
        name = _arithmetic(impl)
        if impl.endswith("_ops"):  # fluid's ops, where the public function builds a lookup
            from ..schedules.common import graph_or_twin
            from ..schedules.lowerings import Lowering

            record = REGISTRY[name]
            args = record.check(**ARITHMETIC[name])
            return graph_or_twin(name, args, Lowering(record.ops), begin=record.begin), None
        if impl.endswith("_horizon"):
            return build_spec({"fn": name, "args": ARITHMETIC[name]}, horizon=HORIZON), None
        fn = getattr(paddle.optimizer.lr, name) if impl.endswith("_fluid") else REGISTRY[name].build
        return fn(**ARITHMETIC[name]), None
    bounds, values = schedule(boundaries)
    if impl == "lrscheduler":
        sched = paddle.optimizer.lr.LinearWarmup(
            paddle.optimizer.lr.PiecewiseDecay([b - WARMUP for b in bounds], values),
            warmup_steps=WARMUP, start_lr=LR * WARMUP_FACTOR, end_lr=LR)
        return sched, sched
    return paddle_lr.exponential_with_warmup_decay(LR, bounds, values, WARMUP, WARMUP_FACTOR, impl=impl), None


def _build_bare(paddle, impl, boundaries):
    import paddle_lr

    if impl == "floor":
        return paddle_lr.decay_step_counter(), None, None
    lr, sched = _lr(paddle, impl, boundaries)
    if sched is None:
        return lr, None, None
    # What an optimizer does with a scheduler, without a model: a persistable
    # float32 [1] variable that the executor fills with ``sched()`` before each
    # run. 2.6 finds it by ``sched._var_name``, 3.x by ``program.lr_name``.
    from paddle.utils import unique_name

    from ..graph import ir

    name = unique_name.generate("learning_rate")
    lr_var = ir.scheduler_float(name)
    program = paddle.static.default_main_program()
    program.lr_scheduler, program.lr_name, sched._var_name = sched, name, name
    return lr_var, None, sched


def _build_train(paddle, impl, boundaries):
    import paddle_lr

    lr, sched = _lr(paddle, impl, boundaries)
    x = paddle.static.data("x", [_BATCH, _FEATURES], "float32")
    label = paddle.static.data("label", [_BATCH, 1], "int64")
    hidden = paddle.static.nn.fc(x, _HIDDEN, activation="relu")
    logits = paddle.static.nn.fc(hidden, _CLASSES)
    loss = paddle.mean(paddle.nn.functional.cross_entropy(logits, label))
    opt = paddle_lr.Momentum(learning_rate=lr, momentum=0.9, regularization=paddle_lr.L2Decay(1e-4))
    opt.minimize(loss)
    x, label = train_feed()
    return loss, {"x": x, "label": label}, sched


def build(paddle, impl: str, workload: str, boundaries: int):
    """Build ``impl`` on ``workload`` in the current program guard.

    Returns:
        tuple: ``(fetch, feed, scheduler)``; ``feed`` and ``scheduler`` may be None.
    """
    return (_build_bare if workload == "bare" else _build_train)(paddle, impl, boundaries)

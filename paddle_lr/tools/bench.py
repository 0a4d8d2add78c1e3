"""paddle-lr-bench: the per-step cost of the in-graph schedule, on the installed Paddle.

Measures the median wall time of one ``Executor.run`` (on the CPU place) for

``floor``
    the baseline: the decay counter alone (``bare``), or the model with a float
    learning rate (``train``);
``switch`` / ``branchless``
    :func:`paddle_lr.exponential_with_warmup_decay` with that lowering;
``lrscheduler``
    Paddle's host-side ``LinearWarmup(PiecewiseDecay(...))``, whose value the
    executor writes into the learning-rate variable before every run, plus its
    ``step()`` after every run (both timed); its boundaries are shifted by the
    warmup so that its values are those of the in-graph schedule;

on two workloads, ``bare`` (the schedule alone, fetching the learning rate)
and ``train`` (a two-layer fc model on a fixed batch, :class:`paddle_lr.Momentum`
with :class:`paddle_lr.L2Decay`, fetching the loss), at several boundary counts.
``floor`` has no boundaries and is recorded with ``boundaries`` 0.

Every configuration is built first (``build_ms``: constructing the main and
startup programs; ``first_run_ms``: the first ``Executor.run``, which also
prepares the executor's instructions; ``ops``: the main program's ops, those
inside conditional blocks included), run a few times untimed, then all are timed in interleaved
rounds so that machine drift hits all alike. A round runs each configuration
``--runs`` times, but stops a configuration early once it has taken
``--round-budget-ms`` in that round (at least one run), so that slow graphs
(``switch`` at 1000 boundaries) get fewer samples instead of being dropped:
the ``runs`` column says how many each median is over. Programs of more than
:data:`ISOLATE_OPS` ops are timed after the interleaved rounds, one at a time,
and freed before the next (``isolated``): on 3.3.1, the executor of the switch
at 1000 boundaries holds thousands of threads that slow down whatever runs
next in the process.
"""
import json
import statistics
import sys
import time

from ._cli import ArgumentParser, UsageError, run

__all__ = ["main", "measure", "evaluate_targets", "format_table", "IMPLS", "WORKLOADS", "TARGETS", "ISOLATE_OPS"]

IMPLS = ("floor", "switch", "branchless", "lrscheduler")
WORKLOADS = ("bare", "train")
DEFAULT_BOUNDARIES = (2, 10, 100, 1000)
# Programs with more ops than this (the switch at 1000 boundaries has ~8000)
# are timed after the others, one at a time: on 3.3.1 such a program's
# executor holds ~5000 threads whose wake-ups slow every other configuration.
ISOLATE_OPS = 2000

# The schedule every configuration runs: warmup, then boundaries every 100 steps.
_LR = 0.01
_WARMUP = 50
_WARMUP_FACTOR = 1.0 / 3.0
_GAMMA = 0.99  # keeps 1000 values well inside float32's normal range
_SPACING = 100

# The train workload: a fixed batch through fc(relu) -> fc -> softmax cross entropy.
_BATCH, _FEATURES, _HIDDEN, _CLASSES = 32, 64, 64, 10

# (name, workload, numerator, denominator, bound, kind); kind "overhead" divides
# the overheads over floor, "step" the step times.
TARGETS = (
    ("overhead(branchless) / overhead(switch) @2", "bare", ("branchless", 2), ("switch", 2), 0.25, "overhead"),
    ("step(branchless@1000) / step(branchless@2)", "bare", ("branchless", 1000), ("branchless", 2), 1.1, "step"),
    ("step(branchless) / step(lrscheduler) @2", "train", ("branchless", 2), ("lrscheduler", 2), 1.1, "step"),
)


def _schedule(boundaries):
    import paddle_lr

    bounds = [_WARMUP + _SPACING * (i + 1) for i in range(boundaries)]
    return bounds, paddle_lr.boundary_values(_LR, _GAMMA, boundaries)


def _lr(paddle, impl, boundaries):
    """The learning rate of ``impl`` in the current program, and the scheduler to step."""
    import paddle_lr

    if impl == "floor":
        return _LR, None
    bounds, values = _schedule(boundaries)
    if impl == "lrscheduler":
        sched = paddle.optimizer.lr.LinearWarmup(
            paddle.optimizer.lr.PiecewiseDecay([b - _WARMUP for b in bounds], values),
            warmup_steps=_WARMUP,
            start_lr=_LR * _WARMUP_FACTOR,
            end_lr=_LR,
        )
        return sched, sched
    lr = paddle_lr.exponential_with_warmup_decay(_LR, bounds, values, _WARMUP, _WARMUP_FACTOR, impl=impl)
    return lr, None


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

    from paddle_lr.graph import ir as ir_compat

    name = unique_name.generate("learning_rate")
    lr_var = ir_compat.persistable_float(name)
    program = paddle.static.default_main_program()
    program.lr_scheduler, program.lr_name, sched._var_name = sched, name, name
    return lr_var, None, sched


def _build_train(paddle, impl, boundaries):
    import numpy as np

    import paddle_lr

    lr, sched = _lr(paddle, impl, boundaries)
    x = paddle.static.data("x", [_BATCH, _FEATURES], "float32")
    label = paddle.static.data("label", [_BATCH, 1], "int64")
    hidden = paddle.static.nn.fc(x, _HIDDEN, activation="relu")
    logits = paddle.static.nn.fc(hidden, _CLASSES)
    loss = paddle.mean(paddle.nn.functional.cross_entropy(logits, label))
    opt = paddle_lr.Momentum(learning_rate=lr, momentum=0.9, regularization=paddle_lr.L2Decay(1e-4))
    opt.minimize(loss)
    rng = np.random.default_rng(0)
    feed = {
        "x": rng.standard_normal((_BATCH, _FEATURES)).astype("float32"),
        "label": rng.integers(0, _CLASSES, (_BATCH, 1)).astype("int64"),
    }
    return loss, feed, sched


class _Config:
    """One (impl, workload, boundaries) program, its scope, and its timings."""

    def __init__(self, paddle, impl, workload, boundaries):
        from paddle_lr.graph import ir as ir_compat

        self.impl, self.workload, self.boundaries = impl, workload, boundaries
        self.main, self.startup = paddle.static.Program(), paddle.static.Program()
        build = _build_bare if workload == "bare" else _build_train
        start = time.perf_counter()
        with paddle.static.program_guard(self.main, self.startup):
            self.fetch, self.feed, self.sched = build(paddle, impl, boundaries)
        self.build_ms = (time.perf_counter() - start) * 1e3
        self.ops = len(ir_compat.op_names(self.main, nested=True))
        self.isolated = self.ops > ISOLATE_OPS
        self.samples = []

    def prepare(self, paddle, warmup_runs):
        """Run the startup program, then ``warmup_runs`` untimed steps (the first one timed apart)."""
        self.scope = paddle.static.Scope()
        self.exe = paddle.static.Executor(paddle.CPUPlace())
        # PIR's executor writes the scheduler's value into the global scope.
        with paddle.static.scope_guard(self.scope):
            self.exe.run(self.startup)
        # The first run also builds the executor's instructions, which for a
        # large Switch takes far longer than building the program.
        start = time.perf_counter()
        self.step(paddle, timed=False)
        self.first_run_ms = (time.perf_counter() - start) * 1e3
        for _ in range(warmup_runs - 1):
            self.step(paddle, timed=False)

    def release(self):
        """Free the executor (and its threads) and the scope."""
        self.exe = self.scope = None

    def step(self, paddle, timed):
        with paddle.static.scope_guard(self.scope):
            start = time.perf_counter()
            out = self.exe.run(self.main, feed=self.feed, fetch_list=[self.fetch])
            if self.sched is not None:
                self.sched.step()
            elapsed = time.perf_counter() - start
        if timed:
            self.samples.append(elapsed)
        return out

    def record(self):
        return {
            "impl": self.impl,
            "workload": self.workload,
            "boundaries": self.boundaries,
            "step_us": statistics.median(self.samples) * 1e6,
            "build_ms": self.build_ms,
            "first_run_ms": self.first_run_ms,
            "ops": self.ops,
            "runs": len(self.samples),
            "isolated": self.isolated,
        }


def _configs(impls, workloads, boundaries):
    for workload in workloads:
        for impl in impls:
            for count in [0] if impl == "floor" else boundaries:
                yield impl, workload, count


def measure(impls, workloads, boundaries, repeats, runs, warmup_runs, round_budget_s, log=None):
    """Build, warm up and time every configuration in interleaved rounds.

    Args:
        impls (list[str]): from :data:`IMPLS`.
        workloads (list[str]): from :data:`WORKLOADS`.
        boundaries (list[int]): boundary counts (``floor`` is measured once, as 0).
        repeats (int): interleaved rounds.
        runs (int): timed runs per configuration per round, at most.
        warmup_runs (int): untimed runs per configuration before timing (>= 1).
        round_budget_s (float): a configuration stops its round after this long.
        log (file, optional): where to report progress.

    Returns:
        list[dict]: one record per configuration (see :func:`main`).
    """
    import paddle

    dynamic = paddle.in_dynamic_mode()
    paddle.enable_static()
    try:
        return _measure(paddle, impls, workloads, boundaries, repeats, runs, warmup_runs, round_budget_s, log)
    finally:
        if dynamic:
            paddle.disable_static()


def _time_rounds(paddle, configs, rounds, runs, round_budget_s):
    for r in range(rounds):
        # Rotate the order so that no configuration always follows the same one.
        shift = r % len(configs)
        for config in configs[shift:] + configs[:shift]:
            deadline = time.perf_counter() + round_budget_s
            for _ in range(runs):
                config.step(paddle, timed=True)
                if time.perf_counter() > deadline:
                    break


def _measure(paddle, impls, workloads, boundaries, repeats, runs, warmup_runs, round_budget_s, log):
    configs = []
    for impl, workload, count in _configs(impls, workloads, boundaries):
        if log:
            print(f"building {impl} {workload} {count}", file=log, flush=True)
        configs.append(_Config(paddle, impl, workload, count))
    shared = [c for c in configs if not c.isolated]
    for config in shared:
        config.prepare(paddle, warmup_runs)
    if shared:
        _time_rounds(paddle, shared, repeats, runs, round_budget_s)
    for config in configs:
        if config.isolated:
            if log:
                print(f"timing {config.impl} {config.workload} {config.boundaries} on its own", file=log, flush=True)
            config.prepare(paddle, warmup_runs)
            _time_rounds(paddle, [config], repeats, runs, round_budget_s)
            config.release()
    return [c.record() for c in configs]


def _find(records, impl, workload, boundaries):
    for rec in records:
        if (rec["impl"], rec["workload"], rec["boundaries"]) == (impl, workload, boundaries):
            return rec
    return None


def evaluate_targets(records):
    """The issue's targets, as ratios of this run's records.

    Args:
        records (list[dict]): from :func:`measure`.

    Returns:
        list[tuple]: ``(name, workload, ratio or None, bound, passed or None)``;
        None where a configuration the ratio needs was not measured.
    """
    out = []
    for name, workload, num, den, bound, kind in TARGETS:
        a = _find(records, num[0], workload, num[1])
        b = _find(records, den[0], workload, den[1])
        floor = _find(records, "floor", workload, 0)
        ratio = None
        if a and b and (kind == "step" or floor):
            base = floor["step_us"] if kind == "overhead" else 0.0
            ratio = (a["step_us"] - base) / (b["step_us"] - base)
        out.append((name, workload, ratio, bound, None if ratio is None else ratio <= bound))
    return out


def format_table(records, expected_runs):
    """The human-readable report: steps, overheads over floor, and the targets.

    Args:
        records (list[dict]): from :func:`measure`.
        expected_runs (int): timed runs of an uncapped configuration, to flag capped ones.

    Returns:
        str: the table.
    """
    lines = []
    for workload in WORKLOADS:
        rows = [r for r in records if r["workload"] == workload]
        if not rows:
            continue
        floor = _find(records, "floor", workload, 0)
        lines.append(f"workload {workload}")
        lines.append(
            f"  {'impl':12s} {'bounds':>6s} {'step_us':>10s} {'over_floor':>10s} "
            f"{'build_ms':>9s} {'first_ms':>9s} {'ops':>5s} {'runs':>5s}"
        )
        for r in rows:
            over = f"{r['step_us'] - floor['step_us']:10.1f}" if floor else f"{'-':>10s}"
            notes = ["capped by the round budget"] if r["runs"] < expected_runs else []
            notes += ["timed on its own, after the others"] if r.get("isolated") else []
            capped = f"  ({'; '.join(notes)})" if notes else ""
            lines.append(
                f"  {r['impl']:12s} {r['boundaries']:6d} {r['step_us']:10.1f} {over} "
                f"{r['build_ms']:9.1f} {r['first_run_ms']:9.1f} {r['ops']:5d} {r['runs']:5d}{capped}"
            )
    lines.append("targets")
    for name, workload, ratio, bound, passed in evaluate_targets(records):
        if ratio is None:
            lines.append(f"  {workload:5s} {name:45s} n/a (not measured)")
        else:
            verdict = "PASS" if passed else "FAIL"
            lines.append(f"  {workload:5s} {name:45s} {ratio:6.3f} <= {bound:<5} {verdict}")
    return "\n".join(lines)


def _main(argv):
    parser = ArgumentParser(prog="paddle-lr-bench", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the records as JSON")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 20; quick 3)")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per configuration per round (default 25; quick 5)")
    parser.add_argument("--boundaries", type=int, nargs="+", default=None, help="boundary counts (default 2 10 100 1000)")
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=list(IMPLS), help="implementations")
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS), help="workloads")
    parser.add_argument("--round-budget-ms", type=float, default=None, help="per configuration and round (default 200; quick 50)")
    parser.add_argument("--quick", action="store_true", help="few runs, boundaries 2 and 100 unless given")
    args = parser.parse_args(argv)
    quick = args.quick
    repeats = args.repeats if args.repeats is not None else (3 if quick else 20)
    runs = args.runs if args.runs is not None else (5 if quick else 25)
    budget = args.round_budget_ms if args.round_budget_ms is not None else (50.0 if quick else 200.0)
    boundaries = args.boundaries or ([2, 100] if quick else list(DEFAULT_BOUNDARIES))
    if repeats < 1 or runs < 1 or budget <= 0:
        raise UsageError("paddle-lr-bench: --repeats, --runs and --round-budget-ms must be positive")
    if any(b < 1 for b in boundaries):
        raise UsageError(f"paddle-lr-bench: --boundaries must be >= 1, got {boundaries}")
    records = measure(
        args.impls,
        args.workloads,
        sorted(set(boundaries)),
        repeats,
        runs,
        warmup_runs=2 if quick else 10,
        round_budget_s=budget / 1e3,
        log=sys.stderr,
    )
    if args.json:
        print(json.dumps(records, indent=1))
        return 0
    import paddle

    print(f"paddle {paddle.__version__}, CPU place, median of interleaved runs (us)")
    print(format_table(records, repeats * runs))
    return 0


def main(argv=None):
    """The ``paddle-lr-bench`` entry point.

    ``--json`` prints a list of records ``{"impl", "workload", "boundaries",
    "step_us", "build_ms", "first_run_ms", "ops", "runs", "isolated"}``;
    otherwise a table with each configuration's overhead over ``floor`` and the issue's targets as ratios,
    each with PASS or FAIL. Times are medians of the timed ``Executor.run``
    calls (``lrscheduler`` includes its ``step()``).

    Args:
        argv (list[str], optional): the arguments (``sys.argv[1:]`` by default).

    Returns:
        int: the exit status (2 on a bad command line).
    """
    return run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())

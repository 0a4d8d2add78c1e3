"""paddle-lr-bench: per-step cost, peak memory and first-run time of the in-graph schedules.

Two modes, on the installed Paddle, on the CPU place (``--place gpu``: ``CUDAPlace(0)``):

timing (default)
    the median wall time of one ``Executor.run`` for each implementation (see
    :mod:`paddle_lr.bench.cases`: ``floor``, the seed schedule's ``switch`` /
    ``branchless`` / ``auto``, Paddle's host-side ``lrscheduler``, and the
    family's ``pw_*`` / ``wpw_*`` and arithmetic schedules, with Paddle's own
    ``*_fluid`` originals on 2.6) on the ``bare`` and ``train`` workloads at several boundary counts,
    all in one process, in interleaved rounds (:func:`paddle_lr.bench.harness.measure`);
    the table ends with the issue's targets as ratios of this run, PASS or FAIL,
    and the arithmetic schedules' step ratios against Paddle's own.
``--fluid PY``
    (timing) the same configurations also built with fluid 1.8.5 itself, in a
    child process run by ``PY`` (a Python 3.5-3.8 with ``paddlepaddle==1.8.5``;
    ``tools/fluid18/bench_fluid.py``), timed in the same interleaved rounds
    (each round here followed by one there; fluid with
    ``use_program_cache=True``): each lowering's overhead over its runtime's
    floor as a ratio to fluid's for the same schedule, and the check
    "default ratio <= 1.0" (:mod:`paddle_lr.bench.fluid`).
``--scale``
    each (impl, boundaries) in a child process of its own, its resident memory
    polled and the child killed past ``--memory-limit-mb``: peak memory, build
    and first-run time and a per-step median, at 250, 500, 1000 and 2000
    boundaries by default, and once for each arithmetic schedule
    (:func:`paddle_lr.bench.harness.scale`).
"""
import json
import sys

from .. import rules
from ..bench import harness
from ..bench.cases import ARITHMETIC_IMPLS, IMPLS, WORKLOADS
from ..bench.fluid import FluidError
from ..bench.report import TARGETS, evaluate_targets, format_fluid, format_scale, format_table, groups
from ._cli import ArgumentParser, UsageError, run

__all__ = ["main", "IMPLS", "WORKLOADS", "TARGETS", "evaluate_targets", "format_table"]

DEFAULT_BOUNDARIES = (2, 10, 100, 1000)
SCALE_BOUNDARIES = (250, 500, 1000, 2000)
MAX_INSTANCES = 100  # programs built per configuration, all alive in one process
MAX_PROFILE_RUNS = 1000  # the profiler keeps every event of every profiled run


def _counts(boundaries):
    """The boundary counts, each a whole number from 1 to rules.MAX_BOUNDARIES (a cfg's most lr_steps)."""
    return sorted({rules.integer("--boundaries", b, low=1, high=rules.MAX_BOUNDARIES) for b in boundaries})


SCALE_IMPLS = ("switch", "branchless", "auto", "pw_fluid", "pw_switch", "pw_branchless", "pw_auto", "wpw_fluid",
               "wpw_switch", "wpw_branchless", "wpw_auto") + ARITHMETIC_IMPLS


def _main(argv):
    parser = ArgumentParser(prog="paddle-lr-bench", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the records as JSON")
    parser.add_argument("--scale", action="store_true",
                        help="peak memory and first run, one watched child process per case")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 20; quick 3)")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per configuration per round (default 25; quick 5)")
    parser.add_argument("--boundaries", type=int, nargs="+", default=None,
                        help="boundary counts (default 2 10 100 1000; --scale: 250 500 1000 2000)")
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=None, help="implementations")
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS), help="workloads")
    parser.add_argument("--instances", type=int, default=1,
                        help="programs built per configuration, their runs pooled (default 1)")
    parser.add_argument("--round-budget-ms", type=float, default=None, help="per configuration and round (default 200; quick 50)")
    parser.add_argument("--quick", action="store_true", help="few runs, boundaries 2 and 100 unless given")
    parser.add_argument("--place", choices=("cpu", "gpu"), default="cpu",
                        help="where the executor runs: cpu, or gpu (CUDAPlace(0), a CUDA build of Paddle)")
    parser.add_argument("--profile", type=int, default=0, metavar="RUNS",
                        help="timing: then profile RUNS runs of each configuration, rebuilt in a child process "
                             "(operators, kernels and copies per run)")
    parser.add_argument("--fluid", metavar="PY", default=None,
                        help="timing: also run the configurations on fluid 1.8.5, in a child process of the "
                             "Python PY (with paddlepaddle==1.8.5), and compare each overhead with fluid's")
    parser.add_argument("--apart", action="store_true",
                        help="timing: each configuration in a process of its own, beside the floor (and with "
                             "--fluid its own fluid 1.8.5 child), as a training process holds one schedule")
    parser.add_argument("--memory-limit-mb", type=float, default=6000.0,
                        help="--scale: kill a child whose resident memory passes this (default 6000)")
    parser.add_argument("--timeout-s", type=float, default=300.0, help="--scale: kill a child after this long (default 300)")
    args = parser.parse_args(argv)
    rules.real("--memory-limit-mb", args.memory_limit_mb, low=0.0, low_open=True)  # nan and inf too
    rules.real("--timeout-s", args.timeout_s, low=0.0, low_open=True)
    rules.integer("--profile", args.profile, low=0, high=MAX_PROFILE_RUNS)
    if args.place == "gpu":
        import paddle

        if not paddle.is_compiled_with_cuda() or paddle.device.cuda.device_count() < 1:
            raise UsageError("--place: gpu needs a CUDA build of Paddle and a visible GPU; this Paddle "
                             f"{'is a CPU build' if not paddle.is_compiled_with_cuda() else 'sees no GPU'}")
    if args.fluid is not None and args.scale:
        raise UsageError("--fluid: compares the timing mode's overheads; it does not apply to --scale")
    if args.apart and args.scale:
        raise UsageError("--apart: runs the timing mode's configurations apart; --scale already does, got both")
    if args.scale:
        boundaries = _counts(args.boundaries or SCALE_BOUNDARIES)
        records = harness.scale(args.impls or list(SCALE_IMPLS), boundaries, args.memory_limit_mb,
                                args.timeout_s, timed_runs=5 if args.quick else 20, log=sys.stderr, place=args.place)
        if args.json:
            print(json.dumps(records, indent=1))
            return 0
        import paddle

        print(f"paddle {paddle.__version__}, {args.place.upper()} place, one child process per case (bare workload)")
        print(format_scale(records))
        return 0
    quick = args.quick
    repeats = args.repeats if args.repeats is not None else (3 if quick else 20)
    runs = args.runs if args.runs is not None else (5 if quick else 25)
    budget = args.round_budget_ms if args.round_budget_ms is not None else (50.0 if quick else 200.0)
    boundaries = _counts(args.boundaries or ([2, 100] if quick else DEFAULT_BOUNDARIES))
    if repeats < 1 or runs < 1 or budget <= 0:
        raise UsageError("paddle-lr-bench: --repeats, --runs and --round-budget-ms must be positive")
    rules.integer("--instances", args.instances, low=1, high=MAX_INSTANCES)
    try:
        records = _measure(args, repeats, runs, budget, boundaries, quick)
    except FluidError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(records, indent=1))
        return 0
    import paddle

    print(f"paddle {paddle.__version__}, {args.place.upper()} place, median of interleaved runs (us)"
          + (", each configuration in a process of its own beside the floor" if args.apart else ""))
    if args.apart and args.fluid:
        print(format_fluid(records))
    else:
        for group in groups(records):
            print(format_table(group, repeats * runs * args.instances))
    return 0


def _measure(args, repeats, runs, budget, boundaries, quick):
    if args.apart:
        return _measure_apart(args, repeats, runs, budget, boundaries, quick)
    return harness.measure(
        args.impls or list(IMPLS),
        args.workloads,
        boundaries,
        repeats,
        runs,
        warmup_runs=2 if quick else 10,
        round_budget_s=budget / 1e3,
        log=sys.stderr,
        instances=args.instances,
        place=args.place,
        profile_runs=args.profile,
        fluid_python=args.fluid,
    )


def _measure_apart(args, repeats, runs, budget, boundaries, quick):
    """:func:`_measure` for each configuration in a child process of its own, with the floor beside it.

    Each child is this tool with ``--impls floor IMPL`` and one workload and
    count; its records carry ``group`` (``IMPL@COUNT/WORKLOAD``), within which
    the overheads are taken (:func:`paddle_lr.bench.report.groups`).
    """
    import subprocess

    common = ["--json", "--repeats", str(repeats), "--runs", str(runs), "--round-budget-ms", str(budget),
              "--instances", str(args.instances), "--place", args.place, "--profile", str(args.profile)]
    common += ["--quick"] if quick else []
    common += ["--fluid", args.fluid] if args.fluid else []
    records = []
    for impl, workload, count in harness.configs([i for i in (args.impls or IMPLS) if i != "floor"], args.workloads,
                                                 boundaries):
        group = f"{impl}@{count}/{workload}"
        print(f"apart: {group}", file=sys.stderr)
        child = subprocess.run([sys.executable, "-m", "paddle_lr.tools.bench", *common, "--impls", "floor", impl,
                                # (a boundless impl is measured at 0 whatever the count; --boundaries takes >= 1)
                                "--workloads", workload, "--boundaries", str(max(count, 1))],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if child.returncode != 0:
            lines = child.stderr.strip().splitlines() or [f"exit {child.returncode}"]
            raise UsageError(f"--apart: the child measuring {group} failed: {lines[-1]}")
        records += [dict(record, group=group) for record in json.loads(child.stdout)]
    return records


def main(argv=None):
    """The ``paddle-lr-bench`` entry point.

    ``--json`` prints a list of records ``{"impl", "workload", "boundaries",
    "step_us", "build_ms", "first_run_ms", "ops", "runs", "isolated",
    "instance_step_us", "place", "profile"}`` (``profile``: None, or with
    ``--profile`` ``{"runs", "ops", "kernels", "copies"}`` per run; with
    ``--scale``: no ``instance_step_us`` nor ``profile``, and ``peak_rss_mb``,
    ``watched_peak_mb``, ``threads``, ``killed``, ``wall_s``; every record
    names the ``paddle`` version that ran it and, in the timing mode, the
    ``process_peak_mb`` of the process that ran it: with ``--fluid`` the fluid 1.8.5
    records follow, named ``fluid185_<kind>``, their profile counted by
    ``fluid.profiler`` with ``ops_by_type`` besides);
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

"""show_lr: run a config's original static graph step by step and check every lr against lr_at.

    tools/show_lr.py -c configs/rcnn_1x.yml                  # all 180000 steps
    tools/show_lr.py -c configs/rcnn_1x.yml --steps 2000 --impl branchless

Prints the first and last steps of the warmup ramp, then every step where the
lr changes, each with :func:`paddle_lr.lr_at`'s value and whether the two are
bit-identical; any step that differs is printed too. Exits 1 if any step differs.
"""
import sys
import warnings

import numpy as np
import paddle
from tqdm import tqdm

from .. import rules
from ..schedules.lowerings import AUTO, IMPLS
from ..config import build_lr, reference_lr, schedule_spec, warmup_iters, with_impl
from ..schedules import registry
from ..planning import scale_for_batch
from ._cli import ArgumentParser, add_config_args, load_config_args, run

__all__ = ["PROG", "main", "run_graph"]

#: the console script's name, used in usage and error lines.
PROG = "paddle-lr-show-lr"

_RAMP_ENDS = 3
"""Warmup steps printed at each end of the ramp."""
_MAX_DIFFERING = 20
"""Differing steps printed at most, beyond the change points."""


def run_graph(config, steps, progress=False):
    """Build the cfg's in-graph lr in a fresh static program and run it ``steps`` times.

    Args:
        config (AttrDict): a validated cfg (``lr_impl`` picks the lowering); its
            schedule warnings are not repeated.
        steps (int): how many runs of the main program.
        progress (bool): show a tqdm bar on stderr (when it is a terminal).

    Returns:
        numpy.ndarray: float32 ``[steps]``, the lr each run fetched.
    """
    was_dynamic = paddle.in_dynamic_mode()
    paddle.enable_static()
    try:
        main_program, startup_program = paddle.static.Program(), paddle.static.Program()
        # validate() already warned about the cfg under its key names; the schedule would
        # repeat each warning under its argument names.
        with paddle.utils.unique_name.guard(), \
                paddle.static.program_guard(main_program, startup_program), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", rules.ScheduleWarning)
            lr = build_lr(config)
        scope = paddle.static.Scope()
        executor = paddle.static.Executor(paddle.CPUPlace())
        fetched = np.empty(steps, dtype=np.float32)
        with paddle.static.scope_guard(scope):
            executor.run(startup_program)
            bar = tqdm(range(steps), desc=f"lr ({config.lr_impl})", unit="step", file=sys.stderr,
                       disable=None if progress else True, mininterval=0.5)
            for step in bar:
                (value,) = executor.run(main_program, fetch_list=[lr])
                fetched[step] = np.asarray(value).reshape(-1)[0]
        return fetched
    finally:
        if was_dynamic:
            paddle.disable_static()


def _rows(got, expected, warm_steps):
    """The steps worth printing: the ramp's ends, every change after it, differing steps, the last."""
    n = len(got)
    ramp = min(warm_steps, n)
    rows = set(range(min(_RAMP_ENDS, ramp))) | set(range(max(0, ramp - _RAMP_ENDS), ramp))
    changed = (got[1:] != got[:-1]) | (expected[1:] != expected[:-1])
    rows |= {int(s) for s in np.flatnonzero(changed) + 1 if s >= ramp}
    differing = np.flatnonzero(got.view(np.uint32) != expected.view(np.uint32))
    rows |= {int(s) for s in differing[:_MAX_DIFFERING]}
    rows |= {0, n - 1}
    return sorted(rows), differing


def _ulps(got, expected):
    """The distance in float32 units in the last place, step by step (same-sign values)."""
    return np.abs(got.view(np.int32).astype(np.int64) - expected.view(np.int32).astype(np.int64))


def _report(got, expected, warm_steps, impl, reference="lr_at", kernels=()):
    """The table and the verdict; ``kernels``: the float kernels the schedule calls, which
    paddlepaddle 3.x rounds differently (a difference of 1 ulp there is the kernel's).

    Returns:
        tuple: ``(text, ok)``.
    """
    rows, differing = _rows(got, expected, warm_steps)
    ulps = _ulps(got, expected)
    if kernels:
        # 1 ulp of the kernel's result, carried through the schedule's arithmetic: within
        # 1 ulp of the value, or of the run's peak lr where the formula cancels (cos near -1).
        peak = np.spacing(np.max(np.abs(expected)).astype(np.float32))
        close = np.abs(got.astype(np.float64) - expected.astype(np.float64)) <= peak
        tolerance = np.where(close, np.inf, 1)
    else:
        tolerance = np.zeros(len(got))
    lines = [f"{'step':>9}  {'graph (' + impl + ')':<20}{reference:<20}bits"]
    previous = None
    for step in rows:
        if previous is not None and step > previous + 1:
            lines.append(f"{'...':>9}")
        verdict = "identical" if ulps[step] == 0 else ("within" if ulps[step] <= tolerance[step] else "DIFFERS")
        lines.append(f"{step:>9}  {got[step]!s:<20}{expected[step]!s:<20}{verdict}")
        previous = step
    beyond = np.flatnonzero(ulps > tolerance)
    if differing.size == 0:
        verdict = "all bit-identical"
    elif beyond.size == 0:
        verdict = (f"{differing.size} within 1 ulp of the value or of the peak lr (the running Paddle's "
                   f"{'/'.join(kernels)} kernel rounds differently), none beyond")
    else:
        verdict = f"{beyond.size} differ, first at step {int(beyond[0])}"
    lines.append(f"{len(got)} steps ({impl}): {verdict}")
    return "\n".join(lines), beyond.size == 0


def _kernels(config):
    """The float kernels (exp, cos, pow) the cfg's schedule calls, by the registry."""
    found, spec = [], schedule_spec(config)
    while isinstance(spec, dict):
        found += [k for k in registry.REGISTRY[spec["fn"]].kernels if k not in found]
        spec = spec["args"].get("learning_rate")
    return tuple(found)


def _impl_label(config):
    """The lowering built, in words: for the R-CNN schedule ``lr_impl`` (``auto`` resolved), each spec schedule's ``impl``."""
    if config.get("schedule") is None:
        return AUTO if config.lr_impl == "auto" else config.lr_impl
    impls, spec = [], config.schedule
    while isinstance(spec, dict):
        if "impl" in spec["args"]:
            impls.append(spec["args"]["impl"])
        spec = spec["args"].get("learning_rate")
    return "/".join(dict.fromkeys(impls)) or "plain ops"


def _parser():
    parser = ArgumentParser(prog=PROG,
                            description="Run a config's in-graph lr step by step and compare with lr_at.")
    add_config_args(parser)
    parser.add_argument("--impl", choices=IMPLS, help="graph lowering (default: the cfg's lr_impl)")
    parser.add_argument("--steps", type=int, help="run this many steps (default: max_iter)")
    return parser


def _main(argv):
    args = _parser().parse_args(argv)
    if args.steps is not None:  # before the cfg, whose warnings would precede the error line
        rules.integer("--steps", args.steps, low=1, high=rules.MAX_ITERATIONS)
    config = scale_for_batch(load_config_args(args))
    if args.impl is not None:
        config = with_impl(config, args.impl)
    steps = config.max_iter if args.steps is None else args.steps
    got = run_graph(config, steps, progress=True)
    expected = reference_lr(config, np.arange(steps))
    reference = "lr_at" if config.get("schedule") is None else "reference"
    text, ok = _report(got, expected, int(np.ceil(warmup_iters(config))), _impl_label(config), reference,
                       _kernels(config))
    print(text)
    return 0 if ok else 1


def main(argv=None):
    """Run show_lr.

    Args:
        argv (list[str], optional): the arguments (``sys.argv[1:]`` by default).

    Returns:
        int: 0 when every step is bit-identical to lr_at, 1 when one differs,
        2 with one line on stderr for a bad config or arguments.
    """
    return run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())

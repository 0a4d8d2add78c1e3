"""Crash soak: SIGKILL the trainer at many points, resume, compare with an uninterrupted run.

    tools/fault_soak.py -c configs/shapes_demo.yml --work DIR [-o KEY=VALUE ...]
                        [--dygraph] [--points POINT[,POINT...] ...] [--jobs N]

A short run (the overrides below, then ``-o``) is trained once without a
fault. Then each scenario runs ``python -m paddle_lr.tools.train`` in a subprocess with
``PADDLE_LR_FAULT_AT`` set to its first point (the process SIGKILLs itself
there, see :mod:`paddle_lr.demo.fault`), resumes from the output directory with the
next point, and so on, and finally resumes to the end (a crash before the
first snapshot starts over instead). The scenario passes when
its ``train_log.jsonl`` is byte-identical to the reference's and its final
``model.pdparams`` and ``model.pdopt`` have the reference's sha256.

By default every ``iter:N`` and ``log:N`` of the run, every ``snapshot:N`` and
a few chains of crashes are tried. Exit status 1 when a scenario fails.
"""
import concurrent.futures
import json
import os
import signal
import subprocess
import sys

from .. import rules
from ..demo import fault
from ..demo.keys import load_config
from ._cli import ArgumentParser, UsageError, add_config_args, new_directory, run

__all__ = ["PROG", "main"]

#: the console script's name, used in usage and error lines.
PROG = "paddle-lr-fault-soak"

# The trainer as this interpreter runs it, from a checkout or an installed package alike.
_TRAIN = [sys.executable, "-m", "paddle_lr.tools.train"]
# 12 iterations: warmup over 0-3, boundaries at 5 and 9, a snapshot every 3.
_SOAK_OVERRIDES = [
    "generate_shapes=true",
    "shapes_train_images=16",
    "shapes_val_images=4",
    "image_size=32",
    "im_per_batch=2",
    "max_iter=12",
    "warm_up_iter=4",
    "lr_steps=[5,9]",
    "snapshot_iter=3",
]
_POINT_NAMES = ("iter", "log", "snapshot")
_COMPARED = ("model.pdparams", "model.pdopt")


def _parse_points(text, max_iter):
    points = []
    for item in text.split(","):
        name, sep, number = item.partition(":")
        if not sep or name not in _POINT_NAMES or not (number.isascii() and number.isdigit()) or not 0 < int(number) <= max_iter:
            raise UsageError(
                f"{PROG}: --points: each point must be iter:N, log:N or snapshot:N with "
                f"1 <= N <= max_iter={max_iter}, got {item!r}"
            )
        points.append(item)
    return points


def _default_scenarios(config):
    last = config.max_iter
    snapshots = range(config.snapshot_iter, last + 1, config.snapshot_iter)
    single = [[f"iter:{n}"] for n in range(1, last)]
    single += [[f"log:{n}"] for n in range(last)]
    single += [[f"snapshot:{n}"] for n in snapshots]
    middle = last // 2
    chains = [
        [f"log:{middle - 1}", f"snapshot:{snapshots[-1]}"],
        [f"iter:{middle}", f"log:{middle + 1}", f"iter:{last - 1}"],
    ]
    return single + chains


def _last_line(stderr):
    """The trainer's last stderr line: its one-line error, after tqdm's progress."""
    return (stderr.strip().splitlines() or [""])[-1]


def _train(args, work_env, point=None):
    env = dict(work_env)
    env.pop(fault.ENV, None)
    if point is not None:
        env[fault.ENV] = point
    return subprocess.run([*_TRAIN, *args], env=env, capture_output=True, text=True)


def _fingerprint(output):
    manifest = json.loads((output / "final" / "manifest.json").read_text())
    log = (output / "train_log.jsonl").read_text(encoding="utf-8")
    return log, {name: manifest["files"][name]["sha256"] for name in _COMPARED}


def _restart_args(output):
    # As an operator would: resume when a snapshot was written, else start over.
    return ["--resume", str(output)] if any(output.glob("snapshot_*")) else []


def _scenario(points, base_args, output, env, reference):
    args = [*base_args, "--output", str(output)]
    resume = []
    for point in points:
        proc = _train(args + resume, env, point)
        if proc.returncode != -signal.SIGKILL:
            return f"point {point} was not reached (exit status {proc.returncode}): {_last_line(proc.stderr)}"
        resume = _restart_args(output)
    proc = _train(args + resume, env)
    if proc.returncode != 0:
        return f"the final resume failed (exit status {proc.returncode}): {_last_line(proc.stderr)}"
    log, files = _fingerprint(output)
    ref_log, ref_files = reference
    if log != ref_log:
        got, want = log.splitlines(), ref_log.splitlines()
        first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        return f"train_log.jsonl differs from the reference at line {first + 1} ({len(got)} vs {len(want)} lines)"
    if files != ref_files:
        return f"final state differs from the reference: {sorted(k for k in files if files[k] != ref_files[k])}"
    return None


def _parser():
    parser = ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    add_config_args(parser)
    parser.add_argument("--work", required=True, help="working directory (created; must not exist)")
    parser.add_argument("--dygraph", action="store_true", help="soak the dygraph mode")
    parser.add_argument("--points", nargs="+", metavar="POINT[,POINT...]",
                        help="scenarios: comma-separated crash points, in order (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="scenarios run at once (default 2)")
    return parser


def _main(argv):
    args = _parser().parse_args(argv)
    work = new_directory(PROG, "--work", args.work)
    jobs = rules.integer("--jobs", args.jobs, low=1)
    overrides = [*_SOAK_OVERRIDES, f"dataset_dir={work / 'data'}", *args.opt]
    config = load_config(args.config, overrides)
    scenarios = ([_parse_points(text, config.max_iter) for text in args.points] if args.points
                 else _default_scenarios(config))
    base_args = ["-c", args.config, "-o", *overrides, *(["--dygraph"] if args.dygraph else [])]
    env = dict(os.environ, GLOG_minloglevel="2")
    work.mkdir(parents=True)
    proc = _train([*base_args, "--output", str(work / "reference")], env)
    if proc.returncode != 0:
        raise UsageError(f"{PROG}: the reference run failed: {_last_line(proc.stderr)}")
    reference = _fingerprint(work / "reference")
    print(f"reference: {config.max_iter} iterations, {len(scenarios)} scenarios, "
          f"{'dygraph' if args.dygraph else 'static'}", flush=True)
    failures = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(_scenario, points, base_args, work / f"case_{i:03d}", env, reference)
            for i, points in enumerate(scenarios)
        ]
        for points, future in zip(scenarios, futures):
            problem = future.result()
            failures += problem is not None
            print(f"{'FAIL' if problem else 'ok  '} {','.join(points)}" + (f": {problem}" if problem else ""),
                  flush=True)
    print(f"{len(scenarios) - failures} of {len(scenarios)} scenarios match the uninterrupted run")
    return 1 if failures else 0


def main(argv=None):
    """Run the tool.

    Args:
        argv (list[str], optional): the arguments (``sys.argv[1:]`` by default).

    Returns:
        int: the exit status (0 all match, 1 a scenario failed, 2 bad arguments).
    """
    return run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())

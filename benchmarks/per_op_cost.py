"""What one more one-element operator costs per ``Executor.run``, and which part of a run is Python's.

Builds the decay counter followed by N ``scale`` ops (N = 0 and N = --ops),
runs each program --runs times in this process and prints the time per run,
the difference per op, and, with ``--split``, a cProfile split of the runs of
the longer program into Paddle's C++ executor (``libpaddle.run``) and the
executor's Python, of which ``ir.run_cache_key`` (on PIR the program printed,
every run) is timed on its own. Fluid 1.8.5's counterpart, without paddle_lr,
is ``per_op_cost_fluid.py``. Run with ``GLOG_minloglevel=2``; compare
``FLAGS_new_executor_serial_run=1`` (ops in the calling thread) with the
default. Figures: benchmarks/RESULTS.md, "Where the time goes".
"""
import argparse
import cProfile
import pstats
import time

import paddle

from paddle_lr.graph import ir, tables
from paddle_lr.graph.counter import LR_DECAY_COUNTER, autoincreased_step_counter
from per_run import per_run_us  # beside this file


def build(n):
    main, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.utils.unique_name.guard(), paddle.static.program_guard(main, startup):
        x = paddle.cast(autoincreased_step_counter(LR_DECAY_COUNTER, begin=0), "float32")
        for _ in range(n):
            x = tables.scale(x, 0.999)
    return main, startup, x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=100)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--split", action="store_true", help="cProfile the longer program's runs")
    args = parser.parse_args()
    paddle.enable_static()
    exe = paddle.static.Executor(paddle.CPUPlace())
    timed = {}
    for n in (0, args.ops):
        main_program, startup, fetch = build(n)
        exe.run(startup)
        timed[n] = (per_run_us(lambda: exe.run(main_program, fetch_list=[fetch]), args.runs), main_program, fetch)
    base, longer = timed[0][0], timed[args.ops][0]
    print(f"paddle {paddle.__version__} ({ir.ir_name()}): {base:.1f} us per run with the counter alone, "
          f"{longer:.1f} with {args.ops} scale ops more: {(longer - base) / args.ops:.2f} us per op")
    if args.split:
        _, main_program, fetch = timed[args.ops]
        start = time.perf_counter()
        for _ in range(200):
            ir.run_cache_key(main_program)
        key_us = (time.perf_counter() - start) / 200 * 1e6
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(500):
            exe.run(main_program, fetch_list=[fetch])
        profile.disable()
        stats = pstats.Stats(profile).stats
        total = sum(tt for (_, _, tt, _, _) in stats.values()) / 500 * 1e6
        native = sum(tt for (_, _, name), (_, _, tt, _, _) in stats.items()
                     if name == "<built-in method paddle.base.libpaddle.run>") / 500 * 1e6
        print(f"  of a run (cProfile, 500 runs, its own overhead included): {total:.0f} us; Paddle's C++ executor "
              f"{native:.0f} us ({native / args.ops:.2f} per op); the rest Python, of which the cache key "
              f"(ir.run_cache_key, timed alone) {key_us:.0f} us ({key_us / args.ops:.2f} per op)")


if __name__ == "__main__":
    main()

"""per_op_cost.py's measurement on fluid 1.8.5 (Python 3.5-3.8, paddlepaddle==1.8.5; no paddle_lr).

The decay counter followed by N ``scale`` ops, each program run --runs times
with ``use_program_cache=True``; prints the time per run and per op.
"""
import argparse

import paddle
import paddle.fluid as fluid

from per_run import per_run_us


def build(n):
    main, startup = fluid.Program(), fluid.Program()
    with fluid.unique_name.guard(), fluid.program_guard(main, startup):
        counter = fluid.layers.autoincreased_step_counter(counter_name="@LR_DECAY_COUNTER@", begin=0, step=1)
        x = fluid.layers.cast(counter, "float32")
        for _ in range(n):
            x = fluid.layers.scale(x, 0.999)
    return main, startup, x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=100)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    exe = fluid.Executor(fluid.CPUPlace())
    timed = {}
    for n in (0, args.ops):
        main_program, startup, fetch = build(n)
        exe.run(startup)
        timed[n] = per_run_us(lambda: exe.run(main_program, fetch_list=[fetch], use_program_cache=True), args.runs)
    print("fluid %s: %.1f us per run with the counter alone, %.1f with %d scale ops more: %.2f us per op"
          % (paddle.__version__, timed[0], timed[args.ops], args.ops,
             (timed[args.ops] - timed[0]) / args.ops))


if __name__ == "__main__":
    main()

"""The timing loop of per_op_cost.py and per_op_cost_fluid.py (plain Python 3.5+, no Paddle of its own)."""
import statistics
import time


def per_run_us(run, runs, warmup=20, blocks=5):
    """The median over ``blocks`` blocks of the mean time of ``run()`` per call, in us, after ``warmup`` calls."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(runs // blocks):
            run()
        times.append((time.perf_counter() - start) / (runs // blocks))
    return statistics.median(times) * 1e6

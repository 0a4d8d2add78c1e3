"""Timing in interleaved rounds (one process), and scale runs (one child process per case, watched).

:func:`measure` builds every configuration, runs it a few times untimed, then
times all of them in interleaved rounds so that machine drift hits all alike;
a round stops a configuration once it has taken ``round_budget_s`` (at least
one run), and programs of more than :data:`ISOLATE_OPS` ops are timed after
the rounds, one at a time, and freed (on 3.3.1 the executor of a large Switch
holds thousands of threads that slow whatever runs next in the process).

:func:`scale` runs each (impl, boundaries) in a child process of its own and
watches it: the child's resident memory is polled every 20 ms and the child is
killed past ``memory_limit_mb`` (or ``timeout_s``), so a lowering whose memory
grows cannot take the machine down. An address-space limit is no guard here:
on PIR every branch of a Switch starts threads, whose reserved stacks exhaust
any reasonable limit long before their memory is touched.
"""
import json
import os
import statistics
import subprocess
import sys
import time

from . import cases
from .proc import rss_kb

__all__ = ["ISOLATE_OPS", "configs", "measure", "scale", "scale_one", "profile_one", "Config"]

ISOLATE_OPS = 500
"""Programs with more ops are timed on their own, after the rounds. On 3.3.1 a
Switch of 100 cases (about 600 to 720 ops) starts over 500 threads; three
instances of three such programs in the timing process made the floor itself
40 times slower on a loaded machine (6.6 ms instead of 0.16 ms per run)."""


class Config:
    """One (impl, workload, boundaries) program, its scope, and its timings."""

    def __init__(self, paddle, impl, workload, boundaries, place="cpu"):
        from ..graph import ir

        self.impl, self.workload, self.boundaries, self.place = impl, workload, boundaries, place
        self.main, self.startup = paddle.static.Program(), paddle.static.Program()
        start = time.perf_counter()
        with paddle.static.program_guard(self.main, self.startup):
            self.fetch, self.feed, self.sched = cases.build(paddle, impl, workload, boundaries)
        self.build_ms = (time.perf_counter() - start) * 1e3
        self.ops = len(ir.op_names(self.main, nested=True))
        self.key_us = _median_us(lambda: ir.run_cache_key(self.main))
        self.isolated = self.ops > ISOLATE_OPS
        self.samples = []

    def prepare(self, paddle, warmup_runs):
        """Run the startup program, then ``warmup_runs`` untimed steps (the first one timed apart)."""
        self.scope = paddle.static.Scope()
        self.exe = paddle.static.Executor(paddle.CUDAPlace(0) if self.place == "gpu" else paddle.CPUPlace())
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

    def median_us(self):
        return statistics.median(self.samples) * 1e6

    def count_events(self, paddle, runs):
        """Profile ``runs`` runs with Paddle's profiler: what the executor does per run.

        Returns ``{"runs", "ops", "ops_by_type", "kernels", "copies"}``: the
        operators it ran (also by the profiler's name for each) and the device
        kernels launched, per run, and the memory copies per run
        by event (every event of type ``Memcpy`` and every
        one whose name holds ``memcpy``: ``memcpy_d2h`` ops, ``cudaMemcpy*``
        calls, the device's copy records). On the CPU place there are no copies.
        """
        from paddle import profiler

        targets = [profiler.ProfilerTarget.CPU] + ([profiler.ProfilerTarget.GPU] if self.place == "gpu" else [])
        # on_trace_ready: keep the events in memory (the default writes ./profiler_log/).
        prof = profiler.Profiler(targets=targets, on_trace_ready=lambda _: None)
        prof.start()
        for _ in range(runs):
            self.step(paddle, timed=False)
            prof.step()
        prof.stop()
        counts = _count_events(prof.profiler_result.get_data().values())
        per_run = {key: n / runs for key, n in counts.items()}
        by_type = {key.split(" ", 1)[1]: per_run.pop(key) for key in list(per_run) if key.startswith("Operator ")}
        return {
            "runs": runs,
            "ops": per_run.pop("Operator", 0.0),
            "ops_by_type": dict(sorted(by_type.items())),
            "kernels": per_run.pop("Kernel", 0.0),
            "copies": dict(sorted(per_run.items())),
        }


def _median_us(fn, repeats=5):
    """The median time of ``fn()`` over ``repeats`` calls, in us."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def _count_events(roots):
    """Operators (also by ``"Operator <name>"``), kernels, and copies by ``"<type> <name>"``, over the
    profiler's event trees."""
    counts = {}
    stack = list(roots)
    while stack:
        node = stack.pop()
        kind = str(node.type).rsplit(".", 1)[-1]
        if kind == "Memcpy" or "memcpy" in node.name.lower():
            keys = [f"{kind} {node.name}"]
        elif kind == "Operator":
            keys = [kind, f"{kind} {node.name}"]
        elif kind == "Kernel":
            keys = [kind]
        else:
            keys = []
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        for attr in ("children_node", "runtime_node", "device_node"):
            stack.extend(getattr(node, attr, ()))
    return counts


def _record(instances, profile=None):
    """The record of one configuration from its instances (programs built alike, timed in the same rounds)."""
    import paddle

    first = instances[0]
    pooled = [t for c in instances for t in c.samples]
    return {
        "impl": first.impl,
        "workload": first.workload,
        "boundaries": first.boundaries,
        "step_us": statistics.median(pooled) * 1e6,
        "build_ms": statistics.median(c.build_ms for c in instances),
        "first_run_ms": statistics.median(c.first_run_ms for c in instances),
        "ops": first.ops,
        "key_us": statistics.median(c.key_us for c in instances),
        "runs": len(pooled),
        "isolated": first.isolated,
        "instance_step_us": [c.median_us() for c in instances],
        "place": first.place,
        "profile": profile,
        "paddle": paddle.__version__,
    }


def configs(impls, workloads, boundaries):
    """The (impl, workload, boundaries) configurations :func:`measure` builds, in its order."""
    for workload in workloads:
        for impl in impls:
            if not cases.available(impl):
                continue
            for count in [0] if cases.boundless(impl) else boundaries:
                yield impl, workload, count


def measure(impls, workloads, boundaries, repeats, runs, warmup_runs, round_budget_s, log=None, instances=1,
            place="cpu", profile_runs=0, fluid_python=None):
    """Build, warm up and time every configuration in interleaved rounds.

    Two programs with the same ops can differ by several percent per run for
    as long as they live (where the executor placed them, not what they
    compute). ``instances`` builds each configuration that many times, each
    with its own program, scope and executor, and pools their samples, so that
    a ratio compares configurations rather than one placement of each; the
    record keeps each instance's median (``instance_step_us``) to show that
    spread.

    Args:
        impls (list[str]): from :data:`paddle_lr.bench.cases.IMPLS` (those not
            :func:`~paddle_lr.bench.cases.available` here are left out).
        workloads (list[str]): from :data:`paddle_lr.bench.cases.WORKLOADS`.
        boundaries (list[int]): boundary counts (``floor`` and the arithmetic schedules are measured once, as 0).
        repeats (int): interleaved rounds.
        runs (int): timed runs per configuration per round, at most.
        warmup_runs (int): untimed runs per configuration before timing (>= 1).
        round_budget_s (float): a configuration stops its round after this long.
        log (file, optional): where to report progress.
        instances (int): programs built per configuration (>= 1).
        place (str): ``"cpu"`` or ``"gpu"`` (``CUDAPlace(0)``; a CUDA build of Paddle).
        profile_runs (int): after the timing, profile this many runs of each
            configuration, built again in a child process of its own
            (:func:`profile_one`); 0 for none.
        fluid_python (str, optional): a Python with paddle.fluid 1.8.5: the
            configurations that have a fluid counterpart are built there too
            (:mod:`paddle_lr.bench.fluid`), and each round of this process is
            followed by one round of fluid's; their records follow, named
            ``fluid185_<kind>`` (profiled with ``fluid.profiler`` when
            ``profile_runs`` > 0).

    Returns:
        list[dict]: one record per configuration, with ``process_peak_mb``:
        the peak resident memory of the process that ran it (this one, or the
        fluid child), all its configurations alive together.
    """
    import paddle

    dynamic = paddle.in_dynamic_mode()
    paddle.enable_static()
    child = None
    try:
        if fluid_python is not None:  # first: a Python that is not fluid's fails before anything is built here
            from . import fluid

            if log:
                print(f"building fluid 1.8.5's configurations with {fluid_python}", file=log, flush=True)
            child = fluid.FluidChild(fluid_python, fluid.specs(impls, workloads, boundaries), warmup_runs, runs,
                                     round_budget_s, instances)
        groups = []
        for impl, workload, count in configs(impls, workloads, boundaries):
            if log:
                print(f"building {impl} {workload} {count}", file=log, flush=True)
            groups.append([_fresh(paddle, impl, workload, count, place) for _ in range(instances)])
        shared = [c for group in groups if not group[0].isolated for c in group]
        for config in shared:
            config.prepare(paddle, warmup_runs)
        if shared or child:
            _time_rounds(paddle, shared, repeats, runs, round_budget_s, child)
        fluid_records = child.finish(profile_runs) if child else []
        for group in groups:
            if group[0].isolated:
                if log:
                    print(f"timing {group[0].impl} {group[0].workload} {group[0].boundaries} on its own",
                          file=log, flush=True)
                for config in group:
                    config.prepare(paddle, warmup_runs)
                _time_rounds(paddle, group, repeats, runs, round_budget_s)
                for config in group:
                    config.release()
        records = []
        for group in groups:
            first, profile = group[0], None
            if profile_runs:
                if log:
                    print(f"profiling {first.impl} {first.workload} {first.boundaries}", file=log, flush=True)
                profile = profile_one(first.impl, first.workload, first.boundaries, profile_runs, place)
            records.append(_record(group, profile))
        import resource

        # All the configurations live in this process: its peak is an upper bound for each.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return [dict(rec, process_peak_mb=peak) for rec in records] + fluid_records
    finally:
        if child:
            child.close()
        if dynamic:
            paddle.disable_static()


def _fresh(paddle, impl, workload, boundaries, place="cpu"):
    """A Config built under fresh unique names, so that its instances are the same program."""
    from paddle.utils import unique_name

    with unique_name.guard():
        return Config(paddle, impl, workload, boundaries, place)


def _time_rounds(paddle, configs, rounds, runs, round_budget_s, child=None):
    """``rounds`` interleaved rounds over ``configs``, each followed by one of the fluid ``child``'s, if any."""
    for r in range(rounds):
        # Rotate the order so that no configuration always follows the same one.
        shift = r % len(configs) if configs else 0
        if child:
            child.round(r)
        for config in configs[shift:] + configs[:shift]:
            deadline = time.perf_counter() + round_budget_s
            for _ in range(runs):
                config.step(paddle, timed=True)
                if time.perf_counter() > deadline:
                    break


# -- scale: one child process per case --------------------------------------------------

def _child(impl, boundaries, timed_runs, place="cpu"):
    """In the child: build, first run, ``timed_runs`` runs; print one JSON record."""
    import resource

    import paddle

    paddle.enable_static()
    config = Config(paddle, impl, "bare", boundaries, place)
    config.prepare(paddle, 1)
    for _ in range(timed_runs):
        config.step(paddle, timed=True)
    record = _record([config])
    del record["instance_step_us"], record["profile"]
    record["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record["threads"] = len(os.listdir("/proc/self/task"))
    print(json.dumps(record), flush=True)


def _watched(code, memory_limit_mb, timeout_s):
    """Run ``python -c code`` and watch it: kill it past ``memory_limit_mb`` resident or ``timeout_s``.

    Returns:
        tuple: ``(last line of its stdout or None, peak resident MB, why it was stopped or None, wall s)``.
    """
    env = dict(os.environ, GLOG_minloglevel=os.environ.get("GLOG_minloglevel", "2"))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    peak, killed, start = 0, None, time.monotonic()
    while proc.poll() is None:
        rss = rss_kb(proc.pid)
        peak = max(peak, rss)
        if rss > memory_limit_mb * 1024:
            killed = f"resident memory past {memory_limit_mb} MB"
        elif time.monotonic() - start > timeout_s:
            killed = f"still running after {timeout_s:.0f} s"
        if killed:
            proc.kill()
            break
        time.sleep(0.02)
    out, err = proc.communicate()
    if killed is None and proc.returncode != 0:
        killed = f"exit status {proc.returncode}: {err.strip().splitlines()[-1] if err.strip() else ''}"
    last = out.strip().splitlines()[-1] if killed is None and out.strip() else None
    return last, peak / 1024, killed, time.monotonic() - start


def _unmeasured(impl, boundaries, place, **watch):
    """A scale record with no measurement yet (a child's own record replaces the Nones)."""
    return dict({"impl": impl, "workload": "bare", "boundaries": boundaries, "step_us": None, "build_ms": None,
                 "first_run_ms": None, "ops": None, "key_us": None, "runs": 0,
                 "peak_rss_mb": None, "threads": None, "place": place},
                **watch)


def scale_one(impl, boundaries, memory_limit_mb, timeout_s, timed_runs=20, place="cpu"):
    """Measure one case in a watched child process.

    Returns:
        dict: the child's record (``step_us``, ``build_ms``, ``first_run_ms``,
        ``ops``, ``peak_rss_mb`` from the child's own ``ru_maxrss``, ``threads``)
        plus ``watched_peak_mb`` (the parent's polling) and ``killed`` (None, or
        why the child was stopped; then the timings are None).
    """
    code = f"from paddle_lr.bench.harness import _child; _child({impl!r}, {boundaries}, {timed_runs}, {place!r})"
    last, peak, killed, wall = _watched(code, memory_limit_mb, timeout_s)
    record = _unmeasured(impl, boundaries, place, watched_peak_mb=peak, killed=killed, wall_s=wall)
    if killed is None:
        record.update(json.loads(last))
    return record


def _profile_child(impl, workload, boundaries, runs, place):
    """In the child: build, two warm-up runs, profile ``runs`` runs; print the counts as JSON."""
    import paddle

    paddle.enable_static()
    config = Config(paddle, impl, workload, boundaries, place)
    config.prepare(paddle, 2)
    print(json.dumps(config.count_events(paddle, runs)), flush=True)


def profile_one(impl, workload, boundaries, runs, place="cpu", memory_limit_mb=6000.0, timeout_s=300.0):
    """:meth:`Config.count_events` in a watched child process of its own.

    Paddle's profiler crashes (``HostEventRecorder::GatherEvents``) when
    started and stopped many times in a process that has run many executors,
    so each configuration is profiled in a fresh one.

    Returns:
        dict: ``{"runs", "ops", "kernels", "copies"}``, or ``{"error": why}``.
    """
    code = (f"from paddle_lr.bench.harness import _profile_child; "
            f"_profile_child({impl!r}, {workload!r}, {boundaries}, {runs}, {place!r})")
    last, _, killed, _ = _watched(code, memory_limit_mb, timeout_s)
    return {"error": killed} if killed else json.loads(last)


def scale(impls, boundaries, memory_limit_mb, timeout_s, timed_runs=20, log=None, place="cpu"):
    """:func:`scale_one` for every available impl and boundary count, in that order.

    An impl without boundaries (:func:`~paddle_lr.bench.cases.boundless`) runs
    once, at the count 0. A case that was killed is not retried at larger
    counts of the same impl.
    """
    records = []
    for impl in impls:
        if not cases.available(impl):
            continue
        stopped = None
        for count in [0] if cases.boundless(impl) else boundaries:
            if stopped:
                records.append(_unmeasured(impl, count, place, watched_peak_mb=None, killed=f"not run ({stopped})",
                                           wall_s=0.0))
                continue
            if log:
                print(f"scale {impl} {count}", file=log, flush=True)
            record = scale_one(impl, count, memory_limit_mb, timeout_s, timed_runs, place)
            if record["killed"]:
                stopped = f"{count} was stopped: {record['killed']}"
            records.append(record)
    return records

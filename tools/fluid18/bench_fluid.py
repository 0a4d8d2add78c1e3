"""The bench's configurations built with fluid 1.8.5 itself, timed on request (Python 3.5-3.8, paddle.fluid 1.8.5).

    python tools/fluid18/bench_fluid.py        # a child of tools/bench.py --fluid PY; it speaks on stdin/stdout

``paddle_lr``'s bench (``paddle_lr/bench/fluid.py``) starts this script with
fluid's Python and times it in the same interleaved rounds as its own
programs, so that the ratios to fluid's overhead come from one run. The
protocol is one JSON object per line:

1. the parent sends ``{"configs": [...], "warmup_runs": W, "runs": R,
   "round_budget_s": B, "instances": K}``; each config is ``{"impl", "workload",
   "boundaries", "schedule", "args", "train"}`` (``schedule``: ``floor``,
   ``seed``, or a ``fluid.layers`` schedule name; ``args`` its keyword
   arguments, a nested ``{"fn", "args"}`` as ``learning_rate`` built first;
   ``train``: ``null`` for the bare program, or the model's sizes and feed);
2. this script builds every config ``K`` times (fresh unique names, a scope and
   an executor each), runs each ``W`` times untimed, and answers
   ``{"ready": true, "paddle": "1.8.5", "python": "3.8.x"}``;
3. each ``{"round": r}`` times one round (each config up to ``R`` runs of
   ``Executor.run(..., use_program_cache=True)``, until ``B`` seconds; the
   order rotated by ``r``) and answers ``{"round": r}``;
4. ``{"finish": true, "profile_runs": N}`` answers ``{"records": [...]}``,
   one per config: ``impl``, ``workload``, ``boundaries``, ``step_us`` (the
   median over every instance's runs), ``build_ms``, ``first_run_ms``,
   ``ops`` (the program's ops, sub-blocks included), ``runs``, ``isolated``
   (false), ``instance_step_us``, ``place``, ``paddle``, ``process_peak_mb``
   (this process's peak resident memory, every config alive); and with ``N > 0`` a ``profile``: the
   operators run per run, counted by ``fluid.profiler`` over ``N`` more runs,
   by type, and the memory copies per run (its ``GpuMemcpy`` count); then exits.

An error is answered ``{"error": "one line"}``, and the script exits 1.
The seed schedule is the R-CNN ``exponential_with_warmup_decay`` of
PaddlePaddle/models (PaddleCV/rcnn/models/learning_rate.py), op for op.
Whatever Paddle prints goes to stderr: stdout carries the protocol only.
"""
import json
import os
import re
import statistics
import sys
import tempfile
import time

import numpy as np

import paddle
import paddle.fluid as fluid
import paddle.fluid.layers.learning_rate_scheduler as lr_scheduler
import paddle.fluid.profiler as profiler

from fluid18graphs import family_schedule, seed_schedule


def build_lr(schedule, args):
    """The lr of one config: the counter alone, the seed, or ``fluid.layers.<schedule>(**args)``."""
    if schedule == "floor":
        return lr_scheduler._decay_step_counter()
    if schedule == "seed":
        return seed_schedule(**args)
    return family_schedule(schedule, args)


def build_train(lr, train):
    """fc(relu) -> fc -> softmax cross entropy, Momentum(0.9) with L2Decay(1e-4): the bench's train workload."""
    x = fluid.layers.data("x", [train["batch"], train["features"]], append_batch_size=False, dtype="float32")
    label = fluid.layers.data("label", [train["batch"], 1], append_batch_size=False, dtype="int64")
    hidden = fluid.layers.fc(x, train["hidden"], act="relu")
    logits = fluid.layers.fc(hidden, train["classes"])
    loss = fluid.layers.mean(fluid.layers.softmax_with_cross_entropy(logits, label))
    opt = fluid.optimizer.Momentum(learning_rate=lr, momentum=0.9,
                                   regularization=fluid.regularizer.L2Decay(1e-4))
    opt.minimize(loss)
    feed = {"x": np.asarray(train["x"], dtype="float32"), "label": np.asarray(train["label"], dtype="int64")}
    return loss, feed


class Config(object):
    """One program of one config, with its scope, executor and timings."""

    def __init__(self, spec):
        self.spec = spec
        self.main, self.startup = fluid.Program(), fluid.Program()
        start = time.perf_counter()
        with fluid.unique_name.guard(), fluid.program_guard(self.main, self.startup):
            if spec["schedule"] == "floor" and spec["train"]:
                lr = float(spec["args"]["learning_rate"])
            else:
                lr = build_lr(spec["schedule"], spec["args"])
            if spec["train"]:
                self.fetch, self.feed = build_train(lr, spec["train"])
            else:
                self.fetch, self.feed = lr, None
        self.build_ms = (time.perf_counter() - start) * 1e3
        self.ops = sum(len(block.ops) for block in self.main.blocks)
        self.scope = fluid.Scope()
        self.exe = fluid.Executor(fluid.CPUPlace())
        self.samples = []
        with fluid.scope_guard(self.scope):
            self.exe.run(self.startup)
        start = time.perf_counter()
        self.step(False)
        self.first_run_ms = (time.perf_counter() - start) * 1e3

    def step(self, timed):
        with fluid.scope_guard(self.scope):
            start = time.perf_counter()
            self.exe.run(self.main, feed=self.feed, fetch_list=[self.fetch], use_program_cache=True)
            elapsed = time.perf_counter() - start
        if timed:
            self.samples.append(elapsed)

    def op_types(self):
        return set(op.type for block in self.main.blocks for op in block.ops) | {"fetch", "feed"}


_EVENT = re.compile(r"^\s*(?:thread\d+::)?(\S+?)\s+(\d+)\s+[0-9.eE+-]+\s")
_MEMCPY = re.compile(r"^GpuMemcpy\s+Calls:\s+(\d+)")


def profile(config, runs):
    """Operators per run by type (events named after an op type of the program) and copies per run."""
    report = tempfile.NamedTemporaryFile(mode="w+", suffix=".txt", delete=False)
    saved = os.dup(1)
    try:
        profiler.start_profiler("CPU")
        for _ in range(runs):
            config.step(False)
        sys.stdout.flush()
        os.dup2(report.fileno(), 1)  # the profiler prints its report on the C++ stdout
        profiler.stop_profiler("calls", os.path.join(tempfile.gettempdir(), "paddle_lr_fluid_profile"))
        sys.stdout.flush()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    report.seek(0)
    text = report.read()
    report.close()
    os.unlink(report.name)
    types, by_type, copies = config.op_types(), {}, 0
    for line in text.splitlines():
        copy = _MEMCPY.match(line)
        if copy:
            copies += int(copy.group(1))
            continue
        event = _EVENT.match(line)
        if event and event.group(1).split("/")[-1] in types:
            name = event.group(1).split("/")[-1]
            by_type[name] = by_type.get(name, 0) + int(event.group(2))
    return {"runs": runs, "ops": sum(by_type.values()) / runs, "kernels": 0.0,
            "copies": {"GpuMemcpy": copies / runs} if copies else {},
            "ops_by_type": dict((k, v / runs) for k, v in sorted(by_type.items()))}


def record(group, profile_runs):
    import resource

    first = group[0]
    pooled = [t for c in group for t in c.samples]
    return {
        "impl": first.spec["impl"], "workload": first.spec["workload"], "boundaries": first.spec["boundaries"],
        "step_us": statistics.median(pooled) * 1e6,
        "build_ms": statistics.median(c.build_ms for c in group),
        "first_run_ms": statistics.median(c.first_run_ms for c in group),
        "ops": first.ops, "runs": len(pooled), "isolated": False,
        "instance_step_us": [statistics.median(c.samples) * 1e6 for c in group],
        "paddle": paddle.__version__, "place": "cpu",
        "process_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "profile": profile(first, profile_runs) if profile_runs else None,
    }


def time_round(configs, r, runs, budget):
    shift = r % len(configs)
    for config in configs[shift:] + configs[:shift]:
        deadline = time.perf_counter() + budget
        for _ in range(runs):
            config.step(True)
            if time.perf_counter() > deadline:
                break


def serve(inp, out):
    def say(message):
        out.write(json.dumps(message) + "\n")
        out.flush()

    request = json.loads(inp.readline())
    groups = [[Config(spec) for _ in range(request["instances"])] for spec in request["configs"]]
    for group in groups:
        for config in group:
            for _ in range(request["warmup_runs"] - 1):
                config.step(False)
    flat = [c for group in groups for c in group]
    say({"ready": True, "paddle": paddle.__version__, "python": sys.version.split()[0]})
    for line in inp:
        message = json.loads(line)
        if "round" in message:
            time_round(flat, message["round"], request["runs"], request["round_budget_s"])
            say({"round": message["round"]})
        elif message.get("finish"):
            say({"records": [record(group, message.get("profile_runs", 0)) for group in groups]})
            return 0
    return 0


def main():
    # The protocol keeps the real stdout; everything else printed (Paddle's C++ included) goes to stderr.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    try:
        return serve(sys.stdin, out)
    except Exception as exc:  # reported to the parent in one line, which names it
        out.write(json.dumps({"error": "%s: %s" % (type(exc).__name__, str(exc).strip().splitlines()[-1]
                                                   if str(exc).strip() else "")}) + "\n")
        out.flush()
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""The same configurations on fluid 1.8.5, in a child process with fluid's Python, timed in the same rounds.

``tools/bench.py --fluid PY`` starts ``tools/fluid18/bench_fluid.py`` (which
runs on Python 3.5-3.8 with ``paddle.fluid`` 1.8.5 and never imports
``paddle_lr``) with the interpreter ``PY``, sends it the configurations built
from :mod:`paddle_lr.bench.cases` (the same boundaries, values and model), and
lets it time one round after each of this process's rounds, so that both
sides meet the same machine drift. The protocol is described in the script's
docstring. While it waits for an answer the parent polls the child's resident
memory and stops it past ``memory_limit_mb`` or ``timeout_s``, as for the
scale children.

The fluid side's records have the impl names :data:`PREFIX` + the schedule's
kind (``fluid185_floor``, ``fluid185_seed``, ``fluid185_pw``, ...; see
:func:`paddle_lr.bench.cases.kind`) and ``"paddle": "1.8.5"``.
"""
import json
import os
import pathlib
import select
import subprocess
import tempfile
import time

from . import cases
from .proc import rss_kb

__all__ = ["PREFIX", "SCRIPT", "FluidError", "FluidChild", "fluid_impl", "specs"]

PREFIX = "fluid185_"
SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "tools" / "fluid18" / "bench_fluid.py"


class FluidError(RuntimeError):
    """The fluid child could not start, answered an error, or was stopped; the message is one line."""


def fluid_impl(kind: str) -> str:
    """The fluid record's impl name for a schedule kind."""
    return PREFIX + kind


def specs(impls, workloads, boundaries):
    """The fluid configurations that the paddle_lr ``impls`` compare with, in order, without repeats.

    Each workload gets fluid's ``floor``; each impl with a kind gets fluid's
    schedule of that kind, at the same counts.
    """
    out, seen = [], set()
    for workload in workloads:
        for impl in ["floor"] + list(impls):
            kind = cases.kind(impl)
            if kind is None or not cases.available(impl):
                continue
            for count in [0] if cases.boundless(impl) else boundaries:
                key = (kind, workload, count)
                if key not in seen:
                    seen.add(key)
                    out.append(cases.fluid_spec(fluid_impl(kind), kind, workload, count))
    return out


class FluidChild:
    """``bench_fluid.py`` running under ``python``, built and warmed up, waiting for rounds."""

    def __init__(self, python, configs, warmup_runs, runs, round_budget_s, instances,
                 memory_limit_mb=6000.0, timeout_s=600.0):
        if not SCRIPT.is_file():
            raise FluidError(f"--fluid: {SCRIPT} is not there (run the bench from a checkout of paddle_lr)")
        self.memory_limit_mb, self.timeout_s = memory_limit_mb, timeout_s
        self.stderr = tempfile.TemporaryFile(mode="w+")
        env = dict(os.environ, GLOG_minloglevel=os.environ.get("GLOG_minloglevel", "2"))
        env.pop("PYTHONPATH", None)  # fluid's Python must not see this project's (3.9+) packages
        try:
            self.proc = subprocess.Popen([str(python), str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self.stderr, text=True, env=env, cwd=str(SCRIPT.parent))
        except OSError as exc:
            raise FluidError(f"--fluid: cannot run {python}: {exc.strerror or exc}") from None
        ready = self._ask({"configs": configs, "warmup_runs": warmup_runs, "runs": runs,
                           "round_budget_s": round_budget_s, "instances": instances})
        if not ready.get("ready"):
            raise self._fail(f"unexpected answer {ready!r}")
        self.paddle, self.python = ready["paddle"], ready["python"]

    def _fail(self, why):
        self.close()
        self.stderr.seek(0)
        lines = [line for line in self.stderr.read().splitlines() if line.strip()]
        return FluidError(f"--fluid: the fluid child {why}" + (f" (its stderr ends: {lines[-1].strip()})" if lines else ""))

    def _ask(self, message):
        """Send one message and wait for the answer line, watching the child's memory and time."""
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except OSError:
            raise self._fail(f"exited with status {self.proc.wait()}") from None
        start = time.monotonic()
        while True:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.02)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    raise self._fail(f"exited with status {self.proc.wait()}")
                answer = json.loads(line)
                if "error" in answer:
                    raise self._fail(f"failed: {answer['error']}")
                return answer
            if rss_kb(self.proc.pid) > self.memory_limit_mb * 1024:
                raise self._fail(f"passed {self.memory_limit_mb} MB resident and was stopped")
            if time.monotonic() - start > self.timeout_s:
                raise self._fail(f"did not answer within {self.timeout_s:.0f} s and was stopped")

    def round(self, r):
        """Time one round over fluid's configurations."""
        self._ask({"round": r})

    def finish(self, profile_runs=0):
        """The records (profiled over ``profile_runs`` more runs when > 0); the child exits."""
        records = self._ask({"finish": True, "profile_runs": profile_runs})["records"]
        self.proc.wait()
        self.stderr.close()
        return records

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

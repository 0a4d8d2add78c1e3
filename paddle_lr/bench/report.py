"""The bench's tables and targets, from its records (no Paddle)."""
from typing import List, Optional, Tuple

from .cases import ARITHMETIC, kind
from .fluid import PREFIX as FLUID_PREFIX

__all__ = ["TARGETS", "COMPARISONS", "evaluate_targets", "evaluate_comparisons", "format_table", "format_scale",
           "find", "groups", "FLUID_PREFIX", "DEFAULTS", "FLUID_BOUND", "fluid_ratios", "fluid_check", "format_fluid"]

# (name, workload, numerator, denominator, bound, kind); kind "overhead" divides
# the overheads over floor, "step" the step times.
TARGETS = (
    ("overhead(branchless) / overhead(switch) @2", "bare", ("branchless", 2), ("switch", 2), 0.10, "overhead"),
    ("step(branchless@1000) / step(branchless@2)", "bare", ("branchless", 1000), ("branchless", 2), 1.1, "step"),
    ("step(branchless) / step(lrscheduler) @2", "train", ("branchless", 2), ("lrscheduler", 2), 1.1, "step"),
    ("step(pw_auto) / step(pw_fluid) @2", "bare", ("pw_auto", 2), ("pw_fluid", 2), 1.0, "step"),
    ("overhead(pw_branchless) / overhead(pw_fluid) @2", "bare", ("pw_branchless", 2), ("pw_fluid", 2), 0.3,
     "overhead"),
    ("step(wpw_auto) / step(wpw_fluid) @2", "bare", ("wpw_auto", 2), ("wpw_fluid", 2), 1.0, "step"),
    ("overhead(wpw_branchless) / overhead(wpw_fluid) @2", "bare", ("wpw_branchless", 2), ("wpw_fluid", 2), 0.3,
     "overhead"),
)

# The arithmetic schedules against Paddle's own, as step ratios with no bound:
# their graphs are fluid's op for op, so these show the run's noise as much as
# any cost (the issue's bound for them is on ops, tests/test_scale.py).
COMPARISONS = tuple((f"step({name}) / step({name}_fluid)", "bare", (name, 0), (f"{name}_fluid", 0), None, "step")
                    for name in ARITHMETIC)


def groups(records) -> List[list]:
    """The records by their ``group`` (``--apart``: one per child process), in order; else all as one."""
    by_group: dict = {}
    for rec in records:
        by_group.setdefault(rec.get("group"), []).append(rec)
    return list(by_group.values())


def find(records, impl, workload, boundaries) -> Optional[dict]:
    """The record of one configuration, or None."""
    for rec in records:
        if (rec["impl"], rec["workload"], rec["boundaries"]) == (impl, workload, boundaries):
            return rec
    return None


def evaluate_targets(records, targets=TARGETS) -> List[Tuple]:
    """The issue's targets, as ratios of this run's records.

    Args:
        records (list[dict]): from :func:`paddle_lr.bench.harness.measure`.
        targets (tuple): :data:`TARGETS` or :data:`COMPARISONS`.

    Returns:
        list[tuple]: ``(name, workload, ratio or None, bound, passed or None)``;
        None where a configuration the ratio needs was not measured, or where
        there is no bound.
    """
    out = []
    for name, workload, num, den, bound, kind in targets:
        a = find(records, num[0], workload, num[1])
        b = find(records, den[0], workload, den[1])
        floor = find(records, "floor", workload, 0)
        ratio = None
        if a and b and (kind == "step" or floor):
            base = floor["step_us"] if kind == "overhead" else 0.0
            ratio = (a["step_us"] - base) / (b["step_us"] - base)
        out.append((name, workload, ratio, bound, None if ratio is None or bound is None else ratio <= bound))
    return out


def evaluate_comparisons(records) -> List[Tuple]:
    """:data:`COMPARISONS` of this run: ``(name, workload, ratio, None, None)``, measured ones only."""
    return [c for c in evaluate_targets(records, COMPARISONS) if c[2] is not None]


def format_table(records, expected_runs) -> str:
    """The human-readable report: steps, overheads over floor, and the targets.

    With several instances per configuration, the ``spread`` column is the
    range of their medians over the pooled median. ``key_us`` is what
    ``Executor.run`` spends on every run keying its cache from the program
    (:func:`paddle_lr.graph.ir.run_cache_key`: on PIR the program printed),
    part of ``step_us``.

    Args:
        records (list[dict]): from :func:`paddle_lr.bench.harness.measure`.
        expected_runs (int): timed runs of an uncapped configuration, to flag capped ones.

    Returns:
        str: the table.
    """
    lines = []
    width = max([14] + [len(r["impl"]) for r in records])
    for workload in ("bare", "train"):
        rows = [r for r in records if r["workload"] == workload and not r["impl"].startswith(FLUID_PREFIX)]
        if not rows:
            continue
        floor = find(records, "floor", workload, 0)
        lines.append(f"workload {workload}")
        spread = any(len(r.get("instance_step_us", ())) > 1 for r in rows)
        profiled = any(r.get("profile") for r in rows)
        lines.append(
            f"  {'impl':{width}s} {'bounds':>6s} {'step_us':>10s} {'over_floor':>10s} "
            f"{'build_ms':>9s} {'first_ms':>9s} {'ops':>5s} {'key_us':>7s} {'runs':>5s}"
            + (f" {'spread':>7s}" if spread else "")
            + (f" {'ops/run':>8s} {'kern/run':>8s} {'copies/run':>10s}" if profiled else "")
        )
        for r in rows:
            over = f"{r['step_us'] - floor['step_us']:10.1f}" if floor else f"{'-':>10s}"
            notes = ["capped by the round budget"] if r["runs"] < expected_runs else []
            notes += ["timed on its own, after the others"] if r.get("isolated") else []
            capped = f"  ({'; '.join(notes)})" if notes else ""
            lines.append(
                f"  {r['impl']:{width}s} {r['boundaries']:6d} {r['step_us']:10.1f} {over} "
                f"{r['build_ms']:9.1f} {r['first_run_ms']:9.1f} {r['ops']:5d} "
                f"{_cell(r.get('key_us'), '7.1f'):>7s} {r['runs']:5d}"
                + (f" {_spread(r):7s}" if spread else "") + (_profile_cells(r) if profiled else "") + capped
            )
    lines.append("targets")
    targets = evaluate_targets(records)
    width = max(len(t[0]) for t in targets)
    for name, workload, ratio, bound, passed in targets:
        if ratio is None:
            lines.append(f"  {workload:5s} {name:{width}s} n/a (not measured)")
        else:
            lines.append(f"  {workload:5s} {name:{width}s} {ratio:6.3f} <= {bound:<5} {'PASS' if passed else 'FAIL'}")
    copies = [(r, name, n) for r in records if r.get("profile") for name, n in r["profile"].get("copies", {}).items()]
    if copies:
        lines.append("copies per run, by profiler event")
        lines.extend(f"  {r['workload']:5s} {r['impl']:{width}s} {r['boundaries']:6d} {n:8.2f}  {name}"
                     for r, name, n in copies)
    comparisons = evaluate_comparisons(records)
    if comparisons:
        lines.append("against Paddle's own (the same ops; no bound)")
        width = max(len(c[0]) for c in comparisons)
        lines.extend(f"  {workload:5s} {name:{width}s} {ratio:6.3f}" for name, workload, ratio, _, _ in comparisons)
    against_fluid = format_fluid(records)
    if against_fluid:
        lines.append(against_fluid)
    return "\n".join(lines)


def _profile_cells(record) -> str:
    """The profiled counts per run (ops, kernels, copies), or blanks."""
    prof = record.get("profile")
    if not prof or "error" in prof:
        return f" {'-':>8s} {'-':>8s} {'-':>10s}" + (f"  (profile: {prof['error']})" if prof else "")
    return f" {prof['ops']:8.1f} {prof['kernels']:8.1f} {sum(prof['copies'].values()):10.1f}"


def _spread(record) -> str:
    """(slowest - fastest) / median of a configuration's instance medians, in percent."""
    meds = record.get("instance_step_us") or [record["step_us"]]
    return f"{100 * (max(meds) - min(meds)) / record['step_us']:.1f}%"


def _cell(value, fmt):
    return f"{value:{fmt}}" if value is not None else "-"


def format_scale(records) -> str:
    """The scale table: peak memory, build and first run, per-step median, per impl and count.

    Args:
        records (list[dict]): from :func:`paddle_lr.bench.harness.scale`.

    Returns:
        str: the table.
    """
    width = max([14] + [len(r["impl"]) for r in records])
    lines = [f"  {'impl':{width}s} {'bounds':>6s} {'peak_MB':>8s} {'build_ms':>9s} {'first_ms':>9s} "
             f"{'step_us':>10s} {'ops':>6s} {'threads':>7s}  note"]
    for r in records:
        peak = r.get("peak_rss_mb") if r.get("peak_rss_mb") is not None else r.get("watched_peak_mb")
        note = r["killed"] or ""
        if r["killed"] and r.get("watched_peak_mb"):
            note += f" (at {r['watched_peak_mb']:.0f} MB, {r['wall_s']:.0f} s)"
        lines.append(
            f"  {r['impl']:{width}s} {r['boundaries']:6d} {_cell(peak, '8.0f')} {_cell(r['build_ms'], '9.1f')} "
            f"{_cell(r['first_run_ms'], '9.1f')} {_cell(r['step_us'], '10.1f')} {_cell(r['ops'], '6d')} "
            f"{_cell(r['threads'], '7d')}  {note}".rstrip()
        )
    return "\n".join(lines)


# -- against fluid 1.8.5 (tools/bench.py --fluid) -------------------------------------------

DEFAULTS = ("auto", "pw_auto", "wpw_auto", "wpw_spec") + tuple(ARITHMETIC)
"""The default lowering of every schedule the bench builds (an arithmetic schedule has only one)."""

FLUID_BOUND = 1.0
"""A default's overhead over its floor may be at most fluid 1.8.5's for the same schedule."""


def fluid_ratios(records) -> List[dict]:
    """Each paddle_lr configuration's overhead as a ratio to fluid 1.8.5's for the same schedule, in this run.

    The overhead of a configuration is its step minus its own runtime's
    ``floor`` (the counter alone, or the model with a float lr) on the same
    workload (records with a ``group``: within it). Rows only where both sides and both floors were measured.

    Returns:
        list[dict]: ``impl``, ``workload``, ``boundaries``, ``default`` (bool),
        ``floor_us``, ``step_us``, ``overhead_us``, ``fluid_floor_us``,
        ``fluid_step_us``, ``fluid_overhead_us``, ``ratio``.
    """
    parts = groups(records)
    if len(parts) > 1:  # each against its own floors
        return [row for part in parts for row in fluid_ratios(part)]
    rows = []
    for rec in records:
        name = kind(rec["impl"]) if not rec["impl"].startswith(FLUID_PREFIX) else None
        if name is None or name == "floor":
            continue
        workload, count = rec["workload"], rec["boundaries"]
        floor = find(records, "floor", workload, 0)
        theirs = find(records, FLUID_PREFIX + name, workload, count)
        their_floor = find(records, FLUID_PREFIX + "floor", workload, 0)
        if not (floor and theirs and their_floor):
            continue
        over = rec["step_us"] - floor["step_us"]
        their_over = theirs["step_us"] - their_floor["step_us"]
        rows.append({
            "impl": rec["impl"], "workload": workload, "boundaries": count, "default": rec["impl"] in DEFAULTS,
            "floor_us": floor["step_us"], "step_us": rec["step_us"], "overhead_us": over,
            "fluid_floor_us": their_floor["step_us"], "fluid_step_us": theirs["step_us"],
            "fluid_overhead_us": their_over, "ratio": over / their_over if their_over > 0 else None,
        })
    return rows


def fluid_check(rows) -> Optional[bool]:
    """Whether every default's ratio is at most :data:`FLUID_BOUND` (None when no default was compared)."""
    defaults = [r for r in rows if r["default"]]
    if not defaults:
        return None
    return all(r["ratio"] is not None and r["ratio"] <= FLUID_BOUND for r in defaults)


def format_fluid(records) -> str:
    """The table against fluid 1.8.5: floors, steps, overheads and their ratio; then the check, PASS or FAIL."""
    rows = fluid_ratios(records)
    if not rows:
        return ""
    width = max(len(r["impl"]) for r in rows)
    profiled = any(find(records, r["impl"], r["workload"], r["boundaries"]).get("profile") for r in rows)
    lines = ["against fluid 1.8.5 (us; overhead = step - the same runtime's floor; ratio = overhead / fluid's)",
             f"  {'workload':8s} {'impl':{width}s} {'bounds':>6s} {'floor':>8s} {'step':>8s} {'over':>8s} "
             f"{'fl.floor':>8s} {'fl.step':>8s} {'fl.over':>8s} {'ratio':>7s}"
             + (f" {'ops/run':>7s} {'fl.ops/run':>10s}" if profiled else "")]
    for r in rows:
        ratio = f"{r['ratio']:7.3f}" if r["ratio"] is not None else f"{'-':>7s}"
        ops = ""
        if profiled:
            ours = find(records, r["impl"], r["workload"], r["boundaries"]).get("profile") or {}
            theirs = find(records, FLUID_PREFIX + kind(r["impl"]), r["workload"], r["boundaries"]).get("profile") or {}
            ops = f" {_cell(ours.get('ops'), '7.1f'):>7s} {_cell(theirs.get('ops'), '10.1f'):>10s}"
        lines.append(
            f"  {r['workload']:8s} {r['impl']:{width}s} {r['boundaries']:6d} {r['floor_us']:8.1f} {r['step_us']:8.1f} "
            f"{r['overhead_us']:8.1f} {r['fluid_floor_us']:8.1f} {r['fluid_step_us']:8.1f} "
            f"{r['fluid_overhead_us']:8.1f} {ratio}{ops}" + ("  (default)" if r["default"] else ""))
    ours = [r["process_peak_mb"] for r in records if "process_peak_mb" in r and not r["impl"].startswith(FLUID_PREFIX)]
    theirs = [r["process_peak_mb"] for r in records if "process_peak_mb" in r and r["impl"].startswith(FLUID_PREFIX)]
    if ours and theirs:
        where = ("the largest of the processes, each with one configuration" if len(groups(records)) > 1
                 else "every configuration alive")
        lines.append(f"peak resident memory, {where}: this process {max(ours):.0f} MB, "
                     f"the fluid 1.8.5 child {max(theirs):.0f} MB")
    failed = [r for r in rows if r["default"] and not (r["ratio"] is not None and r["ratio"] <= FLUID_BOUND)]
    verdict = fluid_check(rows)
    if verdict is not None:
        lines.append(f"check: default ratio <= {FLUID_BOUND} for every schedule: {'PASS' if verdict else 'FAIL'}"
                     + (" (" + ", ".join(f"{r['workload']} {r['impl']}@{r['boundaries']}" for r in failed) + ")"
                        if failed else ""))
    return "\n".join(lines)

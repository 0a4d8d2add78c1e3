#!/usr/bin/env python3
"""Measure how far a resume on another Paddle version drifts from the uninterrupted runs.

    .venv/bin/python tools/measure_resume_drift.py \\
        --python 2.6.2=.venv-2.6/bin/python --python 3.3.1=.venv/bin/python \\
        --work /tmp/drift [--dygraph] [--resume-at 200] [-o KEY=VALUE ...]

Trains the demo (``configs/shapes_demo.yml``, 600 iterations by default) once
on each Paddle, then resumes each run's ``snapshot_<resume-at>`` on the other
Paddle, and compares, iteration by iteration, the resumed run's log with the
uninterrupted run of the version that wrote the snapshot (what the run would
have been) and with the uninterrupted run of the version that resumed it. It
prints a Markdown table and writes ``<work>/drift.json``. A measurement, not a
test: the figures go to docs/checkpoints.md.
"""
import argparse
import json
import pathlib
import subprocess
import sys

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent


def _train(python, work, name, args):
    output = work / name
    if (output / "eval.json").is_file():  # done by an earlier call: keep it
        return output
    command = [python, str(REPO / "tools" / "train.py"), *args, "--output", str(output)]
    print(f"$ {' '.join(command)}", file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    (work / f"{name}.stderr").write_text(done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"measure_resume_drift: {name} failed:\n{done.stderr[-2000:]}")
    return output


def _log(output):
    records = [json.loads(line) for line in (output / "train_log.jsonl").read_text().splitlines()]
    return {r["iter"]: r for r in records}


def _ap(output):
    return json.loads((output / "eval.json").read_text())["AP"]


def _params(python, output):
    """The final parameters, as float32 arrays by name (read by that Paddle)."""
    script = ("import sys, pickle, paddle; "
              "d = paddle.load(sys.argv[1], return_numpy=True); "
              "sys.stdout.buffer.write(pickle.dumps({k: v for k, v in d.items() if hasattr(v, 'dtype')}))")
    done = subprocess.run([python, "-c", script, str(output / "final" / "model.pdparams")],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    import pickle

    return pickle.loads(done.stdout)


def _ulps(a, b):
    a = np.asarray(a, dtype=np.float32).view(np.int32).astype(np.int64)
    b = np.asarray(b, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.abs(a - b)


def compare(resumed, reference, start):
    """Loss and lr differences of ``resumed`` against ``reference`` over iterations ``start..``."""
    iters = sorted(i for i in resumed if i >= start)
    got = np.array([resumed[i]["loss"] for i in iters], dtype=np.float32)
    want = np.array([reference[i]["loss"] for i in iters], dtype=np.float32)
    lr_got = np.array([resumed[i]["lr"] for i in iters], dtype=np.float32)
    lr_want = np.array([reference[i]["lr"] for i in iters], dtype=np.float32)
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    rel = diff / np.maximum(np.abs(want.astype(np.float64)), 1e-30)
    differing = np.flatnonzero(got.view(np.uint32) != want.view(np.uint32))
    first = int(iters[differing[0]]) if differing.size else None
    return dict(
        iterations=len(iters),
        lr_bits_differing=int(np.count_nonzero(lr_got.view(np.uint32) != lr_want.view(np.uint32))),
        loss_bits_differing=int(differing.size),
        first_differing_iteration=first,
        ulps_at_first=int(_ulps(got, want)[differing[0]]) if differing.size else 0,
        max_abs_loss_diff=float(diff.max()),
        median_abs_loss_diff=float(np.median(diff)),
        max_rel_loss_diff=float(rel.max()),
        mean_loss_last_50=[float(got[-50:].mean()), float(want[-50:].mean())],
        windows=[_window(iters, got, want, lo, hi) for lo, hi in _WINDOWS],
    )


#: Iterations after the resume point whose differences are reported together.
_WINDOWS = ((0, 1), (0, 10), (10, 50), (50, 200), (200, None))


def _window(iters, got, want, lo, hi):
    part = slice(lo, hi)
    g, w = got[part], want[part]
    if g.size == 0:
        return None
    d = np.abs(g.astype(np.float64) - w.astype(np.float64))
    return dict(first=int(iters[part][0]), last=int(iters[part][-1]), max_abs=float(d.max()),
                median_abs=float(np.median(d)), max_ulps=int(_ulps(g, w).max()))


def param_drift(a, b):
    """Largest absolute and relative difference over the parameters (float32 entries both files hold).

    PIR's ``.pdparams`` also holds the counter and the lr variable; they are equal anyway.
    """
    worst_abs, worst_rel = 0.0, 0.0
    for name in sorted(set(a) & set(b)):
        if a[name].dtype != np.float32:
            continue
        x, y = a[name].astype(np.float64), b[name].astype(np.float64)
        d = np.abs(x - y)
        worst_abs = max(worst_abs, float(d.max()))
        worst_rel = max(worst_rel, float((d / np.maximum(np.abs(y), 1e-6)).max()))
    return worst_abs, worst_rel


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", required=True, metavar="VERSION=PATH",
                        help="a Paddle version and its interpreter; give two")
    parser.add_argument("--work", required=True, help="working directory (runs are kept and reused)")
    parser.add_argument("--config", default=str(REPO / "configs" / "shapes_demo.yml"))
    parser.add_argument("--resume-at", type=int, default=200, help="the snapshot to resume (default 200)")
    parser.add_argument("--dygraph", action="store_true")
    parser.add_argument("-o", "--opt", nargs="*", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    pythons = dict(item.split("=", 1) for item in args.python)
    if len(pythons) != 2:
        parser.error("give --python twice, one per Paddle version")
    work = pathlib.Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    mode = "dygraph" if args.dygraph else "static"
    base = ["-c", args.config, "-o", f"dataset_dir={work / 'shapes'}", *args.opt] + (["--dygraph"] if args.dygraph else [])
    (a, pa), (b, pb) = sorted(pythons.items())
    full = {v: _train(p, work, f"{mode}-{v}", base) for v, p in ((a, pa), (b, pb))}
    snap = f"snapshot_{args.resume_at}"
    resumed = {
        (a, b): _train(pb, work, f"{mode}-{a}-resumed-on-{b}", base + ["--resume", str(full[a] / snap)]),
        (b, a): _train(pa, work, f"{mode}-{b}-resumed-on-{a}", base + ["--resume", str(full[b] / snap)]),
    }
    logs = {k: _log(v) for k, v in {**full, **resumed}.items()}
    rows, report = [], dict(mode=mode, resume_at=args.resume_at, runs={})
    for (writer, reader), output in resumed.items():
        for label, reference in (("writer", writer), ("reader", reader)):
            c = compare(logs[(writer, reader)], logs[reference], args.resume_at)
            pa_abs, pa_rel = param_drift(_params(pythons[reader], output),
                                         _params(pythons[reference], full[reference]))
            c.update(max_abs_param_diff=pa_abs, max_rel_param_diff=pa_rel, AP=[_ap(output), _ap(full[reference])])
            report["runs"][f"{writer}->{reader} vs {reference} uninterrupted"] = c
            rows.append((f"{writer} snapshot resumed on {reader}", f"{reference} uninterrupted", c))
    c = compare(logs[b], logs[a], args.resume_at)
    c.update(max_abs_param_diff=param_drift(_params(pb, full[b]), _params(pa, full[a]))[0],
             max_rel_param_diff=param_drift(_params(pb, full[b]), _params(pa, full[a]))[1],
             AP=[_ap(full[b]), _ap(full[a])])
    report["runs"][f"{b} uninterrupted vs {a} uninterrupted"] = c
    rows.append((f"{b} uninterrupted", f"{a} uninterrupted", c))
    since_start = compare(logs[b], logs[a], 0)
    report["runs"][f"{b} uninterrupted vs {a} uninterrupted, from iteration 0"] = since_start
    (work / f"drift-{mode}.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"{mode}, iterations {args.resume_at}..{max(logs[a])} after the resume point")
    print("| run | compared with | lr bits differing | loss bits differing | first differing | "
          "max abs loss diff | max rel loss diff | max abs param diff | AP (run / compared) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run, ref, c in rows:
        print(f"| {run} | {ref} | {c['lr_bits_differing']} / {c['iterations']} | "
              f"{c['loss_bits_differing']} / {c['iterations']} | {c['first_differing_iteration']} "
              f"({c['ulps_at_first']} ulp) | {c['max_abs_loss_diff']:.3g} | {c['max_rel_loss_diff']:.3g} | "
              f"{c['max_abs_param_diff']:.3g} | {c['AP'][0]:.4f} / {c['AP'][1]:.4f} |")
    print()
    print("| run | compared with | " + " | ".join(
        f"{w['first']}-{w['last']}" for w in rows[0][2]["windows"] if w) + " |")
    print("|---|---|" + "---|" * sum(1 for w in rows[0][2]["windows"] if w))
    for run, ref, c in rows:
        cells = [f"{w['max_abs']:.3g} ({w['max_ulps']} ulp)" for w in c["windows"] if w]
        print(f"| {run} | {ref} | " + " | ".join(cells) + " |")
    print()
    print(f"{b} uninterrupted vs {a} uninterrupted, from iteration 0: " + ", ".join(
        f"{w['first']}-{w['last']}: {w['max_abs']:.3g} ({w['max_ulps']} ulp)" for w in since_start["windows"] if w))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

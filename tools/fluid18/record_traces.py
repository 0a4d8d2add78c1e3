"""Record the golden cases' lr traces from fluid 1.8.5 itself (Python 3.5-3.8, paddle.fluid 1.8.5).

    python tools/fluid18/record_traces.py --out DIR

writes ``DIR/traces/seed.json`` (the R-CNN ``exponential_with_warmup_decay``
Switch graph) and ``DIR/traces/family.json`` (fluid's eight
``fluid.layers`` schedules), one entry per case of ``tests/data/fluid_traces.json``
and ``tests/data/family_traces.json`` (copies of ../shared/golden's), with the
lr fetched after every ``Executor.run`` of the main program, on the CPU.
Only the cases' inputs are read from those files, never their traces.
"""
import argparse
import os
import sys

from fluid18common import COUNTER, DATA, fluid, header, make_folder  # first: pins MKL

import numpy as np

import fluid18io
from fluid18graphs import SEED_SOURCE, family_schedule, seed_schedule


def counter_begin(spec):
    """The step the first run sees: noam_decay counts from 1, the others from 0 (the innermost builds the counter)."""
    inner = spec["args"].get("learning_rate")
    if isinstance(inner, dict):
        return counter_begin(inner)
    return 1 if spec["fn"] == "noam_decay" else 0


def run_trace(build, steps, start_step=None):
    """The lr's float32 bits after each of ``steps`` runs; the first run sees ``start_step`` when given."""
    main, startup = fluid.Program(), fluid.Program()
    with fluid.unique_name.guard(), fluid.program_guard(main, startup):
        lr = build()
    scope = fluid.Scope()
    exe = fluid.Executor(fluid.CPUPlace())
    out = np.empty(steps, dtype=np.float32)
    with fluid.scope_guard(scope):
        exe.run(startup)
        if start_step is not None:
            scope.find_var(COUNTER).get_tensor().set(np.array([start_step - 1], dtype=np.int64), fluid.CPUPlace())
        for i in range(steps):
            out[i] = exe.run(main, fetch_list=[lr], use_program_cache=True)[0].reshape(-1)[0]
    return out


def record_cases(data_file, kind, only, describe):
    """One entry per case of ``tests/data/<data_file>`` (those named in ``only``, if any), with its lr trace.

    ``describe(case)`` gives the entry's own keys, the lr's builder and the
    step the first run sees when the case names none.
    """
    cases = []
    for case in fluid18io.read_json(os.path.join(DATA, data_file))["cases"]:
        if only and case["name"] not in only:
            continue
        keys, build, begin = describe(case)
        start = case.get("start_step")
        bits = run_trace(build, case["steps"], start)
        entry = dict(name=case["name"], steps=case["steps"], first_step=begin if start is None else start,
                     lr=fluid18io.encode_bits(bits), **keys)
        cases.append(entry)
        print("%s %s: %d steps" % (kind, case["name"], case["steps"]))
    return cases


def seed_case(case):
    values = [case["learning_rate"] * case["lr_gamma"] ** i for i in range(len(case["lr_steps"]) + 1)]
    args = dict(learning_rate=case["learning_rate"], boundaries=case["lr_steps"], values=values,
                warmup_iter=case["warm_up_iter"], warmup_factor=case["warm_up_factor"])
    return {"args": args}, lambda: seed_schedule(**args), 0


def family_case(case):
    spec = case["schedule"]
    return {"schedule": spec}, lambda: family_schedule(spec["fn"], spec["args"]), counter_begin(spec)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the recording's root; files go to OUT/traces/")
    parser.add_argument("--only", nargs="*", default=[], help="record just these case names (a check, not a fixture)")
    args = parser.parse_args(argv)
    folder = make_folder(args.out, "traces")
    common = dict(header(), run="CPU, static graph, the lr fetched after each Executor.run; "
                                "first_step: the step the first run saw")
    fluid18io.write_json(os.path.join(folder, "seed.json"),
                         dict(common, source=SEED_SOURCE,
                              cases=record_cases("fluid_traces.json", "seed", args.only, seed_case)))
    fluid18io.write_json(os.path.join(folder, "family.json"),
                         dict(common, source="paddle.fluid.layers' schedules",
                              cases=record_cases("family_traces.json", "family", args.only, family_case)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

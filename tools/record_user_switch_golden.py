"""Record tests/data/user_switch_traces.json from fluid's originals on paddlepaddle 2.6.2.

Runs the fluid-era hand-written Switch schedules of tests/data/fluid_bodies/ and
the "before" example of docs/porting.md as written, with ``fluid`` bound to
Paddle 2.6.2's own ``create_global_var``, ``Switch``, ``_decay_step_counter``,
``polynomial_decay`` and the rest (legacy static graph, CPU), and writes the lr
of every step, run-length encoded as float32 bits.

    GLOG_minloglevel=2 python tools/record_user_switch_golden.py   # in a paddlepaddle 2.6.2 environment
"""
import json
import os
import pathlib
import sys

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))

import paddle  # noqa: E402

import userswitchkit as kit  # noqa: E402


def main():
    if not paddle.__version__.startswith("2.6"):
        sys.exit(f"record on paddlepaddle 2.6 (fluid's originals), got {paddle.__version__}")
    sources = kit.sources()
    cases = []
    for name, (body, call, steps, inexact, kernel_from, lr) in [("docs_linear_warmup_decay", kit.DOCS_CASE),
                                                                 *kit.CASES.items()]:
        source = "docs/porting.md (port: before)" if body == "docs" else f"tests/data/fluid_bodies/{body}.txt"
        values = kit.doc_values(ported=False) if body == "docs" else kit.trace(name, ported=False)
        assert len(values) == steps
        cases.append(dict(name=name, source=source, call=call, steps=steps, pow_cos=list(inexact),
                          kernel_from=kernel_from, learning_rate=lr, digest=kit.digest(sources[name]),
                          trace=kit.encode(values)))
    out = dict(
        recorded_with=f"paddlepaddle {paddle.__version__}, legacy static graph, CPU, fluid's names bound to "
                      "Paddle's own create_global_var, Switch, _decay_step_counter, autoincreased_step_counter, "
                      "fill_constant, piecewise_decay, polynomial_decay",
        generator="tools/record_user_switch_golden.py",
        trace_format="[[first_step, float32 bits], ...], run-length encoded; step 0 is the first run",
        cases=cases,
    )
    kit.GOLDEN.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {kit.GOLDEN.relative_to(kit.REPO)}: {len(cases)} cases")


if __name__ == "__main__":
    main()

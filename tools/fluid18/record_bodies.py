"""Record what the published fluid-era lr bodies give on fluid 1.8.5 (Python 3.5-3.8, paddle.fluid 1.8.5).

    python tools/fluid18/record_bodies.py --out DIR

writes ``DIR/bodies/<body>.json``, one per file of
``tests/data/fluid_bodies/published/`` (see its PROVENANCE.json): each file
imported as a module, as published, and its schedule functions (and the
optimizers it builds) called with the arguments of ``BODIES`` in
tools/fluid18/bodies.py. Per call: the lr fetched after every ``Executor.run`` of the main program, on the CPU,
and, where the call builds an optimizer, the two parameters of a tiny program
(``loss = mean((x * w + b - y) ** 2)``) after every step; or the error the
call raises; and which of the program's ops (in any block) are exp/cos/pow and
optimizer updates. Only what is outside the learning-rate part is stubbed
(``bodies.STUBS``: a logger, decorators, fp16 helpers never called with fp16 off,
an argument object) and, on fluid 1.8.5, ``paddle.fluid.initializer.init_on_cpu``,
which fluid 1.8 removed: a context manager that did nothing on the CPU.

The tests (tests/test_port_published.py) port each file with paddle-lr-port,
make the same calls on Paddle 3.3.1 and 2.6.2 (the calls, stubs and tiny
program's data come from bodies.py) and compare with these recordings.
"""
import argparse
import os
import sys

from fluid18common import fluid, header, make_folder  # first: pins MKL

import numpy as np

import fluid18io
from bodies import BODIES, KERNELS, OPTIMIZER_OPS, PARAMS, PUBLISHED, TOPIC, Args, install_stubs, load_module, \
    sha256, tiny_data


def _tiny_program():
    x0, y0, w0, b0 = tiny_data()
    x = fluid.layers.assign(x0)
    y = fluid.layers.assign(y0)
    init = fluid.initializer.NumpyArrayInitializer
    w = fluid.layers.create_parameter([4], "float32", name=PARAMS[0], default_initializer=init(w0))
    b = fluid.layers.create_parameter([4], "float32", name=PARAMS[1], default_initializer=init(b0))
    d = x * w + b - y
    return fluid.layers.reduce_mean(d * d)


def _run(module, expression, kind, steps):
    main, startup = fluid.Program(), fluid.Program()
    with fluid.unique_name.guard(), fluid.program_guard(main, startup):
        namespace = dict(vars(module), Args=Args)
        if kind == "lr":
            lr = eval(expression, namespace)
            fetch = [lr]
        else:
            namespace.update(loss=_tiny_program(), main=main, startup=startup)
            built = eval(expression, namespace)
            if kind == "optimizer":
                built.minimize(namespace["loss"])
                lr = built._global_learning_rate()
            else:
                lr = built[0] if isinstance(built, tuple) else built
            fetch = [lr] + [main.global_block().var(name) for name in PARAMS]
    ops = set(op.type for block in main.blocks for op in block.ops)
    scope = fluid.Scope()
    exe = fluid.Executor(fluid.CPUPlace())
    rows = []
    with fluid.scope_guard(scope):
        exe.run(startup)
        for _ in range(steps):
            rows.append([np.asarray(v, np.float32).reshape(-1) for v in
                         exe.run(main, fetch_list=fetch, use_program_cache=True)])
    out = {"lr": fluid18io.encode_bits(np.concatenate([row[0] for row in rows])),
           "kernels": sorted(ops & KERNELS), "optimizer_ops": sorted(ops & OPTIMIZER_OPS)}
    for i, name in enumerate(PARAMS if kind != "lr" else ()):
        out[name] = fluid18io.encode_bits(np.concatenate([row[i + 1] for row in rows]))
    return out


def record(body, out_dir):
    relpath, stubs, calls = BODIES[body]
    path = os.path.join(PUBLISHED, *relpath.split("/"))
    install_stubs(stubs, fluid)
    module = load_module(path, "published_" + body)
    results = []
    for call_id, expression, kind, steps in calls:
        entry = {"id": call_id, "call": expression, "kind": kind, "steps": steps}
        try:
            entry.update(_run(module, expression, kind, steps))
        except Exception as exc:  # the published code's own error is the recording
            entry["error"] = "%s: %s" % (type(exc).__name__, exc)
        results.append(entry)
    recording = dict(header(), file=relpath, sha256=sha256(path), stubs=stubs, params=list(PARAMS), calls=results)
    fluid18io.write_json(os.path.join(out_dir, body + ".json"), recording)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the recordings go to OUT/%s/" % TOPIC)
    parser.add_argument("--body", action="append", choices=sorted(BODIES), help="only these bodies")
    args = parser.parse_args(argv)
    out_dir = make_folder(args.out, TOPIC)
    for body in args.body or sorted(BODIES):
        record(body, out_dir)
        print("%s/%s.json" % (out_dir, body))
    return 0


if __name__ == "__main__":
    sys.exit(main())

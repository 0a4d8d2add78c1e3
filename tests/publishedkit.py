"""The published fluid-era bodies (tests/data/fluid_bodies/published/), ported by paddle-lr-port and run.

The calls, the stubs and the tiny program's data are tools/fluid18/bodies.py's, which
tools/fluid18/record_bodies.py used to record what the originals give on fluid 1.8.5
(tests/data/fluid185/bodies/); here the ported files make the same calls on the running Paddle.
"""
import importlib.util
import pathlib

import numpy as np
import paddle

import fluid185kit
from paddle_lr.tools.port import port_source

REPO = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bodies", REPO / "tools" / "fluid18" / "bodies.py")
recorder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recorder)
BODIES = recorder.BODIES
PUBLISHED = pathlib.Path(recorder.PUBLISHED)
RECORDINGS = fluid185kit.FIXTURES / recorder.TOPIC
decode_bits = fluid185kit.decode_bits


def recording(body):
    return fluid185kit.load(recorder.TOPIC, f"{body}.json")


def source(body):
    return (PUBLISHED / BODIES[body][0]).read_text(encoding="utf-8")


_PORTED = {}


def ported(body, tmp_dir):
    """(the port of ``body``, the ported file imported as a module, with the recorder's stubs)."""
    if body not in _PORTED:
        result = port_source(source(body), BODIES[body][0])
        path = pathlib.Path(tmp_dir) / f"ported_{body}.py"
        path.write_text(result.source, encoding="utf-8")
        recorder.install_stubs([s for s in BODIES[body][1] if s != "init_on_cpu"])
        paddle.enable_static()  # the ported file enables it at import; the tests leave it as they found it
        try:
            _PORTED[body] = (result, recorder.load_module(str(path), f"ported_{body}"))
        finally:
            paddle.disable_static()
    return _PORTED[body]


def _tiny_program():
    x0, y0, w0, b0 = recorder.tiny_data()
    x, y = paddle.assign(x0), paddle.assign(y0)
    w = paddle.static.create_parameter([4], "float32", name=recorder.PARAMS[0],
                                       default_initializer=paddle.nn.initializer.Assign(w0))
    b = paddle.static.create_parameter([4], "float32", name=recorder.PARAMS[1],
                                       default_initializer=paddle.nn.initializer.Assign(b0))
    d = x * w + b - y
    return paddle.mean(d * d), [w, b]


KERNEL_OPS = {"cos", "pow", "elementwise_pow", "exp"}


def op_names(program):
    """The op names of a program's global block, without a dialect prefix (``pd_op.cos`` -> ``cos``)."""
    return {op.name().split(".")[-1] if callable(getattr(op, "name", None)) else op.type
            for op in program.global_block().ops}


def run(module, expression, kind, steps):
    """The call's lr per step (float32) and, for an optimizer, each parameter per step; and its kernels."""
    paddle.enable_static()
    try:
        main, startup = paddle.static.Program(), paddle.static.Program()
        with paddle.utils.unique_name.guard(), paddle.static.program_guard(main, startup):
            namespace = dict(vars(module), Args=recorder.Args)
            params = []
            if kind == "lr":
                lr = eval(expression, namespace)
            else:
                loss, params = _tiny_program()
                namespace.update(loss=loss, main=main, startup=startup)
                built = eval(expression, namespace)
                if kind == "optimizer":
                    built.minimize(loss)
                    lr = built._global_learning_rate()
                else:
                    lr = built[0] if isinstance(built, tuple) else built
        kernels = op_names(main) & KERNEL_OPS
        exe = paddle.static.Executor(paddle.CPUPlace())
        rows = []
        with paddle.static.scope_guard(paddle.static.Scope()):
            exe.run(startup)
            for _ in range(steps):
                rows.append([np.asarray(v, np.float32).reshape(-1) for v in
                             exe.run(main, fetch_list=[lr, *params])])
    finally:
        paddle.disable_static()
    out = {"lr": np.concatenate([row[0] for row in rows])}
    for i, name in enumerate(recorder.PARAMS if params else ()):
        out[name] = np.concatenate([row[i + 1] for row in rows])
    return out, kernels

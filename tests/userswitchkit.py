"""Fluid-era hand-written Switch schedules, their port to paddle_lr, and running them.

The schedules are kept in fluid 1.x spelling (``fluid.layers...``). The port
is the name table of docs/porting.md, applied as text: nothing but names
change. On paddlepaddle 2.6.2 the fluid spelling itself runs, with ``fluid``
bound to Paddle 2.6.2's own implementations of those names (the originals);
tools/record_user_switch_golden.py records their values into
tests/data/user_switch_traces.json.
"""
import hashlib
import json
import pathlib
import re
import types

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "porting.md"
GOLDEN = REPO / "tests" / "data" / "user_switch_traces.json"
FLUID_IMPORT = "import paddle.fluid as fluid"


def doc_block(kind, text=None):
    """The fenced block under ``<!-- port: KIND -->`` in docs/porting.md, as text."""
    lines = (text if text is not None else DOC.read_text(encoding="utf-8")).splitlines()
    start = lines.index(f"<!-- port: {kind} -->")
    i = start + 1
    while not lines[i].startswith("```") and not lines[i].startswith("|"):
        i += 1
    if lines[i].startswith("|"):
        end = i
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        return "\n".join(lines[i:end]) + "\n"
    end = i + 1
    while not lines[end].startswith("```"):
        end += 1
    return "\n".join(lines[i + 1:end]) + "\n"


def names():
    """The port: (fluid name, paddle_lr name) pairs from the table in docs/porting.md."""
    pairs = []
    for row in doc_block("names").splitlines()[2:]:
        cells = re.findall(r"`([^`]+)`", row)
        assert len(cells) == 2, f"docs/porting.md: a names row must hold two code spans, got {row!r}"
        pairs.append((cells[0], cells[1]))
    return pairs


def port(source):
    """``source`` with every fluid name of the table replaced by its paddle_lr name (longest first)."""
    for old, new in sorted(names(), key=lambda pair: -len(pair[0])):
        source = source.replace(old, new)
    return source


# -- the fluid-era bodies (besides the docs' BERT example) -------------------
# Each defines one function; CASES call it. Spelled as the fluid code was:
# kept verbatim as text (tests/data/fluid_bodies/*.txt): they are the users' fluid code, not ours.
# The published repositories' bodies (image classification's, ERNIE's, ...) are in
# tests/data/fluid_bodies/published/, ported by paddle-lr-port (tests/test_port_published.py).
BODIES = {name: (REPO / "tests" / "data" / "fluid_bodies" / f"{name}.txt").read_text()
          for name in ("cpu_constants",)}

# name -> (body, the call that builds the lr, steps, ops whose kernels round differently on 3.x,
#          the step from which those ops run (the default case), the learning rate they are scaled by)
CASES = {
    "stepwise_with_cpu_constants": (
        "cpu_constants", "stepwise_with_cpu_constants(0.05, 3, [6, 9], 0.5)", 12, (), None, None),
}
# The docs' example: polynomial_decay (a pow) in default() from step 4, learning rate 0.1.
DOCS_CASE = ("docs", "linear_warmup_decay(learning_rate=0.1, warmup_steps=4, num_train_steps=10)", 12, ("pow",), 4, 0.1)


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fluid_namespace():
    """``fluid`` bound to paddlepaddle 2.6.2's own implementations of fluid's names (legacy IR only)."""
    import paddle
    from paddle.static.nn import control_flow

    lr = paddle.optimizer.lr
    schedules = {name: getattr(lr, name) for name in ("piecewise_decay", "polynomial_decay", "cosine_decay",
                                                      "linear_lr_warmup")}
    def assign(input, output=None):  # fluid's signature; the same assign op
        return paddle.assign(input, output)

    tensor = types.SimpleNamespace(create_global_var=paddle.static.create_global_var, assign=assign)
    layers = types.SimpleNamespace(
        tensor=tensor,
        create_global_var=paddle.static.create_global_var,
        fill_constant=paddle.tensor.fill_constant,
        autoincreased_step_counter=lr.autoincreased_step_counter,
        assign=assign,
        cast=paddle.cast,
        floor=paddle.floor,
        cos=paddle.cos,
        Switch=control_flow.Switch,
        control_flow=types.SimpleNamespace(Switch=control_flow.Switch),
        learning_rate_scheduler=types.SimpleNamespace(_decay_step_counter=lr._decay_step_counter, **schedules),
        **schedules,
    )
    return types.SimpleNamespace(
        layers=layers,
        default_main_program=paddle.static.default_main_program,
        Program=paddle.static.Program,
        program_guard=paddle.static.program_guard,
        Executor=paddle.static.Executor,
        CPUPlace=paddle.CPUPlace,
    )


def run_fluid(source):
    """Run fluid-spelled ``source`` with ``fluid`` = Paddle 2.6.2's originals; return its namespace."""
    assert source.count(FLUID_IMPORT) <= 1
    namespace = {"fluid": fluid_namespace()}
    exec(compile(source.replace(FLUID_IMPORT, "pass  # fluid: Paddle 2.6.2's originals"), "<fluid>", "exec"),
         namespace)
    return namespace


def run_ported(source):
    """Run ``source`` ported to paddle_lr; return its namespace."""
    ported = port(source)
    assert "fluid" not in ported.replace("fluid-era", ""), "the port left a fluid name"
    namespace = {}
    exec(compile(ported, "<ported>", "exec"), namespace)
    return namespace


def trace(case, ported):
    """The lr at every step of ``CASES[case]``: float32 array (ported or, on 2.6.2, the original)."""
    import paddle

    body, call, steps = CASES[case][:3]
    program = (
        f"{FLUID_IMPORT}\n{BODIES[body]}\n"
        "main, startup = fluid.Program(), fluid.Program()\n"
        "with fluid.program_guard(main, startup):\n"
        f"    lr = {call}\n"
        "exe = fluid.Executor(fluid.CPUPlace())\n"
        "exe.run(startup)\n"
        f"values = np.concatenate([exe.run(main, fetch_list=[lr])[0] for _ in range({steps})])\n"
    )
    paddle.enable_static()
    try:
        with paddle.utils.unique_name.guard(), paddle.static.scope_guard(paddle.static.Scope()):
            namespace = (run_ported if ported else run_fluid)("import numpy as np\n" + program)
    finally:
        paddle.disable_static()
    return namespace["values"].astype(np.float32)


def doc_values(ported):
    """The ``values`` the docs' example computes (the after block, or on 2.6.2 the before block)."""
    import paddle

    try:
        with paddle.utils.unique_name.guard(), paddle.static.scope_guard(paddle.static.Scope()):
            if ported:
                namespace = {}
                exec(compile(doc_block("after"), "<docs/porting.md after>", "exec"), namespace)
            else:
                paddle.enable_static()  # fluid built static programs by default
                namespace = run_fluid(doc_block("before"))
    finally:
        paddle.disable_static()
    return namespace["values"].astype(np.float32)


def encode(values):
    """Run-length ``[[first_step, float32 bits], ...]`` as in the shared golden traces."""
    bits = np.asarray(values, np.float32).view(np.uint32)
    return [[i, int(b)] for i, b in enumerate(bits) if i == 0 or b != bits[i - 1]]


def decode(trace, steps):
    out = np.empty(steps, np.uint32)
    for i, (first, bits) in enumerate(trace):
        end = trace[i + 1][0] if i + 1 < len(trace) else steps
        out[first:end] = bits
    return out.view(np.float32)


def sources():
    """What each golden trace depends on: name -> the fluid text that was run."""
    out = {"docs_linear_warmup_decay": doc_block("before")}
    for case, (body, call, steps) in ((c, v[:3]) for c, v in CASES.items()):
        out[case] = f"{BODIES[body]}\n{call}\n{steps}"
    return out


def load_golden():
    return json.loads(GOLDEN.read_text())

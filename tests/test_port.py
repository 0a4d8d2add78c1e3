"""paddle-lr-port: each rewrite (input -> output), what it leaves (with line numbers), and its command line."""
import textwrap

import pytest

from paddle_lr.tools import port
from paddle_lr.tools.port import NEW_IMPORT, port_source

FLUID = "import paddle.fluid as fluid\n"


def code(text):
    return textwrap.dedent(text).lstrip("\n")


# id -> (fluid-era source, its port)
REWRITES = {
    "table-name": (FLUID + "lr = fluid.layers.piecewise_decay([2], [0.1, 0.01])\n",
                   NEW_IMPORT + "\nlr = paddle_lr.piecewise_decay([2], [0.1, 0.01])\n"),
    "submodule-spelling": (FLUID + "lr = fluid.layers.learning_rate_scheduler.noam_decay(64, 4)\n"
                           "v = fluid.layers.tensor.create_global_var([1], 0.0, 'float32', persistable=True)\n",
                           NEW_IMPORT + "\nlr = paddle_lr.noam_decay(64, 4)\n"
                           "v = paddle_lr.create_global_var([1], 0.0, 'float32', persistable=True)\n"),
    "lr_scheduler-alias": ("from paddle.fluid.layers import learning_rate_scheduler as lr_scheduler\n"
                           "step = lr_scheduler._decay_step_counter()\n",
                           NEW_IMPORT + "\nstep = paddle_lr.decay_step_counter()\n"),
    "control_flow-alias": ("from paddle.fluid.layers import control_flow\n"
                           "with control_flow.Switch() as switch:\n    pass\n",
                           NEW_IMPORT + "\nwith paddle_lr.Switch() as switch:\n    pass\n"),
    "ops-alias": ("import paddle.fluid.layers.ops as ops\ny = ops.floor(x) + ops.cos(x)\n",
                  NEW_IMPORT + "\ny = paddle.floor(x) + paddle.cos(x)\n"),
    "imported-function": ("from paddle.fluid.layers.learning_rate_scheduler import _decay_step_counter\n"
                          "from paddle.fluid.layers.ops import cos\n"
                          "step = _decay_step_counter()\nc = cos(step)\n",
                          NEW_IMPORT + "\nstep = paddle_lr.decay_step_counter()\nc = paddle.cos(step)\n"),
    "layers-alias-elementwise_min": ("import paddle.fluid.layers as L\nlr = L.elementwise_min(a, b)\n",
                                     NEW_IMPORT + "\nlr = paddle.minimum(a, b)\n"),
    "from-paddle-import-fluid": ("from paddle import fluid\nlr = fluid.layers.cosine_decay(0.1, 3, 20)\n",
                                 NEW_IMPORT + "\nlr = paddle_lr.cosine_decay(0.1, 3, 20)\n"),
    "every-fluid-import-deleted": (FLUID + "import paddle.fluid.layers.ops as ops\nimport math\n"
                                   "y = ops.floor(fluid.layers.cast(x, 'float32'))\n",
                                   NEW_IMPORT + "\nimport math\ny = paddle.floor(paddle.cast(x, 'float32'))\n"),
    "other-imports-kept": ("import os, paddle.fluid as fluid\np = fluid.CPUPlace()\n",
                           NEW_IMPORT + "; import os\np = paddle.CPUPlace()\n"),
    "program-method": (FLUID + "with fluid.default_main_program()._lr_schedule_guard():\n    pass\n",
                       NEW_IMPORT + "\nwith paddle.static.default_main_program()._lr_schedule_guard():\n    pass\n"),
    "unique_name-and-name_scope": (FLUID + "n = fluid.unique_name.generate('lr')\n"
                                   "with fluid.framework.name_scope('wd'):\n    pass\n",
                                   NEW_IMPORT + "\nn = paddle.utils.unique_name.generate('lr')\n"
                                   "with paddle.static.name_scope('wd'):\n    pass\n"),
    "init_on_cpu-becomes-its-body": (code('''
        from paddle.fluid.initializer import init_on_cpu
        import paddle.fluid.layers.ops as ops


        def f(x):
            # the epoch, on the CPU
            with init_on_cpu():
                epoch = ops.floor(x)  # floor
                y = epoch * 2
            return y
        '''), code(f'''
        {NEW_IMPORT}


        def f(x):
            # the epoch, on the CPU
            epoch = paddle.floor(x)  # floor
            y = epoch * 2
            return y
        ''')),
    "init_on_cpu-beside-another-context": ("from paddle.fluid.initializer import init_on_cpu\n"
                                           "with init_on_cpu(), open(p) as f:\n    pass\n",
                                           NEW_IMPORT + "\nwith open(p) as f:\n    pass\n"),
    "cond-statement-becomes-a-Switch": (code('''
        import paddle.fluid as fluid


        def build(steps, lr, decay):
            skipped = steps >= 5
            fluid.layers.cond(skipped, decay)
            return lr
        '''), code(f'''
        {NEW_IMPORT}


        def build(steps, lr, decay):
            skipped = steps >= 5
            with paddle_lr.Switch() as switch:
                with switch.case(skipped):
                    decay()
            return lr
        ''')),
    "cond-with-false_fn-and-a-switch-name-taken": (
        FLUID + "switch = 1\nfluid.layers.cond(p, true_fn=a, false_fn=b)\n",
        NEW_IMPORT + "\nswitch = 1\nwith paddle_lr.Switch() as switch_:\n    with switch_.case(p):\n        a()\n"
        "    with switch_.default():\n        b()\n"),
    "optimizer-keywords": (FLUID + "opt = fluid.optimizer.Adam(learning_rate=lr, "
                           "regularization=fluid.regularizer.L2Decay(1e-4), parameter_list=ps)\n",
                           NEW_IMPORT + "\nopt = paddle_lr.Adam(learning_rate=lr, "
                           "regularization=paddle_lr.L2Decay(1e-4), parameter_list=ps)\n"),
    "optimizer-Optimizer-spelling": (FLUID + "opt = fluid.optimizer.MomentumOptimizer(lr, 0.9, "
                                     "regularization=fluid.regularizer.L2DecayRegularizer(1e-4))\n",
                                     NEW_IMPORT + "\nopt = paddle_lr.Momentum(lr, 0.9, "
                                     "regularization=paddle_lr.L2Decay(1e-4))\n"),
    "optimizer-module-as-an-object": ("import paddle.fluid.optimizer as optimizer\n"
                                      "op = getattr(optimizer, 'Momentum')\n",
                                      NEW_IMPORT + "\nop = getattr(paddle_lr, 'Momentum')\n"),
    "formatting-and-comments-kept": (code('''
        import paddle.fluid as fluid  # fluid 1.x
        # the schedule
        lr = fluid.layers.cosine_decay(  # cosine
            learning_rate = 0.1,     step_each_epoch=3,
            epochs=20)  # end
        '''), code(f'''
        {NEW_IMPORT}  # fluid 1.x
        # the schedule
        lr = paddle_lr.cosine_decay(  # cosine
            learning_rate = 0.1,     step_each_epoch=3,
            epochs=20)  # end
        ''')),
    "crlf-and-tabs-kept": ("import paddle.fluid as fluid\r\nfrom paddle.fluid.initializer import init_on_cpu\r\n"
                           "def f(x):\r\n\twith init_on_cpu():\r\n\t\ty = fluid.layers.floor(x)\r\n\treturn y\r\n",
                           NEW_IMPORT + "\r\ndef f(x):\r\n\ty = paddle.floor(x)\r\n\treturn y\r\n"),
    "a-local-name-fluid-is-not-the-module": (FLUID + "def f(fluid):\n    return fluid.layers.cos(x)\n",
                                             NEW_IMPORT + "\ndef f(fluid):\n    return fluid.layers.cos(x)\n"),
    "comments-above-a-deleted-import-kept": (code('''
        import math

        import paddle.fluid as fluid

        # fluid's ops, for floor and cos
        import paddle.fluid.layers.ops as ops
        import paddle.fluid.layers as L

        y = ops.floor(L.cast(math.pi, 'float32'))
        '''), code(f'''
        import math

        {NEW_IMPORT}

        # fluid's ops, for floor and cos

        y = paddle.floor(paddle.cast(math.pi, 'float32'))
        ''')),
    "a-block-of-fluid-imports-alone": ("try:\n    import paddle.fluid as fluid\nexcept ImportError:\n"
                                       "    import paddle.fluid.layers as L\n",
                                       f"try:\n    {NEW_IMPORT}\nexcept ImportError:\n    pass\n"),
    "no-fluid-no-change": ("import paddle\n\nx = paddle.cos(y)  # as it was\n",
                           "import paddle\n\nx = paddle.cos(y)  # as it was\n"),
}

# id -> (fluid-era source, [(line, name as written) left unported])
LEFT = {
    "not-a-learning-rate-name": (FLUID + "x = 1\ny = fluid.layers.fc(x, 2)\n", [(3, "fluid.layers.fc")]),
    "elementwise_min-with-axis": ("import paddle.fluid.layers as L\nlr = L.elementwise_min(a, b, axis=0)\n",
                                  [(2, "L.elementwise_min")]),
    "cond-result-used": (FLUID + "out = fluid.layers.cond(p, a, b)\n", [(2, "fluid.layers.cond")]),
    "init_on_cpu-outside-with": ("from paddle.fluid.initializer import init_on_cpu\nguard = init_on_cpu()\n",
                                 [(2, "init_on_cpu")]),
    "bare-module": (FLUID + "use(\n    fluid)\n", [(3, "fluid")]),
}


@pytest.mark.parametrize("source, expected", REWRITES.values(), ids=list(REWRITES))
def test_rewrite(source, expected):
    result = port_source(source)
    assert result.source == expected
    assert result.left == []


@pytest.mark.parametrize("source, left", LEFT.values(), ids=list(LEFT))
def test_left_unported_with_its_line(source, left):
    result = port_source(source)
    assert [(line, name) for line, name, _ in result.left] == left
    assert all(why for _, _, why in result.left)


# fluid 1.8's optimizers' keywords besides their own hyperparameters, which the port keeps as written
FLUID_KEYWORDS = ("learning_rate", "parameter_list", "regularization", "grad_clip", "name")


@pytest.mark.parametrize("fluid_name, name", sorted(port.OPTIMIZERS.items()))
def test_the_optimizer_takes_fluids_keywords(fluid_name, name):
    import inspect

    import paddle_lr

    taken = inspect.signature(getattr(paddle_lr, name)).parameters
    assert [k for k in FLUID_KEYWORDS if k not in taken] == [], f"fluid.optimizer.{fluid_name} -> paddle_lr.{name}"


def test_the_docs_before_block_ports_to_the_after_block():
    import userswitchkit

    assert port_source(userswitchkit.doc_block("before")).source == userswitchkit.doc_block("after")


# -- the command line ------------------------------------------------------------

def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def _main(capsys, *argv):
    status = port.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_one_file_fully_ported_exits_0(tmp_path, capsys):
    src = _write(tmp_path / "lr.py", REWRITES["table-name"][0])
    status, out, err = _main(capsys, src, "-o", str(tmp_path / "out.py"))
    assert (status, err) == (0, "")
    assert (tmp_path / "out.py").read_text() == REWRITES["table-name"][1]
    assert out.splitlines() == [
        f"{src}: 2 ported, 0 left unported",
        f"  import paddle.fluid as fluid -> {NEW_IMPORT}",
        "  fluid.layers.piecewise_decay -> paddle_lr.piecewise_decay",
    ]


def test_something_left_exits_1_and_still_writes(tmp_path, capsys):
    src = _write(tmp_path / "lr.py", LEFT["not-a-learning-rate-name"][0])
    status, out, _ = _main(capsys, src, "-o", str(tmp_path / "out.py"))
    assert status == 1
    assert out.splitlines()[-1] == (f"{src}:3: fluid.layers.fc: not a learning-rate name paddle_lr ports "
                                    "(paddle 2.x and 3.x have no paddle.fluid)")
    assert (tmp_path / "out.py").read_text() == NEW_IMPORT + "\nx = 1\ny = fluid.layers.fc(x, 2)\n"


def test_several_files_into_a_directory(tmp_path, capsys):
    a = _write(tmp_path / "a.py", REWRITES["ops-alias"][0])
    b = _write(tmp_path / "b.py", REWRITES["no-fluid-no-change"][0])
    status, out, _ = _main(capsys, a, b, "-o", str(tmp_path / "out"))
    assert status == 0
    assert (tmp_path / "out" / "a.py").read_text() == REWRITES["ops-alias"][1]
    assert (tmp_path / "out" / "b.py").read_text() == REWRITES["no-fluid-no-change"][0]
    assert [line for line in out.splitlines() if not line.startswith(" ")] == [
        f"{a}: 3 ported, 0 left unported", f"{b}: 0 ported, 0 left unported"]


def test_in_place(tmp_path, capsys):
    src = _write(tmp_path / "lr.py", REWRITES["control_flow-alias"][0])
    assert _main(capsys, src, "--in-place")[0] == 0
    assert (tmp_path / "lr.py").read_text() == REWRITES["control_flow-alias"][1]


def test_diff_prints_a_unified_diff_and_writes_nothing(tmp_path, capsys):
    src = _write(tmp_path / "lr.py", REWRITES["ops-alias"][0])
    status, out, err = _main(capsys, src, "--diff")
    assert status == 0
    assert out == (f"--- {src}\n+++ {src}\n@@ -1,2 +1,2 @@\n-import paddle.fluid.layers.ops as ops\n"
                   f"-y = ops.floor(x) + ops.cos(x)\n+{NEW_IMPORT}\n+y = paddle.floor(x) + paddle.cos(x)\n")
    assert err.startswith(f"{src}: 3 ported, 0 left unported\n")
    assert (tmp_path / "lr.py").read_text() == REWRITES["ops-alias"][0]


BAD = {
    "missing-file": (["{tmp}/nope.py", "-o", "{tmp}/o.py"], "error: paddle-lr-port: SRC: no such file: '{tmp}/nope.py'"),
    "a-directory": (["{tmp}", "-o", "{tmp}/o.py"], "error: paddle-lr-port: SRC: not a file: '{tmp}'"),
    "syntax-error": (["{tmp}/broken.py", "--diff"],
                     "error: paddle-lr-port: {tmp}/broken.py: not Python: syntax error at line 2: "),
    "not-utf-8": (["{tmp}/latin1.py", "--diff"],
                  "error: paddle-lr-port: {tmp}/latin1.py: not Python: not UTF-8 text (byte 5)"),
    "no-output": (["{tmp}/good.py"], "error: paddle-lr-port: give -o OUT, --in-place or --diff"),
    "out-and-in-place": (["{tmp}/good.py", "-o", "{tmp}/o.py", "--in-place"],
                         "error: paddle-lr-port: argument --in-place: not allowed with argument -o/--out"),
    "several-into-a-file": (["{tmp}/good.py", "{tmp}/latin1.py", "-o", "{tmp}/good.py"],
                            "error: paddle-lr-port: -o: with several SRC, OUT must be a directory, "
                            "got the file '{tmp}/good.py'"),
    "two-with-one-name": (["{tmp}/good.py", "{tmp}/sub/good.py", "-o", "{tmp}/out"],
                          "error: paddle-lr-port: -o: several SRC would be written to the same file in "
                          "'{tmp}/out': 'good.py'"),
    "out-is-src": (["{tmp}/good.py", "-o", "{tmp}/./good.py"],
                   "error: paddle-lr-port: -o: OUT is SRC '{tmp}/good.py'; use --in-place to rewrite it"),
}


@pytest.mark.parametrize("argv, message", BAD.values(), ids=list(BAD))
def test_bad_input_is_one_line_and_exit_2(argv, message, tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    for name in ("good.py", "sub/good.py"):
        _write(tmp_path / name, REWRITES["table-name"][0])
    _write(tmp_path / "broken.py", "x = 1\ndef f(:\n    pass\n")
    (tmp_path / "latin1.py").write_bytes(b"x = '\xe9'\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    status, out, err = _main(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert (status, out) == (2, "")
    assert len(err.splitlines()) == 1 and err.startswith(message.format(tmp=tmp_path)), err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before, "bad input wrote a file"


BAD_CLIPS = {
    "not-a-clip": (dict(clip=1.0), "set_gradient_clip: clip must be a paddle.nn.ClipGradBase"),
    "param_list": (dict(param_list=["fc_0.w_0"]), "set_gradient_clip: param_list is not taken"),
}


@pytest.mark.parametrize("kwargs, message", BAD_CLIPS.values(), ids=list(BAD_CLIPS))
def test_set_gradient_clip_refuses_in_one_line(kwargs, message):
    """What the port turns fluid.clip.set_gradient_clip into (the published tests show it clips)."""
    import paddle

    import paddle_lr

    kwargs = {"clip": paddle.nn.ClipGradByGlobalNorm(1.0), **kwargs}
    with pytest.raises(paddle_lr.ConfigError, match="^" + message):
        paddle_lr.set_gradient_clip(**kwargs)

"""The Python API's arguments are checked by the config's rules (paddle_lr/rules.py).

One table per class of public function: each row is one adversarial call, its
id says what it tries, and the expected message is the whole one line the
call must raise (a ``ConfigError``, before the call builds any op). Before
these rules the calls of the first tables built an lr of inf, nan or 0, or
raised from inside Paddle (issue 18 lists each).
"""
import decimal

import numpy as np
import paddle
import pytest

import paddle_lr
from paddle_lr.graph import ir
from paddle_lr.rules import ConfigError
from paddle_lr.schedules.registry import counter_begin, reference_values

F32 = "must be finite in float32 (at most 3.40282e+38)"
TINY = "at least 1.17549e-38 (float32's smallest normal number)"  # what the graph divides by


def _tensor(shape, dtype="float32"):
    return paddle.full(shape, 0.1, dtype)


def _refused(call, message):
    """``call()`` in a fresh static program raises exactly ``message``, one line, with no op built."""
    main, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main, startup):
        before = len(ir.op_names(main, nested=True))
        with pytest.raises(ConfigError) as caught:
            call()
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)
    return before, len(ir.op_names(main, nested=True))


def _no_op_built(call, message):
    before, after = _refused(call, message)
    assert after == before, f"{after - before} ops built before the refusal"


# -- the schedules: finite in float32 after the products, tensors of shape [1] ----------------

EWD = dict(boundaries=[2], values=[0.1, 0.01], warmup_iter=1, warmup_factor=0.3)

SCHEDULES = [
    pytest.param(lambda: paddle_lr.exponential_with_warmup_decay(1e39, **EWD),
                 f"learning_rate: {F32}, got 1e+39", id="ewd-learning_rate-1e39"),
    pytest.param(lambda: paddle_lr.exponential_with_warmup_decay(0.1, [2], [1e39, 0.01], 1, 0.3),
                 f"values[0]: {F32}, got 1e+39", id="ewd-values-1e39"),
    pytest.param(lambda: paddle_lr.exponential_with_warmup_decay(0.1, [2], [0.1, 0.01], 1, 1e39),
                 f"warmup_factor: {F32}, got 1e+39", id="ewd-warmup_factor-1e39"),
    pytest.param(lambda: paddle_lr.exponential_with_warmup_decay(1e30, [2], [0.1, 0.01], 1, 1e10),
                 "warmup_factor: learning_rate * warmup_factor = 1e+40 is beyond float32 (max 3.40282e+38)",
                 id="ewd-product-beyond-float32"),
    pytest.param(lambda: paddle_lr.exponential_with_warmup_decay(5e-324, **EWD),
                 "learning_rate: must be > 0 in float32 (at least 1.4013e-45), got 5e-324", id="ewd-learning_rate-becomes-0"),
    pytest.param(lambda: paddle_lr.exponential_with_warmup_decay(0.1, [2], [0.1, 0.01], 1e39, 0.3,
                                                                 impl="branchless"),
                 f"warmup_iter: {F32}, got 1e+39", id="ewd-branchless-warmup_iter-1e39"),
    pytest.param(lambda: paddle_lr.exponential_decay(0.1, 1e-300, 0.5),
                 f"decay_steps: must be {TINY}, got 1e-300", id="exponential-decay_steps-1e-300"),
    pytest.param(lambda: paddle_lr.exponential_decay(1e39, 10, 0.5),
                 f"learning_rate: {F32}, got 1e+39", id="exponential-learning_rate-1e39"),
    pytest.param(lambda: paddle_lr.cosine_decay(0.1, 10, 1e-300),
                 f"epochs: must be {TINY}, got 1e-300", id="cosine-epochs-1e-300"),
    pytest.param(lambda: paddle_lr.linear_lr_warmup(0.1, 4, 1e39, 0.1),
                 f"start_lr: {F32}, got 1e+39", id="linear_warmup-start_lr-1e39"),
    pytest.param(lambda: paddle_lr.noam_decay(1e-300, 4),
                 f"d_model: must be {TINY}, got 1e-300", id="noam-d_model-1e-300"),
    pytest.param(lambda: paddle_lr.noam_decay(512, 1e-300),
                 f"warmup_steps: must be {TINY}, got 1e-300", id="noam-warmup_steps-1e-300"),
    pytest.param(lambda: paddle_lr.noam_decay(512, 1e-30),
                 "warmup_steps: warmup_steps ** -1.5 = 1e+45 is beyond float32 (max 3.40282e+38)",
                 id="noam-warmup_steps-power-beyond-float32"),
    pytest.param(lambda: paddle_lr.linear_lr_warmup(_tensor([2]), 4, 0.0, 0.1),
                 "learning_rate: must be a tensor of shape [1] (one learning rate), got shape [2]",
                 id="linear_warmup-tensor-shape-2"),
    pytest.param(lambda: paddle_lr.exponential_decay(_tensor([3]), 10, 0.5),
                 "learning_rate: must be a tensor of shape [1] (one learning rate), got shape [3]",
                 id="exponential-tensor-shape-3"),
]


@pytest.mark.parametrize("call, message", SCHEDULES)
def test_schedule_arguments(static_mode, call, message):
    # the [2]/[3] tensors are the caller's ops, built before the refused call
    before, after = _refused(call, message)
    assert after - before <= 1, f"{after - before} ops built before the refusal"


# -- the building blocks: values within their dtype, writes that keep the variable -----------

def _lr_var():
    return paddle_lr.create_global_var([1], 0.1, "float32", True, name="lr")


BLOCKS = [
    pytest.param(lambda: paddle_lr.create_global_var([1], 300, "int8", True),
                 "value: must be <= 127, got 300", id="create_global_var-int8-300"),
    pytest.param(lambda: paddle_lr.create_global_var([1], 1e39, "float32", True),
                 f"value: {F32}, got 1e+39", id="create_global_var-float32-1e39"),
    pytest.param(lambda: paddle_lr.create_global_var([1], 0.5, "int64", True),
                 "value: must be a whole number, got 0.5", id="create_global_var-int64-fraction"),
    pytest.param(lambda: paddle_lr.fill_constant([1], "float32", float("nan")),
                 "value: must be finite, got nan", id="fill_constant-nan"),
    pytest.param(lambda: paddle_lr.fill_constant([1], "int64", 3, out=_lr_var()),
                 "out: must be an int64 tensor (what is written), got dtype float32", id="fill_constant-out-int64"),
    pytest.param(lambda: paddle_lr.fill_constant([3], "float32", 0.1, out=_lr_var()),
                 "out: must be a tensor of shape [3] (what is written), got shape [1]",
                 id="fill_constant-out-shape-3"),
    pytest.param(lambda: paddle_lr.assign(np.zeros(3, np.float32), _lr_var()),
                 "output: must be a tensor of shape [3] (what is written), got shape [1]",
                 id="assign-shape-3"),
    pytest.param(lambda: paddle_lr.assign(np.zeros(1, np.int64), _lr_var()),
                 "output: must be an int64 tensor (what is written), got dtype float32", id="assign-int64"),
]


@pytest.mark.parametrize("call, message", BLOCKS)
def test_building_block_arguments(static_mode, call, message):
    _refused(call, message)


# -- the Switch: a case after the default, a second default, a case of another Switch --------

def _write(lr, value):
    paddle_lr.assign(paddle_lr.fill_constant([1], "float32", value), lr)


def _after_the_default(third):
    """A Switch with a case and a default, then ``third(switch, step)``: another case or default."""
    def build():
        lr, step = _lr_var(), paddle_lr.decay_step_counter()
        with paddle_lr.Switch() as switch:
            with switch.case(step < 1):
                _write(lr, 0.3)
            with switch.default():
                _write(lr, 0.1)
            with third(switch, step):
                _write(lr, 0.2)
    return build


def _case_of_another_switch():
    lr, step = _lr_var(), paddle_lr.decay_step_counter()
    with paddle_lr.Switch() as outer:
        with outer.case(step < 2):
            with paddle_lr.Switch():
                with outer.case(step < 1):
                    _write(lr, 0.2)


SWITCHES = [
    pytest.param(_after_the_default(lambda switch, step: switch.case(step < 2)), "Switch.case: must come before the Switch's default(), got a case after it",
                 id="case-after-default"),
    pytest.param(_after_the_default(lambda switch, step: switch.default()), "Switch.default: must come before the Switch's default(), got a default after it",
                 id="second-default"),
    pytest.param(_case_of_another_switch,
                 "Switch.case: must be of the innermost Switch open, got one of an outer Switch",
                 id="case-of-an-outer-switch"),
]


@pytest.mark.parametrize("call, message", SWITCHES)
def test_switch_misuse(static_mode, call, message):
    _refused(call, message)


# -- the optimizers and L2Decay: numbers, not bools, strings, Decimals or None ---------------

OPTIMIZERS = [
    pytest.param(lambda: paddle_lr.Momentum(-0.1, 0.9), "learning_rate: must be >= 0, got -0.1", id="momentum-negative"),
    pytest.param(lambda: paddle_lr.Momentum(float("nan"), 0.9), "learning_rate: must be finite, got nan",
                 id="momentum-nan"),
    pytest.param(lambda: paddle_lr.Momentum(float("inf"), 0.9), "learning_rate: must be finite, got inf",
                 id="momentum-inf"),
    pytest.param(lambda: paddle_lr.SGD(-1), "learning_rate: must be >= 0, got -1.0", id="sgd-negative-int"),
    pytest.param(lambda: paddle_lr.Momentum(True, 0.9), "learning_rate: must be a number, got True",
                 id="momentum-bool"),
    pytest.param(lambda: paddle_lr.Momentum(None, 0.9), "learning_rate: must be a number, got None",
                 id="momentum-none"),
    pytest.param(lambda: paddle_lr.Momentum(decimal.Decimal("0.1"), 0.9),
                 "learning_rate: must be a number, got Decimal('0.1')", id="momentum-decimal"),
    pytest.param(lambda: paddle_lr.Momentum("0.1", 0.9), "learning_rate: must be a number, got '0.1'",
                 id="momentum-string"),
    pytest.param(lambda: paddle_lr.Momentum(0.1, 0.9, regularization="l2"),
                 "regularization: must be a number or a regularizer (paddle_lr.L2Decay, "
                 "paddle.regularizer.L1Decay), got 'l2'", id="momentum-regularization-string"),
    pytest.param(lambda: paddle_lr.Adam(0.1, weight_decay=float("nan")), "weight_decay: must be finite, got nan",
                 id="adam-weight_decay-nan"),
    pytest.param(lambda: paddle_lr.L2Decay(1e39), f"coeff: {F32}, got 1e+39", id="l2decay-1e39"),
    pytest.param(lambda: paddle_lr.L2Decay(regularization_coeff=-1.0),
                 "regularization_coeff: must be >= 0, got -1.0", id="l2decay-negative"),
]


@pytest.mark.parametrize("call, message", OPTIMIZERS)
def test_optimizer_arguments(static_mode, call, message):
    _no_op_built(call, message)


def test_an_int_learning_rate_is_a_number(static_mode):
    assert paddle_lr.Momentum(1, 0.9).get_lr() == 1.0


# -- dygraph: the twin, or one line that leaves Paddle usable --------------------------------

DYGRAPH = [
    pytest.param(lambda: paddle_lr.decay_step_counter(),
                 "decay_step_counter: builds static-graph ops, call paddle.enable_static() first "
                 "(in dygraph, use a schedule's twin), got dygraph mode", id="decay_step_counter"),
    pytest.param(lambda: paddle_lr.autoincreased_step_counter(),
                 "autoincreased_step_counter: builds static-graph ops, call paddle.enable_static() first "
                 "(in dygraph, use a schedule's twin), got dygraph mode", id="autoincreased_step_counter"),
    pytest.param(lambda: paddle_lr.WarmupPiecewiseDecay(0.1, [2], [0.1, 0.01], 1, 0.3, last_epoch=2 ** 64),
                 "last_epoch: must be <= 100000000, got 18446744073709551616", id="twin-last_epoch-2**64"),
]


@pytest.mark.parametrize("call, message", DYGRAPH)
def test_dygraph_refusals_leave_paddle_usable(call, message):
    with pytest.raises(ConfigError) as caught:
        call()
    assert str(caught.value) == message
    twin = paddle_lr.exponential_with_warmup_decay(0.1, **EWD)  # the next dygraph step still works
    assert isinstance(twin, paddle_lr.WarmupPiecewiseDecay)
    assert float(paddle.to_tensor([1.0]).numpy()[0]) == 1.0


# -- the twins: every argument beyond the schedule's, checked before the scheduler changes -----

SPEC = {"fn": "exponential_decay", "args": {"learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5}}
EWD_ARGS = (0.1, [2], [0.1, 0.01], 1, 0.3)
TWINS = {"fluid": lambda **kw: paddle_lr.FluidScheduler(SPEC, **kw),
         "warmup_piecewise": lambda **kw: paddle_lr.WarmupPiecewiseDecay(*EWD_ARGS, **kw)}
NOT_A_SCHEDULE = ("must be a number or a schedule's value (in dygraph its twin, a paddle_lr.FluidScheduler), "
                  "got <float32 tensor of shape [1]>")


def _twin_rows(what, make, message, ids):
    return [pytest.param(twin, what, make, message, id=f"{twin}-{ids}") for twin in TWINS]


TWIN_CALLS = [
    *_twin_rows("build", lambda twin: twin(last_epoch=2 ** 64),
                "last_epoch: must be <= 100000000, got 18446744073709551616", "last_epoch-2**64"),
    *_twin_rows("build", lambda twin: twin(last_epoch=-5), "last_epoch: must be >= -1, got -5", "last_epoch-negative"),
    *_twin_rows("build", lambda twin: twin(last_epoch=1.5), "last_epoch: must be a whole number, got 1.5",
                "last_epoch-fraction"),
    *_twin_rows("build", lambda twin: twin(last_epoch=True), "last_epoch: must be a whole number, got True",
                "last_epoch-bool"),
    *_twin_rows("build", lambda twin: twin(verbose="no"), "verbose: must be true or false, got 'no'",
                "verbose-string"),
    *_twin_rows("step", lambda twin: twin.step(1e39), "epoch: must be <= 100000000, got 1e+39", "epoch-1e39"),
    *_twin_rows("step", lambda twin: twin.step(-100), "epoch: must be >= 0, got -100", "epoch-negative"),
    *_twin_rows("step", lambda twin: twin.step(float("nan")), "epoch: must be a whole number, got nan", "epoch-nan"),
    *_twin_rows("step", lambda twin: twin.step("3"), "epoch: must be a whole number, got '3'", "epoch-string"),
    *_twin_rows("step", lambda twin: twin.step(decimal.Decimal(3)), "epoch: must be a whole number, got Decimal('3')",
                "epoch-decimal"),
    *_twin_rows("step", lambda twin: twin.set_state_dict({"last_epoch": -100, "last_lr": 0.1}),
                "state_dict.last_epoch: must be >= -1, got -100", "state-last_epoch-negative"),
    *_twin_rows("step", lambda twin: twin.set_dict({"last_epoch": 2 ** 63, "last_lr": 0.1}),
                "state_dict.last_epoch: must be <= 100000000, got 9223372036854775808", "set_dict-last_epoch-2**63"),
    *_twin_rows("step", lambda twin: twin.set_state_dict({"last_epoch": 3, "last_lr": float("nan")}),
                "state_dict.last_lr: must be finite, got nan", "state-last_lr-nan"),
    *_twin_rows("step", lambda twin: twin.set_state_dict({"last_epoch": 3, "last_lr": 1e39}),
                f"state_dict.last_lr: {F32}, got 1e+39", "state-last_lr-1e39"),
    *_twin_rows("step", lambda twin: twin.set_state_dict({"last_epoch": 3}),
                "state_dict: must hold last_epoch and last_lr, got keys ['last_epoch']", "state-missing-last_lr"),
    *_twin_rows("step", lambda twin: twin.set_state_dict([3, 0.1]),
                "state_dict: must be a mapping (a scheduler's state_dict()), got [3, 0.1]", "state-not-a-mapping"),
    pytest.param("fluid", "step", lambda twin: twin.value_at_run(2 ** 70),
                 "run: must be <= 100000000, got 1180591620717411303424", id="fluid-value_at_run-2**70"),
    pytest.param("fluid", "step", lambda twin: twin.value_at_run(-1), "run: must be >= 0, got -1",
                 id="fluid-value_at_run-negative"),
    # the schedule's own arguments: the static function's rules, in dygraph too
    pytest.param("fluid", "build", lambda twin: paddle_lr.FluidScheduler(
        {"fn": "noam_decay", "args": {"d_model": 512, "warmup_steps": 1e-30}}),
        "warmup_steps: warmup_steps ** -1.5 = 1e+45 is beyond float32 (max 3.40282e+38)", id="fluid-noam-power"),
    pytest.param("fluid", "build", lambda twin: paddle_lr.noam_decay(512, 1e-30),
                 "warmup_steps: warmup_steps ** -1.5 = 1e+45 is beyond float32 (max 3.40282e+38)",
                 id="noam_decay-in-dygraph-power"),
    pytest.param("fluid", "build", lambda twin: paddle_lr.FluidScheduler(
        {"fn": "cosine_decay", "args": {"learning_rate": 0.1, "step_each_epoch": 10, "epochs": 1e-300}}),
        f"epochs: must be {TINY}, got 1e-300", id="fluid-cosine-epochs-1e-300"),
    pytest.param("fluid", "build", lambda twin: paddle_lr.exponential_decay(paddle.to_tensor([0.1]), 10, 0.5),
                 f"learning_rate: {NOT_A_SCHEDULE}", id="exponential_decay-in-dygraph-eager-tensor"),
    pytest.param("fluid", "build", lambda twin: paddle_lr.FluidScheduler(
        {"fn": "linear_lr_warmup", "args": {"learning_rate": paddle.to_tensor([0.1]), "warmup_steps": 4,
                                            "start_lr": 0.0, "end_lr": 0.1}}),
        f"learning_rate: {NOT_A_SCHEDULE}", id="fluid-eager-tensor"),
    pytest.param("fluid", "build", lambda twin: paddle_lr.linear_lr_warmup(
        paddle.optimizer.lr.StepDecay(0.1, 2), 4, 0.0, 0.1),
        "learning_rate: must be a number or one of paddle_lr's schedules (Paddle's own LRScheduler classes "
        "count steps differently), got StepDecay", id="linear_lr_warmup-of-paddles-scheduler"),
    pytest.param("warmup_piecewise", "build", lambda twin: paddle_lr.WarmupPiecewiseDecay(
        decimal.Decimal("0.1"), [2], [0.1, 0.01], 1, 0.3), "learning_rate: must be a number, got Decimal('0.1')",
        id="warmup_piecewise-learning_rate-decimal"),
    pytest.param("warmup_piecewise", "build", lambda twin: paddle_lr.WarmupPiecewiseDecay(
        paddle.to_tensor([0.1]), [2], [0.1, 0.01], 1, 0.3),
        "learning_rate: must be a number, got <float32 tensor of shape [1]>", id="warmup_piecewise-eager-tensor"),
    pytest.param("warmup_piecewise", "build", lambda twin: paddle_lr.exponential_with_warmup_decay(
        0.1, [2], [0.1, 0.01], 1, 1e39), f"warmup_factor: {F32}, got 1e+39", id="ewd-in-dygraph-warmup_factor-1e39"),
]


@pytest.mark.parametrize("twin, what, call, message", TWIN_CALLS)
def test_twin_arguments(twin, what, call, message):
    scheduler = TWINS[twin]()
    for _ in range(3):
        scheduler.step()
    before = (scheduler.last_epoch, scheduler.last_lr)
    with pytest.raises(ConfigError) as caught:
        call(TWINS[twin] if what == "build" else scheduler)
    assert str(caught.value) == message
    assert (scheduler.last_epoch, scheduler.last_lr) == before, "a refused call changed the scheduler"
    assert scheduler() == TWINS[twin](last_epoch=2)(), "the scheduler no longer gives its run's value"
    assert float(paddle.to_tensor([1.0]).numpy()[0]) == 1.0  # Paddle's dygraph still works


@pytest.mark.parametrize("twin", sorted(TWINS))
def test_twin_at_the_last_epoch_allowed(twin):
    # last_epoch = 10**8, the limit: the twin stands at the next run, as the graph's counter would
    scheduler = TWINS[twin](last_epoch=10 ** 8)
    spec = scheduler.spec
    expected = reference_values(spec, [counter_begin(spec) + 10 ** 8 + 1])[0]
    assert (scheduler.last_epoch, np.float32(scheduler())) == (10 ** 8 + 1, expected)


@pytest.mark.parametrize("twin", sorted(TWINS))
def test_twin_state_round_trip(twin):
    scheduler = TWINS[twin]()
    for _ in range(5):
        scheduler.step()
    resumed = TWINS[twin]()
    resumed.set_state_dict(scheduler.state_dict())
    resumed.step()
    scheduler.step()
    assert (resumed.last_epoch, resumed()) == (scheduler.last_epoch, scheduler())


def test_exponential_with_warmup_decay_in_dygraph_is_its_twin():
    twin = paddle_lr.exponential_with_warmup_decay(0.1, **EWD)
    got = []
    for _ in range(4):
        got.append(np.float32(twin()))
        twin.step()
    assert got == [paddle_lr.lr_at(step, 0.1, **EWD) for step in range(4)]


# -- load_config ---------------------------------------------------------------------------

def test_load_config_takes_no_file_descriptor():
    with pytest.raises(ConfigError) as caught:
        paddle_lr.config.load_config(2)
    assert str(caught.value) == "config: must be a file path (str or os.PathLike), got 2"

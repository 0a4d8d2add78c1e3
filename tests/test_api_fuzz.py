"""Fuzz the public API's arguments, as tests/test_config_fuzz.py fuzzes the config.

Every schedule of the registry, the optimizers and ``L2Decay`` are called (in
static mode, in a fresh program), and every schedule's dygraph twin is built
and driven (``last_epoch``, ``verbose``, ``step(epoch)``, ``set_state_dict``,
``value_at_run``), with arguments drawn from valid numbers and adversarial ones: nan, infinities, values beyond float32 or below its smallest
normal number, negatives, huge ints, bools, strings, Decimals and None. Each
call either raises :class:`~paddle_lr.rules.ConfigError` with one line, or is
accepted; an accepted call had no argument breaking a rule, and its lr at the
first step is finite in float32 (a twin's value at every run it is sent to is
the reference's there). So: no traceback, and no silent acceptance of a
non-finite or out-of-range value. Few examples in the default run, more behind
``-m slow``.
"""
import decimal
import inspect
import math

import numpy as np
import paddle
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paddle_lr
from paddle_lr.rules import FLOAT32_MAX, FLOAT32_TINY, MAX_ITERATIONS, ConfigError
from paddle_lr.schedules.registry import REGISTRY, counter_begin, reference_values

FAST = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

ODD = [float("nan"), float("inf"), -float("inf"), 1e39, -1e39, 5e-324, 1e-300, 1e-40, 10 ** 400, -1, -0.5,
       True, False, None, "0.1", decimal.Decimal("0.1")]
numbers = st.one_of(
    st.floats(min_value=1e-3, max_value=1e3),
    st.integers(min_value=1, max_value=10 ** 6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(ODD),
)
# by argument kind (the records' kinds): the lists a numeric argument is not
LISTS = {"boundaries": st.lists(st.integers(min_value=1, max_value=10 ** 6), min_size=1, max_size=4, unique=True)
         .map(sorted)}


# the arguments the graph divides by: at least float32's smallest normal number
DIVISORS = {"decay_steps", "step_each_epoch", "epochs", "d_model", "warmup_steps", "warmup_iter"}


def _bad_number(value, divisor=False):
    """Whether a value meant as a number breaks a rule every numeric argument of the API has
    (a value that becomes 0 in float32 is 0, which these arguments allow unless they divide)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    if isinstance(value, int) and abs(value) > FLOAT32_MAX:
        return True
    value = float(value)
    return not math.isfinite(value) or value < 0 or value > FLOAT32_MAX or (divisor and 0 < value < FLOAT32_TINY)


def _arguments(name):
    """A strategy of keyword arguments for schedule ``name``: each numeric one from ``numbers``."""
    fields = {}
    for arg, kind in REGISTRY[name].kinds.items():
        if kind in ("impl", "flag"):
            continue  # choices and bools: the bad-argument tables of test_family_api.py
        if kind == "values":
            fields[arg] = st.lists(numbers, min_size=1, max_size=5)
        else:
            fields[arg] = LISTS.get(kind, numbers)
    return st.fixed_dictionaries(fields)


def _call_schedule(name, args):
    paddle.enable_static()
    try:
        main, startup = paddle.static.Program(), paddle.static.Program()
        with paddle.utils.unique_name.guard(), paddle.static.program_guard(main, startup):
            try:
                REGISTRY[name].build(**args)
            except ConfigError as error:
                assert "\n" not in str(error), str(error)
                return False
    finally:
        paddle.disable_static()
    return True


def _assert_sound(name, args):
    """An accepted call's arguments broke no rule, and its lr at the first step is finite."""
    optional = {p.name for p in inspect.signature(REGISTRY[name].build).parameters.values() if p.default is None}
    numeric = [(k, x) for k, v in args.items() if k != "boundaries" for x in (v if isinstance(v, list) else [v])
               if not (x is None and k in optional)]  # None: the argument's own default
    assert not any(_bad_number(v, k in DIVISORS) for k, v in numeric), f"{name}{args}: accepted a bad value"
    spec = {"fn": name, "args": args}
    first = reference_values(spec, np.array([counter_begin(spec)]))
    assert np.isfinite(first).all(), f"{name}{args}: accepted, and its first lr is {first}"


def _accepted_is_sound(name, args):
    if _call_schedule(name, args):
        _assert_sound(name, args)


SCHEDULES = sorted(REGISTRY)


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_arguments_fuzz(name):
    FAST(given(args=_arguments(name))(lambda args: _accepted_is_sound(name, args)))()


@pytest.mark.slow
@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_arguments_fuzz_slow(name):
    SLOW(given(args=_arguments(name))(lambda args: _accepted_is_sound(name, args)))()


def _optimizer_is_sound(make, none_ok, value):
    paddle.enable_static()
    try:
        try:
            make(value)
        except ConfigError as error:
            assert "\n" not in str(error), str(error)
            return
    finally:
        paddle.disable_static()
    assert (none_ok and value is None) or not _bad_number(value), f"accepted {value!r}"


# what -> (make(value), whether None is a valid value: no decay)
MAKERS = {
    "Momentum-learning_rate": (lambda v: paddle_lr.Momentum(v, 0.9), False),
    "SGD-learning_rate": (lambda v: paddle_lr.SGD(v), False),
    "Adam-weight_decay": (lambda v: paddle_lr.Adam(0.1, weight_decay=v), True),
    "L2Decay-coeff": (lambda v: paddle_lr.L2Decay(v), True),
}


@pytest.mark.parametrize("what", sorted(MAKERS))
def test_optimizer_arguments_fuzz(what):
    FAST(given(value=numbers)(lambda value: _optimizer_is_sound(*MAKERS[what], value)))()


@pytest.mark.slow
@pytest.mark.parametrize("what", sorted(MAKERS))
def test_optimizer_arguments_fuzz_slow(what):
    SLOW(given(value=numbers)(lambda value: _optimizer_is_sound(*MAKERS[what], value)))()


# -- the twins (dygraph): the schedule's arguments, then the scheduler's own -----------------

RUNS = st.one_of(
    st.integers(min_value=-3, max_value=10 ** 6),
    st.sampled_from([MAX_ITERATIONS, MAX_ITERATIONS + 1, 2 ** 63, -2 ** 63, 2 ** 64, 3.0, 2.5, -1.0]),
    numbers,
)
FLAGS = st.one_of(st.booleans(), st.sampled_from([0, 1, None, "yes", 1.0, decimal.Decimal(1)]))
STATES = st.one_of(st.fixed_dictionaries({"last_epoch": RUNS, "last_lr": numbers}),
                   st.sampled_from([{}, {"last_epoch": 3}, [3, 0.1], None, "state"]))


def _bad_run(value, low):
    """Whether a run index breaks its rule: a whole number (not a bool) from ``low`` to MAX_ITERATIONS."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    whole = isinstance(value, int) or (math.isfinite(value) and value.is_integer())
    return not (whole and low <= value <= MAX_ITERATIONS)


def _twin(name, args, last_epoch, verbose):
    schedule = REGISTRY[name]
    cls = getattr(paddle_lr, schedule.twin)
    if cls is paddle_lr.FluidScheduler:
        return cls({"fn": name, "args": args}, last_epoch=last_epoch, verbose=verbose)
    return cls(**{k: v for k, v in args.items() if k not in schedule.options}, last_epoch=last_epoch,
               verbose=verbose)


def _same(got, expected):
    got, expected = np.float32(got), np.float32(expected)
    return got == expected or (np.isnan(got) and np.isnan(expected))


def _refused_in_one_line(call, twin):
    """``call()`` on ``twin``: True if accepted; a refusal is one line and leaves the twin as it was."""
    before = (twin.last_epoch, twin.last_lr)
    try:
        call()
    except ConfigError as error:
        assert "\n" not in str(error), str(error)
        assert (twin.last_epoch, twin.last_lr) == before, f"{error}: the refused call changed the twin"
        return False
    return True


def _twin_is_sound(name, args, last_epoch, verbose, epoch, state):
    try:
        twin = _twin(name, args, last_epoch, verbose)
    except ConfigError as error:
        assert "\n" not in str(error), str(error)
        return
    _assert_sound(name, args)
    assert not _bad_run(last_epoch, -1), f"{name}: accepted last_epoch={last_epoch!r}"
    assert isinstance(verbose, bool), f"{name}: accepted verbose={verbose!r}"
    spec, begin = twin.spec, counter_begin(twin.spec)

    def at(run):
        return reference_values(spec, np.array([begin + run]))[0]

    assert _same(twin(), at(twin.last_epoch)), f"{name}: run {twin.last_epoch}: {twin()} != {at(twin.last_epoch)}"
    run = twin.last_epoch + 1 if epoch is None else epoch  # step(None): the next run
    if _refused_in_one_line(lambda: twin.step(epoch), twin):
        assert epoch is None or not _bad_run(epoch, 0), f"{name}: accepted step({epoch!r})"
        assert _same(twin(), at(int(run))), f"{name}: after step({epoch!r}): {twin()} != {at(int(run))}"
    if _refused_in_one_line(lambda: twin.set_state_dict(state), twin):
        assert not (_bad_run(state["last_epoch"], -1) or _bad_number(state["last_lr"])), \
            f"{name}: accepted the state {state!r}"
    if isinstance(twin, paddle_lr.FluidScheduler) and _refused_in_one_line(lambda: twin.value_at_run(epoch), twin):
        assert not _bad_run(epoch, 0), f"{name}: accepted value_at_run({epoch!r})"


def _twin_strategy(name):
    return dict(args=_arguments(name), last_epoch=RUNS, verbose=FLAGS, epoch=RUNS, state=STATES)


@pytest.mark.parametrize("name", SCHEDULES)
def test_twin_arguments_fuzz(name):
    FAST(given(**_twin_strategy(name))(lambda **drawn: _twin_is_sound(name, **drawn)))()


@pytest.mark.slow
@pytest.mark.parametrize("name", SCHEDULES)
def test_twin_arguments_fuzz_slow(name):
    SLOW(given(**_twin_strategy(name))(lambda **drawn: _twin_is_sound(name, **drawn)))()

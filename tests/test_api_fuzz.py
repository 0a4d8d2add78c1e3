"""Fuzz the public API's arguments, as tests/test_config_fuzz.py fuzzes the config.

Every schedule of the registry, the optimizers and ``L2Decay`` are called (in
static mode, in a fresh program) with arguments drawn from valid numbers and
adversarial ones: nan, infinities, values beyond float32 or below its smallest
normal number, negatives, huge ints, bools, strings, Decimals and None. Each
call either raises :class:`~paddle_lr.rules.ConfigError` with one line, or is
accepted; an accepted call had no argument breaking a rule, and its lr at the
first step is finite in float32. So: no traceback, and no silent acceptance of a
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
from paddle_lr.rules import FLOAT32_MAX, FLOAT32_TINY, ConfigError
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
    for parameter in inspect.signature(REGISTRY[name].build).parameters.values():
        arg = parameter.name
        if arg in ("impl", "staircase", "cycle"):
            continue  # choices and bools: the bad-argument tables of test_family_api.py
        if arg == "values":
            fields[arg] = st.lists(numbers, min_size=1, max_size=5)
        else:
            fields[arg] = LISTS.get(arg, numbers)
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


def _accepted_is_sound(name, args):
    optional = {p.name for p in inspect.signature(REGISTRY[name].build).parameters.values() if p.default is None}
    numeric = [(k, x) for k, v in args.items() if k != "boundaries" for x in (v if isinstance(v, list) else [v])
               if not (x is None and k in optional)]  # None: the argument's own default
    if _call_schedule(name, args):
        assert not any(_bad_number(v, k in DIVISORS) for k, v in numeric), f"{name}{args}: accepted a bad value"
        spec = {"fn": name, "args": args}
        first = reference_values(spec, np.array([counter_begin(spec)]))
        assert np.isfinite(first).all(), f"{name}{args}: accepted, and its first lr is {first}"


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

"""What a default schedule runs per step: no op that only rebuilds a constant.

Fluid rebuilt its constants in every run (``fill_constant`` operands; PIR adds
a ``full`` per ``scale`` factor); here they are tables filled once by the
startup program. The values are the goldens' (tests/test_family_golden.py,
tests/test_fluid185_traces.py); this holds the op counts.
"""
import pytest

from conftest import StaticRunner
from familykit import EXAMPLES
from paddle_lr.graph import ir, tables
from paddle_lr.schedules.registry import build

CONSTANT_OPS = {"full", "fill_constant", "assign_value"}


def _computed(spec):
    r = StaticRunner(lambda: build(spec))
    return [n.split(".")[-1].rstrip("_") for n in ir.op_names(r.main, nested=True, computed=True)], r


@pytest.mark.usefixtures("static_mode")
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_no_constant_is_built_per_run(name):
    ops, r = _computed(EXAMPLES[name])
    assert not CONSTANT_OPS & set(ops), f"{name} runs {ops}"
    assert ops.count("increment") == 1 and ops[0] == "increment", ops


# The per-run ops of the examples' graphs after the counter's increment, the same on both IRs (3.3.1 ran
# a `full` for every scale factor and constant, 2.6.2 a `fill_constant` for every constant operand).
EXPECTED = {
    "exponential_decay": ["searchsorted", "index_select"],  # settles: a lookup (tests/test_tabulated.py)
    "natural_exp_decay": ["searchsorted", "index_select"],
    "inverse_time_decay": ["cast", "scale", "scale", "scale", "divide"],
    "noam_decay": ["cast", "elementwise_pow", "scale", "minimum", "scale"],
    "cosine_decay": ["cast", "scale", "floor", "scale", "scale", "cos", "scale", "scale"],
    "linear_lr_warmup": ["searchsorted", "index_select"],
    "piecewise_decay": ["searchsorted", "index_select"],
    "exponential_with_warmup_decay": ["searchsorted", "index_select"],
}
_LEGACY_NAMES = {"divide": "elementwise_div", "minimum": "elementwise_min"}


@pytest.mark.usefixtures("static_mode")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ops_per_run(name):
    ops, _ = _computed(EXAMPLES[name])
    expected = EXPECTED[name] if ir.is_pir() else [_LEGACY_NAMES.get(op, op) for op in EXPECTED[name]]
    assert ops[1:] == expected


@pytest.mark.usefixtures("static_mode")
def test_constants_are_tables_rewritten_like_the_lookups():
    """A constant's table is a table: named by its contents, rewritten by the loaders."""
    _, r = _computed(EXAMPLES["exponential_decay"])
    names = tables.names(r.main)
    assert names and sorted(tables.rewrite(r.main, r.scope)) == names

"""Adding a schedule is one module: a toy one, dropped into a copy of the package, is seen everywhere.

The copy of ``paddle_lr`` gets ``schedules/toy_decay.py`` (:data:`TOY`) and
nothing else. In a fresh interpreter on that copy, the toy is in the registry,
the exports and ``__all__``, the config (its arguments limited by their kinds),
the docs table, the tests' tables and the fuzz's names; the family's
parametrized tests run it and pass; and the golden-coverage test fails until
its golden cases are recorded (the one other thing a real schedule needs).
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]

TOY = '''\
"""``toy_decay``: ``learning_rate * max(1 - step / total_steps, 0)``, a test's toy."""
import numpy as np
import paddle

from .. import rules
from .common import F32, graph_or_twin, learning_rate_arg, scale, scale_ref, steps_f32, times_lr, times_lr_ref
from .registry import register_module

NAME = "toy_decay"


def reference(steps, learning_rate, total_steps):
    left = np.maximum(scale_ref(scale_ref(steps_f32(steps), -1.0 / total_steps), 1.0, bias=1.0), F32(0))
    return times_lr_ref(left, learning_rate)


def ops(step, learning_rate, total_steps):
    left = paddle.maximum(scale(scale(step, -1.0 / total_steps), 1.0, bias=1.0), paddle.zeros([1], "float32"))
    return times_lr(left, learning_rate)


def check(learning_rate, total_steps):
    return dict(learning_rate=learning_rate_arg("learning_rate", learning_rate),
                total_steps=rules.float32("total_steps", total_steps, low=0.0, low_open=True, divisor=True))


def toy_decay(learning_rate, total_steps):
    return graph_or_twin(NAME, check(learning_rate, total_steps), ops)


SCHEDULE = register_module(
    __name__,
    summary="learning_rate * max(1 - step / total_steps, 0)",
    origin="tests:toy_decay",
    kinds=dict(learning_rate="lr", total_steps="steps"),
    example=dict(learning_rate=0.1, total_steps=8),
    typical=dict(learning_rate=0.1, total_steps=1000),
)
'''

# Run on the copy: everything that iterates schedules, asked whether it sees the toy.
PROBE = textwrap.dedent('''
    import json, pathlib, sys
    import paddle_lr
    from paddle_lr import config
    from paddle_lr.schedules.registry import REGISTRY, markdown_table, with_table
    sys.path.insert(0, sys.argv[1])  # the repository's tests/
    import familykit, test_config_fuzz, test_family_api, test_family_properties

    seen = {
        "copy": paddle_lr.__file__.startswith(sys.argv[2]),
        "registry": "toy_decay" in REGISTRY,
        "export": getattr(paddle_lr, "toy_decay", None) is REGISTRY["toy_decay"].build,
        "__all__": "toy_decay" in paddle_lr.__all__,
        "docs table": "| `toy_decay` |" in with_table(pathlib.Path(sys.argv[3]).read_text()),
        "examples": familykit.EXAMPLES["toy_decay"]["args"] == {"learning_rate": 0.1, "total_steps": 8},
        "good arguments": "toy_decay" in test_family_api.GOOD,
        "strategy": test_family_properties.strategy("toy_decay").example()["fn"] == "toy_decay",
        "fuzz names": "toy_decay" in test_config_fuzz.FNS and "total_steps" in test_config_fuzz.ARG_NAMES,
    }
    spec = {"fn": "toy_decay", "args": {"learning_rate": 0.1, "total_steps": 10}}
    seen["config"] = config.validate({**config.cfg, "schedule": spec}).schedule == spec
    try:
        config.validate({**config.cfg, "schedule": {"fn": "toy_decay",
                                                     "args": {"learning_rate": 0.1, "total_steps": 10 ** 9}}})
        seen["config limit"] = "no error"
    except paddle_lr.ConfigError as error:
        seen["config limit"] = str(error)
    print(json.dumps(seen))
''')


# The family's parametrized tests that must collect and pass the toy (a schedule with plain ops, not fluid's).
TOY_TESTS = {"test_kernels_declared_are_the_ops_built", "test_good_arguments_build", "test_twin_state_dict_round_trip",
             "test_warmup_twin_composes_over_any_twin", "test_twin_equals_graph_run_by_run",
             "test_graph_equals_reference", "test_twin_is_the_reference_run_by_run"}


@pytest.fixture(scope="module")
def copy_with_toy(tmp_path_factory):
    """A copy of the package with the toy module added, and the environment to run it."""
    root = tmp_path_factory.mktemp("with_toy")
    shutil.copytree(REPO / "paddle_lr", root / "paddle_lr", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "paddle_lr" / "schedules" / "toy_decay.py").write_text(TOY)
    env = {**os.environ, "GLOG_minloglevel": "2", "PYTHONPATH": str(root)}
    return root, env


def _run(args, root, env, timeout=600):
    return subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_the_toy_is_seen_everywhere(copy_with_toy):
    root, env = copy_with_toy
    out = _run(["-c", PROBE, str(REPO / "tests"), str(root), str(REPO / "docs" / "family.md")], root, env)
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    limit = seen.pop("config limit")
    assert limit == "schedule.args.total_steps: must be <= 1e+08, got 1000000000.0", limit
    assert [what for what, yes in seen.items() if not yes] == [], seen


def test_the_family_tests_run_the_toy(copy_with_toy):
    """The parametrized family tests collect the toy and pass on it; golden coverage asks for its cases."""
    root, env = copy_with_toy
    files = [str(REPO / "tests" / name) for name in
             ("test_family_api.py", "test_family_properties.py", "test_family_golden.py")]
    out = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(REPO / "pytest.ini"),
                "--rootdir", str(REPO), "-k", "toy_decay or every_case_is_checked", "-rfp", *files], root, env)
    text = out.stdout + out.stderr
    passed = [line.split("::", 1)[1] for line in text.splitlines() if line.startswith("PASSED ")]
    failed = [line.split("::", 1)[1] for line in text.splitlines() if line.startswith("FAILED ")]
    assert [name for name in passed if "toy_decay" not in name] == [], passed
    assert {name.split("[")[0] for name in passed} >= TOY_TESTS, (passed, text[-3000:])
    assert [name.split(" ")[0] for name in failed] == ["test_every_case_is_checked"], (failed, text[-3000:])
    assert "no golden cases for toy_decay" in text, text[-3000:]

"""The bad-input table: every tool exits 2 with one stderr line naming the key and the problem.

Most cases call the tools' ``main`` in this process (capturing file descriptor 2,
so Paddle's C++ logging would show too); a few run the ``tools/*.py`` scripts in
a subprocess, without ``GLOG_minloglevel``, to check that no import noise reaches
stderr. Valid but doubtful schedules are printed as ``warning:`` lines and the
tool goes on (exit 0).
"""
import importlib
import importlib.util
import json
import os
import pathlib
import shlex
import subprocess
import sys

import pytest

from paddle_lr.schedules.lowerings import IMPLS

_IMPLS = ", ".join(map(repr, IMPLS))

ROOT = pathlib.Path(__file__).resolve().parents[1]

# A valid schedule that the cases below break one key at a time.
BASE = {
    "learning_rate": 0.01,
    "max_iter": 1000,
    "warm_up_iter": 50,
    "warm_up_factor": 0.3333333333333333,
    "lr_steps": [600, 800],
    "lr_gamma": 0.1,
}


def _yaml(**changes):
    """BASE with ``changes`` as YAML text (values given as YAML source)."""
    lines = [f"{k}: {json.dumps(v)}" for k, v in BASE.items() if k not in changes]
    return "\n".join(lines + [f"{k}: {v}" for k, v in changes.items()]) + "\n"


def _case(tool, fragment, config=None, args=(), id=None):
    return pytest.param(tool, config, list(args), fragment, id=id)


# a valid warmup_calc command line from a reference run (5 images at batch 1 warmed up over 4 iterations)
_REF = "--images 10 --batch 2 --ref-images 5 --ref-batch 1 --ref-warmup-iter 4"


def _calc(fragment, command_line, id):
    """A warmup_calc case: its arguments as they would be typed."""
    return _case("warmup_calc", fragment, args=shlex.split(command_line), id=id)


ANN_NOT_COCO = '{"annotations": []}'

CASES = [
    # -- schedule keys in the config file --
    _case("plot_lr", "lr_steps: must be strictly increasing", _yaml(lr_steps="[800, 600]"), id="steps-order"),
    _case("show_lr", "lr_steps: must be strictly increasing", _yaml(lr_steps="[600, 600]"), id="steps-equal"),
    _case("train", "lr_steps: must be strictly increasing", _yaml(lr_steps="[800, 600]"), id="train-steps-order"),
    _case("show_lr", "lr_steps[0]: must be >= 1, got 0", _yaml(lr_steps="[0, 600]"), id="step-zero"),
    _case("plot_lr", "lr_steps: must be a list of steps, got '600'", _yaml(lr_steps="'600'"), id="steps-string"),
    _case("show_lr", "learning_rate: must be > 0, got -0.01", _yaml(learning_rate="-0.01"), id="lr-negative"),
    _case("train", "learning_rate: must be > 0, got 0.0", _yaml(learning_rate="0"), id="train-lr-zero"),
    _case("plot_lr", "learning_rate: must be finite, got inf", _yaml(learning_rate=".inf"), id="lr-inf"),
    _case("show_lr", "learning_rate: must be finite, got nan", _yaml(learning_rate=".nan"), id="lr-nan"),
    _case("plot_lr", "learning_rate: must be a number, got True", _yaml(learning_rate="true"), id="lr-bool"),
    _case("train", "lr_gamma: must be > 0, got 0.0", _yaml(lr_gamma="0"), id="train-gamma-zero"),
    _case("plot_lr", "lr_gamma: must be > 0, got -0.1", _yaml(lr_gamma="-0.1"), id="gamma-negative"),
    _case("show_lr", "max_iter: must be a whole number, got '1000'", _yaml(max_iter="'1000'"), id="max-iter-string"),
    _case("train", "max_iter: must be a whole number, got 1.5", _yaml(max_iter="1.5"), id="train-max-iter-fraction"),
    _case("plot_lr", "warm_up_iter: must be >= 0, got -1.0", _yaml(warm_up_iter="-1"), id="warmup-negative"),
    _case("show_lr", "warm_up_factor: must be >= 0, got -0.5", _yaml(warm_up_factor="-0.5"), id="factor-negative"),
    _case("plot_lr", "lr_values: must hold len(boundaries) + 1 = 3 values, got 2",
          _yaml(lr_values="[0.01, 0.001]"), id="values-one-short"),
    _case("show_lr", f"lr_impl: must be one of {_IMPLS}, got 'fast'",
          _yaml(lr_impl="fast"), id="impl-unknown"),
    # -- optimizer keys --
    _case("train", "momentum: must be < 1, got 1.0", _yaml(momentum="1.0"), id="train-momentum-one"),
    _case("plot_lr", "momentum: must be < 1, got 1.5", _yaml(momentum="1.5"), id="momentum-above-one"),
    _case("show_lr", "weight_decay: must be >= 0, got -0.0001", _yaml(weight_decay="-1.0e-4"), id="decay-negative"),
    # -- the file itself --
    _case("plot_lr", "lr_step: unknown key in", _yaml(lr_step="[600, 800]"), id="unknown-key"),
    _case("train", "(did you mean 'lr_steps'?)", _yaml(lr_step="[600, 800]"), id="train-unknown-key"),
    _case("show_lr", "not plain YAML data (line 1, column 11): could not determine a constructor",
          'max_iter: !!python/object/apply:os.system ["echo pwned"]\n', id="python-tag"),
    _case("plot_lr", "config: cannot read", args=["-c", "{missing}"], id="missing-file"),
    _case("train", "config: cannot read", args=["-c", "{missing}"], id="train-missing-file"),
    _case("show_lr", "must hold a mapping of keys, got list", "- max_iter\n- 1000\n", id="not-mapping"),
    _case("train", "not plain YAML data (line 2, column 1): expected ',' or ']'", "lr_steps: [600, 800\n",
          id="train-malformed"),
    # -- issue 9: duplicate keys, numbers beyond any run, what PyYAML's constructors raise --
    _case("train", "bad.yml: duplicate key 'max_iter' on line 7 (column 1), first on line 2",
          _yaml() + "max_iter: 2000\n", id="train-duplicate-key"),
    _case("plot_lr", "duplicate key 'a' on line 7 (column 25), first on line 7",
          _yaml(lr_values="{{a: 1, b: 2, a: 3}}"), id="duplicate-nested-key"),
    _case("show_lr", "max_iter: must be <= 100000000, got 10000000000000000000000",
          _yaml(max_iter="10000000000000000000000"), id="max-iter-23-digits"),
    _case("plot_lr", "lr_steps[1]: must be <= 100000000, got 100000001",
          _yaml(lr_steps="[600, 100000001]"), id="step-beyond-limit"),
    _case("train", "lr_gamma: learning_rate * lr_gamma**2 = 1e+58 is beyond float32",
          _yaml(lr_gamma="1e30"), id="train-gamma-overflows-float32"),
    _case("show_lr", "not plain YAML data: nested too deeply", "lr_steps: " + "[" * 3000 + "]" * 3000 + "\n",
          id="nested-too-deeply"),
    _case("plot_lr", "not plain YAML data: a value its tag cannot make (ValueError: day is out of range",
          _yaml(max_iter="2001-02-30"), id="impossible-date"),
    _case("train", "not plain YAML data: a value its tag cannot make (KeyError: 'maybe')",
          _yaml(generate_shapes="!!bool maybe"), id="train-bool-tag-maybe"),
    _case("plot_lr", "unrecognized arguments: a\\x0ab", _yaml(), ["a\nb"], id="argument-with-newline"),
    _case("make_shapes_dataset", "--size: must be <= 2048, got 100000",
          args=["--out", "{tmp}/shapes", "--size", "100000"], id="shapes-size-beyond-limit"),
    _case("make_shapes_dataset", "--seed: must be <= 4294967295, got 18446744073709551616",
          args=["--out", "{tmp}/shapes", "--seed", "18446744073709551616"], id="shapes-seed-beyond-limit"),
    _case("show_lr", "--steps: must be <= 100000000, got 100000000000", _yaml(), ["--steps", "100000000000"],
          id="show-steps-beyond-limit"),
    _case("fault_soak", "--points: each point must be iter:N, log:N or snapshot:N",
          _yaml(), ["--work", "{tmp}/soak", "--points", "iter:\u00b2"], id="soak-superscript-digit"),
    # -- -o overrides --
    _case("plot_lr", "override: must be KEY=VALUE, got 'max_iter'", _yaml(), ["-o", "max_iter"], id="override-syntax"),
    _case("show_lr", "lr_step: unknown key in overrides (did you mean 'lr_steps'?)", _yaml(),
          ["-o", "lr_step=[600,800]"], id="override-unknown"),
    _case("train", "max_iter: must be a whole number, got 'abc'", _yaml(), ["-o", "max_iter=abc"],
          id="train-override-value"),
    # -- tool arguments --
    _case("plot_lr", "the following arguments are required: -c/--config", args=[], id="plot-no-config"),
    _case("plot_lr", "--output: must end in an image format", _yaml(), ["--output", "{tmp}/lr.txt"],
          id="plot-output-format"),
    # a missing directory is made (output/ on a first run); one that cannot be is refused
    _case("plot_lr", "--output: cannot write", _yaml(), ["--output", "/dev/null/lr.png"],
          id="plot-output-dir-cannot-be-made"),
    _case("plot_lr", "dataset_dir: ", _yaml(dataset_dir="'{tmp}'", train_split="bad"),
          id="plot-annotations-not-coco"),
    _case("show_lr", "argument --impl: invalid choice: 'fast'", _yaml(), ["--impl", "fast"], id="show-impl"),
    _case("show_lr", "--steps: must be >= 1, got 0", _yaml(), ["--steps", "0"], id="show-steps-zero"),
    _case("show_lr", "argument --steps: invalid int value: 'x'", _yaml(), ["--steps", "x"], id="show-steps-int"),
    _case("train", "unrecognized arguments: --bogus", _yaml(), ["--bogus"], id="train-bad-flag"),
    # -- warmup_calc --
    _calc("the following arguments are required: --batch", "--images 10 --warmup-epochs 1", id="calc-no-batch"),
    # the config's limits, on what is given and on what is computed
    _calc("warm_up_iter (converted): must be <= 100000000, got 409600000000000000000", "--images 1000000000 --batch 1 --ref-images 1 --ref-batch 4096 --ref-warmup-iter 100000000", id="calc-warmup-beyond-the-limit"),
    _calc("warmup_epochs: must be <= 1e+08, got 1e+300", "--images 10 --batch 1 --warmup-epochs 1e300", id="calc-warmup-epochs-1e300"),
    _calc("batch: must be <= 4096, got 100000", "--images 10 --batch 100000 --warmup-epochs 1", id="calc-batch-beyond-the-limit"),
    _calc("one of the arguments --ref-warmup-iter --warmup-epochs is required", "--images 10 --batch 2", id="calc-no-warmup"),
    _calc("argument --warmup-epochs: not allowed with argument --ref-warmup-iter", f"{_REF} --warmup-epochs 1", id="calc-both-warmups"),
    _calc("argument --ann: not allowed with argument --images", "--images 10 --ann {tmp}/a.json --batch 2 --warmup-epochs 1", id="calc-images-and-ann"),
    _calc("ref_images: required with ref_warmup_iter", "--images 10 --batch 2 --ref-batch 1 --ref-warmup-iter 4", id="calc-no-ref-images"),
    _calc("ref_images: required with lr_steps", "--images 10 --batch 2 --warmup-epochs 1 --lr-steps 5", id="calc-steps-without-ref"),
    _calc("lr_steps: must be strictly increasing", f"{_REF} --lr-steps 5 3", id="calc-steps-order"),
    _calc("images: must be >= 1, got 0", "--images 0 --batch 2 --warmup-epochs 1", id="calc-zero-images"),
    _calc("warmup_epochs: must be finite, got nan", "--images 10 --batch 2 --warmup-epochs nan", id="calc-nan-epochs"),
    _calc("ref_warmup_iter: must be >= 0, got -4.0", "--images 10 --batch 2 --ref-images 5 --ref-batch 1 --ref-warmup-iter -4", id="calc-negative-warmup"),
    _calc("ann: cannot read", "--ann {missing} --batch 2 --warmup-epochs 1", id="calc-ann-missing"),
    _calc("is not JSON", "--ann {tmp}/bad.json --batch 2 --warmup-epochs 1", id="calc-ann-not-json"),
    _calc("has no 'images' list", "--ann {tmp}/not_coco.json --batch 2 --warmup-epochs 1", id="calc-ann-not-coco"),
]


def _tool_main(tool):
    module = f"paddle_lr.tools.{tool}"
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} does not exist yet")
    return importlib.import_module(module).main


def _argv(tmp_path, config, args):
    """The command line of a case, its files written under ``tmp_path``."""
    (tmp_path / "bad.json").write_text('{"images": [')
    (tmp_path / "not_coco.json").write_text(ANN_NOT_COCO)
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances_bad.json").write_text(ANN_NOT_COCO)
    subst = dict(tmp=str(tmp_path), missing=str(tmp_path / "missing.yml"))
    argv = []
    if config is not None:
        path = tmp_path / "bad.yml"
        path.write_text(config.format(**subst))
        argv = ["-c", str(path)]
    return argv + [a.format(**subst) for a in args]


def _check_one_line(status, err, fragment):
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]


@pytest.mark.parametrize("tool, config, args, fragment", CASES)
def test_bad_input(tool, config, args, fragment, tmp_path, capfd):
    main = _tool_main(tool)
    status = main(_argv(tmp_path, config, args))
    out, err = capfd.readouterr()
    _check_one_line(status, err, fragment)
    assert out == ""


def test_not_utf8_config(tmp_path, capfd):
    path = tmp_path / "latin1.yml"
    path.write_bytes(_yaml().encode() + "# d\u00e9cembre\n".encode("latin-1"))
    status = _tool_main("plot_lr")(["-c", str(path)])
    _, err = capfd.readouterr()
    _check_one_line(status, err, f"{path}: not UTF-8 text (byte 0xe9 at offset ")


def _script(tool, argv, glog=None):
    """Run ``tools/<tool>.py`` in a fresh interpreter, Paddle's logging at its own default."""
    env = {k: v for k, v in os.environ.items() if k != "GLOG_minloglevel"}
    env["PYTHONPATH"] = str(ROOT)
    if glog is not None:
        env["GLOG_minloglevel"] = glog
    return subprocess.run([sys.executable, str(ROOT / "tools" / f"{tool}.py"), *argv],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "tool, config, args, fragment",
    [case for case in CASES if case.id in ("calc-ann-missing", "lr-nan", "train-unknown-key")],
)
def test_bad_input_script(tool, config, args, fragment, tmp_path):
    if importlib.util.find_spec(f"paddle_lr.tools.{tool}") is None:
        pytest.skip(f"paddle_lr.tools.{tool} does not exist yet")
    proc = _script(tool, _argv(tmp_path, config, args))
    _check_one_line(proc.returncode, proc.stderr, fragment)
    assert proc.stdout == ""


# Valid, but each key is probably a mistake: every warning of rules.warn_schedule at once.
DOUBTFUL = _yaml(lr_steps="[100, 20000000]", warm_up_iter="200", warm_up_factor="1.5", lr_gamma="2")
WARNINGS = [
    "warning: lr_gamma: 2.0 > 1, the lr grows at each boundary",
    "warning: warm_up_factor: 1.5 > 1, the warmup comes down to the lr",
    "warning: lr_steps: [20000000] at or beyond max_iter=1000, the lr never decays there",
    "warning: warm_up_iter: 200.0 covers lr_steps [100], the warmup overrides the decay there",
    "warning: lr_steps: the schedule runs past 2**24 steps (20000000), where the float32 step "
    "counter can no longer tell neighbouring steps apart",
]


@pytest.fixture(scope="module")
def doubtful_runs(tmp_path_factory):
    """plot_lr and show_lr on the doubtful config, each run once as a script."""
    path = tmp_path_factory.mktemp("doubtful") / "doubtful.yml"
    path.write_text(DOUBTFUL)
    # show_lr runs the executor, whose C++ INFO lines GLOG_minloglevel=2 keeps off stderr.
    return {"plot_lr": _script("plot_lr", ["-c", str(path), "--table"]),
            "show_lr": _script("show_lr", ["-c", str(path), "--steps", "5"], glog="2")}


@pytest.mark.parametrize("tool", ["plot_lr", "show_lr"])
def test_warnings_printed_and_exit_0(doubtful_runs, tool):
    proc = doubtful_runs[tool]
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.strip()] == WARNINGS
    assert proc.stdout.strip()


@pytest.mark.parametrize("warning", WARNINGS)
def test_each_warning_once_with_its_key(doubtful_runs, warning):
    assert doubtful_runs["plot_lr"].stderr.splitlines().count(warning) == 1

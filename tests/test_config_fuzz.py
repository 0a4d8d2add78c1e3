"""Fuzz the config surface: random YAML documents and ``-o KEY=VALUE`` strings never show a traceback.

Two properties, each with a small example count in the default run and a bigger
one behind ``-m slow``:

* :func:`paddle_lr.config.load_config` returns a validated cfg or raises
  :class:`~paddle_lr.rules.ConfigError` with one line, for any bytes in the file
  (any scalars, nestings, tags, anchors and aliases, merge keys, duplicate keys,
  encodings) and any overrides;
* every tool's ``main(argv)`` exits 0, or exits 2 with one stderr line, for random
  command lines over its own options, random values, fuzzed config files and
  fuzzed ``-o`` items. Each tool runs in this process up to the first expensive
  call after its arguments and its cfg are checked (training, plotting, the
  graph run, writing a dataset, benchmarking), which is replaced by a stop.

A few command lines also run through the ``tools/*.py`` scripts in a fresh
interpreter (``test_scripts_never_show_a_traceback``), where the whole tool runs
on a cfg made cheap by overrides appended last.
"""
import contextlib
import importlib
import io
import os
import pathlib
import subprocess
import sys
import warnings

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paddle_lr.config import KEYS, load_config
from paddle_lr.rules import ConfigError
from paddle_lr.schedules.registry import REGISTRY

ROOT = pathlib.Path(__file__).resolve().parents[1]

FAST = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(max_examples=800, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- YAML documents --------------------------------------------------------------

KEY_NAMES = sorted(KEYS)
ODD_KEYS = ["schedule", "LearningRate", "max_iters", "snapshot_iter", "<<", "a", "1", "true", "null",
            "lr_step", "", "x\ny", "\u00e9t\u00e9"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=300),
    st.integers(),
    st.integers(min_value=10 ** 7, max_value=10 ** 30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=2, exclude_min=True),
    st.text(max_size=12),
    st.binary(max_size=8),
    st.dates(),
    st.sampled_from(["switch", "branchless", "data/shapes", "1e-4", "0x10", "1:20", "2001-02-30"]),
)
data = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.sampled_from(KEY_NAMES + ODD_KEYS),
                                                                 inner, max_size=4),
    max_leaves=14,
)
# A valid cfg to start from, so that many documents load and the "exit 0" path is fuzzed too.
VALID = dict(learning_rate=0.01, max_iter=60, warm_up_iter=5, lr_steps=[20, 40], lr_gamma=0.1)
documents_from_data = st.builds(
    lambda changes, extra: yaml.safe_dump({**VALID, **changes, **extra}, allow_unicode=True),
    st.dictionaries(st.sampled_from(KEY_NAMES), data, max_size=3),
    st.dictionaries(st.sampled_from(ODD_KEYS), data, max_size=1),
)
TOKENS = [
    "max_iter", "lr_steps", "learning_rate", "lr_values", "warm_up_iter", "seed", "image_size", "schedule",
    ": ", ":", " ", "  ", "\n", "\n  ", "- ", "[", "]", "{", "}", ",", "? ", "'", '"', "#", "|", ">",
    "&a ", "*a", "&b ", "*b", "<<: *a", "<<: [*a, *b]", "---\n", "...\n", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n",
    "!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!PiecewiseDecay ", "!LinearWarmup ",
    "!!binary ", "!!int ", "!!float ", "!!str ", "!!map ", "!!seq ", "!!set ", "!!omap ", "!!timestamp ",
    "!!merge ", "!!value ", "!!bool ", "!!null ", "!!pairs ", "!custom ",
    "0", "1", "-1", "7", "0.5", "1e-4", "1e400", "-.inf", ".nan", "0x1F", "0o17", "0b101", "1_000", "1:20:30",
    "99999999999999999999999", "2001-02-30", "2001-12-14t21:59:43.10-05:00", "yes", "off", "~", "null",
    "\t", "\x00", "\ufeff", "\u2028", "\x85", "\ud7ff", "\U0001f600", "\\", "%", "@", "`",
]
documents_from_tokens = st.lists(st.sampled_from(TOKENS) | st.text(max_size=4), max_size=30).map("".join)


def _with_duplicate(doc, key, value):
    return doc + f"{key}: {value}\n{key}: {value}\n"


# -- schedule specs and PaddleDetection documents (tags read as data there) --
# Every registered schedule and every argument name of theirs, and one of neither.
FNS = [*REGISTRY, "nope"]
ARG_NAMES = sorted({name for schedule in REGISTRY.values() for name in schedule.kinds}) + ["x"]
arg_values = st.one_of(scalars, st.lists(st.integers(min_value=-2, max_value=10 ** 9), max_size=5),
                       st.lists(st.floats(), max_size=4), st.sampled_from(["switch", "branchless", "auto"]))
specs = st.recursive(
    st.builds(lambda fn, args: {"fn": fn, "args": args}, st.sampled_from(FNS),
              st.dictionaries(st.sampled_from(ARG_NAMES), arg_values, max_size=5)),
    lambda inner: st.builds(lambda fn, args, lr: {"fn": fn, "args": {**args, "learning_rate": lr}},
                            st.sampled_from(FNS), st.dictionaries(st.sampled_from(ARG_NAMES), arg_values,
                                                                  max_size=4), inner),
    max_leaves=3,
) | data
documents_with_specs = st.builds(lambda spec: yaml.safe_dump({**VALID, "schedule": spec}), specs)
PPDET_TAGS = ["PiecewiseDecay", "LinearWarmup", "CosineDecay", "StepDecay", "COCODataSet", ""]


def _ppdet_doc(items, extra, base_lr):
    lines = ["architecture: FasterRCNN", "max_iters: 50", "LearningRate:", f"  base_lr: {base_lr}", "  schedulers:"]
    for tag, args in items:
        lines.append(f"  - !{tag} {yaml.safe_dump(args, default_flow_style=True).strip()}" if tag
                     else f"  - {yaml.safe_dump(args, default_flow_style=True).strip()}")
    return "\n".join(lines) + "\n" + extra


ppdet_documents = st.builds(
    _ppdet_doc,
    st.lists(st.tuples(st.sampled_from(PPDET_TAGS),
                       st.dictionaries(st.sampled_from(["gamma", "milestones", "values", "steps", "start_factor",
                                                        "max_iters", "use_warmup", "x"]), arg_values, max_size=3)),
             max_size=3),
    st.sampled_from(["", "OptimizerBuilder: {optimizer: {type: Momentum, momentum: 0.9}}\n",
                     "OptimizerBuilder: {optimizer: {type: Adam}, regularizer: {type: L2, factor: 1e-4}}\n",
                     "TrainReader: {dataset: !COCODataSet {a: 1}, t: [!DecodeImage ]}\n", "epoch: 12\n",
                     "_READER_: 'x.yml'\n", "OptimizerBuilder: 3\n"]) | documents_from_tokens,
    st.sampled_from(["0.01", "0", "-1", "1e39", "x", "[1]", ".nan"]),
)

documents = st.one_of(
    documents_with_specs,
    ppdet_documents,
    documents_from_data,
    documents_from_tokens,
    st.builds(_with_duplicate, documents_from_data, st.sampled_from(KEY_NAMES + ["a"]), st.sampled_from(["1", "[1]"])),
    st.builds(lambda doc, tokens, at: doc[:at] + tokens + doc[at:], documents_from_data, documents_from_tokens,
              st.integers(min_value=0, max_value=400)),
    st.builds(  # alias bombs: each level names the previous one n times
        lambda n, depth: "a0: &a0 [1]\n" + "".join(
            f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * n)}]\n" for i in range(1, depth)) + f"lr_values: *a{depth - 1}\n",
        st.integers(min_value=2, max_value=12), st.integers(min_value=2, max_value=9)),
    st.builds(lambda depth, left: "max_iter: " + (left * depth) + "1",
              st.integers(min_value=50, max_value=3000), st.sampled_from(["[", "{a: ", "- "])),
)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32", "latin-1", "cp1252", "shift_jis", "cp037"]
file_bytes = st.one_of(
    st.builds(lambda doc, enc: doc.encode(enc, errors="replace"), documents, st.sampled_from(ENCODINGS)),
    st.builds(lambda doc, junk, at: (lambda b: b[:at] + junk + b[at:])(doc.encode("utf-8", "surrogatepass")),
              documents, st.binary(min_size=1, max_size=4), st.integers(min_value=0, max_value=200)),
    st.binary(max_size=64),
)

# -- overrides -------------------------------------------------------------------

value_texts = st.one_of(
    st.builds(lambda v: yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("..."), data),
    documents_from_tokens,
    st.text(max_size=10),
)
override_items = st.one_of(
    st.builds(lambda k, v: f"{k}={v}", st.sampled_from(KEY_NAMES), value_texts),
    st.builds(lambda k, v: f"{k}={v}", st.sampled_from(ODD_KEYS) | st.text(max_size=6), value_texts),
    st.text(max_size=12),
)
overrides = st.lists(override_items, max_size=4)


def _check_error(exc):
    message = str(exc)
    assert len(message.splitlines()) == 1, repr(message)
    assert len(message) < 2000, f"{len(message)} characters"


def _load_property(tmp_dir, content, items):
    path = None
    if content is not None:
        path = tmp_dir / "fuzz.yml"
        path.write_bytes(content)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            loaded = load_config(path, items)
        except ConfigError as exc:
            _check_error(exc)
        else:
            assert set(loaded) == set(KEYS)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@FAST
@given(content=st.none() | file_bytes, items=overrides)
def test_load_config_never_raises_anything_else(fuzz_dir, content, items):
    _load_property(fuzz_dir, content, items)


@pytest.mark.slow
@SLOW
@given(content=st.none() | file_bytes, items=overrides)
def test_load_config_never_raises_anything_else_slow(fuzz_dir, content, items):
    _load_property(fuzz_dir, content, items)


# -- the tools' command lines -----------------------------------------------------


class _Stop(Exception):
    """The tool got past its checks to its first expensive call."""


def _stop(*args, **kwargs):
    raise _Stop


# tool: (its options, the expensive calls replaced by a stop, whether it takes -c/-o)
TOOLS = {
    "plot_lr": (["--output", "--table", "--log"], ["paddle_lr.tools.plot_lr.lr_segments"], True),
    "show_lr": (["--impl", "--steps"], ["paddle_lr.tools.show_lr.run_graph"], True),
    "train": (["--output", "--resume", "--dygraph", "--eval-only"], ["paddle_lr.demo.training.train"], True),
    "warmup_calc": (["--images", "--ann", "--batch", "--ref-images", "--ref-batch", "--ref-warmup-iter",
                     "--warmup-epochs", "--lr-steps", "--max-iter", "--json"], [], False),
    "make_shapes_dataset": (["--out", "--train", "--val", "--size", "--seed"],
                            ["paddle_lr.demo.shapes_dataset.make_shapes"], False),
    "bench": (["--json", "--scale", "--repeats", "--runs", "--boundaries", "--impls", "--workloads",
               "--round-budget-ms", "--quick", "--memory-limit-mb", "--timeout-s"],
              ["paddle_lr.bench.harness.measure", "paddle_lr.bench.harness.scale"], False),
    "fault_soak": (["--work", "--dygraph", "--points", "--jobs"],
                   ["paddle_lr.tools.fault_soak._default_scenarios", "paddle_lr.tools.fault_soak._train"], True),
}
VALUES = ["0", "1", "-1", "2", "64", "0.5", "1e400", "nan", "-inf", "99999999999999999999999", "1e-4",
          "switch", "branchless", "fast", "bare", "train", "iter:3", "log:1,snapshot:3", "iter:\u00b2", "x",
          "{tmp}/out", "{tmp}/lr.png", "{tmp}/no/such/lr.png", "{tmp}/missing.yml", "{tmp}/fuzz.yml",
          "-", "--", "=", "-h", "a\nb", "\u00e9", ""]


def _argv_strategy(tool):
    options, _, takes_config = TOOLS[tool]
    token = st.sampled_from(options) | st.sampled_from(VALUES) | st.text(max_size=6)
    head = st.just([])
    if takes_config:
        head = st.builds(lambda c, o: ["-c", "{tmp}/fuzz.yml", *(["-o", *o] if o else [])],
                         st.booleans(), overrides)
    return st.tuples(head, st.lists(token, max_size=8)).map(lambda ht: ht[0] + ht[1])


def _run_tool(tool, argv, tmp_dir, content):
    """``main(argv)`` in this process: (exit status, stderr); the stop counts as exit 0."""
    _, stops, _ = TOOLS[tool]
    (tmp_dir / "fuzz.yml").write_bytes(content)
    argv = [a.replace("{tmp}", str(tmp_dir)) for a in argv]
    main = importlib.import_module(f"paddle_lr.tools.{tool}").main
    err, out = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        mp.chdir(tmp_dir)
        for target in stops:
            mp.setattr(target, _stop)
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                status = main(argv)
            except _Stop:
                status = 0
            except SystemExit as exc:  # --help
                status = exc.code
    return status, err.getvalue()


def _tool_property(tool, argv, tmp_dir, content):
    status, err = _run_tool(tool, argv, tmp_dir, content)
    assert "Traceback" not in err, err
    assert status in (0, 2), (status, err)
    if status == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert len(lines[0]) < 2000


@pytest.fixture(scope="module")
def tool_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tools")


def _tool_test(tool, config):
    @config
    @given(argv=_argv_strategy(tool), content=file_bytes)
    def check(tool_dir, argv, content):
        _tool_property(tool, argv, tool_dir, content)
    return check


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_tools_exit_0_or_2_with_one_line(tool, tool_dir):
    _tool_test(tool, settings(FAST, max_examples=15))(tool_dir)


@pytest.mark.slow
@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_tools_exit_0_or_2_with_one_line_slow(tool, tool_dir):
    _tool_test(tool, settings(SLOW, max_examples=300))(tool_dir)


# -- a few command lines through the scripts, in a fresh interpreter --------------

# Appended last, so that whatever the fuzzed -o items say, a run that gets through stays cheap.
CHEAP = ["max_iter=30", "warm_up_iter=3", "lr_steps=[10,20]", "lr_values=null", "scale_iters_by_batch=false",
         "dataset_dir=null", "dataset_images=null"]


def _script(tool, argv, tmp_dir):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("GLOG_minloglevel", None)
    return subprocess.run([sys.executable, str(ROOT / "tools" / f"{tool}.py"), *argv], cwd=tmp_dir, env=env,
                          capture_output=True, timeout=300, preexec_fn=_limit_memory)


def _limit_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (6 * 2 ** 30, 6 * 2 ** 30))


def _script_property(tmp_dir, tool, content, items, extra):
    (tmp_dir / "fuzz.yml").write_bytes(content)
    argv = ["-c", str(tmp_dir / "fuzz.yml"), *extra, "-o", *items, *CHEAP]
    proc = _script(tool, argv, tmp_dir)
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert proc.returncode in (0, 2), (proc.returncode, err)
    if proc.returncode == 2:
        assert len(err.splitlines()) == 1, err


# -o items of a script's command line: not an option, and no NUL (no process's argv can hold one:
# subprocess refuses it before the script runs; main(argv) above still gets them)
script_items = st.lists(override_items.filter(lambda s: not s.startswith("-") and "\x00" not in s), max_size=2)


@pytest.mark.parametrize("tool, extra", [("plot_lr", ["--table"]), ("show_lr", [])])
@settings(FAST, max_examples=2)
@given(content=file_bytes, items=script_items)
def test_scripts_never_show_a_traceback(fuzz_dir, tool, extra, content, items):
    _script_property(fuzz_dir, tool, content, items, extra)


@pytest.mark.slow
@pytest.mark.parametrize("tool, extra", [("plot_lr", ["--table"]), ("show_lr", []), ("train", ["--eval-only"])])
@settings(SLOW, max_examples=12)
@given(content=file_bytes, items=script_items)
def test_scripts_never_show_a_traceback_slow(fuzz_dir, tool, extra, content, items):
    _script_property(fuzz_dir, tool, content, items, extra)

"""The cfg module: defaults, YAML loading, overrides, validation, builders."""
import math
import pathlib
import warnings

import numpy as np
import paddle
import pytest

from paddle_lr.schedules.lowerings import IMPLS

_IMPLS = ", ".join(map(repr, IMPLS))

import paddle_lr
from paddle_lr import config, planning
from paddle_lr.demo import keys as demo_keys
from paddle_lr.graph import ir
from paddle_lr.rules import ConfigError, ConfigTypeError, ScheduleWarning

CONFIGS = pathlib.Path(__file__).resolve().parent.parent / "configs"


def test_rcnn_defaults():
    expected = dict(learning_rate=0.01, max_iter=180000, warm_up_iter=500, warm_up_factor=1 / 3,
                    lr_steps=[120000, 160000], lr_gamma=0.1, momentum=0.9, weight_decay=1e-4,
                    snapshot_iter=10000)
    assert {k: config.cfg[k] for k in expected} == expected


@pytest.mark.parametrize("table", [config.KEYS, demo_keys.DEMO_KEYS], ids=["library", "demo"])
def test_every_key_is_documented(table):
    for key, (default, rule, doc) in table.items():
        assert doc and callable(rule), key
        rule(key, default) if default is not None else None


def test_the_demo_keys_are_the_demos_own():
    """The library's table holds no demo key; the demo's loader reads both, the library's refuses the demo's."""
    assert not set(config.KEYS) & set(demo_keys.DEMO_KEYS)
    assert set(demo_keys.KEYS) == set(config.KEYS) | set(demo_keys.DEMO_KEYS)
    assert demo_keys.load_config(None, ["image_size=64"]).image_size == 64
    with pytest.raises(ConfigError) as info:
        config.load_config(None, ["image_size=64"])
    assert str(info.value) == "image_size: unknown key in overrides"


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.yml")))
def test_shipped_configs_load_without_warnings(name):
    from paddle_lr.config.ppdet import ConfigWarning

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        loaded = demo_keys.load_config(CONFIGS / name)
    # Only a PaddleDetection config says which of its sections it skipped.
    expected = [ConfigWarning] if name.startswith("ppdet_") else []
    assert [w.category for w in record] == expected, [str(w.message) for w in record]
    assert set(loaded) == set(demo_keys.KEYS)


def test_rcnn_1x_yml_is_the_defaults():
    loaded = config.load_config(CONFIGS / "rcnn_1x.yml")
    for key in ("learning_rate", "max_iter", "warm_up_iter", "warm_up_factor", "lr_steps",
                "lr_gamma", "momentum", "weight_decay", "snapshot_iter"):
        assert loaded[key] == config.cfg[key], key


@pytest.mark.parametrize(
    "override, key, value",
    [
        ("lr_steps=[10, 20]", "lr_steps", [10, 20]),
        ("weight_decay=1e-3", "weight_decay", 1e-3),
        ("warm_up_factor=0.5", "warm_up_factor", 0.5),
        ("warm_up_iter=766.8", "warm_up_iter", 766.8),
        ("scale_lr_by_batch=true", "scale_lr_by_batch", True),
        ("dataset_dir=/data/my coco", "dataset_dir", "/data/my coco"),
        ("lr_values=null", "lr_values", None),
        ("lr_values=[0.1, 0.01, 0.001]", "lr_values", [0.1, 0.01, 0.001]),
    ],
)
def test_overrides_are_literals(override, key, value):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScheduleWarning)
        assert demo_keys.load_config(None, [override])[key] == value


def test_yaml_file_then_overrides(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("learning_rate: 0.02\nlr_steps: [100, 200]\nmax_iter: 300\nwarm_up_iter: 10\n")
    loaded = config.load_config(path, ["learning_rate=0.04"])
    assert (loaded.learning_rate, loaded.lr_steps, loaded.max_iter) == (0.04, [100, 200], 300)


BAD = [
    # (yaml text or None, overrides, error type, message fragment)
    (None, ["lr_step=[1]"], ConfigError, "lr_step: unknown key in overrides (did you mean 'lr_steps'?)"),
    ("warmup_iter: 3\n", [], ConfigError, "warmup_iter: unknown key in {path} (did you mean 'warm_up_iter'?)"),
    (None, ["learning_rate=0"], ConfigError, "learning_rate: must be > 0, got 0.0"),
    (None, ["learning_rate=.inf"], ConfigError, "learning_rate: must be finite, got inf"),
    (None, ["learning_rate=.nan"], ConfigError, "learning_rate: must be finite, got nan"),
    (None, ["learning_rate=fast"], ConfigTypeError, "learning_rate: must be a number, got 'fast'"),
    (None, ["lr_gamma=0"], ConfigError, "lr_gamma: must be > 0, got 0.0"),
    (None, ["max_iter=true"], ConfigTypeError, "max_iter: must be a whole number, got True"),
    (None, ["max_iter=10.5"], ConfigTypeError, "max_iter: must be a whole number, got 10.5"),
    (None, ["warm_up_iter=-1"], ConfigError, "warm_up_iter: must be >= 0, got -1.0"),
    (None, ["warm_up_factor=-0.1"], ConfigError, "warm_up_factor: must be >= 0, got -0.1"),
    (None, ["lr_steps=[160000, 120000]"], ConfigError, "lr_steps: must be strictly increasing"),
    (None, ["lr_steps=[0, 10]"], ConfigError, "lr_steps[0]: must be >= 1, got 0"),
    (None, ["lr_steps=100"], ConfigTypeError, "lr_steps: must be a list of steps, got 100"),
    (None, ["lr_values=[0.1, 0.01]"], ConfigError, "lr_values: must hold len(boundaries) + 1 = 3 values, got 2"),
    (None, ["lr_values=[0.1, -0.01, 0.001]"], ConfigError, "lr_values[1]: must be >= 0, got -0.01"),
    (None, ["momentum=1"], ConfigError, "momentum: must be < 1, got 1.0"),
    (None, ["momentum=-0.5"], ConfigError, "momentum: must be >= 0, got -0.5"),
    (None, ["weight_decay=-1e-4"], ConfigError, "weight_decay: must be >= 0, got -0.0001"),
    (None, ["lr_impl=fast"], ConfigError, f"lr_impl: must be one of {_IMPLS}, got 'fast'"),
    (None, ["scale_lr_by_batch=1"], ConfigTypeError, "scale_lr_by_batch: must be true or false, got 1"),
    (None, ["learning_rate"], ConfigError, "override: must be KEY=VALUE, got 'learning_rate'"),
    ("!!python/object/apply:os.system ['true']\n", [], ConfigError, "not plain YAML data"),
    ("- 1\n- 2\n", [], ConfigError, "must hold a mapping of keys, got list"),
    ("learning_rate: [0.1\n", [], ConfigError, "not plain YAML data (line"),
]


@pytest.mark.parametrize("text, overrides, error, message", BAD, ids=[b[3][:40] for b in BAD])
def test_bad_configs(tmp_path, text, overrides, error, message):
    path = None
    if text is not None:
        path = tmp_path / "bad.yml"
        path.write_text(text)
    with pytest.raises(error) as info:
        config.load_config(path, overrides)
    assert message.format(path=path) in str(info.value)
    assert "\n" not in str(info.value)


# Issue 9: classes that escaped as tracebacks or were silently accepted, and those the fuzz
# (tests/test_config_fuzz.py) found; each is one ConfigError line naming the file or key.
LIMITS = [
    (["max_iter=10000000000000000000000"], "max_iter: must be <= 100000000, got 10000000000000000000000"),
    (["max_iter=100000001"], "max_iter: must be <= 100000000, got 100000001"),
    (["lr_steps=[10, 100000001]"], "lr_steps[1]: must be <= 100000000, got 100000001"),
    ([f"lr_steps={list(range(1, 10002))}"], "lr_steps: must hold at most 10000 steps, got 10001"),
    (["warm_up_iter=1e9"], "warm_up_iter: must be <= 1e+08, got 1000000000.0"),
    (["snapshot_iter=100000001"], "snapshot_iter: must be <= 100000000, got 100000001"),
    (["image_size=4096"], "image_size: must be <= 2048, got 4096"),
    (["im_per_batch=5000"], "im_per_batch: must be <= 4096, got 5000"),
    (["num_devices=5000"], "num_devices: must be <= 4096, got 5000"),
    (["ref_batch_size=5000"], "ref_batch_size: must be <= 4096, got 5000"),
    (["dataset_images=1000000001"], "dataset_images: must be <= 1000000000, got 1000000001"),
    (["shapes_train_images=1000001"], "shapes_train_images: must be <= 1000000, got 1000001"),
    (["seed=4294967296"], "seed: must be <= 4294967295, got 4294967296"),
    (["learning_rate=1e39"], "learning_rate: must be <= 3.40282e+38, got 1e+39"),
    (["learning_rate=" + "9" * 400], "learning_rate: must be finite, got <int of 400 digits>"),
    (["lr_gamma=1e30", "learning_rate=1e10"],
     "lr_gamma: learning_rate * lr_gamma**1 = 1e+40 is beyond float32 (max 3.40282e+38), got lr_gamma=1e+30"),
    (["warm_up_factor=1e30", "learning_rate=1e10"], "warm_up_factor: learning_rate * warm_up_factor**1 = 1e+40"),
    (["lr_values=[0.1, 1e39, 0.1]"], "lr_values[1]: must be <= 3.40282e+38, got 1e+39"),
    (["weight_decay=1e39"], "weight_decay: must be <= 3.40282e+38, got 1e+39"),
]


@pytest.mark.parametrize("overrides, message", LIMITS, ids=[m[:28] for _, m in LIMITS])
def test_numbers_beyond_any_run(overrides, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScheduleWarning)
        with pytest.raises(ConfigError) as info:
            demo_keys.load_config(None, overrides)
    assert message in str(info.value)
    assert len(str(info.value).splitlines()) == 1


def test_limits_allow_their_own_values():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScheduleWarning)
        loaded = demo_keys.load_config(None, [
            "max_iter=100000000", f"lr_steps={list(range(1, 1001))}", "warm_up_iter=0", "seed=4294967295",
            "image_size=2048", "im_per_batch=4096", "dataset_images=1000000000", "snapshot_iter=100000000"])
    assert loaded.max_iter == paddle_lr.rules.MAX_ITERATIONS and len(loaded.lr_steps) == 1000


YAML_BAD = [
    # (file bytes, message fragment with {path})
    (b"max_iter: 1000\nlearning_rate: 0.01\xff\n", "{path}: not UTF-8 text (byte 0xff at offset 34, line 2)"),
    ("max_iter: 1000\n".encode("utf-16"), "{path}: not UTF-8 text (byte 0xff at offset 0, line 1)"),
    (b"max_iter: 1000\nmax_iter: 2000\n", "{path}: duplicate key 'max_iter' on line 2 (column 1), first on line 1"),
    (b"lr_values: {a: {b: 1, c: 2, b: 3}}\n", "{path}: duplicate key 'b' on line 1 (column 29), first on line 1"),
    (b"lr_values:\n  a: &a {x: 1}\n  b:\n    <<: *a\n    <<: *a\n", "{path}: duplicate key '<<' on line 5"),
    (b"1: a\ntrue: b\n", "{path}: duplicate key True on line 2"),
    (b"lr_steps: " + b"[" * 3000 + b"]" * 3000, "{path}: not plain YAML data: nested too deeply"),
    (b"max_iter: 2001-02-30\n", "{path}: not plain YAML data: a value its tag cannot make (ValueError: day is out"),
    (b"max_iter: " + b"1" * 5000 + b"\n", "{path}: not plain YAML data: a value its tag cannot make (ValueError: Exceeds"),
    (b"generate_shapes: !!bool maybe\n", "not plain YAML data: a value its tag cannot make (KeyError: 'maybe')"),
    (b"max_iter: !!timestamp x\n", "not plain YAML data: a value its tag cannot make (AttributeError: "),
    (b"max_iter: !!float abc\n", "not plain YAML data: a value its tag cannot make (ValueError: could not convert"),
    (b'"x\\ny": 1\n', "'x\\ny': unknown key in {path}"),
    (b"dataset_dir:\n- &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"  # 10**9 leaves, if anything walked them
     + b"".join(b"- &a%d [%s]\n" % (i, b", ".join([b"*a%d" % (i - 1)] * 10)) for i in range(1, 9))
     + b"lr_steps: *a8\n", "lr_steps[0]: must be a whole number, got [[[[...], [...], [...], [...], [...], [...], "),
    (b"? " + b"x" * 100000 + b"\n: 1\n", "'xxxxxxxxxxxx"),
]


@pytest.mark.parametrize("content, message", YAML_BAD, ids=[m[8:40] for _, m in YAML_BAD])
def test_bad_yaml_is_one_line(tmp_path, content, message):
    path = tmp_path / "bad.yml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        demo_keys.load_config(path)
    assert message.format(path=path) in str(info.value)
    assert len(str(info.value).splitlines()) == 1 and len(str(info.value)) < 1000


def test_merge_keys_may_be_overridden(tmp_path):
    path = tmp_path / "merge.yml"
    path.write_bytes(b"lr_values: null\nlr_steps: [10, 20]\nmax_iter: 30\nwarm_up_iter: 5\n")
    assert config.load_config(path).lr_steps == [10, 20]
    # A merge key is not a duplicate of the keys it brings in.
    from paddle_lr.config.loading import _parse_yaml

    assert _parse_yaml("a: &a {x: 1, y: 2}\nb: {<<: *a, x: 3}\n", "t")["b"] == {"x": 3, "y": 2}


def test_utf8_bom_is_read(tmp_path):
    path = tmp_path / "bom.yml"
    path.write_bytes("\ufeffmax_iter: 1000\nlr_steps: [10, 20]\nwarm_up_iter: 5\n".encode("utf-8"))
    assert config.load_config(path).max_iter == 1000


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"config: cannot read .*nope.yml: No such file"):
        config.load_config(tmp_path / "nope.yml")


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["lr_steps=[100, 200000]"], "lr_steps: [200000] at or beyond max_iter=180000"),
        (["warm_up_iter=130000"], "warm_up_iter: 130000.0 covers lr_steps [120000]"),
        (["max_iter=20000000", "lr_steps=[10000000, 17000000]"], "max_iter: the schedule runs past 2**24 steps"),
        (["warm_up_iter=20000000"], "warm_up_iter: the schedule runs past 2**24 steps (20000000.0)"),
        (["lr_gamma=2"], "lr_gamma: 2.0 > 1, the lr grows at each boundary"),
        (["warm_up_factor=3"], "warm_up_factor: 3.0 > 1, the warmup comes down to the lr"),
    ],
)
def test_warnings(overrides, message):
    with pytest.warns(ScheduleWarning) as record:
        config.load_config(None, overrides)
    assert any(message in str(w.message) for w in record), [str(w.message) for w in record]


def test_build_lr_does_not_warn_twice(static_mode):
    with pytest.warns(ScheduleWarning) as record:
        loaded = config.load_config(None, ["warm_up_iter=130000"])
    assert len(record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleWarning)
        with paddle.static.program_guard(paddle.static.Program(), paddle.static.Program()):
            config.build_lr(loaded)


@pytest.mark.parametrize(
    "devices, scale_lr, scale_iters, expected",
    [
        (8, False, False, dict(learning_rate=0.01, warm_up_iter=500, lr_steps=[120000, 160000], max_iter=180000)),
        (16, True, False, dict(learning_rate=0.02, warm_up_iter=500, lr_steps=[120000, 160000], max_iter=180000)),
        (16, True, True, dict(learning_rate=0.02, warm_up_iter=250, lr_steps=[60000, 80000], max_iter=90000)),
        (4, False, True, dict(learning_rate=0.01, warm_up_iter=1000, lr_steps=[240000, 320000], max_iter=360000)),
    ],
)
def test_scale_for_batch(devices, scale_lr, scale_iters, expected):
    base = config.load_config(CONFIGS / "rcnn_1x.yml", [f"scale_lr_by_batch={str(scale_lr).lower()}",
                                                        f"scale_iters_by_batch={str(scale_iters).lower()}"])
    scaled = planning.scale_for_batch(base, num_devices=devices)
    assert {k: scaled[k] for k in expected} == expected
    assert scaled.num_devices == devices


def test_schedule_args_derive_values_as_the_original():
    loaded = config.load_config(CONFIGS / "rcnn_1x.yml")
    args = config.schedule_args(loaded)
    assert args["values"] == [0.01, 0.01 * 0.1, 0.01 * 0.1 ** 2]
    assert args["boundaries"] == [120000, 160000]


@pytest.mark.parametrize("impl", ["switch", "branchless"])
def test_build_lr_static(runner, impl):
    loaded = config.load_config(None, ["warm_up_iter=3", "lr_steps=[5, 7]", "max_iter=10", f"lr_impl={impl}"])

    def build():
        lr = config.build_lr(loaded)
        config.build_optimizer(loaded, lr)  # no parameters yet: only construction is checked here
        return lr

    r = runner(build)
    for step in range(10):
        got = r.run([r.outputs])[0][0]
        expected = paddle_lr.lr_at(step, **config.schedule_args(loaded))
        assert got.view(np.uint32) == expected.view(np.uint32), f"step {step}: {got!r} != {expected!r}"


def test_build_lr_dygraph_is_the_twin():
    loaded = config.load_config(None, ["warm_up_iter=3", "lr_steps=[5, 7]", "max_iter=10"])
    scheduler = config.build_lr(loaded)
    assert isinstance(scheduler, paddle_lr.WarmupPiecewiseDecay)
    state = None
    for step in range(10):
        assert np.float32(scheduler()) == paddle_lr.lr_at(step, **config.schedule_args(loaded))
        if step == 4:
            state = scheduler.state_dict()
        scheduler.step()
    resumed = config.build_lr(loaded)
    resumed.set_state_dict(state)
    resumed.step()
    assert np.float32(resumed()) == paddle_lr.lr_at(5, **config.schedule_args(loaded))


API_BAD = [
    (dict(learning_rate=-0.1), ConfigError, "learning_rate: must be > 0, got -0.1"),
    (dict(learning_rate="0.1"), TypeError, "learning_rate: must be a number, got '0.1'"),
    (dict(boundaries=[9, 6]), ValueError, "boundaries: must be strictly increasing"),
    (dict(boundaries=[6, True]), TypeError, "boundaries[1]: must be a whole number, got True"),
    (dict(values=[0.1, 0.01]), ValueError, "values: must hold len(boundaries) + 1 = 3 values, got 2"),
    (dict(values=[0.1, math.nan, 0.01]), ValueError, "values[1]: must be finite, got nan"),
    (dict(warmup_iter=-4), ValueError, "warmup_iter: must be >= 0, got -4.0"),
    (dict(warmup_factor=None), TypeError, "warmup_factor: must be a number, got None"),
    (dict(impl="fast"), ValueError, f"impl: must be one of {_IMPLS}, got 'fast'"),
]


@pytest.mark.parametrize("change, error, message", API_BAD, ids=[b[2][:30] for b in API_BAD])
def test_api_rejects_bad_arguments_before_building(static_mode, change, error, message):
    args = dict(learning_rate=0.01, boundaries=[6, 9], values=[0.01, 0.001, 0.0001],
                warmup_iter=4, warmup_factor=1 / 3)
    main = paddle.static.Program()
    with paddle.static.program_guard(main, paddle.static.Program()):
        with pytest.raises(error) as info:
            paddle_lr.exponential_with_warmup_decay(**{**args, **change})
    assert message in str(info.value)
    assert len(main.global_block().ops) == 0, "no op may be built for bad arguments"


def test_scaling_twice_is_an_error():
    """scale_for_batch marks the cfg it returns; a second scaling would double the lr."""
    base = config.load_config(None, ["scale_lr_by_batch=true", "num_devices=2", "im_per_batch=8"])
    scaled = planning.scale_for_batch(base)
    assert scaled.scaled_for_batch == 16
    assert scaled.learning_rate == base.learning_rate * 2
    with pytest.raises(ConfigError, match=r"^scaled_for_batch: the cfg is already scaled \(for a total batch of 16\)"):
        planning.scale_for_batch(scaled)


def test_scaling_keeps_the_demos_keys():
    base = demo_keys.load_config(None, ["scale_iters_by_batch=true", "num_devices=2", "image_size=64", "seed=7"])
    scaled = planning.scale_for_batch(base)
    assert set(scaled) == set(demo_keys.KEYS)
    assert (scaled.image_size, scaled.seed, scaled.max_iter) == (64, 7, base.max_iter * 4)


def test_limits_are_documented():
    text = (CONFIGS.parent / "docs" / "config.md").read_text(encoding="utf-8")
    rules = paddle_lr.rules
    for shown_as in (f"1 to {rules.MAX_ITERATIONS} (10**8)", f"at most {rules.MAX_BOUNDARIES} entries",
                     f"{demo_keys.MIN_IMAGE_SIZE} to {demo_keys.MAX_IMAGE_SIZE}", f"1 to {rules.MAX_BATCH}",
                     "1 to 10**9", "1 to 10**6", f"0 to {demo_keys.MAX_SEED} (2**32 - 1)", f"{rules.FLOAT32_MAX:g}"):
        assert shown_as in text, shown_as
    assert (rules.MAX_IMAGES, demo_keys.MAX_SPLIT_IMAGES) == (10 ** 9, 10 ** 6)


def test_many_lr_steps_default_to_the_branch_free_lookup(static_mode):
    """2000 lr_steps (a decay every epoch of a long run) load, and lr_impl auto builds the table lookup."""
    loaded = config.load_config(None, [f"lr_steps={list(range(10, 20010, 10))}", "max_iter=20010", "warm_up_iter=4"])
    assert loaded.lr_impl == "auto"
    main, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.utils.unique_name.guard(), paddle.static.program_guard(main, startup), warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleWarning)
        config.build_lr(loaded)
    names = ir.op_names(main, nested=True)
    assert not any(name.endswith(("if", "conditional_block")) for name in names), names


def test_an_explicit_switch_with_many_lr_steps_warns_once_at_load():
    steps = list(range(10, 1520, 10))
    with pytest.warns(ScheduleWarning, match=rf"^lr_steps: {len(steps)} boundaries as a Switch \(lr_impl='switch'\) need about"):
        config.load_config(None, [f"lr_steps={steps}", "max_iter=2000", "warm_up_iter=4", "lr_impl=switch"])

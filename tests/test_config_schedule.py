"""The cfg names any family schedule (the ``schedule`` key) and reads PaddleDetection static configs.

Builders (graph and twin) against the registry's reference, one-line errors for
bad specs and bad PaddleDetection sections, and the tools on the shipped configs.
"""
import json
import pathlib
import warnings

import numpy as np
import paddle
import pytest

from paddle_lr import config
from paddle_lr.config import ppdet
from paddle_lr.demo import keys as demo_keys
from paddle_lr.rules import ConfigError, ScheduleWarning
from paddle_lr.schedules import registry

import trainkit
from familykit import examples

REPO = pathlib.Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"


def _spec(fn, **args):
    return {"fn": fn, "args": args}


PIECEWISE = _spec("piecewise_decay", boundaries=[6, 9], values=[0.01, 0.001, 0.0001])
SPECS = {
    **examples(),  # every registered schedule, by its name, at its record's example arguments
    "piecewise": PIECEWISE,
    "exponential": _spec("exponential_decay", learning_rate=0.1, decay_steps=5, decay_rate=0.5, staircase=True),
    "natural_exp": _spec("natural_exp_decay", learning_rate=0.1, decay_steps=5, decay_rate=0.5),
    "inverse_time": _spec("inverse_time_decay", learning_rate=0.1, decay_steps=5, decay_rate=0.5),
    "polynomial": _spec("polynomial_decay", learning_rate=0.1, decay_steps=10, end_learning_rate=0.001,
                        power=2.0, cycle=True),
    "cosine": _spec("cosine_decay", learning_rate=0.1, step_each_epoch=3, epochs=6),
    "noam": _spec("noam_decay", d_model=64, warmup_steps=5),
    "warmup_piecewise": _spec("linear_lr_warmup", learning_rate=PIECEWISE, warmup_steps=4,
                              start_lr=0.0, end_lr=0.01),
    "warmup_cosine": _spec("linear_lr_warmup", learning_rate=_spec("cosine_decay", learning_rate=0.1,
                                                                   step_each_epoch=3, epochs=6),
                           warmup_steps=4, start_lr=0.01, end_lr=0.1),
    "warmup_branchless": _spec("linear_lr_warmup", learning_rate=dict(PIECEWISE, args={**PIECEWISE["args"],
                                                                                        "impl": "branchless"}),
                               warmup_steps=4, start_lr=0.0, end_lr=0.01, impl="branchless"),
    "rcnn_as_spec": _spec("exponential_with_warmup_decay", learning_rate=0.01, boundaries=[6, 9],
                          values=[0.01, 0.001, 0.0001], warmup_iter=4, warmup_factor=1 / 3),
}
STEPS = 20


def _cfg(spec, *extra):
    return config.load_config(None, [f"schedule={json.dumps(spec)}", f"max_iter={STEPS}", *extra])


def _kernels(spec):
    found = set()
    while isinstance(spec, dict):
        found |= set(registry.REGISTRY[spec["fn"]].kernels)
        spec = spec["args"].get("learning_rate")
    return found


def _check_values(got, expected, spec):
    """Bit for bit; where the schedule calls exp/cos/pow and the running Paddle is 3.x, within 1 ulp
    of the value or of the peak lr (a cos near -1 cancels: 1 ulp of cos is more ulps of the lr)."""
    ulps = np.abs(got.view(np.int32).astype(np.int64) - expected.view(np.int32).astype(np.int64))
    loose = bool(_kernels(spec)) and paddle.__version__.split(".")[0] != "2"
    peak = np.spacing(np.max(np.abs(expected)))
    for step in range(len(got)):
        close = ulps[step] <= 1 or abs(float(got[step]) - float(expected[step])) <= peak
        assert ulps[step] == 0 or (loose and close), \
            f"step {step}: graph {got[step]!r} != reference {expected[step]!r} ({ulps[step]} ulp)"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_static_graph_is_the_reference(runner, name):
    cfg = _cfg(SPECS[name])
    expected = config.reference_lr(cfg, np.arange(STEPS))
    assert np.array_equal(expected, registry.reference_values(
        cfg.schedule, np.arange(STEPS) + registry.counter_begin(cfg.schedule)))
    r = runner(lambda: config.build_static_lr(cfg))
    got = np.array([r.run([r.outputs])[0].reshape(-1)[0] for _ in range(STEPS)], dtype=np.float32)
    _check_values(got, expected, cfg.schedule)


@pytest.mark.parametrize("name", ["piecewise", "noam", "warmup_piecewise", "warmup_cosine", "rcnn_as_spec"])
def test_dygraph_twin_is_the_reference(name):
    cfg = _cfg(SPECS[name])
    scheduler = config.build_lr_scheduler(cfg)
    assert config.build_lr(cfg).__class__ is scheduler.__class__
    got = []
    for _ in range(STEPS):
        got.append(np.float32(scheduler()))
        scheduler.step()
    _check_values(np.array(got, dtype=np.float32), config.reference_lr(cfg, np.arange(STEPS)), cfg.schedule)


def test_builders_refuse_the_other_mode(static_mode):
    cfg = _cfg(PIECEWISE)
    with pytest.raises(ConfigError, match="^build_lr_scheduler: Paddle is in static mode"):
        config.build_lr_scheduler(cfg)
    paddle.disable_static()
    try:
        with pytest.raises(ConfigError, match="^build_static_lr: Paddle is in dynamic mode"):
            config.build_static_lr(cfg)
    finally:
        paddle.enable_static()


def test_rcnn_keys_stay_the_default_schedule():
    cfg = config.load_config(CONFIGS / "rcnn_1x.yml")
    assert cfg.schedule is None
    spec = config.schedule_spec(cfg)
    assert spec == {"fn": "exponential_with_warmup_decay", "args": {**config.schedule_args(cfg), "impl": cfg.lr_impl}}
    steps = np.arange(0, 180000, 997)
    import paddle_lr

    assert np.array_equal(config.reference_lr(cfg, steps), paddle_lr.lr_at(steps, **config.schedule_args(cfg)))


def test_with_impl_reaches_every_lowering():
    cfg = config.with_impl(_cfg(SPECS["warmup_piecewise"]), "branchless")
    assert cfg.schedule["args"]["impl"] == "branchless"
    assert cfg.schedule["args"]["learning_rate"]["args"]["impl"] == "branchless"
    auto = config.with_impl(_cfg(SPECS["warmup_piecewise"]), "auto")
    assert auto.schedule["args"]["learning_rate"]["args"]["impl"] == "auto"
    assert auto.schedule["args"]["impl"] == "auto"
    switch = config.with_impl(_cfg(SPECS["warmup_piecewise"]), "switch")
    assert switch.schedule["args"]["impl"] == switch.schedule["args"]["learning_rate"]["args"]["impl"] == "switch"


BAD_SPECS = [
    ({"fn": "nope"}, "schedule.fn: must be one of 'cosine_decay'"),
    ([1, 2], "schedule: must be a mapping {fn: NAME, args: {...}}, got [1, 2]"),
    (_spec("piecewise_decay", boundaries=[6], values=[0.1]),
     "schedule: values: must hold len(boundaries) + 1 = 2 values, got 1"),
    (_spec("piecewise_decay", boundaries=[6, 100000001], values=[1, 2, 3]),
     "schedule.args.boundaries[1]: must be <= 100000000, got 100000001"),
    (_spec("exponential_decay", learning_rate=0.1, decay_steps=10 ** 9, decay_rate=0.5),
     "schedule.args.decay_steps: must be <= 1e+08"),
    (_spec("linear_lr_warmup", learning_rate=_spec("cosine_decay", learning_rate=1e39, step_each_epoch=3,
                                                   epochs=2), warmup_steps=4, start_lr=0.0, end_lr=0.1),
     "schedule: learning_rate.learning_rate: must be finite in float32 (at most 3.40282e+38), got 1e+39"),
    (_spec("cosine_decay", learning_rate=0.1, step_each_epoch=3), "schedule.args: missing a required argument"),
    ({"fn": "piecewise_decay", "args": {"1": 2}}, "schedule.args: missing a required argument: 'boundaries'"),
    (_spec("piecewise_decay", boundaries=[1], values=[1, 2], gamma=3),
     "schedule.args: got an unexpected keyword argument 'gamma'"),
    ({"fn": "piecewise_decay", "args": {"boundaries": list(range(1, 120000))}}, "schedule: too large a spec"),
]


@pytest.mark.parametrize("spec, message", BAD_SPECS, ids=[m[:36] for _, m in BAD_SPECS])
def test_bad_specs_are_one_line(spec, message):
    with pytest.raises(ConfigError) as info:
        config.load_config(None, [f"schedule={json.dumps(spec)}"])
    assert message in str(info.value)
    assert len(str(info.value).splitlines()) == 1


def test_non_string_spec_key_is_one_line(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("schedule: {fn: piecewise_decay, args: {1: 2}}\n")
    with pytest.raises(ConfigError, match=r"^schedule: every key of a spec must be a name, got 1$"):
        config.load_config(path)


@pytest.mark.parametrize("flag", ["scale_lr_by_batch", "scale_iters_by_batch"])
def test_batch_scaling_does_not_reach_into_a_spec(flag):
    with pytest.raises(ConfigError, match=f"^{flag}: scales the R-CNN schedule keys only"):
        _cfg(PIECEWISE, f"{flag}=true")


def test_spec_does_not_warn_about_unused_rcnn_keys():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleWarning)
        _cfg(PIECEWISE)  # max_iter=20 is below the default lr_steps: no warning, they are unused


# -- PaddleDetection static configs ----------------------------------------------------------

def test_shipped_ppdet_config():
    with pytest.warns(ppdet.ConfigWarning) as record:
        cfg = config.load_config(CONFIGS / "ppdet_faster_rcnn_r50_1x.yml")
    assert [str(w.message) for w in record] == [
        f"{CONFIGS / 'ppdet_faster_rcnn_r50_1x.yml'}: PaddleDetection sections not used here, skipped: "
        "architecture, use_gpu, log_smooth_window, save_dir, pretrain_weights, metric, weights, num_classes, "
        "FasterRCNN, ResNet, RPNHead, BBoxHead, ..."]
    lr = 0.01
    values = [lr, lr * 0.1, lr * (0.1 / 10)]  # base_lr, then base_lr * gamma / 10**i (PaddleDetection's)
    assert cfg.schedule == {"fn": "linear_lr_warmup", "args": {
        "learning_rate": {"fn": "piecewise_decay", "args": {"boundaries": [120000, 160000], "values": values,
                                                             "impl": "auto"}},
        "warmup_steps": 500.0, "start_lr": lr * 0.3333333333333333, "end_lr": lr, "impl": "auto"}}
    assert (cfg.max_iter, cfg.snapshot_iter, cfg.momentum, cfg.weight_decay) == (180000, 10000, 0.9, 0.0001)
    assert (cfg.optimizer, cfg.optimizer_args, cfg.clip_grad_by_norm) == ("Momentum", {}, None)


def _ppdet(tmp_path, text):
    path = tmp_path / "ppdet.yml"
    path.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ppdet.ConfigWarning)
        return config.load_config(path)


LR = "LearningRate:\n  base_lr: 0.02\n  schedulers:\n"


@pytest.mark.parametrize("schedulers, expected", [
    ("  - !PiecewiseDecay {gamma: 0.1, milestones: [10, 20]}\n",
     _spec("piecewise_decay", boundaries=[10, 20], values=[0.02, 0.02 * 0.1, 0.02 * (0.1 / 10)], impl="auto")),
    ("  - !PiecewiseDecay {milestones: [10, 20]}\n",  # PaddleDetection's default gamma is [0.1, 0.1]
     _spec("piecewise_decay", boundaries=[10, 20], values=[0.02, 0.02 * 0.1, 0.02 * 0.1], impl="auto")),
    ("  - !PiecewiseDecay {gamma: [0.1, 0.01], milestones: [10, 20]}\n",
     _spec("piecewise_decay", boundaries=[10, 20], values=[0.02, 0.02 * 0.1, 0.02 * 0.01], impl="auto")),
    ("  - !PiecewiseDecay {milestones: [10], values: [0.5, 0.25]}\n",
     _spec("piecewise_decay", boundaries=[10], values=[0.5, 0.25], impl="auto")),
    ("  - !CosineDecay {max_iters: 30}\n  - !LinearWarmup {start_factor: 0.0, steps: 5}\n",
     _spec("linear_lr_warmup", learning_rate=_spec("cosine_decay", learning_rate=0.02, step_each_epoch=1,
                                                   epochs=30),
           warmup_steps=5.0, start_lr=0.0, end_lr=0.02, impl="auto")),
    ("  - !PolynomialDecay {max_iter: 20, power: 0.9}\n",
     _spec("polynomial_decay", learning_rate=0.02, decay_steps=20.0, end_learning_rate=0.0001, power=0.9,
           cycle=False)),
    ("  - !ExponentialDecay {max_iter: 10, decay_rate: 0.5}\n",
     _spec("exponential_decay", learning_rate=0.02, decay_steps=10.0, decay_rate=0.5, staircase=False)),
    ("  - !CosineDecayWithSkip {total_steps: 30, skip_steps: 5}\n",
     _spec("cosine_decay_with_skip", learning_rate=0.02, total_steps=30, skip_steps=5)),
], ids=["gamma", "gamma-default", "gamma-list", "values", "cosine-warmup", "polynomial", "exponential",
        "cosine-skip"])
def test_ppdet_schedulers(tmp_path, schedulers, expected):
    assert _ppdet(tmp_path, "max_iters: 30\n" + LR + schedulers).schedule == expected


@pytest.mark.parametrize("text, message", [
    (LR + "  - !LinearWarmup {steps: 5}\n", "LearningRate.schedulers[0] !LinearWarmup: warms up the lr of the "
                                            "schedulers before it, and none is"),
    (LR + "  - !StepDecay {gamma: 0.1}\n", "LearningRate.schedulers[0]: must be one of !PiecewiseDecay, "
                                           "!PolynomialDecay, !ExponentialDecay, !CosineDecay, "
                                           "!CosineDecayWithSkip, !LinearWarmup (PaddleDetection's schedulers), "
                                           "got !StepDecay"),
    (LR + "  - {gamma: 0.1}\n", "LearningRate.schedulers[0]: must be one of !PiecewiseDecay"),
    (LR + "  - !PiecewiseDecay {gamma: 0.1, milestones: [0, 10]}\n",
     "LearningRate.schedulers[0] !PiecewiseDecay.milestones[0]: must be >= 1, got 0"),
    (LR + "  - !ExponentialDecay {max_iter: 10}\n",
     "LearningRate.schedulers[0] !ExponentialDecay.decay_rate: required (PaddleDetection's ExponentialDecay has "
     "no default)"),
    (LR + "  - !CosineDecayWithSkip {total_steps: 30, skip_steps: 30}\n",
     "LearningRate.schedulers[0] !CosineDecayWithSkip.skip_steps: must be <= 29, got 30"),
    (LR + "  - !PiecewiseDecay {gama: 0.1}\n", "LearningRate.schedulers[0] !PiecewiseDecay.'gama': unknown key"),
    ("LearningRate: {base_lr: 0, schedulers: [!PiecewiseDecay {}]}\n", "LearningRate.base_lr: must be > 0"),
    ("LearningRate: {base_lr: 0.1, schedulers: []}\n", "LearningRate.schedulers: must be a list of tagged"),
    ("epoch: 12\nLearningRate: {base_lr: 0.1, schedulers: [!PiecewiseDecay {}]}\n",
     "epoch: PaddleDetection's dygraph configs count in epochs"),
    ("LearningRate: {base_lr: 0.1, schedulers: [!PiecewiseDecay {}]}\n"
     "OptimizerBuilder: {optimizer: {type: LambOptimizer}}\n",
     "OptimizerBuilder.optimizer.type: must be one of 'Momentum', 'MomentumOptimizer', 'SGD', 'SGDOptimizer', "
     "'RMSPropOptimizer', 'Adam', 'AdamOptimizer', got 'LambOptimizer'"),
    ("LearningRate: {base_lr: 0.1, schedulers: [!PiecewiseDecay {}]}\n"
     "OptimizerBuilder: {optimizer: {type: Momentum}}\n",
     "OptimizerBuilder.optimizer.momentum: required (fluid's Momentum has no default)"),
    ("LearningRate: {base_lr: 0.1, schedulers: [!PiecewiseDecay {}]}\n"
     "OptimizerBuilder: {optimizer: {type: Adam, beta: 0.9}}\n",
     "OptimizerBuilder.optimizer.'beta': not an argument of fluid's Adam here, expected one of beta1, beta2, "
     "epsilon, lazy_mode"),
    ("LearningRate: {base_lr: 0.1, schedulers: [!PiecewiseDecay {}]}\n"
     "OptimizerBuilder: {regularizer: {type: L1, factor: 0.001}}\n",
     "OptimizerBuilder.regularizer.type: must be one of 'L2', got 'L1'"),
    ("LearningRate: {base_lr: 0.1, schedulers: [!PiecewiseDecay {}]}\n"
     "OptimizerBuilder: {clip_grad_by_norm: -1}\n",
     "clip_grad_by_norm: must be > 0, got -1.0"),
    ("LearningRate: {base_lr: 0.1, schedulers: [!PiecewiseDecay {}]}\n"
     "TrainReader: !!python/object/apply:os.system ['true']\n", "not plain YAML data"),
    ("max_iters: 1000000000\nLearningRate: {base_lr: 0.1, schedulers: [!PiecewiseDecay {}]}\n",
     "max_iter: must be <= 100000000, got 1000000000"),
], ids=["warmup-first", "unknown-tag", "untagged", "milestone-zero", "exponential-required", "skip-past-total",
        "typo", "base-lr", "no-schedulers", "dygraph-epochs", "lamb", "momentum-required", "adam-arg", "l1",
        "clip-negative", "python-tag", "max-iters-limit"])
def test_ppdet_errors_are_one_line(tmp_path, text, message):
    with pytest.raises(ConfigError) as info:
        _ppdet(tmp_path, text)
    assert message in str(info.value)
    assert len(str(info.value).splitlines()) == 1


def test_ppdet_tags_stay_data(tmp_path):
    cfg = _ppdet(tmp_path, "LearningRate: {base_lr: 0.1, schedulers: [!PiecewiseDecay {}]}\n"
                           "OptimizerBuilder: {optimizer: {type: Momentum, momentum: 0.8}, regularizer: null}\n"
                           "TrainReader: {dataset: !COCODataSet {image_dir: x}, transforms: [!DecodeImage {}]}\n")
    assert (cfg.momentum, cfg.weight_decay) == (0.8, 0.0)
    assert cfg.schedule["args"]["boundaries"] == [60000, 80000]  # PaddleDetection's defaults


def test_ppdet_defaults(tmp_path):
    """No schedulers, no base_lr, no OptimizerBuilder: PaddleDetection's defaults, read from its code."""
    cfg = _ppdet(tmp_path, "LearningRate: {}\n")
    assert cfg.schedule == _spec("linear_lr_warmup", learning_rate=_spec(
        "piecewise_decay", boundaries=[60000, 80000], values=[0.01, 0.01 * 0.1, 0.01 * 0.1], impl="auto"),
        warmup_steps=500.0, start_lr=0.01 * (1.0 / 3), end_lr=0.01, impl="auto")
    assert (cfg.optimizer, cfg.momentum, cfg.weight_decay, cfg.clip_grad_by_norm) == ("Momentum", 0.9, 0.0001, None)


def test_tags_outside_ppdet_are_rejected(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("max_iter: !Steps 5\n")
    with pytest.raises(ConfigError, match=r"^max_iter: must be a whole number, got !Steps '5'$"):
        config.load_config(path)


# -- the tools on the shipped configs -----------------------------------------------------------

def test_plot_lr_table_of_yolov3(capsys):
    from paddle_lr.tools import plot_lr

    assert plot_lr.main(["-c", str(CONFIGS / "yolov3_warmup_piecewise.yml"), "--table"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split()[:2] for line in lines[3:]]
    assert rows == [["warmup", "0-3999"], ["1", "4000-399999"], ["2", "400000-449999"], ["3", "450000-500199"]]


def test_plot_lr_varying_segment(capsys):
    from paddle_lr.tools import plot_lr

    spec = _spec("linear_lr_warmup", learning_rate=_spec("polynomial_decay", learning_rate=0.1, decay_steps=50),
                 warmup_steps=10, start_lr=0.0, end_lr=0.1)
    assert plot_lr.main(["-c", str(CONFIGS / "rcnn_1x.yml"), "-o", f"schedule={json.dumps(spec)}",
                         "max_iter=80"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[3:]]
    # The ramp, then the decay that changes at every step (one segment), then end_learning_rate.
    assert [r[:2] for r in rows] == [["warmup", "0-9"], ["1", "10-49"], ["2", "50-79"]]
    assert rows[1][3] == "->" and rows[2][2] == "1e-04"


@pytest.mark.parametrize("name, extra", [
    ("ppdet_faster_rcnn_r50_1x.yml", ["--steps", "600"]),
    ("yolov3_warmup_piecewise.yml", ["--steps", "300", "--impl", "branchless"]),
])
def test_show_lr_on_shipped_configs(capsys, name, extra):
    from paddle_lr.tools import show_lr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ppdet.ConfigWarning)
        status = show_lr.main(["-c", str(CONFIGS / name), *extra])
    out = capsys.readouterr().out.splitlines()
    assert status == 0 and out[-1].endswith(": all bit-identical"), out[-1]
    assert "reference" in out[0]


def test_warmup_calc_from_a_config(capsys):
    from paddle_lr.tools import warmup_calc

    assert warmup_calc.main(["-c", str(CONFIGS / "yolov3_warmup_piecewise.yml"), "--images", "22720",
                             "--batch", "16", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    # 4000 iterations of 64 images on 118287 images = 2.1642 epochs = 3073 iterations of 16 on 22720.
    assert (plan["warm_up_iter"], plan["lr_steps"], plan["max_iter"]) == (3073, [307320, 345735], 384304)


@pytest.mark.parametrize("flags", [[], ["--dygraph"]], ids=["static", "dygraph"])
def test_train_with_a_ppdet_config(tmp_path, flags):
    from paddle_lr.tools import train

    extra = ["generate_shapes=true", "shapes_train_images=12", "shapes_val_images=3", "image_size=32",
             "im_per_batch=2", "max_iter=8", "snapshot_iter=4", f"dataset_dir={tmp_path / 'data'}"]
    path = tmp_path / "tiny_ppdet.yml"
    path.write_text("architecture: FasterRCNN\nmax_iters: 8\n" + LR +
                    "  - !PiecewiseDecay {gamma: 0.1, milestones: [5, 7]}\n"
                    "  - !LinearWarmup {start_factor: 0.25, steps: 4}\n"
                    "OptimizerBuilder: {optimizer: {type: Momentum, momentum: 0.9}, "
                    "regularizer: {type: L2, factor: 0.0001}}\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ppdet.ConfigWarning)
        assert train.main(["-c", str(path), "-o", *extra, "--output", str(tmp_path / "out"), *flags]) == 0
        cfg = demo_keys.load_config(path, extra)
    logged = [json.loads(line)["lr"] for line in trainkit.read_lines(tmp_path / "out" / "train_log.jsonl")]
    expected = config.reference_lr(cfg, np.arange(8))
    assert logged == [float(v) for v in expected], (logged, expected.tolist())

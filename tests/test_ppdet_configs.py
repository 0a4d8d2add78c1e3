"""PaddleDetection's static configs, all of them, against PaddleDetection's own lr on fluid 1.8.5.

``tests/data/ppdet_static/`` holds every config of PaddleDetection's last
``static/`` tree with a ``LearningRate`` section, as published (its README
names the commit); ``tests/data/ppdet_cases/`` a few written here for the
tags and defaults no published config uses. ``tests/data/fluid185/ppdet/``
is what PaddleDetection's own ``optimizer.py`` built from each on fluid 1.8.5
(``tools/fluid18/record_ppdet.py``): the optimizer, and the lr at sampled
steps (warmup, every milestone and its neighbours, the decay horizon, the end).

Each config here loads with :func:`paddle_lr.config.load_config`, builds the
optimizer ppdet built, and its lr graph gives the recorded lr: bit for bit on
2.x; on 3.x bit for bit where no ``exp``/``cos``/``pow`` is called, and within
``ABSOLUTE_ULP`` ulp of the base lr where one is (3.x's kernels round
differently; docs/family.md). The default run checks the lr of ``SAMPLE`` and
the written cases; ``-m slow`` every config.
"""
import ast
import json
import pathlib
import warnings

import numpy as np
import paddle
import pytest

import fluid185kit
import trainkit
from conftest import StaticRunner
from familykit import kernels_of, mismatch
from paddle_lr import ScheduleWarning, config
from paddle_lr.config import ppdet
from paddle_lr.demo import keys as demo_keys
from paddle_lr.schedules.registry import counter_begin

DATA = pathlib.Path(__file__).parent / "data"
STATIC = DATA / "ppdet_static"
CASES = DATA / "ppdet_cases"
IS_2X = paddle.__version__.startswith("2.")
ABSOLUTE_ULP = 2
"""On 3.x, where the schedule calls exp/cos/pow: the most ulps of the base lr the lr may be off (the
project's 3.x cosine contract, docs/family.md; at these sampled steps 3.3.1 measured at most 1)."""

# One config of each kind the tree has (the default run); -m slow runs them all.
SAMPLE = {
    "static/configs/faster_rcnn_r50_1x.yml",  # piecewise + warmup, Momentum, a _READER_
    "static/configs/efficientdet_d0.yml",  # !CosineDecayWithSkip, no _READER_
    "static/configs/ssd/ssdlite_ghostnet.yml",  # !CosineDecay, RMSPropOptimizer
    "static/slim/nas/blazeface.yml",  # RMSPropOptimizer outside configs/
    "static/configs/anchor_free/cornernet_squeeze_hg104.yml",  # Adam, no regularizer
    "static/configs/yolov4/yolov4_cspdarknet_coco.yml",  # clip_grad_by_norm
    "static/configs/ssd/ssd_mobilenet_v1_voc.yml",  # values, base_lr omitted
    "static/configs/ppyolo/ppyolo_roadsign_kunlun.yml",  # milestones [800, 110]
    "static/contrib/VehicleDetection/vehicle_yolov3_darknet.yml",  # _READER_ ../../configs/
}
# fluid's optimizer classes (what ppdet's getattr(fluid.optimizer, type) gave) -> paddle_lr's.
FLUID_OPTIMIZERS = {"MomentumOptimizer": "Momentum", "SGDOptimizer": "SGD", "RMSPropOptimizer": "RMSProp",
                    "AdamOptimizer": "Adam"}


def _records(name):
    return fluid185kit.load("ppdet", name)["configs"]


PUBLISHED = _records("configs.json")
WRITTEN = _records("cases.json")
ALL = [(STATIC, rel, rec) for rel, rec in sorted(PUBLISHED.items())] + \
      [(CASES, rel, rec) for rel, rec in sorted(WRITTEN.items())]


def params(sample_only=False):
    rows = []
    for root, rel, rec in ALL:
        slow = sample_only and root is STATIC and rel not in SAMPLE
        rows.append(pytest.param(root / rel, rec, id=f"{root.name}/{rel}", marks=[pytest.mark.slow] if slow else []))
    return rows


def load(path):
    """The cfg, and the warnings other than the skipped-sections line."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        cfg = config.load_config(path)
    return cfg, [str(w.message) for w in seen if w.category is not ppdet.ConfigWarning]


def test_every_published_config_is_recorded():
    """The fixture's configs are the recording's, and PaddleDetection's own code built every one."""
    found = sorted(str(p.relative_to(STATIC)) for p in STATIC.rglob("*.yml")
                   if any(line.startswith("LearningRate:") for line in p.read_text().splitlines()))
    assert found == sorted(PUBLISHED)
    assert len(found) == 158
    refused = {rel: rec["error"] for rel, rec in PUBLISHED.items() if "error" in rec}
    assert refused == {}


def test_defaults_are_paddle_detections():
    """:data:`ppdet.DEFAULTS` is the published optimizer.py's ``__init__`` defaults, class by class."""
    tree = ast.parse((STATIC / "static" / "ppdet" / "optimizer.py").read_text())
    published = {}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
        names = [a.arg for a in init.args.args[1:]]
        defaults = [_default(d) for d in init.args.defaults]
        published[cls.name] = dict(zip(names, [ppdet._REQUIRED] * (len(names) - len(defaults)) + defaults))
    assert ppdet.DEFAULTS == published
    assert set(ppdet.SCHEDULERS) == set(published) - {"LearningRate", "OptimizerBuilder"}


def _default(node):
    """A published default: a literal, ``1. / 3``, or ``[PiecewiseDecay(), LinearWarmup()]`` (tags with no arguments)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return _default(node.left) / _default(node.right)
    if isinstance(node, ast.List) and all(isinstance(e, ast.Call) and not e.args for e in node.elts) and node.elts:
        return [ppdet.Tagged(e.func.id, None) for e in node.elts]
    return ast.literal_eval(node)


@pytest.mark.parametrize("path, rec", params())
def test_loads_with_paddle_detections_optimizer(path, rec):
    """Every config loads, and the cfg's optimizer is the one PaddleDetection's OptimizerBuilder built."""
    cfg, _ = load(path)
    expected = rec["optimizer"]
    assert cfg.optimizer == FLUID_OPTIMIZERS[expected["type"]]
    assert cfg.max_iter == (rec["max_iters"] if rec["max_iters"] is not None else config.cfg.max_iter)
    paddle.enable_static()
    try:
        main, startup = paddle.static.Program(), paddle.static.Program()
        with paddle.utils.unique_name.guard(), paddle.static.program_guard(main, startup):
            lr = config.build_static_lr(cfg)
            paddle.static.nn.fc(paddle.static.data("x", [None, 2], "float32"), 1)
            opt = config.build_optimizer(cfg, lr)
    finally:
        paddle.disable_static()
    got = {name: getattr(opt, "_" + name) for name in expected["settings"]}
    assert got == pytest.approx(expected["settings"]), path
    if cfg.optimizer == "Momentum":  # fused into the momentum op
        coeff = opt._regularization_coeff
    else:
        coeff = opt.regularization._coeff if opt.regularization is not None else 0.0
    assert coeff == (expected["regularizer"]["coeff"] if expected["regularizer"] else 0.0)
    clip = expected["grad_clip"]
    if clip is None:
        assert opt._grad_clip is None
    else:
        assert isinstance(opt._grad_clip, paddle.nn.ClipGradByGlobalNorm)
        assert opt._grad_clip.clip_norm == clip["clip_norm"]


@pytest.mark.parametrize("path, rec", params(sample_only=True))
def test_lr_is_paddle_detections(path, rec):
    """The lr graph at the recorded steps: fluid 1.8.5's bits (3.x: the absolute contract where exp/cos/pow are)."""
    cfg, _ = load(path)
    steps = np.asarray(rec["steps"])
    expected = fluid185kit.decode_bits(rec["lr"])
    begin = counter_begin(cfg.schedule)
    paddle.enable_static()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScheduleWarning)
            r = StaticRunner(lambda: config.build_static_lr(cfg))
        got, previous = [], None
        for step in steps + begin:
            if previous is None or step != previous + 1:
                r.jump_to(int(step))
            got.append(r.run([r.outputs])[0][0])
            previous = step
    finally:
        paddle.disable_static()
    got = np.asarray(got, dtype=np.float32)
    if IS_2X or not kernels_of(cfg.schedule):
        error = mismatch(f"{path.name} lr", steps, got, expected)
    else:
        peak = np.float32(max(_lrs(cfg.schedule)))
        off = np.abs(got.astype(np.float64) - expected.view(np.float32).astype(np.float64))
        bound = ABSOLUTE_ULP * float(np.spacing(peak))
        bad = np.flatnonzero(off > bound)
        error = None if bad.size == 0 else (
            f"{path.name} lr: {bad.size} of {len(steps)} steps off by more than {ABSOLUTE_ULP} ulp of {peak!r}; "
            f"first at step {int(steps[bad[0]])}: got {got[bad[0]]!r}, expected "
            f"{expected[bad[0]:bad[0] + 1].view(np.float32)[0]!r}")
    assert error is None, error


def _lrs(spec):
    """The lrs a spec names (its base lr and values, inner specs too): its peak is the max."""
    args = spec["args"]
    found = [v for k in ("learning_rate", "start_lr", "end_lr") if isinstance(v := args.get(k), float)]
    found += list(args.get("values", []))
    if isinstance(args.get("learning_rate"), dict):
        found += _lrs(args["learning_rate"])
    return found


def test_milestones_out_of_order_warn_once_and_run_as_fluid():
    """[800, 110]: fluid's Switch never takes the second case; one warning line names it."""
    path = STATIC / "static/configs/ppyolo/ppyolo_roadsign_kunlun.yml"
    cfg, seen = load(path)
    assert seen == [f"{path}: LearningRate.schedulers[0] !PiecewiseDecay.milestones: not increasing, got "
                    "[800, 110]: [1]=110 never fires (fluid's Switch takes the first case that holds); "
                    "built as [800]"]
    inner = cfg.schedule["args"]["learning_rate"]["args"]
    assert inner["boundaries"] == [800]
    assert inner["values"] == [0.0001, 0.0001 * (0.1 / 10)]  # base_lr, then the last value, base_lr * gamma / 10


def test_only_that_config_warns():
    """The other published configs load without a schedule warning."""
    warned = [rel for rel in PUBLISHED if load(STATIC / rel)[1]]
    assert warned == ["static/configs/ppyolo/ppyolo_roadsign_kunlun.yml"]


# -- the tools take any of them: a sample of each kind ------------------------------------------

TOOL_SAMPLE = [
    "static/configs/efficientdet_d0.yml",  # !CosineDecayWithSkip
    "static/configs/anchor_free/cornernet_squeeze_hg104.yml",  # Adam
    "static/configs/yolov4/yolov4_cspdarknet_coco.yml",  # clip_grad_by_norm
    "static/slim/nas/blazeface.yml",  # RMSPropOptimizer
    "static/configs/ppyolo/ppyolo_roadsign_kunlun.yml",  # milestones [800, 110]
]


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ppdet.ConfigWarning)
        warnings.simplefilter("ignore", ScheduleWarning)
        return fn(*args)


@pytest.mark.parametrize("rel", TOOL_SAMPLE)
def test_show_lr_plot_lr_warmup_calc(rel, capsys):
    from paddle_lr.tools import plot_lr, show_lr, warmup_calc

    path = str(STATIC / rel)
    cfg, _ = load(path)
    assert _quiet(show_lr.main, ["-c", path, "--steps", "1200"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("1200 steps"), out[-1]
    assert _quiet(plot_lr.main, ["-c", path, "--table"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith(f"{pathlib.Path(rel).stem}: {cfg.max_iter} iterations")
    # The same dataset and batch as the recipe's (the cfg's, 1 image): the same iterations back.
    assert _quiet(warmup_calc.main, ["-c", path, "--images", "1000", "--ref-images", "1000", "--batch", "1",
                                     "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert (plan["max_iter"], plan["warm_up_iter"]) == (cfg.max_iter, config.warmup_iters(cfg))
    assert plan.get("lr_steps", []) == [b for b, _ in config.boundary_marks(cfg)]


@pytest.mark.parametrize("rel, flags", [
    ("static/configs/anchor_free/cornernet_squeeze_hg104.yml", []),
    ("static/configs/yolov4/yolov4_cspdarknet_coco.yml", []),
    ("static/slim/nas/blazeface.yml", ["--dygraph"]),
], ids=["adam", "clip", "rmsprop-dygraph"])
def test_train_takes_them(rel, flags, tmp_path):
    """tools/train.py trains a few iterations with the config's optimizer; the logged lr is its reference."""
    from paddle_lr.tools import train

    extra = ["generate_shapes=true", "shapes_train_images=12", "shapes_val_images=3", "image_size=32",
             "im_per_batch=2", "max_iter=6", "snapshot_iter=3", f"dataset_dir={tmp_path / 'data'}"]
    path = str(STATIC / rel)
    assert _quiet(train.main, ["-c", path, "-o", *extra, "--output", str(tmp_path / "out"), *flags]) == 0
    cfg = _quiet(demo_keys.load_config, path, extra)
    logged = [json.loads(line)["lr"] for line in trainkit.read_lines(tmp_path / "out" / "train_log.jsonl")]
    assert logged == [float(v) for v in config.reference_lr(cfg, np.arange(6))]


@pytest.mark.parametrize("clip", [None, "its own"], ids=["no-clip", "clip"])
def test_clip_grad_by_norm_clips(clip, static_mode):
    """A published config's clip_grad_by_norm (yolov4: 10.0) clips the update by the global norm, on either IR.

    The optimizer, decay and schedule are overridden to plain SGD at lr 0.1 so the update of two
    steps is ``-0.2 * g * min(1, clip / |g|)``, with ``g`` the known gradient of ``sum(fc(x))``
    (global norm about 68).
    """
    overrides = ["optimizer=SGD", "weight_decay=0",
                 "schedule={fn: piecewise_decay, args: {boundaries: [100], values: [0.1, 0.01]}}"]
    if clip is None:
        overrides.append("clip_grad_by_norm=null")
    cfg = _quiet(config.load_config, str(STATIC / "static/configs/yolov4/yolov4_cspdarknet_coco.yml"), overrides)
    x = np.arange(12, dtype=np.float32).reshape(4, 3) * 2

    def body():
        lr = config.build_static_lr(cfg)
        out = paddle.static.nn.fc(paddle.static.data("x", [4, 3], "float32"), 1)
        config.build_optimizer(cfg, lr).minimize(paddle.sum(out))
        return sorted(p.name for p in paddle.static.default_main_program().global_block().all_parameters()
                      if p.name.startswith("fc"))

    r = StaticRunner(body)
    b_name, w_name = r.outputs  # fc_0.b_0, fc_0.w_0
    before = r.tensor(w_name), r.tensor(b_name)
    for _ in range(2):
        r.run([], feed={"x": x})
    g_w, g_b = x.astype(np.float64).sum(axis=0).reshape(3, 1), np.full([1], 4.0)
    norm = float(np.sqrt((g_w ** 2).sum() + (g_b ** 2).sum()))
    scale = 1.0 if clip is None else min(1.0, cfg.clip_grad_by_norm / norm)
    assert cfg.clip_grad_by_norm == (None if clip is None else 10.0) and norm > 10.0
    np.testing.assert_allclose(r.tensor(w_name) - before[0], -0.2 * scale * g_w, rtol=1e-5)
    np.testing.assert_allclose(r.tensor(b_name) - before[1], -0.2 * scale * g_b, rtol=1e-5)

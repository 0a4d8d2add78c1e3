"""Record PaddleDetection's own learning rate of every static config, on fluid 1.8.5.

    GLOG_minloglevel=2 python3.8 tools/fluid18/record_ppdet.py --out DIR [--only CONFIG ...]

Runs on Python 3.5-3.8 with paddlepaddle 1.8.5 (which brings PyYAML) and
nothing of this project (never imports paddle_lr). PaddleDetection's code is
run as published, from ``tests/data/ppdet_static/`` (see its README): its
``static/ppdet/core/workspace.py`` reads each config (``load_config``, with its
``_READER_`` include), its ``create`` makes the ``LearningRate`` and the
``OptimizerBuilder``, and ``static/ppdet/optimizer.py``'s classes build the lr
and the optimizer in a fluid 1.8.5 program, as ``tools/train.py`` of
PaddleDetection's static era did. Only the package's ``__init__`` files are
not run (they import the whole model zoo, and ``ppdet.data`` imports
pycocotools): the modules named above are loaded from their files; tags of the
reader and model sections (``!COCODataSet`` ...), which those modules do not
register, are read as inert placeholders, as nothing here builds them.

Writes ``DIR/ppdet/``:

* ``configs.json``: for each config with a ``LearningRate`` section (its path
  under ``tests/data/ppdet_static/``): the optimizer ppdet built (class,
  arguments, regularizer, gradient clip), ``max_iters``, the sampled
  ``steps`` and the lr's float32 bits at them (``fluid18io``); or the error
  ppdet's code raised.
* ``cases.json``: the same for the configs of ``tests/data/ppdet_cases/``
  (written for this project, not PaddleDetection's: the scheduler tags and
  defaults no published config uses).
* ``family_traces.json``: the lr at every step of a few short
  ``CosineDecayWithSkip`` schedules, in the format of
  ``tests/data/family_traces.json`` (``cosine_decay_with_skip``'s golden cases).

The lr at step ``s`` is the ``s``-th run of the program (0 is the first). The
steps are sampled (warmup, every milestone and its neighbours, the decay
horizon, the end, and evenly spaced ones): between runs that are not
consecutive the decay counter ``@LR_DECAY_COUNTER@`` is set to ``s - 1``, so
the next run reads ``s``; every lr graph here is a function of the counter.
"""
import argparse
import glob
import os
import sys
import traceback
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOPIC = "ppdet"
EVEN = 64  # evenly spaced steps over the whole schedule
RAMP = 24  # evenly spaced steps over a warmup or a decay horizon

sys.path.insert(0, HERE)
import fluid18common  # noqa: E402  (first: it pins MKL's code path before Paddle loads)
import fluid18io  # noqa: E402

import paddle  # noqa: E402
import paddle.fluid as fluid  # noqa: E402
import yaml  # noqa: E402

STATIC = os.path.join(fluid18common.DATA, "ppdet_static")
CASES = os.path.join(fluid18common.DATA, "ppdet_cases")


def import_ppdet():
    """PaddleDetection's workspace and optimizer modules, loaded from the fixture's files."""
    for name, folder in (("ppdet", "ppdet"), ("ppdet.core", os.path.join("ppdet", "core"))):
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(STATIC, "static", folder)]
        sys.modules[name] = package
    import importlib

    workspace = importlib.import_module("ppdet.core.workspace")
    optimizer = importlib.import_module("ppdet.optimizer")
    return workspace, optimizer


class Unbuilt(object):
    """A tag of a section nothing here builds (a reader's or model's): kept inert."""

    def __init__(self, tag):
        self.tag = tag


yaml.add_multi_constructor("!", lambda loader, suffix, node: Unbuilt(suffix), Loader=yaml.Loader)


def reset(workspace):
    """The workspace as right after import: the registered modules' schemas, no values."""
    config = workspace.global_config
    for key in list(config):
        if isinstance(config[key], workspace.SchemaDict):
            dict.clear(config[key])
        else:
            del config[key]


def sample_steps(schedulers, max_iters):
    """The steps to record for a LearningRate's schedulers and the config's max_iters."""
    picked = set([0, 1, 2])
    horizon = [max_iters or 0]

    def around(step):
        picked.update(s for s in (step - 1, step, step + 1) if s >= 0)

    def ramp(end):
        picked.update(int(round(x)) for x in np.linspace(0, end, RAMP))
        around(end)
        horizon.append(end)

    for sched in schedulers:
        name = type(sched).__name__
        if name == "PiecewiseDecay":
            for m in sched.milestones:
                around(int(m))
                horizon.append(int(m))
        elif name == "LinearWarmup":
            ramp(int(sched.steps))
        elif name == "CosineDecay":
            ramp(int(sched.max_iters))
        elif name == "CosineDecayWithSkip":
            ramp(int(sched.total_steps))
            if sched.skip_steps:
                around(int(sched.skip_steps))
        elif name in ("PolynomialDecay", "ExponentialDecay"):
            ramp(int(sched.max_iter))
    end = max(horizon) + 1
    if max_iters:
        around(int(max_iters))
    picked.update(int(round(x)) for x in np.linspace(0, end, EVEN))
    return sorted(picked)


def described(value):
    """A Python value as plain JSON data (numbers, strings, lists, dicts)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [described(v) for v in value]
    if isinstance(value, dict):
        return dict((str(k), described(v)) for k, v in value.items())
    return type(value).__name__


def optimizer_record(opt, param):
    """What ppdet's OptimizerBuilder built: the fluid optimizer's class and settings."""
    out = {"type": type(opt).__name__}
    settings = {}
    for attr in ("_momentum", "_rho", "_epsilon", "_centered", "_beta1", "_beta2", "_lazy_mode",
                 "_use_nesterov"):
        if hasattr(opt, attr):
            settings[attr.lstrip("_")] = described(getattr(opt, attr))
    out["settings"] = settings
    reg = opt.regularization
    out["regularizer"] = None if reg is None else {
        "type": type(reg).__name__, "coeff": float(reg._regularization_coeff)}
    clip = getattr(param, "gradient_clip_attr", None)
    out["grad_clip"] = None if clip is None else {
        "type": type(clip).__name__, "clip_norm": float(clip.clip_norm)}
    return out


def record_one(workspace, path):
    """The record of one config: the optimizer, the steps and the lr bits, or ppdet's error."""
    reset(workspace)
    try:
        config = workspace.load_config(path)
        lr_builder = workspace.create("LearningRate")
        opt_builder = workspace.create("OptimizerBuilder")
        max_iters = config.get("max_iters")
        steps = sample_steps(lr_builder.schedulers, max_iters)
        main, startup = fluid.Program(), fluid.Program()
        with fluid.program_guard(main, startup), fluid.unique_name.guard():
            lr = lr_builder()
            x = fluid.data("x", [None, 2], "float32")
            fluid.layers.fc(x, 1)
            param = main.global_block().all_parameters()[0]
            opt = opt_builder(lr)
    except Exception as exc:  # what ppdet's code refuses is part of the record
        last = traceback.extract_tb(sys.exc_info()[2])[-1]
        where = "%s:%d" % (os.path.relpath(last[0], STATIC), last[1]) if last[0].startswith(STATIC) else "-"
        return {"error": "%s: %s (%s)" % (type(exc).__name__, " ".join(str(exc).split()), where)}
    place = fluid.CPUPlace()
    exe = fluid.Executor(place)
    scope = fluid.Scope()
    values = []
    with fluid.scope_guard(scope):
        exe.run(startup)
        previous = -1
        for step in steps:
            if step != previous + 1:
                scope.find_var(fluid18common.COUNTER).get_tensor().set(np.array([step - 1], dtype=np.int64), place)
            out, = exe.run(main, feed={"x": np.zeros([1, 2], "float32")}, fetch_list=[lr],
                           use_program_cache=True)
            values.append(np.asarray(out, dtype=np.float32).reshape(-1)[0])
            previous = step
    return {"max_iters": described(max_iters), "optimizer": optimizer_record(opt, param),
            "steps": steps, "lr": fluid18io.encode_bits(np.array(values, dtype=np.float32))}


def configs_with_lr(root):
    """The YAML files under ``root`` with a top-level LearningRate section, sorted."""
    found = []
    for path in glob.glob(os.path.join(root, "**", "*.yml"), recursive=True):
        with open(path) as f:
            if any(line.startswith("LearningRate:") for line in f):
                found.append(path)
    return sorted(found)


def family_traces(optimizer):
    """Every step of short CosineDecayWithSkip schedules, built by ppdet's class alone."""
    cases = []
    for base_lr, total, skip, n in ((0.16, 300, 30, 330), (0.1, 200, None, 220), (0.05, 1000, 999, 1003)):
        main, startup = fluid.Program(), fluid.Program()
        with fluid.program_guard(main, startup), fluid.unique_name.guard():
            lr = optimizer.CosineDecayWithSkip(total, skip)(base_lr)
        exe = fluid.Executor(fluid.CPUPlace())
        with fluid.scope_guard(fluid.Scope()):
            exe.run(startup)
            bits = [int(np.asarray(exe.run(main, fetch_list=[lr], use_program_cache=True)[0],
                                   dtype=np.float32).view(np.uint32)[0]) for _ in range(n)]
        trace = [[i, b] for i, b in enumerate(bits) if i == 0 or b != bits[i - 1]]
        name = "ppdet_cosine_decay_with_skip_%d_%s" % (total, skip)
        args = {"learning_rate": base_lr, "total_steps": total, "skip_steps": skip}
        cases.append({"name": name, "schedule": {"fn": "cosine_decay_with_skip", "args": args},
                      "steps": n, "trace": trace})
    source = "PaddleDetection static/ppdet/optimizer.py CosineDecayWithSkip on paddlepaddle %s" % paddle.__version__
    return {"source": source, "cases": cases}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="writes OUT/%s/" % TOPIC)
    parser.add_argument("--only", nargs="*", default=None,
                        help="record only these configs (paths under tests/data/ppdet_static/)")
    args = parser.parse_args(argv)
    workspace, optimizer = import_ppdet()
    out = fluid18common.make_folder(args.out, TOPIC)
    for name, root in (("configs.json", STATIC), ("cases.json", CASES)):
        records = {}
        for path in configs_with_lr(root):
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if args.only is not None and rel not in args.only:
                continue
            records[rel] = record_one(workspace, path)
        fluid18io.write_json(os.path.join(out, name), dict(fluid18common.header(), configs=records))
    fluid18io.write_json(os.path.join(out, "family_traces.json"), dict(fluid18common.header(), **family_traces(optimizer)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

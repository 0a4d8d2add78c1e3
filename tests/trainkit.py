"""Helpers shared by the training, snapshot and fault tests: tiny runs and exact comparisons."""
import json
import os
import pathlib

import numpy as np
import paddle

import paddle_lr
import paddle_lr.demo.fault
from paddle_lr.config import schedule_args
from paddle_lr.demo.keys import load_config

REPO = pathlib.Path(__file__).resolve().parent.parent
CONFIG = REPO / "configs" / "shapes_demo.yml"
TRAIN_PY = REPO / "tools" / "train.py"

# A run of a few seconds: 8 iterations of 2 images of 32 px; warmup over
# iterations 0-3, boundaries at 5 and 7, a snapshot every 2 iterations.
TINY = [
    "generate_shapes=true",
    "shapes_train_images=12",
    "shapes_val_images=3",
    "image_size=32",
    "im_per_batch=2",
    "max_iter=8",
    "warm_up_iter=4",
    "lr_steps=[5,7]",
    "snapshot_iter=2",
]


def tiny_overrides(dataset_dir, *extra):
    """The tiny overrides with a dataset directory and any extra ``KEY=VALUE``."""
    return [*TINY, f"dataset_dir={dataset_dir}", *extra]


def tiny_config(dataset_dir, *extra):
    """The validated cfg of :func:`tiny_overrides`."""
    return load_config(CONFIG, tiny_overrides(dataset_dir, *extra))


def train_args(dataset_dir, output, *flags, extra=()):
    """``tools/train.py`` arguments for a tiny run."""
    return ["-c", str(CONFIG), "-o", *tiny_overrides(dataset_dir, *extra), "--output", str(output), *flags]


def subprocess_env(**extra):
    """The environment of a tool subprocess: the repo importable, Paddle quiet."""
    env = dict(os.environ, GLOG_minloglevel="2", PYTHONPATH=str(REPO))
    env.pop(paddle_lr.demo.fault.ENV, None)
    env.update(extra)
    return env


def read_lines(path):
    """The raw lines of a log file (exact text, for exact comparisons)."""
    return pathlib.Path(path).read_text(encoding="utf-8").splitlines(keepends=True)


def expected_lrs(config, iterations):
    """``lr_at`` of the cfg at each iteration, as Python floats."""
    return [float(paddle_lr.lr_at(i, **schedule_args(config))) for i in iterations]


def load_state(directory):
    """Every array and scheduler entry of a snapshot, by ``file:name``."""
    out = {}
    for name in ("model.pdparams", "model.pdopt"):
        for key, value in paddle.load(str(pathlib.Path(directory) / name), return_numpy=True).items():
            out[f"{name}:{key}"] = value
    return out


def same_state(a, b):
    """The keys whose values differ in dtype, shape or bits (empty when identical)."""
    differ = sorted(set(a) ^ set(b))
    for key in sorted(set(a) & set(b)):
        x, y = a[key], b[key]
        if isinstance(x, np.ndarray):
            if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
                differ.append(key)
        elif x != y:
            differ.append(key)
    return differ


def manifest(directory):
    """A snapshot's manifest."""
    return json.loads((pathlib.Path(directory) / "manifest.json").read_text())


def reference_runs(tmp_path_factory):
    """One uninterrupted tiny run per mode through ``tools/train.py``'s main.

    Returns:
        tuple: ``(dataset directory, {(): static output, ("--dygraph",): dygraph output})``.
    """
    from paddle_lr.tools import train as train_tool

    dataset = tmp_path_factory.mktemp("data") / "shapes"
    out = {}
    for flags in ((), ("--dygraph",)):
        output = tmp_path_factory.mktemp("run")
        assert train_tool.main(train_args(dataset, output, *flags)) == 0
        out[flags] = output
    return dataset, out

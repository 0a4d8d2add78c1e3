"""The cfg: R-CNN training defaults, YAML configs with overrides, and builders.

``cfg`` holds the defaults of the fluid R-CNN recipe (:mod:`.keys`, one table of
default, rule and unit per key). :func:`load_config` reads a YAML file (safely:
plain data only) over those defaults, applies ``KEY=VALUE`` overrides and
validates every key (:mod:`.loading`); PaddleDetection's static-graph configs
(a ``LearningRate:`` section) are read too (:mod:`.ppdet`). The schedule is the
R-CNN one of the ``learning_rate`` ... ``lr_impl`` keys, or any of fluid's
in-graph family and their compositions under the ``schedule`` key.
:func:`build_static_lr`, :func:`build_lr_scheduler` (and :func:`build_lr`, which
picks one by Paddle's mode) and :func:`build_optimizer` turn a cfg into the
schedule and the optimizer (:mod:`.build`), as the original training scripts did by hand::

    cfg = load_config("configs/rcnn_1x.yml", ["max_iter=1000"])
    lr = build_lr(cfg)                   # static: the in-graph lr tensor
    optimizer = build_optimizer(cfg, lr)

Batch scaling (``total_batch``, ``scale_for_batch``) lives in
:mod:`paddle_lr.planning`, which builds on this package.
"""
from .keys import KEYS, AttrDict, KeyTable, cfg, defaults
from .loading import load_config, validate
from . import build
from .build import *  # noqa: F401,F403  (the builders: build.__all__)

__all__ = ["AttrDict", "KeyTable", "cfg", "defaults", "KEYS", "load_config", "validate", *build.__all__]

"""The cfg: R-CNN training defaults, YAML configs with overrides, and builders.

``cfg`` holds the defaults of the fluid R-CNN recipe (:mod:`.keys`, one table of
default, rule and unit per key). :func:`load_config` reads a YAML file (safely:
plain data only) over those defaults, applies ``KEY=VALUE`` overrides and
validates every key (:mod:`.loading`). :func:`build_lr` and
:func:`build_optimizer` turn a cfg into the schedule and the optimizer
(:mod:`.build`), as the original training scripts did by hand::

    cfg = load_config("configs/rcnn_1x.yml", ["max_iter=1000"])
    lr = build_lr(cfg)                   # static: the in-graph lr tensor
    optimizer = build_optimizer(cfg, lr)

Batch scaling (:func:`total_batch`, :func:`scale_for_batch`) lives in
:mod:`paddle_lr.planning`.
"""
from .keys import KEYS, AttrDict, cfg
from .loading import load_config, validate
from .build import build_lr, build_optimizer, schedule_args
from ..planning import scale_for_batch, total_batch

__all__ = [
    "AttrDict",
    "cfg",
    "KEYS",
    "load_config",
    "validate",
    "schedule_args",
    "total_batch",
    "scale_for_batch",
    "build_lr",
    "build_optimizer",
]

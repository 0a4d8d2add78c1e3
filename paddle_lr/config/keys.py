"""The cfg's key table: the default, the rule and the unit of every key, in one place.

``KEYS`` is the one source of the cfg: :mod:`paddle_lr.config.loading`
validates with its rules, the defaults ``cfg`` come from it, and the README and
the tools describe keys from it. Plain data: this module does not import Paddle.
"""
import copy
import functools

from .. import rules
from ..schedules.lowerings import IMPLS

__all__ = ["AttrDict", "KEYS", "cfg"]


class AttrDict(dict):
    """A dict whose keys are also attributes (``cfg.learning_rate``)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value


_real = rules.real
_int = rules.integer


def _optional(rule):
    """A rule that also accepts None."""
    return lambda key, value: None if value is None else rule(key, value)


_ITERS = rules.MAX_ITERATIONS  # 10**8 iterations: max_iter, lr_steps entries, warm_up_iter, snapshot_iter
_F32 = rules.FLOAT32_MAX  # reals the graph holds stay finite in float32 (also checked for each derived lr)

# key: (default, rule, unit and meaning). The one table of the cfg: defaults,
# validation and the docs (README, tools, docs/config.md) come from here. The
# upper limits (rules.MAX_*) are the ranges a run can use; their units are
# those of the key (iterations, pixels, images, devices).
KEYS = {
    # -- schedule --
    "learning_rate": (0.01, functools.partial(_real, low=0.0, low_open=True, high=_F32),
                      "lr after warmup, at the reference batch (per iteration)"),
    "max_iter": (180000, functools.partial(_int, low=1, high=_ITERS), "training length, iterations"),
    "warm_up_iter": (500, functools.partial(_real, low=0.0, high=_ITERS),
                     "linear warmup length, iterations (0: none; may be fractional)"),
    "warm_up_factor": (1.0 / 3.0, functools.partial(_real, low=0.0, high=_F32),
                       "lr multiplier at iteration 0 of the warmup (1: no warmup)"),
    # At most rules.MAX_BOUNDARIES (1000) entries, each at most 10**8 iterations.
    "lr_steps": ([120000, 160000],
                 functools.partial(rules.increasing_steps, high=_ITERS, max_count=rules.MAX_BOUNDARIES),
                 "iterations (absolute, counted from 0) at which lr is multiplied by lr_gamma"),
    "lr_gamma": (0.1, functools.partial(_real, low=0.0, low_open=True, high=_F32), "lr factor per lr_steps entry"),
    # Its count against lr_steps is checked in validate().
    "lr_values": (None, _optional(functools.partial(rules.piecewise_values, high=_F32)),
                  "explicit lr per segment, len(lr_steps) + 1 (null: learning_rate * lr_gamma**i)"),
    "lr_impl": ("switch", lambda k, v: rules.choice(k, v, IMPLS),
                "graph lowering: switch (the original Switch graph) or branchless"),
    # -- optimizer --
    "momentum": (0.9, functools.partial(_real, low=0.0, high=1.0, high_open=True), "momentum factor"),
    "weight_decay": (1e-4, functools.partial(_real, low=0.0, high=_F32), "L2 decay coefficient"),
    # -- batch and its scaling --
    # Batch sizes and devices: at most rules.MAX_BATCH (4096) each.
    "im_per_batch": (1, functools.partial(_int, low=1, high=rules.MAX_BATCH), "images per device per iteration"),
    "num_devices": (1, functools.partial(_int, low=1, high=rules.MAX_BATCH),
                    "devices (GPUs or processes) in data parallel; the launcher's count wins"),
    "ref_batch_size": (8, functools.partial(_int, low=1, high=rules.MAX_BATCH),
                       "total batch (devices x im_per_batch) the lr and iterations were tuned for"),
    "scale_lr_by_batch": (False, rules.boolean,
                          "multiply learning_rate by total batch / ref_batch_size (linear scaling rule)"),
    "scale_iters_by_batch": (False, rules.boolean,
                             "multiply warm_up_iter, lr_steps, max_iter, snapshot_iter by "
                             "ref_batch_size / total batch (same epochs)"),
    "scaled_for_batch": (None, _optional(functools.partial(_int, low=1)),
                         "total batch scale_for_batch applied the scaling for (set by it; null: not "
                         "scaled yet, and scaling twice is an error)"),
    # -- data --
    "dataset_dir": (None, rules.optional_text,
                    "COCO-format root: <dir>/<split>/ images, <dir>/annotations/instances_<split>.json"),
    "train_split": ("train", rules.optional_text, "training split name"),
    "val_split": ("val", rules.optional_text, "evaluation split name"),
    # Images: a dataset at most rules.MAX_IMAGES (10**9); the generated shapes splits 10**6 each.
    "dataset_images": (None, _optional(functools.partial(_int, low=1, high=rules.MAX_IMAGES)),
                       "training images, for epochs in the tools (null: count the annotations)"),
    "generate_shapes": (False, rules.boolean,
                        "write the synthetic shapes dataset to dataset_dir when it is missing"),
    "shapes_train_images": (512, functools.partial(_int, low=1, high=rules.MAX_IMAGES // 1000),
                            "shapes dataset: training images"),
    "shapes_val_images": (128, functools.partial(_int, low=1, high=rules.MAX_IMAGES // 1000),
                          "shapes dataset: validation images"),
    # -- model and run --
    # Pixels: at most rules.MAX_IMAGE_SIZE (2048).
    "image_size": (128, functools.partial(_int, low=32, high=rules.MAX_IMAGE_SIZE),
                   "input side, pixels (images are resized)"),
    "snapshot_iter": (10000, functools.partial(_int, low=1, high=_ITERS), "iterations between snapshots"),
    # numpy's seeding takes at most 2**32 - 1 (rules.MAX_SEED).
    "seed": (0, functools.partial(_int, low=0, high=rules.MAX_SEED), "random seed (parameters and data order)"),
}

cfg = AttrDict({key: copy.deepcopy(spec[0]) for key, spec in KEYS.items()})
"""The R-CNN defaults. ``load_config`` returns a validated copy; this one is never changed."""

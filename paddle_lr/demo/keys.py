"""The demo's cfg keys and limits: its data, its detector and its run.

The library's key table (:data:`paddle_lr.config.KEYS`) holds the schedule,
optimizer, batch and planning keys; the demo trainer and the tools read a cfg
of both, :data:`KEYS` here, with :func:`load_config` (the library's loader given
this table), so that every key is still checked by its rule and a bad one is one
line naming it.
"""
import functools
import os
from typing import Optional, Sequence, Union

from .. import rules
from ..config import KEYS as LIBRARY_KEYS
from ..config import AttrDict, KeyTable, defaults
from ..config import load_config as load_with

__all__ = ["MIN_IMAGE_SIZE", "MAX_IMAGE_SIZE", "MAX_SPLIT_IMAGES", "MAX_SEED", "MAX_ANNOTATION_BYTES",
           "DEMO_KEYS", "KEYS", "cfg", "load_config"]

MIN_IMAGE_SIZE = 32
"""The smallest input side of the demo detector, pixels."""
MAX_IMAGE_SIZE = 2048
"""The largest input side of the demo detector, pixels."""
MAX_SPLIT_IMAGES = rules.MAX_IMAGES // 1000
"""The most images of a split of the generated shapes dataset."""
MAX_SEED = 2 ** 32 - 1
"""The largest random seed numpy's legacy seeding accepts (``paddle.seed`` takes it too)."""
MAX_ANNOTATION_BYTES = 4 * 2 ** 30
"""The largest COCO annotation file read, bytes (COCO 2017's train annotations are 448 MiB)."""

_int = rules.integer
_split_images = functools.partial(_int, low=1, high=MAX_SPLIT_IMAGES)

# key: (default, rule, unit and meaning), as the library's table.
DEMO_KEYS: KeyTable = {
    # -- data --
    "dataset_dir": (None, rules.optional_text,
                    "COCO-format root: <dir>/<split>/ images, <dir>/annotations/instances_<split>.json"),
    "train_split": ("train", rules.optional_text, "training split name"),
    "val_split": ("val", rules.optional_text, "evaluation split name"),
    "generate_shapes": (False, rules.boolean,
                        "write the synthetic shapes dataset to dataset_dir when it is missing"),
    "shapes_train_images": (512, _split_images, "shapes dataset: training images"),
    "shapes_val_images": (128, _split_images, "shapes dataset: validation images"),
    # -- model and run --
    "image_size": (128, functools.partial(_int, low=MIN_IMAGE_SIZE, high=MAX_IMAGE_SIZE),
                   "input side, pixels (images are resized)"),
    "seed": (0, functools.partial(_int, low=0, high=MAX_SEED), "random seed (parameters and data order)"),
}
"""The demo's own keys (the data, the detector's input, the run's seed)."""

KEYS: KeyTable = {**LIBRARY_KEYS, **DEMO_KEYS}
"""The demo's cfg: the library's keys and its own."""

cfg = defaults(KEYS)
"""The demo's defaults. :func:`load_config` returns a validated copy; this one is never changed."""


def load_config(path: Optional[Union[str, os.PathLike]] = None, overrides: Sequence[str] = ()) -> AttrDict:
    """:func:`paddle_lr.config.load_config` over the demo's key table (:data:`KEYS`).

    Args:
        path (str, optional): a YAML mapping of cfg keys (or a PaddleDetection static config).
        overrides (sequence of str): ``KEY=VALUE`` items.

    Returns:
        AttrDict: a validated copy of the cfg.
    """
    return load_with(path, overrides, keys=KEYS)

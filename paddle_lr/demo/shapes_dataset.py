"""A small synthetic detection dataset in COCO format: coloured shapes on noise.

Each image holds 1 to 4 objects of three classes (rectangle, ellipse,
triangle) in colours that do not depend on the class, on a noisy background,
so a detector has to learn the outline. Everything is drawn from
``numpy.random.default_rng([seed, split, index])``: the same arguments give
the same PNG and JSON bytes on every machine.

Layout, as :class:`paddle_lr.data.CocoDetection` reads it::

    <root>/train/000000.png ...
    <root>/val/000000.png ...
    <root>/annotations/instances_train.json
    <root>/annotations/instances_val.json
"""
import json
import os
import pathlib
import shutil

import numpy as np
from PIL import Image, ImageDraw

from .. import rules

__all__ = ["CLASSES", "SPLITS", "is_complete", "make_shapes", "ensure_shapes"]

CLASSES = ("rectangle", "ellipse", "triangle")
SPLITS = ("train", "val")

# Saturated colours, far from the grey backgrounds and from each other.
_PALETTE = np.array(
    [(230, 40, 40), (40, 200, 60), (50, 80, 230), (240, 200, 30), (200, 50, 210), (30, 200, 210)],
    dtype=np.int64,
)
# Objects span this fraction of the image side; smaller ones fall below the
# detector's stride, larger ones leave no room for a second object.
_MIN_SIDE, _MAX_SIDE = 0.18, 0.45
# A new object may overlap the earlier ones by at most this IoU.
_MAX_IOU = 0.1
_PLACEMENT_TRIES = 30


def _iou(a, b):
    ax0, ay0, aw, ah = a
    bx0, by0, bw, bh = b
    iw = max(0.0, min(ax0 + aw, bx0 + bw) - max(ax0, bx0))
    ih = max(0.0, min(ay0 + ah, by0 + bh) - max(ay0, by0))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


def _draw_image(rng, size):
    """One image (uint8 HxWx3) and its objects as ``(class index, [x, y, w, h])``."""
    grey = int(rng.integers(60, 170))
    noise = rng.normal(0.0, 18.0, size=(size, size, 3))
    canvas = Image.fromarray(np.clip(grey + noise, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    objects = []
    for _ in range(int(rng.integers(1, 5))):
        for _ in range(_PLACEMENT_TRIES):
            w = int(rng.integers(int(_MIN_SIDE * size), int(_MAX_SIDE * size) + 1))
            h = int(rng.integers(int(_MIN_SIDE * size), int(_MAX_SIDE * size) + 1))
            x = int(rng.integers(0, size - w + 1))
            y = int(rng.integers(0, size - h + 1))
            box = [x, y, w, h]
            if all(_iou(box, other) <= _MAX_IOU for _, other in objects):
                break
        else:
            continue
        label = int(rng.integers(0, len(CLASSES)))
        colour = tuple(int(c) for c in _PALETTE[rng.integers(0, len(_PALETTE))])
        # PIL's outline boxes include their last pixel: [x, x + w - 1] is w pixels wide.
        x1, y1 = x + w - 1, y + h - 1
        if CLASSES[label] == "rectangle":
            draw.rectangle([x, y, x1, y1], fill=colour)
        elif CLASSES[label] == "ellipse":
            draw.ellipse([x, y, x1, y1], fill=colour)
        else:
            draw.polygon([(x, y1), (x1, y1), ((x + x1) / 2.0, y)], fill=colour)
        objects.append((label, box))
    pixels = np.asarray(canvas).astype(np.float64) + rng.normal(0.0, 8.0, size=(size, size, 3))
    return np.clip(pixels, 0, 255).astype(np.uint8), objects


def _write_split(root, split, split_index, count, size, seed):
    image_dir = root / split
    image_dir.mkdir(parents=True)
    images, annotations = [], []
    for index in range(count):
        rng = np.random.default_rng([seed, split_index, index])
        pixels, objects = _draw_image(rng, size)
        file_name = f"{index:06d}.png"
        with rules.naming(image_dir / file_name) as path:
            Image.fromarray(pixels).save(path, compress_level=6)
        images.append(dict(id=index + 1, file_name=file_name, width=size, height=size))
        for label, (x, y, w, h) in objects:
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=index + 1,
                    category_id=label + 1,
                    bbox=[float(x), float(y), float(w), float(h)],
                    area=float(w * h),
                    iscrowd=0,
                )
            )
    categories = [dict(id=i + 1, name=name, supercategory="shape") for i, name in enumerate(CLASSES)]
    coco = dict(images=images, annotations=annotations, categories=categories)
    with rules.naming(root / "annotations" / f"instances_{split}.json") as path, \
            open(path, "w", encoding="utf-8") as f:
        json.dump(coco, f)


def is_complete(root, splits=SPLITS):
    """Whether ``root`` holds the annotation file of every split.

    Args:
        root (str or Path): a dataset root.
        splits (sequence of str): the split names.

    Returns:
        bool: True when ``<root>/annotations/instances_<split>.json`` exists for each split.
    """
    root = pathlib.Path(root)
    return all((root / "annotations" / f"instances_{split}.json").is_file() for split in splits)


def make_shapes(root, train=512, val=128, size=128, seed=0):
    """Write the shapes dataset to ``root``, all at once.

    The files are written to a temporary sibling directory that is renamed to
    ``root`` at the end, so ``root`` is either absent or complete. When another
    process renamed its own copy first, that copy (byte-identical for the same
    arguments) is kept.

    Args:
        root (str or Path): the dataset root; must not exist yet.
        train (int): training images (>= 1).
        val (int): validation images (>= 1).
        size (int): image side in pixels (>= 32).
        seed (int): the random seed (>= 0).

    Returns:
        pathlib.Path: ``root``.

    Raises:
        ConfigError: an argument breaks its rule, or ``root`` exists and is not
            a complete dataset.
        OSError: a file cannot be written (no space, read-only, permission),
            naming it; the temporary directory is removed.
    """
    train = rules.integer("train", train, low=1)
    val = rules.integer("val", val, low=1)
    size = rules.integer("size", size, low=32)
    seed = rules.integer("seed", seed, low=0)
    root = pathlib.Path(root)
    if root.exists():
        if is_complete(root):
            return root
        raise rules.ConfigError(f"dataset_dir: {root} exists but is not a complete dataset; remove it")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = root.parent / f".{root.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        (tmp / "annotations").mkdir(parents=True)
        for split_index, (split, count) in enumerate(zip(SPLITS, (train, val))):
            _write_split(tmp, split, split_index, count, size, seed)
    except BaseException:  # a full disk, Ctrl-C: no half-written copy left beside root
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        os.rename(tmp, root)
    except OSError:
        if not is_complete(root):
            raise
        shutil.rmtree(tmp)
    return root


def ensure_shapes(config):
    """The dataset root of a cfg, written first when ``generate_shapes`` asks for it.

    Args:
        config (AttrDict): a validated cfg; reads ``dataset_dir``, ``generate_shapes``,
            ``train_split``, ``val_split``, ``shapes_train_images``,
            ``shapes_val_images``, ``image_size`` and ``seed``.

    Returns:
        pathlib.Path: the dataset root.

    Raises:
        ConfigError: ``dataset_dir`` is unset, or the dataset is missing and
            ``generate_shapes`` is off.
    """
    if config.dataset_dir is None:
        raise rules.ConfigError("dataset_dir: must be set to a COCO-format dataset root, got None")
    root = pathlib.Path(config.dataset_dir)
    splits = (config.train_split, config.val_split)
    if is_complete(root, splits):
        return root
    if not config.generate_shapes:
        raise rules.ConfigError(
            f"dataset_dir: {root} has no annotations/instances_<split>.json for splits "
            f"{list(splits)}; set generate_shapes: true to write the shapes dataset there"
        )
    if splits != SPLITS:
        raise rules.ConfigError(
            f"train_split/val_split: the shapes dataset has splits {list(SPLITS)}, got {list(splits)}"
        )
    return make_shapes(
        root,
        train=config.shapes_train_images,
        val=config.shapes_val_images,
        size=config.image_size,
        seed=config.seed,
    )

"""COCO-format detection data for the demo detector, with a stateless batch order.

:class:`CocoDetection` loads a split into memory (images resized to a square
side, normalised, CHW float32) together with the detector's dense training
targets. :func:`batch_indices` gives the images of iteration ``i`` as a pure
function of ``(seed, i)``: a run resumed at any iteration reads the same
batches as an uninterrupted one, with no sampler state to save.
"""
import pathlib

import numpy as np
from PIL import Image

from .. import rules
from .keys import MAX_ANNOTATION_BYTES

__all__ = ["CocoDetection", "batch_indices", "shard"]

# Per-channel normalisation of 0..1 pixels; the shapes images are mid-grey on average.
_MEAN = np.float32(0.5)
_STD = np.float32(0.25)
# The heatmap Gaussian's sigma is this fraction of the box side (in grid cells).
_SIGMA_FRACTION = 1.0 / 6.0
_MIN_SIGMA = 0.5


def _read_image(path, image_size):
    """An image as float32 RGB pixels in [0, 1] resized to ``image_size``, and its scale; one line on failure."""
    with rules.open_regular("dataset_dir", path) as f:  # missing, a FIFO, a directory: one line
        try:
            with Image.open(f) as im:
                im = im.convert("RGB")
                sx, sy = im.width / image_size, im.height / image_size
                if im.size != (image_size, image_size):
                    im = im.resize((image_size, image_size), Image.BILINEAR)
                pixels = np.asarray(im, dtype=np.float32) / np.float32(255)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:  # not an image, a broken one
            raise rules.ConfigError(f"dataset_dir: {path} is not a readable image ({rules.one_line(exc)})") from None
    return pixels, sx, sy


class CocoDetection:
    """One split of a COCO-format dataset, in memory, with CenterNet targets.

    Args:
        root (str or Path): the dataset root (``<root>/<split>/`` images,
            ``<root>/annotations/instances_<split>.json``).
        split (str): the split name.
        image_size (int): the square input side, pixels.
        stride (int): the output stride of the detector (targets live on an
            ``image_size / stride`` grid).

    Attributes:
        images (ndarray): float32 ``[N, 3, S, S]``.
        image_ids (list[int]): COCO image ids, in order.
        scales (ndarray): float32 ``[N, 2]``, original width and height over ``image_size``.
        category_ids (list[int]): COCO category ids; label ``k`` is ``category_ids[k]``.
        annotation_file (pathlib.Path): the split's JSON file.
    """

    def __init__(self, root, split, image_size, stride):
        root = pathlib.Path(root)
        self.annotation_file = root / "annotations" / f"instances_{split}.json"
        coco = rules.read_json("dataset_dir", self.annotation_file, max_bytes=MAX_ANNOTATION_BYTES)
        lists = ("images", "annotations", "categories")
        if not isinstance(coco, dict) or not all(isinstance(coco.get(k), list) for k in lists):
            raise rules.ConfigError(
                f"dataset_dir: {self.annotation_file} must be a COCO annotation file with {', '.join(lists)} lists"
            )
        if not coco["images"] or not coco["categories"]:
            raise rules.ConfigError(f"dataset_dir: {self.annotation_file} lists no images or no categories (an empty split)")
        if image_size % stride:
            raise rules.ConfigError(f"image_size: must be a multiple of {stride}, got {image_size}")
        self.image_size, self.stride = image_size, stride
        self.category_ids = sorted(c["id"] for c in coco["categories"])
        label_of = {cid: k for k, cid in enumerate(self.category_ids)}
        records = sorted(coco["images"], key=lambda r: r["id"])
        self.image_ids = [r["id"] for r in records]
        boxes = {r["id"]: [] for r in records}
        for ann in coco["annotations"]:
            if not ann.get("iscrowd", 0):
                boxes[ann["image_id"]].append((label_of[ann["category_id"]], ann["bbox"]))
        self.images = np.empty((len(records), 3, image_size, image_size), dtype=np.float32)
        self.scales = np.empty((len(records), 2), dtype=np.float32)
        grid = image_size // stride
        self.heat = np.zeros((len(records), len(self.category_ids), grid, grid), dtype=np.float32)
        self.reg = np.zeros((len(records), 4, grid, grid), dtype=np.float32)
        self.mask = np.zeros((len(records), 1, grid, grid), dtype=np.float32)
        for n, record in enumerate(records):
            path = root / split / record["file_name"]
            pixels, sx, sy = _read_image(path, image_size)
            self.images[n] = ((pixels - _MEAN) / _STD).transpose(2, 0, 1)
            self.scales[n] = (sx, sy)
            for label, (x, y, w, h) in boxes[record["id"]]:
                self._add_target(n, label, x / sx, y / sy, w / sx, h / sy)

    def _add_target(self, n, label, x, y, w, h):
        """Draw one box into the targets of image ``n`` (box in input pixels)."""
        s = self.stride
        cx, cy = (x + w / 2.0) / s, (y + h / 2.0) / s
        grid = self.heat.shape[-1]
        ix, iy = min(int(cx), grid - 1), min(int(cy), grid - 1)
        sigma_x = max(w / s * _SIGMA_FRACTION, _MIN_SIGMA)
        sigma_y = max(h / s * _SIGMA_FRACTION, _MIN_SIGMA)
        gx = np.arange(grid, dtype=np.float64) - ix
        gy = np.arange(grid, dtype=np.float64) - iy
        gauss = np.exp(-(gx[None, :] ** 2) / (2 * sigma_x ** 2) - (gy[:, None] ** 2) / (2 * sigma_y ** 2))
        self.heat[n, label] = np.maximum(self.heat[n, label], gauss.astype(np.float32))
        # The peak cell is exactly 1: the focal loss treats it as the positive.
        self.heat[n, label, iy, ix] = 1.0
        self.reg[n, :, iy, ix] = (cx - ix, cy - iy, np.log(w / s), np.log(h / s))
        self.mask[n, 0, iy, ix] = 1.0

    def __len__(self):
        return len(self.image_ids)

    @property
    def num_classes(self):
        """The number of categories.

        Returns:
            int: ``len(category_ids)``.
        """
        return len(self.category_ids)

    def batch(self, indices):
        """The inputs and targets of some images.

        Args:
            indices (array of int): positions in the split.

        Returns:
            dict: ``image``, ``heat``, ``reg``, ``mask`` float32 arrays, batch first.
        """
        return dict(image=self.images[indices], heat=self.heat[indices], reg=self.reg[indices],
                    mask=self.mask[indices])


def batch_indices(seed, iteration, batch_size, num_images):
    """The images of one iteration: epoch after epoch of seeded permutations.

    Sample ``p`` of the run (``p = iteration * batch_size + k``) is element
    ``p % num_images`` of the permutation of epoch ``p // num_images``, drawn
    from ``numpy.random.default_rng([seed, epoch])``.

    Args:
        seed (int): the run's seed (>= 0).
        iteration (int): the iteration, counted from 0.
        batch_size (int): images per iteration over all devices.
        num_images (int): images in the split.

    Returns:
        ndarray: ``batch_size`` int64 positions in the split.
    """
    positions = np.arange(iteration * batch_size, (iteration + 1) * batch_size, dtype=np.int64)
    epochs = positions // num_images
    out = np.empty(batch_size, dtype=np.int64)
    for epoch in np.unique(epochs):
        order = np.random.default_rng([seed, int(epoch)]).permutation(num_images)
        pick = epochs == epoch
        out[pick] = order[positions[pick] % num_images]
    return out


def shard(indices, rank, world_size):
    """The part of a global batch that one data-parallel replica reads.

    Args:
        indices (ndarray): the global batch, ``world_size * per_device`` entries.
        rank (int): this replica, in ``[0, world_size)``.
        world_size (int): the number of replicas.

    Returns:
        ndarray: the contiguous slice ``rank`` of ``world_size`` equal slices.
    """
    per_device = len(indices) // world_size
    return indices[rank * per_device:(rank + 1) * per_device]

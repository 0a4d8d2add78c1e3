"""Counting the images of a COCO-format annotation file, for epochs in the tools."""
import os

from .. import rules
from .keys import MAX_ANNOTATION_BYTES

__all__ = ["count_images", "train_annotations"]


def count_images(path, name="ann"):
    """The number of entries in a COCO annotation file's ``images`` list.

    Plain ``json`` rather than ``pycocotools.COCO``: only the count is needed,
    and ``COCO`` indexes every annotation and prints progress to stdout.

    Args:
        path (str): a COCO-format JSON file.
        name (str): the argument or key naming the file, for the message.

    Returns:
        int: the number of images.

    Raises:
        ConfigError: one line when the file cannot be read, is not JSON or has no ``images`` list.
    """
    data = rules.read_json(name, path, max_bytes=MAX_ANNOTATION_BYTES)
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list):
        raise rules.ConfigError(f"{name}: {path} has no 'images' list, not a COCO annotation file")
    return len(images)


def train_annotations(config):
    """Where a cfg's training annotations are: ``<dataset_dir>/annotations/instances_<train_split>.json``.

    Args:
        config (AttrDict): a validated cfg.

    Returns:
        str or None: the path, or None when ``dataset_dir`` is not set.
    """
    if config.dataset_dir is None:
        return None
    return os.path.join(config.dataset_dir, "annotations", f"instances_{config.train_split}.json")

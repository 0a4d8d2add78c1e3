"""Moving a schedule between datasets and batch sizes at constant epochs.

A recipe tuned as ``ref_warmup_iter`` iterations of ``ref_batch`` images on a
``ref_images``-image dataset covers ``ref_warmup_iter * ref_batch / ref_images``
epochs; on ``images`` images at ``batch`` the same epochs take::

    iters = ref_iters * ref_batch * images / (ref_images * batch)

computed exactly (fractions) and rounded to the nearest iteration only at the
end, half up (:func:`convert_iters`, which :func:`scale_for_batch` uses too). Rounding the
epochs first loses iterations: COCO17's 4000 warmup iterations at batch 64 are
2.1642 epochs, 768 iterations on 22720 images at batch 64, where 2.16 epochs
would be 767.
"""
import copy
import math
from fractions import Fraction

from typing import Any, Dict, Mapping, Optional, Sequence

from . import rules
from .config.keys import KEYS, AttrDict
from .config.loading import validate

__all__ = ["epochs_of", "convert_iters", "plan_schedule", "total_batch", "scale_for_batch"]


def _nearest(x):
    return math.floor(x + Fraction(1, 2))


def convert_iters(iters: float, ref_batch: int, batch: int, ref_images: int = 1, images: int = 1) -> int:
    """Iterations at ``batch`` on ``images`` images covering the epochs of ``iters`` at the reference.

    Args:
        iters (float or int): reference iterations (fractional warmups allowed).
        ref_batch (int): the reference total batch.
        batch (int): the target total batch.
        ref_images (int): the reference dataset size (the same dataset by default).
        images (int): the target dataset size.

    Returns:
        int: ``iters * ref_batch * images / (ref_images * batch)``, computed
        exactly and rounded to the nearest iteration, half up.
    """
    return _nearest(Fraction(iters) * Fraction(ref_batch, ref_images) * Fraction(images, batch))


def epochs_of(iters: float, images: int, batch: int) -> float:
    """The epochs that ``iters`` iterations of ``batch`` images make on ``images`` images.

    Args:
        iters (float or int): iterations (>= 0; fractional warmups allowed).
        images (int): dataset size (>= 1).
        batch (int): total images per iteration (>= 1).

    Returns:
        float: ``iters * batch / images``.
    """
    iters = rules.real("iters", iters, low=0.0)
    # the config's limits (rules.MAX_*), on what is given and on what is computed
    images = rules.integer("images", images, low=1, high=rules.MAX_IMAGES)
    batch = rules.integer("batch", batch, low=1, high=rules.MAX_BATCH)
    return float(Fraction(iters) * batch / images)


def plan_schedule(images: int, batch: int, *, ref_images: Optional[int] = None, ref_batch: Optional[int] = None,
                  ref_warmup_iter: Optional[float] = None, warmup_epochs: Optional[float] = None,
                  lr_steps: Optional[Sequence[int]] = None, max_iter: Optional[int] = None) -> Dict[str, Any]:
    """The warmup (and decay steps, training length) for a dataset and batch, at constant epochs.

    The warmup comes either from a reference recipe (``ref_warmup_iter`` with
    ``ref_images`` and ``ref_batch``) or directly in epochs (``warmup_epochs``).
    ``lr_steps`` and ``max_iter`` are in the reference recipe's iterations and
    need ``ref_images`` and ``ref_batch``.

    Args:
        images (int): the target dataset's training images (>= 1).
        batch (int): the target total batch, images per iteration (>= 1).
        ref_images (int, optional): the reference dataset's training images.
        ref_batch (int, optional): the reference total batch.
        ref_warmup_iter (float, optional): the reference warmup, iterations (>= 0).
        warmup_epochs (float, optional): the warmup in epochs (>= 0), instead of ``ref_warmup_iter``.
        lr_steps (list[int], optional): the reference decay steps, strictly increasing.
        max_iter (int, optional): the reference training length, iterations.

    Returns:
        dict: ``images``, ``batch``, ``warm_up_iter`` (int, nearest) and
        ``warmup_epochs`` (float, exact before rounding); with ``lr_steps``, also
        ``lr_steps`` (list[int]) and ``lr_steps_epochs`` (list[float]); with
        ``max_iter``, also ``max_iter`` (int) and ``max_iter_epochs`` (float).
    """
    # the config's limits (rules.MAX_*), on what is given and on what is computed
    images = rules.integer("images", images, low=1, high=rules.MAX_IMAGES)
    batch = rules.integer("batch", batch, low=1, high=rules.MAX_BATCH)
    source = rules.exactly_one({"ref_warmup_iter": ref_warmup_iter, "warmup_epochs": warmup_epochs})
    # The first argument given that is in reference iterations (or is half of the reference).
    by = next((name for name, value in (
        ("ref_warmup_iter", ref_warmup_iter), ("lr_steps", lr_steps), ("max_iter", max_iter),
        ("ref_images", ref_images), ("ref_batch", ref_batch)) if value is not None), None)
    if by is not None:
        ref_images = rules.integer("ref_images", rules.required_with("ref_images", ref_images, by), low=1,
                                   high=rules.MAX_IMAGES)
        ref_batch = rules.integer("ref_batch", rules.required_with("ref_batch", ref_batch, by), low=1,
                                  high=rules.MAX_BATCH)
        epochs_per_ref_iter = Fraction(ref_batch, ref_images)
    iters_per_epoch = Fraction(images, batch)

    if source == "ref_warmup_iter":
        epochs = Fraction(rules.real("ref_warmup_iter", ref_warmup_iter, low=0.0,
                                     high=rules.MAX_ITERATIONS)) * epochs_per_ref_iter
    else:
        epochs = Fraction(rules.real("warmup_epochs", warmup_epochs, low=0.0, high=rules.MAX_ITERATIONS))
    warm_up_iter = rules.integer("warm_up_iter (converted)", _nearest(epochs * iters_per_epoch),
                                 high=rules.MAX_ITERATIONS)
    plan: Dict[str, Any] = dict(images=images, batch=batch, warm_up_iter=warm_up_iter, warmup_epochs=float(epochs))
    if lr_steps is not None:
        step_epochs = [s * epochs_per_ref_iter for s in rules.increasing_steps("lr_steps", lr_steps)]
        plan["lr_steps"] = rules.increasing_steps(
            "lr_steps (converted)", [_nearest(e * iters_per_epoch) for e in step_epochs], high=rules.MAX_ITERATIONS
        )
        plan["lr_steps_epochs"] = [float(e) for e in step_epochs]
    if max_iter is not None:
        epochs = rules.integer("max_iter", max_iter, low=1) * epochs_per_ref_iter
        plan["max_iter"] = rules.integer("max_iter (converted)", _nearest(epochs * iters_per_epoch), low=1,
                                         high=rules.MAX_ITERATIONS)
        plan["max_iter_epochs"] = float(epochs)
    return plan


def total_batch(config: AttrDict, num_devices: Optional[int] = None) -> int:
    """Images per iteration over all devices.

    Args:
        config (AttrDict): a validated cfg.
        num_devices (int, optional): the devices actually used; ``cfg.num_devices`` by default.

    Returns:
        int: ``num_devices * im_per_batch``.
    """
    return (num_devices or config.num_devices) * config.im_per_batch


def scale_for_batch(config: AttrDict, num_devices: Optional[int] = None) -> AttrDict:
    """Apply the linear scaling switches for the actual total batch.

    With ``scale_lr_by_batch``, ``learning_rate`` (and ``lr_values``) are multiplied
    by ``total / ref_batch_size``; with ``scale_iters_by_batch``, ``warm_up_iter``,
    ``lr_steps``, ``max_iter`` and ``snapshot_iter`` are multiplied by
    ``ref_batch_size / total`` and rounded to the nearest iteration, so that the
    schedule keeps its length in epochs.

    Args:
        config (AttrDict): a validated cfg.
        num_devices (int, optional): the devices actually used; ``cfg.num_devices`` by default.

    Returns:
        AttrDict: a new validated cfg with ``num_devices`` set, the scaling
        applied and ``scaled_for_batch`` set to the total batch (the keys of
        another table, the demo's, as they were).

    Raises:
        ConfigError: the cfg was scaled already (``scaled_for_batch`` is set).
    """
    if config.scaled_for_batch is not None:
        raise rules.ConfigError(
            f"scaled_for_batch: the cfg is already scaled (for a total batch of {config.scaled_for_batch}); "
            "scale the loaded cfg once, got a second scale_for_batch"
        )
    out = AttrDict(copy.deepcopy(dict(config)))
    out.num_devices = num_devices or config.num_devices
    out.scaled_for_batch = total_batch(out)
    ratio = total_batch(out) / out.ref_batch_size
    if out.scale_lr_by_batch:
        out.learning_rate = out.learning_rate * ratio
        if out.lr_values is not None:
            out.lr_values = [v * ratio for v in out.lr_values]
    if out.scale_iters_by_batch:
        def iters(n):
            return max(1, convert_iters(n, out.ref_batch_size, total_batch(out)))

        out.warm_up_iter = iters(out.warm_up_iter) if out.warm_up_iter else 0
        out.lr_steps = [iters(s) for s in out.lr_steps]
        out.max_iter = iters(out.max_iter)
        out.snapshot_iter = iters(out.snapshot_iter)
    # The library's keys checked again; a demo's own keys (paddle_lr.demo.keys) are left as they were.
    return AttrDict({**out, **validate({key: out[key] for key in KEYS})})

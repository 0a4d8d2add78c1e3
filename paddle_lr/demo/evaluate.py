"""Box AP of detections with the COCO API (``pycocotools.cocoeval.COCOeval``)."""
import contextlib
import io

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

__all__ = ["coco_box_ap"]


def coco_box_ap(annotation_file, detections):
    """COCO box AP (IoU .50:.95) and AP50 of a detection list.

    Args:
        annotation_file (str or Path): the split's ``instances_<split>.json``.
        detections (list[dict]): COCO results, each ``image_id``, ``category_id``,
            ``bbox`` ``[x, y, w, h]`` in original pixels, and ``score``.

    Returns:
        dict: ``AP`` and ``AP50`` (floats), ``stats`` (COCOeval's 12 numbers) and
        ``summary`` (COCOeval's printed table). No detections give zeros.
    """
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        ground_truth = COCO(str(annotation_file))
    if not detections:
        return dict(AP=0.0, AP50=0.0, stats=[0.0] * 12, summary="no detections")
    table = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        results = ground_truth.loadRes(detections)
        evaluator = COCOeval(ground_truth, results, "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
    with contextlib.redirect_stdout(table):
        evaluator.summarize()
    stats = [float(s) for s in evaluator.stats]
    return dict(AP=stats[0], AP50=stats[1], stats=stats, summary=table.getvalue().rstrip())

"""A tiny CenterNet-style detector: small enough to train on two CPU cores.

The network maps a ``[B, 3, S, S]`` image to a class heatmap (logits,
``[B, C, S/4, S/4]``) and four regressions per cell (sub-cell centre offset x,
y; log width and height in cells). It is built from ``paddle.nn`` layers, so
the same class serves the static program and dygraph. :func:`centernet_loss`
uses only Paddle ops (both modes); :func:`decode` is numpy, on fetched outputs.
"""
import numpy as np
import paddle
import paddle.nn.functional as F
from paddle import nn

__all__ = ["STRIDE", "TinyCenterNet", "centernet_loss", "decode"]

STRIDE = 4
# Heatmap bias so that the initial score is 0.1 everywhere (focal-loss prior).
_PRIOR_BIAS = float(-np.log((1 - 0.1) / 0.1))
_GROUPS = 8


def _conv(cin, cout, stride):
    return nn.Sequential(
        nn.Conv2D(cin, cout, 3, stride=stride, padding=1, bias_attr=False),
        nn.GroupNorm(_GROUPS, cout),
        nn.ReLU(),
    )


class TinyCenterNet(nn.Layer):
    """Three stride-2 stages, one top-down merge at stride 4, two 1x1 heads.

    Args:
        num_classes (int): heatmap channels.
        width (int): channels of the stride-4 stage (the stride-8 stage has twice as many).
    """

    def __init__(self, num_classes, width=32):
        super().__init__()
        self.stage4 = nn.Sequential(_conv(3, width // 2, 2), _conv(width // 2, width, 2), _conv(width, width, 1))
        self.stage8 = nn.Sequential(_conv(width, 2 * width, 2), _conv(2 * width, 2 * width, 1))
        self.lateral = nn.Conv2D(width, 2 * width, 1)
        self.merge = _conv(2 * width, 2 * width, 1)
        self.heat = nn.Conv2D(
            2 * width, num_classes, 1,
            bias_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(_PRIOR_BIAS)),
        )
        self.reg = nn.Conv2D(2 * width, 4, 1)

    def forward(self, image):
        """Heatmap logits and regressions at stride 4.

        Args:
            image: float32 ``[B, 3, S, S]``.

        Returns:
            tuple: ``(heat_logits [B, C, S/4, S/4], reg [B, 4, S/4, S/4])``.
        """
        c4 = self.stage4(image)
        c8 = self.stage8(c4)
        top = F.interpolate(c8, scale_factor=2, mode="nearest")
        feature = self.merge(paddle.add(top, self.lateral(c4)))
        return self.heat(feature), self.reg(feature)


def centernet_loss(heat_logits, reg, heat, reg_target, mask):
    """Penalty-reduced focal loss on the heatmap plus L1 on the regressions at centres.

    Args:
        heat_logits: predicted logits ``[B, C, G, G]``.
        reg: predicted regressions ``[B, 4, G, G]``.
        heat: target heatmap, 1 exactly at object centres.
        reg_target: target regressions (valid where ``mask`` is 1).
        mask: ``[B, 1, G, G]``, 1 at object centres.

    Returns:
        The float32 scalar loss, normalised by the number of objects.
    """
    # paddle.multiply/add/subtract rather than operators: on Paddle 2.6 static,
    # an operator between two batch-shaped tensors emits a DeprecationWarning.
    num = paddle.clip(paddle.sum(mask), min=1.0)
    pos = paddle.cast(heat >= 1.0, "float32")
    p = F.sigmoid(heat_logits)
    pos_loss = paddle.multiply(paddle.multiply(-F.log_sigmoid(heat_logits), paddle.square(1 - p)), pos)
    neg_weight = paddle.multiply(paddle.pow(1 - heat, 4), 1 - pos)
    neg_loss = paddle.multiply(paddle.multiply(-F.log_sigmoid(-heat_logits), paddle.square(p)), neg_weight)
    focal = paddle.sum(paddle.add(pos_loss, neg_loss)) / num
    l1_per_cell = paddle.sum(paddle.abs(paddle.subtract(reg, reg_target)), axis=1, keepdim=True)
    l1 = paddle.sum(paddle.multiply(l1_per_cell, mask)) / num
    return focal + l1


def decode(heat_logits, reg, scales, max_dets=20, min_score=0.01):
    """Detections from fetched outputs: 3x3 peaks of the heatmap, boxes from the regressions.

    Args:
        heat_logits (ndarray): ``[B, C, G, G]`` logits.
        reg (ndarray): ``[B, 4, G, G]`` regressions.
        scales (ndarray): ``[B, 2]`` original width and height over the input side.
        max_dets (int): the most detections kept per image.
        min_score (float): detections below this score are dropped.

    Returns:
        list[list[tuple]]: per image, ``(label, score, [x, y, w, h])`` in original pixels.
    """
    scores = 1.0 / (1.0 + np.exp(-heat_logits.astype(np.float64)))
    b, c, g, _ = scores.shape
    padded = np.pad(scores, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-1.0)
    local_max = np.max(
        np.stack([padded[:, :, dy:dy + g, dx:dx + g] for dy in range(3) for dx in range(3)]), axis=0
    )
    peaks = np.where(scores >= local_max, scores, 0.0).reshape(b, -1)
    out = []
    for n in range(b):
        top = np.argsort(-peaks[n], kind="stable")[:max_dets]
        dets = []
        for flat in top:
            score = float(peaks[n, flat])
            if score < min_score:
                break
            label, cell = divmod(int(flat), g * g)
            iy, ix = divmod(cell, g)
            dx, dy, lw, lh = (float(v) for v in reg[n, :, iy, ix])
            w, h = np.exp(lw) * STRIDE, np.exp(lh) * STRIDE
            cx, cy = (ix + dx) * STRIDE, (iy + dy) * STRIDE
            sx, sy = float(scales[n, 0]), float(scales[n, 1])
            dets.append((label, score, [(cx - w / 2) * sx, (cy - h / 2) * sy, w * sx, h * sy]))
        out.append(dets)
    return out

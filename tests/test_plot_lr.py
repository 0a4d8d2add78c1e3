"""plot_lr: the segments and the table come from lr_at; the figure is written, also on a log scale."""
import json

import numpy as np
import pytest

from paddle_lr import lr_at
from paddle_lr.config import load_config, schedule_args
from paddle_lr.planning import scale_for_batch
from paddle_lr.planning import epochs_of
from paddle_lr.tools.plot_lr import lr_segments, main

RCNN_1X = "configs/rcnn_1x.yml"


def test_rcnn_1x_segments():
    config = load_config(RCNN_1X)
    steps, lr, segments = lr_segments(config)
    assert np.array_equal(lr, lr_at(steps, **schedule_args(config)))
    assert [(s["start"], s["stop"], s["warmup"]) for s in segments] == [
        (0, 500, True), (500, 120000, False), (120000, 160000, False), (160000, 180000, False)]
    f32 = np.float32
    assert [(s["first"], s["last"]) for s in segments] == [
        (f32(0.01) * f32(1 / 3), lr_at(499, **schedule_args(config))),
        (f32(0.01), f32(0.01)), (f32(0.001), f32(0.001)), (f32(0.0001), f32(0.0001))]


@pytest.mark.filterwarnings("ignore::paddle_lr.ScheduleWarning")  # some cases are doubtful on purpose
@pytest.mark.parametrize(
    "overrides, starts",
    [
        (["warm_up_iter=0"], [0, 120000, 160000]),  # no warmup: no ramp segment
        (["warm_up_iter=12.5"], [0, 13, 120000, 160000]),  # fractional: the ramp covers steps 0-12
        (["warm_up_factor=1"], [0, 500, 120000, 160000]),  # a flat warmup is still the warmup
        (["warm_up_iter=130000"], [0, 130000, 160000]),  # the warmup hides the first decay
        (["lr_steps=[]"], [0, 500]),
        (["lr_values=[0.02,0.02,0.005]"], [0, 500, 160000]),  # equal values: no change at 120000
        (["max_iter=300"], [0]),  # max_iter inside the warmup
    ],
)
def test_segments_start_where_lr_at_changes(overrides, starts):
    config = load_config(RCNN_1X, overrides)
    steps, lr, segments = lr_segments(config)
    assert [s["start"] for s in segments] == starts
    for seg in segments:
        assert seg["first"] == lr[seg["start"]] and seg["last"] == lr[seg["stop"] - 1]
        if not seg["warmup"]:
            assert np.all(lr[seg["start"]:seg["stop"]] == seg["first"])


def test_table(capsys):
    assert main(["-c", RCNN_1X, "--table"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "rcnn_1x: 180000 iterations, total batch 8 = num_devices 8 x im_per_batch 1, "
        "118287 training images",
        "segment  steps            lr                                  epochs",
        "warmup   0-499            0.0033333334 -> 0.009986667         0.0000-0.0338",
        "1        500-119999       0.01                                0.0338-8.1159",
        "2        120000-159999    0.001                               8.1159-10.8211",
        "3        160000-179999    1e-04                               10.8211-12.1738",
    ]
    # Every row is lr_at at the row's first (and, for the ramp, last) step, and its epochs.
    args = schedule_args(load_config(RCNN_1X))
    for line in lines[2:]:
        label, steps, *rest = line.split()
        start, end = map(int, steps.split("-"))
        lrs = [rest[0], rest[2]] if label == "warmup" else [rest[0]]
        assert lrs == [str(lr_at(s, **args)) for s in ((start, end) if label == "warmup" else (start,))]
        assert rest[-1] == f"{epochs_of(start, 118287, 8):.4f}-{epochs_of(end + 1, 118287, 8):.4f}"


def test_batch_scaling_applied(capsys):
    # 4 x 4 images at ref batch 8 with both scalings: lr x2, iterations / 2.
    overrides = ["num_devices=4", "im_per_batch=4", "scale_lr_by_batch=true", "scale_iters_by_batch=true"]
    assert main(["-c", RCNN_1X, "-o", *overrides]) == 0
    assert capsys.readouterr().out.splitlines()[2:] == [
        "warmup   0-249            0.006666667 -> 0.019946666          0.0000-0.0338",
        "1        250-59999        0.02                                0.0338-8.1159",
        "2        60000-79999      0.002                               8.1159-10.8211",
        "3        80000-89999      0.0002                              10.8211-12.1738",
    ]
    scaled = scale_for_batch(load_config(RCNN_1X, overrides))
    assert schedule_args(scaled)["values"][0] == 0.02


def test_epochs_from_annotations(tmp_path, capsys):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances_train.json").write_text(
        json.dumps({"images": [{"id": i} for i in range(80)], "annotations": []}))
    assert main(["-c", RCNN_1X, "-o", "dataset_images=null", f"dataset_dir={tmp_path}"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("80 training images")
    assert lines[2].endswith(f"0.0000-{epochs_of(500, 80, 8):.4f}")


def test_epochs_unknown(capsys):
    assert main(["-c", RCNN_1X, "-o", "dataset_images=null"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("epochs unknown (set dataset_images)")
    assert lines[1].split() == ["segment", "steps", "lr"]


@pytest.mark.parametrize("name, extra", [("lr.png", []), ("lr_log.png", ["--log"]), ("lr.svg", [])])
def test_figure_written(tmp_path, capsys, name, extra):
    out = tmp_path / name
    assert main(["-c", RCNN_1X, "--output", str(out), *extra]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"  # no table unless --table
    data = out.read_bytes()
    assert len(data) > 10000
    assert data.startswith(b"\x89PNG") if name.endswith(".png") else b"<svg" in data[:2000]

"""plot_lr: the segments and the table come from lr_at; the figure is written, also on a log scale."""
import json
import re

import numpy as np
import pytest

from paddle_lr import lr_at
from paddle_lr.config import load_config, reference_lr, schedule_args, warmup_iters
from paddle_lr.planning import epochs_of, scale_for_batch
from paddle_lr.tools.plot_lr import CHUNK, MAX_SEGMENTS, lr_segments, main, scan

RCNN_1X = "configs/rcnn_1x.yml"


def _every_step_segments(lr, warm_steps):
    """The segments as plot_lr cut them before its scan: from the lr of every step, in one array."""
    n = lr.size
    changes = np.zeros(n + 1, dtype=bool)
    changes[1:n] = lr[1:] != lr[:-1]
    bounds = [(0, warm_steps, True)] if warm_steps > 0 else []
    i = warm_steps
    while i < n:
        j = i + 1
        if j < n and changes[j]:
            while j < n and changes[j]:
                j += 1
            if j < n:
                j -= 1
        else:
            while j < n and not changes[j]:
                j += 1
        bounds.append((i, j, False))
        i = j
    return [(start, stop, warmup, lr[start], lr[stop - 1]) for start, stop, warmup in bounds]


def _cut(segments):
    return [(s["start"], s["stop"], s["warmup"], s["first"], s["last"]) for s in segments]


def test_rcnn_1x_segments():
    config = load_config(RCNN_1X)
    segments = lr_segments(config)
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
    segments = lr_segments(config)
    lr = lr_at(np.arange(config.max_iter), **schedule_args(config))
    assert [s["start"] for s in segments] == starts
    for seg in segments:
        assert seg["first"] == lr[seg["start"]] and seg["last"] == lr[seg["stop"] - 1]
        if not seg["warmup"]:
            assert np.all(lr[seg["start"]:seg["stop"]] == seg["first"])


def _spec_config(spec, max_iter, warmup=None):
    if warmup is not None:
        spec = {"fn": "linear_lr_warmup", "args": {"learning_rate": spec, "warmup_steps": warmup,
                                                  "start_lr": 0.0, "end_lr": 0.1}}
    return load_config(RCNN_1X, [f"schedule={json.dumps(spec)}", f"max_iter={max_iter}"])


SCANNED = [
    pytest.param(RCNN_1X, [], id="rcnn_1x"),
    pytest.param(RCNN_1X, ["warm_up_iter=12.5", "lr_steps=[13,14,20]", "lr_values=[1,2,2,3]", "max_iter=40"],
                 id="ewd-steps-right-after-the-warmup"),
    pytest.param({"fn": "exponential_decay", "args": {"learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5,
                                                      "staircase": True}}, 100, id="staircase-of-3"),
    pytest.param({"fn": "polynomial_decay", "args": {"learning_rate": 0.1, "decay_steps": 50}}, (80, 10),
                 id="warmup-then-varying-then-constant"),
    pytest.param({"fn": "cosine_decay", "args": {"learning_rate": 0.1, "step_each_epoch": 1, "epochs": 30}}, 45,
                 id="varying-every-step"),
    pytest.param({"fn": "piecewise_decay", "args": {"boundaries": [1, 2, 4, 5, 7], "values": [3, 2, 1, 1, 2, 3]}},
                 9, id="one-step-pieces"),
]


@pytest.mark.filterwarnings("ignore::paddle_lr.ScheduleWarning")
@pytest.mark.parametrize("source, extra", SCANNED)
@pytest.mark.parametrize("chunk", [1, 2, 7, CHUNK])
def test_scan_cuts_as_every_step_does(source, extra, chunk):
    if isinstance(source, str):
        config = load_config(source, extra)
    else:
        max_iter, warmup = extra if isinstance(extra, tuple) else (extra, None)
        config = _spec_config(source, max_iter, warmup)
    config = scale_for_batch(config)
    if config.max_iter // chunk > 1000:
        pytest.skip("chunks of a few steps over rcnn_1x: 1 s each")
    lr = reference_lr(config, np.arange(config.max_iter))
    warm_steps = min(int(np.ceil(warmup_iters(config))), config.max_iter)
    found = scan(config, draw=True, inset_span=min(config.max_iter, 2 * warm_steps), chunk=chunk, columns=8)
    expected = _every_step_segments(lr, warm_steps)
    assert _cut(found.segments) == expected, f"chunk {chunk}: {_cut(found.segments)} != {expected}"
    assert (found.low, found.high) == (lr.min(), lr.max())
    assert found.first_bad is None and found.more == 0
    for steps, values in [found.curve] + ([found.inset] if found.inset is not None else []):
        assert np.array_equal(values, lr[steps]), "the curve's values are not the reference's at its steps"
        # every column's first, last, lowest and highest step is drawn, and every change point
        stop = int(steps[-1]) + 1
        column = np.arange(stop) * min(8, stop) // stop
        for c in np.unique(column):
            inside = np.flatnonzero(column == c)
            for step in (inside[0], inside[-1], inside[np.argmin(lr[inside])], inside[np.argmax(lr[inside])]):
                assert step in steps, f"column {c}: step {step} (lr {lr[step]}) is not drawn"
        for start, stop_, *_ in expected:
            assert {start, stop_ - 1} & set(range(stop)) <= set(steps.tolist())


def test_more_segments_than_listed(capsys):
    # a staircase of 2 steps: a constant segment every 2 steps, 100 more than the table lists
    spec = {"fn": "exponential_decay", "args": {"learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.99999,
                                                "staircase": True}}
    steps = 2 * (MAX_SEGMENTS + 100)
    assert main(["-c", RCNN_1X, "-o", f"schedule={json.dumps(spec)}", f"max_iter={steps}", "--table"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 + MAX_SEGMENTS + 1
    last = 2 * MAX_SEGMENTS
    assert lines[-1] == (f"... and 100 more segments, steps {last}-{steps - 1} "
                         f"(the table lists {MAX_SEGMENTS} at most)")
    assert lines[-2].split()[:2] == [str(MAX_SEGMENTS), f"{last - 2}-{last - 1}"]


def _columns(lines):
    """Where each column of the table starts, from the header line: (start, stop) of each."""
    starts = [m.start() for m in re.finditer(r"\S+", lines[0])]
    return list(zip(starts, starts[1:] + [None]))


def _assert_aligned(lines):
    header, rule, *rows = lines
    assert set(rule) == {"-"} and len(rule) >= max(len(line) for line in rows)
    columns = _columns([header])
    for row in rows:
        cells = [row[a:b] for a, b in columns]
        assert all(cell == cell.lstrip() and cell.strip() for cell in cells), f"misaligned row: {row!r}"
        assert all(cell.endswith("  ") for cell in cells[:-1]), f"columns run together: {row!r}"
    return [[cell.strip() for cell in (row[a:b] for a, b in columns)] for row in rows]


def test_table(capsys):
    assert main(["-c", RCNN_1X, "--table"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "rcnn_1x: 180000 iterations, total batch 8 = num_devices 8 x im_per_batch 1, "
        "118287 training images",
        "segment  steps          lr                           epochs",
        "--------------------------------------------------------------------",
        "warmup   0-499          0.0033333334 -> 0.009986667  0.0000-0.0338",
        "1        500-119999     0.01                         0.0338-8.1159",
        "2        120000-159999  0.001                        8.1159-10.8211",
        "3        160000-179999  1e-04                        10.8211-12.1738",
    ]
    # Every row is lr_at at the row's first (and, for the ramp, last) step, and its epochs.
    args = schedule_args(load_config(RCNN_1X))
    for label, steps, lr, epochs in _assert_aligned(lines[1:]):
        start, end = map(int, steps.split("-"))
        ends = (start, end) if label == "warmup" else (start,)
        assert lr.split(" -> ") == [str(lr_at(s, **args)) for s in ends]
        assert epochs == f"{epochs_of(start, 118287, 8):.4f}-{epochs_of(end + 1, 118287, 8):.4f}"


def test_table_columns_apart_at_the_longest_cells(capsys):
    # steps of 8 digits and lrs of 8 significant digits: each column as wide as its widest cell
    overrides = ["max_iter=16000000", "lr_steps=[1234567,12345678]", "lr_values=[0.012345678,1.2345678e-05,3e-38]",
                 "dataset_images=null"]
    assert main(["-c", RCNN_1X, "-o", *overrides]) == 0
    rows = _assert_aligned(capsys.readouterr().out.splitlines()[1:])
    assert rows[1:] == [["1", "500-1234566", "0.012345678"], ["2", "1234567-12345677", "1.2345678e-05"],
                        ["3", "12345678-15999999", "3e-38"]]


def test_batch_scaling_applied(capsys):
    # 4 x 4 images at ref batch 8 with both scalings: lr x2, iterations / 2.
    overrides = ["num_devices=4", "im_per_batch=4", "scale_lr_by_batch=true", "scale_iters_by_batch=true"]
    assert main(["-c", RCNN_1X, "-o", *overrides]) == 0
    assert _assert_aligned(capsys.readouterr().out.splitlines()[1:]) == [
        ["warmup", "0-249", "0.006666667 -> 0.019946666", "0.0000-0.0338"],
        ["1", "250-59999", "0.02", "0.0338-8.1159"],
        ["2", "60000-79999", "0.002", "8.1159-10.8211"],
        ["3", "80000-89999", "0.0002", "10.8211-12.1738"],
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
    assert lines[3].endswith(f"0.0000-{epochs_of(500, 80, 8):.4f}")


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


@pytest.mark.slow
@pytest.mark.parametrize("extra", [["--table"], ["--output", "{tmp}/lr.png", "--table"], ["--output", "{tmp}/lr.png", "--log"]],
                         ids=["table", "figure-and-table", "log-figure"])
def test_the_largest_max_iter_stays_under_1_gb(tmp_path, extra):
    """max_iter=10**8, the config's maximum: a child process, killed past 1 GB resident."""
    from paddle_lr.bench.harness import _watched

    args = ["-c", RCNN_1X, "-o", "max_iter=100000000", *[a.format(tmp=tmp_path) for a in extra]]
    code = ("import resource, sys; from paddle_lr.tools.plot_lr import main; status = main(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(status)")
    last, peak_mb, stopped, _ = _watched(f"import sys; sys.argv[1:] = {args!r}; {code}", 1024, 600)
    assert stopped is None, f"plot_lr at max_iter=10**8: {stopped} (peak {peak_mb:.0f} MB)"
    assert int(last) / 1024 < 1024, f"peak resident memory {int(last) / 1024:.0f} MB"

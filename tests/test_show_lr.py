"""show_lr: the original static graph, run step by step, prints and checks every change against lr_at."""
import numpy as np
import pytest

import paddle_lr.tools.show_lr as show_lr
from paddle_lr import lr_at

SHORT = ["-c", "configs/rcnn_1x.yml", "-o", "max_iter=600", "warm_up_iter=50", "lr_steps=[300,500]"]


@pytest.mark.parametrize("impl", ["switch", "branchless"])
def test_short_run_identical(capsys, impl):
    assert show_lr.main([*SHORT, "--impl", impl]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = f"     step  {'graph (' + impl + ')':<20}lr_at               bits"
    rows = [line.split() for line in lines[1:-1] if line.strip() != "..."]
    # The ramp's first and last three steps, then each change, then the last step.
    assert lines[0] == header
    assert [int(r[0]) for r in rows] == [0, 1, 2, 47, 48, 49, 50, 300, 500, 599]
    args = dict(learning_rate=0.01, boundaries=[300, 500], values=[0.01, 0.01 * 0.1, 0.01 * 0.1 ** 2],
                warmup_iter=50, warmup_factor=1 / 3)
    for step, graph, reference, verdict in rows:
        assert graph == reference == str(lr_at(int(step), **args))
        assert verdict == "identical"
    assert lines[-1] == f"600 steps ({impl}): all bit-identical"


def test_steps_limit(capsys):
    assert show_lr.main([*SHORT, "--steps", "40"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == ["0", "1", "2", "...", "37", "38", "39"]
    assert lines[-1] == "40 steps (branchless): all bit-identical"  # the default lowering


def test_a_differing_step_exits_1(capsys, monkeypatch):
    # A reference one ulp off at step 7 must be reported and fail the run.
    reference_lr = show_lr.reference_lr

    def off_at_7(config, steps):
        values = reference_lr(config, steps).copy()
        values[7] = np.nextafter(values[7], np.float32(1))
        return values

    monkeypatch.setattr(show_lr, "reference_lr", off_at_7)
    assert show_lr.main([*SHORT, "--steps", "60"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == ["0", "1", "2", "...", "7", "...", "47", "48", "49",
                                                         "50", "...", "59"]
    assert lines[5].split()[-1] == "DIFFERS"
    assert lines[-1] == "60 steps (branchless): 1 differ, first at step 7"


def test_run_graph_matches_lr_at():
    from paddle_lr.config import load_config, schedule_args

    config = load_config("configs/rcnn_1x.yml", ["warm_up_iter=7.5", "lr_steps=[20,30]", "max_iter=40"])
    got = show_lr.run_graph(config, 40)
    assert got.dtype == np.float32
    assert np.array_equal(got.view(np.uint32), lr_at(np.arange(40), **schedule_args(config)).view(np.uint32))

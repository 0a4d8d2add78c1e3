"""Every tool runs as ``python -m paddle_lr.tools.<tool>``, as ``tools/<tool>.py`` and as ``paddle-lr-<tool>``.

One name per tool: the console script is ``paddle-lr-`` and the module name
with ``-`` for ``_``, and that is also the ``prog`` its usage and error lines
start with.
"""
import os
import pathlib
import pkgutil
import re
import runpy
import sys

import pytest

import paddle_lr.tools

REPO = pathlib.Path(__file__).resolve().parent.parent
TOOLS = sorted(m.name for m in pkgutil.iter_modules(paddle_lr.tools.__path__) if not m.name.startswith("_"))
SETUP = (REPO / "setup.py").read_text()


def script_name(tool):
    return "paddle-lr-" + tool.replace("_", "-")


def test_the_tools_are_found():
    assert {"train", "warmup_calc", "plot_lr", "show_lr", "make_shapes_dataset", "fault_soak"} <= set(TOOLS)


# runpy warns that the module was imported before it is run as __main__ (the test imported the package).
@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")
@pytest.mark.parametrize("tool", TOOLS)
def test_runs_as_a_module_with_its_script_name(tool, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [f"paddle_lr.tools.{tool}", "--help"])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_module(f"paddle_lr.tools.{tool}", run_name="__main__", alter_sys=True)
    out = capsys.readouterr().out
    assert exit_.value.code == 0, out
    assert out.startswith(f"usage: {script_name(tool)} "), out[:200]


@pytest.mark.parametrize("tool", TOOLS)
def test_console_script_in_setup(tool):
    assert f'"{script_name(tool)}=paddle_lr.tools.{tool}:main"' in SETUP


@pytest.mark.parametrize("tool", TOOLS)
def test_checkout_script_is_an_executable_shim(tool):
    path = REPO / "tools" / f"{tool}.py"
    lines = path.read_text().splitlines()
    assert lines == ["#!/usr/bin/env python3", f"from paddle_lr.tools.{tool} import main", "raise SystemExit(main())"]
    assert os.access(path, os.X_OK), f"{path} is not executable (git update-index --chmod=+x)"


def test_earlier_script_names_still_point_at_their_tools():
    earlier = dict(re.findall(r'"(paddle-lr-[a-z-]+)=paddle_lr\.tools\.(\w+):main"', SETUP))
    assert {k: earlier[k] for k in ("paddle-lr-make-shapes", "paddle-lr-plot", "paddle-lr-show")} == {
        "paddle-lr-make-shapes": "make_shapes_dataset", "paddle-lr-plot": "plot_lr", "paddle-lr-show": "show_lr"}

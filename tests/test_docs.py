"""The commands shown in README.md and docs/*.md run as written and print what the docs show.

The convention (CONTRIBUTING.md, "Commands in the docs"):

* In a fenced block, a line ``$ COMMAND`` is a command (a line ending in ``\\``
  continues it); the lines after it, up to the next ``$`` line or the end of the
  block, are its output: stdout and stderr together, as a terminal shows them.
  A line ``...`` stands for any number of lines. A command shown without output
  is only checked to exit 0.
* The commands of one block run in order, in bash, in a fresh copy of the
  repository root (``.venv`` there is the interpreter running the tests), with
  the environment a newcomer has: no ``GLOG_minloglevel``.
* An HTML comment right above the opening fence changes that:
  ``<!-- docs-test: skip (why) -->`` does not run the block,
  ``<!-- docs-test: slow (why) -->`` runs it only under ``-m slow``,
  ``<!-- docs-test: no-compare (why) -->`` runs it but does not compare the output
  (timings, progress bars), and ``<!-- docs-test: python -->`` above a ```` ```python ````
  block runs it, copied as written and with no environment variable, and compares its
  stdout with the next fenced block; its stderr must be empty.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_MARK = re.compile(r"^<!--\s*docs-test:\s*([a-z-]+)\s*(.*?)\s*-->\s*$")
_FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)")
_NOT_COPIED = {".git", ".venv", "docs", "data", "output", ".pytest_cache", "__pycache__"}
_KINDS = ("skip", "slow", "no-compare", "python")


def _blocks(path):
    """Every fenced block of a Markdown file: (first line number, info string, lines, marks)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        marks, j = {}, i - 1
        while j >= 0 and _MARK.match(lines[j]):
            kind, reason = _MARK.match(lines[j]).groups()
            if kind not in _KINDS:
                raise ValueError(f"{path.name}:{j + 1}: unknown docs-test mark {kind!r}, expected one of {_KINDS}")
            marks[kind] = reason
            j -= 1
        end = i + 1
        while end < len(lines) and not lines[end].startswith(fence.group(1)):
            end += 1
        blocks.append((i + 1, fence.group(2), lines[i + 1:end], marks))
        i = end + 1
    return blocks


def _commands(lines):
    """The ``$`` commands of a block with their shown output lines."""
    commands = []
    lines = iter(lines)
    for line in lines:
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\"):
                command += "\n" + next(lines)
            commands.append((command, []))
        elif commands:
            commands[-1][1].append(line)
    return commands


def _cases():
    cases = []
    for path in DOCS:
        blocks = _blocks(path)
        for index, (line, info, lines, marks) in enumerate(blocks):
            name = f"{path.relative_to(REPO)}:{line}"
            if "python" in marks:
                shown = blocks[index + 1][2] if index + 1 < len(blocks) else []
                kind, payload = "python", ("\n".join(lines) + "\n", shown)
            else:
                commands = _commands(lines)
                if not commands:
                    continue
                kind, payload = "shell", commands
            if "skip" in marks:
                cases.append(pytest.param(kind, payload, marks, id=name,
                                          marks=pytest.mark.skip(reason=marks["skip"] or "docs-test: skip")))
            elif "slow" in marks:
                cases.append(pytest.param(kind, payload, marks, id=name, marks=pytest.mark.slow))
            else:
                cases.append(pytest.param(kind, payload, marks, id=name))
    return cases


def _scratch_root(tmp_path):
    """A copy of the repository root as a newcomer has it after the README's setup command."""
    root = tmp_path / "repo"
    root.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in _NOT_COPIED:
            (root / entry.name).symlink_to(entry)
    shutil.copytree(REPO / "docs", root / "docs")
    if sys.prefix != sys.base_prefix:
        (root / ".venv").symlink_to(sys.prefix)
    else:
        (root / ".venv" / "bin").mkdir(parents=True)
        (root / ".venv" / "bin" / "python").symlink_to(sys.executable)
    return root


def _newcomer_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("GLOG_minloglevel", "PADDLE_LR_FAULT_AT")}
    env["PYTHONPATH"] = str(REPO)  # this checkout, also when the venv's editable install is another one
    env.update(extra)
    return env


def _normal(text):
    return [line.rstrip() for line in text.rstrip("\n").splitlines()]


def matches(shown, got):
    """Whether the output lines ``got`` are what the docs show (``...`` = any number of lines)."""
    shown = [line.rstrip() for line in shown]
    while shown and not shown[-1]:
        shown.pop()
    pattern = "".join(r"(?:[^\n]*\n)*?" if line.strip() == "..." else re.escape(line) + r"\n" for line in shown)
    return re.fullmatch(pattern, "".join(line + "\n" for line in got)) is not None


@pytest.mark.parametrize("shown, got, expected", [
    pytest.param(["a", "b"], ["a", "b"], True, id="exact"),
    pytest.param(["a", "b"], ["a", "c"], False, id="differs"),
    pytest.param(["a", "  ...", "z"], ["a", "b", "c", "z"], True, id="ellipsis"),
    pytest.param(["a", "...", "z"], ["a", "z"], True, id="ellipsis-empty"),
    pytest.param(["a", "...", "z"], ["a", "b"], False, id="ellipsis-tail-missing"),
    pytest.param(["a", ""], ["a"], True, id="trailing-blank"),
])
def test_matching_rule(shown, got, expected):
    assert matches(shown, got) is expected


def _check_shell(commands, marks, root):
    for command, shown in commands:
        proc = subprocess.run(["bash", "-c", command], cwd=root, env=_newcomer_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=900)
        got = _normal(proc.stdout)
        assert proc.returncode == 0, f"$ {command}\nexit status {proc.returncode}:\n{proc.stdout[-3000:]}"
        if shown and "no-compare" not in marks:
            assert matches(shown, got), (
                f"$ {command}\n--- shown in the docs\n" + "\n".join(shown) + "\n--- printed\n" + "\n".join(got))


def _check_python(source, shown, root):
    """Copied as written into example.py and run as ``.venv/bin/python example.py`` with no
    GLOG_minloglevel: stdout is the block shown and stderr is empty (no glog line, no warning)."""
    script = root / "example.py"
    script.write_text(source)
    proc = subprocess.run([str(root / ".venv" / "bin" / "python"), str(script)], cwd=root,
                          env=_newcomer_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert matches(shown, _normal(proc.stdout)), proc.stdout
    assert proc.stderr == "", proc.stderr


def _git(*args):
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)


def _tracked_state(root):
    """What ``git status`` would see change: the scratch copy's docs/, its top-level entries that
    git does not ignore, and the checkout's own status (the other entries are links into it)."""
    docs = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "docs").rglob("*"))
            if p.is_file()}
    entries = sorted(e.name for e in root.iterdir() if e.name not in ("example.py", ".venv")
                     and _git("check-ignore", "-q", e.name + ("/" if e.is_dir() else "")).returncode != 0)
    return docs, entries, _git("status", "--porcelain").stdout


@pytest.mark.parametrize("kind, payload, marks", _cases())
def test_doc_commands(kind, payload, marks, tmp_path):
    root = _scratch_root(tmp_path)
    before = _tracked_state(root)
    if kind == "python":
        _check_python(*payload, root)
    else:
        _check_shell(payload, marks, root)
    assert _tracked_state(root) == before, "the commands changed what git tracks (write to output/ instead)"

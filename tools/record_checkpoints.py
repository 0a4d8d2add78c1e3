#!/usr/bin/env python3
"""Record the checkpoint fixtures of the installed Paddle version into tests/data/checkpoints/<version>/.

    .venv/bin/python tools/record_checkpoints.py [--out tests/data/checkpoints]

Run it once with each Paddle (the project records 2.6.2 and 3.3.1); it
replaces only the installed version's directory. It writes, for the tiny
program of ``tests/checkpointkit.py`` under each lowering (``switch``,
``branchless``), trained for 3 runs:

* ``static_save/<lowering>/model.pdparams`` and ``.pdopt``: ``paddle.static.save``
  (the ``.pdmodel``/``.json`` program file is dropped: no loader reads it);
* ``per_variable/<lowering>/<variable>``: fluid's one file per persistable
  (``save_persistables`` on 2.6; on 3.x, where it fails on PIR programs,
  ``paddle.static.save_vars``, which writes the same files);

and two snapshots of a tiny ``tools/train.py`` run (``configs/shapes_demo.yml``
with tests/trainkit.py's overrides and a narrowed detector), taken after
iteration 4: ``snapshot_static/`` and ``snapshot_dygraph/`` (the static one
without its program file, its manifest rewritten to match).

``manifest.json`` records the Paddle version and IR, every saved tensor (dtype,
shape, bytes in hex), the lr of the runs after the checkpoint in the
uninterrupted run (float32 bits), and the uninterrupted trainer logs.
"""
import argparse
import contextlib
import json
import os
import pathlib
import shutil
import sys
import tempfile

os.environ.setdefault("GLOG_minloglevel", "2")
REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import numpy as np  # noqa: E402
import paddle  # noqa: E402

import paddle_lr  # noqa: E402
from paddle_lr.demo import snapshot, train_log  # noqa: E402
from paddle_lr.graph import ir  # noqa: E402
from paddle_lr.tools import train as train_tool  # noqa: E402

import checkpointkit as kit  # noqa: E402
import trainkit  # noqa: E402


def _save_per_variable(program, directory):
    with paddle.static.scope_guard(program.scope):
        if ir.is_pir():
            # paddle.distributed.io.save_persistables fails on a PIR program (no _is_distributed).
            paddle.static.save_vars(program.exe, str(directory), program.main)
        else:
            paddle.distributed.io.save_persistables(program.exe, str(directory), program.main)


def record_programs(out):
    """The load_checkpoint fixtures: both formats, both lowerings."""
    paddle.enable_static()
    lowerings = {}
    for lowering in kit.LOWERINGS:
        program = kit.Program(lowering)
        for step in range(kit.SAVED_AFTER):
            program.run(step)
        saved = program.state()
        prefix = out / "static_save" / lowering / "model"
        paddle_lr.save_checkpoint(program.main, prefix, scope=program.scope)
        for extra in (".pdmodel", ".json"):
            pathlib.Path(f"{prefix}{extra}").unlink(missing_ok=True)
        _save_per_variable(program, out / "per_variable" / lowering)
        lrs = [program.run(step) for step in range(kit.SAVED_AFTER, kit.SAVED_AFTER + kit.RUNS_AFTER)]
        lowerings[lowering] = dict(
            saved={name: kit.encode(array) for name, array in sorted(saved.items())},
            lr_after=[f"{np.float32(lr).view(np.uint32):08x}" for lr in lrs],
        )
    paddle.disable_static()
    return lowerings


def _without_program(directory, manifest):
    """Rewrite a static snapshot without its program file (a snapshot still)."""
    def save(tmp):
        for name in ("model.pdparams", "model.pdopt"):
            shutil.copy2(directory / name, tmp / name)

    snapshot.write_snapshot(directory, manifest["iteration"], manifest["config"], manifest["mode"], save)


def record_snapshots(out):
    """Tiny trainer runs, static and dygraph; their snapshot after iteration 4 and their logs."""
    logs = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp), kit.small_detector():
        for mode, flags in (("static", []), ("dygraph", ["--dygraph"])):
            run = pathlib.Path(tmp) / mode
            args = trainkit.train_args(kit.DATASET, run, *flags)
            if train_tool.main(args) != 0:
                raise SystemExit(f"record_checkpoints: the {mode} run failed")
            target = out / f"snapshot_{mode}"
            shutil.copytree(run / f"snapshot_{kit.SNAPSHOT_AT}", target)
            if mode == "static":
                _without_program(target, snapshot.verify_snapshot(target))
            logs[mode] = [dict(r, lr_bits=f"{np.float32(r['lr']).view(np.uint32):08x}")
                          for r in train_log.read_log(run / "train_log.jsonl")]
    return logs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(kit.FIXTURES), help="fixture root (default: %(default)s)")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out).resolve() / paddle.__version__
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    manifest = dict(
        paddle_version=paddle.__version__,
        ir=ir.ir_name(),
        schedule=kit.SCHEDULE,
        saved_after=kit.SAVED_AFTER,
        lowerings=record_programs(out),
        snapshot_at=kit.SNAPSHOT_AT,
        train_overrides=trainkit.tiny_overrides(kit.DATASET),
        train_logs=record_snapshots(out),
    )
    (out / kit.MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out}: {size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

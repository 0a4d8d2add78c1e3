"""The golden traces are fluid 1.8.5's own: tests/data/fluid185/traces/ against tests/data/*_traces.json.

tools/fluid18/record_traces.py ran every case of the two golden files on fluid
1.8.5 (the seed's Switch graph, fluid.layers' eight schedules) and `.ci/run`
re-records it live. Here every case's recorded lr equals the golden trace at
every step, bit for bit, with the same inputs; so test_family_golden.py, which
holds paddle_lr's lowerings and twins to the golden traces, holds them to fluid
1.8.5 itself.
"""
import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from fluid185kit import FIXTURES, decode_bits, fluid18io, load

DATA = pathlib.Path(__file__).parent / "data"
GOLDEN = {"seed": "fluid_traces.json", "family": "family_traces.json"}


def golden_bits(case, first_step):
    """A golden case's trace expanded to one uint32 per step, from ``first_step``."""
    out = np.empty(case["steps"], dtype=np.uint32)
    trace = case["trace"]
    for i, (first, bits) in enumerate(trace):
        end = trace[i + 1][0] if i + 1 < len(trace) else first_step + case["steps"]
        out[first - first_step:end - first_step] = bits
    return out


def pairs():
    out = []
    for topic, name in GOLDEN.items():
        recorded = {c["name"]: c for c in load("traces", topic + ".json")["cases"]}
        for case in json.loads((DATA / name).read_text())["cases"]:
            out.append(pytest.param(topic, case, recorded.get(case["name"]), id=f"{topic}-{case['name']}"))
    return out


def test_recorded_on_fluid_185():
    assert {load("traces", t + ".json")["paddle"] for t in GOLDEN} == {"1.8.5"}


@pytest.mark.parametrize("topic, golden, recorded", pairs())
def test_golden_is_fluid_185(topic, golden, recorded):
    assert recorded is not None, f"{golden['name']}: not in tests/data/fluid185/traces/{topic}.json"
    assert recorded["steps"] == golden["steps"]
    if topic == "family":
        assert recorded["schedule"] == golden["schedule"]
    else:
        assert [recorded["args"][k] for k in ("learning_rate", "boundaries", "warmup_iter", "warmup_factor")] == \
            [golden[k] for k in ("learning_rate", "lr_steps", "warm_up_iter", "warm_up_factor")]
    first = recorded["first_step"]
    assert first == golden.get("start_step", golden["trace"][0][0])
    got, want = decode_bits(recorded["lr"]), golden_bits(golden, first)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (f"{golden['name']}: {bad.size} of {want.size} steps differ; first at step {first + bad[0]}: "
                           f"fluid 1.8.5 {got[bad[:1]].view(np.float32)[0]!r}, golden {want[bad[:1]].view(np.float32)[0]!r}")


def run_compare(recorded):
    compare = pathlib.Path(__file__).resolve().parents[1] / "tools" / "fluid18" / "compare.py"
    return subprocess.run([sys.executable, str(compare), str(recorded), str(FIXTURES)],
                          capture_output=True, text=True)


def test_compare_same(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "rec")
    done = run_compare(tmp_path / "rec")
    recorded = [p for p in FIXTURES.rglob("*") if p.is_file() and p.relative_to(FIXTURES).as_posix() != "CPU"]
    assert (done.returncode, done.stdout) == (0, f"same: {len(recorded)} files\n")  # CPU: no recorder writes it


def test_compare_names_the_differing_value(tmp_path):
    """One changed bit in one recorded step: one line naming the file, the case's path and the step's index."""
    shutil.copytree(FIXTURES, tmp_path / "rec")
    path = tmp_path / "rec" / "traces" / "seed.json"
    data = json.loads(path.read_text())
    bits = decode_bits(data["cases"][0]["lr"]).copy()
    bits[34] ^= 1
    data["cases"][0]["lr"] = fluid18io.encode_bits(bits)
    path.write_text(json.dumps(data))
    done = run_compare(tmp_path / "rec")
    lines = done.stdout.splitlines()
    assert done.returncode == 1 and len(lines) == 2, done.stdout
    assert lines[0].startswith("differs: traces/seed.json: $.cases[0].lr[34]: recorded "), lines[0]
    assert lines[0].endswith("; 1 of 180000 values differ"), lines[0]

"""The fluid 1.8.5 recordings of tests/data/fluid185/ (written by tools/fluid18/record_*.py), for the tests.

The recordings are decoded with the recorders' own ``fluid18io`` (plain numpy),
so the tests and the recorders read one format.
"""
import importlib.util
import json
import os
import pathlib

# The committed recordings, or (.ci/run, on a CPU of another class than tests/data/fluid185/CPU names)
# those fluid 1.8.5 made on this machine a moment before, laid over a copy of them.
FIXTURES = pathlib.Path(os.environ.get("PADDLE_LR_FLUID185_DIR") or pathlib.Path(__file__).parent / "data" / "fluid185")
_IO = pathlib.Path(__file__).resolve().parents[1] / "tools" / "fluid18" / "fluid18io.py"
_spec = importlib.util.spec_from_file_location("fluid18io", _IO)
fluid18io = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fluid18io)
decode_bits = fluid18io.decode_bits


def load(topic, name):
    """One recording, ``tests/data/fluid185/<topic>/<name>``, as parsed JSON."""
    return json.loads((FIXTURES / topic / name).read_text())

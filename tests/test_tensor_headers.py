"""A tensor file whose header lies is refused in one line before Paddle's reader allocates what it claims.

A per-variable file (and a record of a combined file) starts with a header:
versions, LoD levels, a ``VarType.TensorDesc`` with the dims
(:func:`paddle_lr.graph.ir.tensor_header`). Paddle's reader allocates
``prod(dims)`` elements before reading them; a forged header claiming
terabytes (or a product that overflows int64) would exhaust memory or corrupt
the heap. Each forgery below replaces ``ckpt_fc.w`` of the recorded
per-variable fixture (or is appended to a combined file) and is loaded with
``load_checkpoint`` in a child process under an address-space limit, which
also records its peak memory: the line must name the file, what the header
claims and what the file holds, and the child must never have grown.
"""
import json
import shutil
import struct
import subprocess
import sys

import pytest
from paddle.base.proto import framework_pb2

import checkpointkit as kit
import trainkit

FP32 = framework_pb2.VarType.FP32
#: The child's address-space limit (Paddle imports in well under it; any claim below allocated would fail).
LIMIT = 8 * 2 ** 30
#: How much more the child may have been resident at its peak after the forged loads than after the honest one.
GROWTH = 2 ** 28
#: The honest ckpt_fc.w's data: float32 [3, 2].
DATA = bytes(24)


def record(dims, data=DATA, dtype=FP32, version=0, tensor_version=0, lod=(), levels=None, desc_size=None):
    """A tensor record as Paddle's SerializeToStream writes it, with any field forged."""
    desc = framework_pb2.VarType.TensorDesc(data_type=dtype, dims=list(dims)).SerializeToString()
    out = struct.pack("<IQ", version, len(lod) if levels is None else levels)
    for size in lod:
        out += struct.pack("<Q", size)
    out += struct.pack("<Ii", tensor_version, len(desc) if desc_size is None else desc_size) + desc
    return out + data


HONEST = record([3, 2])
CASES = [pytest.param(data, message, id=name) for name, data, message in [
    ("terabytes", record([2 ** 31, 2 ** 31]),
     "ckpt_fc.w is not a tensor file (its header claims FP32 [2147483648, 2147483648], 18446744073709551650 bytes, "
     "and the file has 58: truncated or damaged)"),
    ("int64-overflow", record([2 ** 62, 4]),
     "ckpt_fc.w is not a tensor file (its header claims FP32 [4611686018427387904, 4], 73786976294838206498 bytes, "
     "and the file has 58: truncated or damaged)"),
    ("sixteen-gib", record([2 ** 32]),
     "ckpt_fc.w is not a tensor file (its header claims FP32 [4294967296], 17179869212 bytes, and the file has 52: "
     "truncated or damaged)"),
    ("negative-dim", record([-1, 2]),
     "ckpt_fc.w is not a tensor file (its header claims the shape [-1, 2])"),
    ("lod-bytes", record([3, 2], lod=[2 ** 60]),
     "ckpt_fc.w is not a tensor file (its LoD claims 1152921504606846976 bytes at byte 20, past the file's 58)"),
    ("lod-levels", record([3, 2], levels=2 ** 62),
     "ckpt_fc.w is not a tensor file (its header claims 4611686018427387904 LoD levels at byte 4, more than "
     "the file's 50 bytes hold)"),
    ("descriptor-size", record([3, 2], desc_size=2 ** 31 - 1),
     "ckpt_fc.w is not a tensor file (the file ends inside its descriptor (byte 20 of 50))"),
    ("descriptor-negative", record([3, 2], desc_size=-6),
     "ckpt_fc.w is not a tensor file (a descriptor of -6 bytes at byte 16)"),
    ("version", record([3, 2], version=7), "ckpt_fc.w is not a tensor file (version 7 at byte 0, expected 0)"),
    ("tensor-version", record([3, 2], tensor_version=1),
     "ckpt_fc.w is not a tensor file (tensor version 1 at byte 12, expected 0)"),
    ("data-type", record([3, 2], dtype=framework_pb2.VarType.READER),
     "ckpt_fc.w is not a tensor file (its data type 15 (READER) is not a tensor's)"),
    ("descriptor-garbage", record([3, 2])[:20] + b"\xff" * 6 + DATA,
     "ckpt_fc.w is not a tensor file (its 6 descriptor bytes are not a VarType.TensorDesc (DecodeError))"),
    ("header-cut", HONEST[:10],
     "ckpt_fc.w is not a tensor file (the file ends inside its LoD level count (byte 4 of 10))"),
    ("combined-record", HONEST + record([2 ** 40]),
     "ckpt_fc.w is not a combined tensor file (the record at byte 50 is not a whole tensor: the file ends inside it "
     "(truncated: its header claims FP32 [1099511627776], 4398046511133 bytes, and 53 are left))"),
]]

CHILD = r'''
import json, resource, sys, warnings
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
sys.path.insert(0, sys.argv[1])
warnings.filterwarnings("ignore", message="No ccache found")
import paddle
import paddle_lr
import checkpointkit as kit
paddle.enable_static()
program = kit.Program("switch")
directories = json.loads(sys.argv[3])
out = {}
for name in ["honest"] + [name for name in directories if name != "honest"]:
    try:
        paddle_lr.load_checkpoint(program.main, directories[name], program.exe, program.scope)
        out[name] = "loaded"
    except paddle_lr.CheckpointError as exc:
        out[name] = str(exc)
    if name == "honest":
        honest_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
out["growth bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - honest_peak
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def refusals(tmp_path_factory):
    """Every case's directory and what load_checkpoint said of it: one child, one program, the honest load first."""
    directories = {}
    for case in CASES + [pytest.param(HONEST, "loaded", id="honest")]:
        directory = tmp_path_factory.mktemp(case.id)
        shutil.copytree(kit.per_variable_fixture(), directory, dirs_exist_ok=True)
        (directory / "ckpt_fc.w").write_bytes(case.values[0])
        directories[case.id] = str(directory)
    done = subprocess.run([sys.executable, "-c", CHILD, str(kit.REPO / "tests"), str(LIMIT), json.dumps(directories)],
                          capture_output=True, text=True, env=trainkit.subprocess_env(), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return directories, json.loads(done.stdout.splitlines()[-1])


def test_the_honest_record_loads_and_nothing_grew(refusals):
    _, said = refusals
    assert said["honest"] == "loaded"
    assert said["growth bytes"] < GROWTH, f"the forged loads grew the child's peak by {said['growth bytes']} bytes"


@pytest.mark.parametrize("data, message", CASES)
def test_a_lying_header_is_refused_in_one_line(refusals, request, data, message):
    directories, said = refusals
    name = request.node.callspec.id
    assert said[name] == f"checkpoint {directories[name]}: {message}"

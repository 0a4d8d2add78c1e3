"""Untrusted checkpoints: a pickle that asks for code is refused with the code never run; honest ones load.

Every malicious file here writes a marker file when unpickled by Python's own
``pickle`` (checked first, so each payload is shown to be live), and is then
refused by :mod:`paddle_lr.pickles`, by ``load_checkpoint`` and by
``tools/train.py --resume`` (static: payload in ``.pdparams``; dygraph: in
``model.pdopt``; the snapshot's manifest re-hashed so only the pickle check
stands between the file and the code), with the marker never written.
"""
import builtins
import collections
import glob
import hashlib
import io
import json
import os
import pathlib
import pickle
import re
import shutil
import struct
import subprocess
import sys

import numpy as np
import paddle
import pytest

import paddle_lr
from paddle_lr import pickles
from paddle_lr.demo import snapshot
from paddle_lr.tools import train as train_tool

import checkpointkit as kit
import trainkit

PROTOCOLS = (2, 4, 5)


class Reduce:
    """An object whose unpickling calls ``func(*args)``."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _touch(marker):
    return f"open({str(marker)!r}, 'w').write('ran')"


def _then_state(marker, state):
    """The attack of the issue: write the marker, then hand back the real state (the load "succeeds")."""
    return Reduce(builtins.eval, (f"({_touch(marker)}, state)[1]", {"state": state}))


# name -> (what the refusal names, payload(marker) -> object to pickle)
EVAL_ARGS = "builtins.eval with arguments ("
PAYLOADS = {
    "os.system": ("the global posix.system", lambda m: Reduce(os.system, (f"echo ran > {m}",))),
    "subprocess": ("the global subprocess.check_call",
                   lambda m: Reduce(subprocess.check_call, (["touch", str(m)],))),
    "exec": ("the global builtins.exec", lambda m: Reduce(builtins.exec, (_touch(m),))),
    "eval": (EVAL_ARGS, lambda m: Reduce(builtins.eval, (_touch(m),))),
    "eval-data-name-then-exec": ("the global builtins.exec", lambda m: Reduce(builtins.eval, (
        "data", {"data": Reduce(builtins.exec, (_touch(m),))}))),
    "nested-in-dict": ("the global builtins.exec", lambda m: {
        "w": [0.5, 1.5], "opt": {"inner": [1, Reduce(builtins.exec, (_touch(m),))]}}),
    "then-real-state": (EVAL_ARGS, lambda m: _then_state(m, {"w": [0.5, 1.5]})),
}
CASES = [pytest.param(name, proto, id=f"{name}-p{proto}") for name in PAYLOADS for proto in PROTOCOLS]


def write_payload(path, payload, protocol):
    pathlib.Path(path).write_bytes(pickle.dumps(payload, protocol=protocol))


OPT_OUT = ("which Paddle's save never writes (loading it could run code); "
           "load it with trusted=True (train.py: --trust-checkpoint) only if you trust the file")


def refusal(path, refused):
    """The refusal's one line, as a regular expression: the file, what was refused, the opt-out."""
    return f"^{re.escape(f'{path}: refused to unpickle {refused}')}.*{re.escape(', ' + OPT_OUT)}$"


@pytest.mark.parametrize("name, protocol", CASES)
def test_a_payload_is_refused_and_never_runs(tmp_path, name, protocol):
    refused, payload = PAYLOADS[name]
    path, marker = tmp_path / "model.pdparams", tmp_path / "ran"
    write_payload(path, payload(marker), protocol)
    with open(path, "rb") as f:  # plain pickle runs it: the payload is live
        pickle.load(f)
    assert marker.exists(), f"{name}: the payload did not run under plain pickle"
    marker.unlink()
    with pytest.raises(pickles.UntrustedPickleError) as info:
        pickles.load(path)
    assert re.match(refusal(path, refused), str(info.value)), str(info.value)
    assert not marker.exists(), f"{name}: the payload ran under pickles.load"


FROMBUFFER = np.ones(1).__reduce_ex__(5)[0]
PROTOCOL_5_ARRAY = f"the global {FROMBUFFER.__module__}.{FROMBUFFER.__name__}"


@pytest.mark.parametrize("obj, protocol, refused", [
    pytest.param(np.array([object()], dtype=object), 4, "an array of dtype object", id="object-array"),
    pytest.param(np.zeros(1, dtype=[("a", "f4")]), 4, "an array of dtype |V4", id="structured-array"),
    pytest.param(collections.Counter(a=1), 4, "the global collections.Counter", id="other-class"),
    # Paddle's savers take protocols 2-4; numpy's protocol-5 arrays name another global
    pytest.param(np.ones(2), 5, PROTOCOL_5_ARRAY, id="protocol-5-array"),
])
def test_what_paddle_never_writes_is_refused(tmp_path, obj, protocol, refused):
    path = tmp_path / "x.pdparams"
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    with pytest.raises(pickles.UntrustedPickleError, match=f"^{re.escape(f'{path}: refused to unpickle {refused}')}"):
        pickles.load(path)


def nested(depth):
    """A pickle of ``depth`` lists nested in each other around 1.0, written opcode by opcode
    (``pickle.dumps`` itself recurses, so it cannot write a very deep one)."""
    return b"\x80\x04" + pickle.EMPTY_LIST * depth + pickle.BINFLOAT + struct.pack(">d", 1.0) \
        + pickle.APPEND * depth + pickle.STOP


@pytest.mark.parametrize("data, refused", [
    pytest.param(nested(pickles.MAX_DEPTH + 1), f"containers nested more than {pickles.MAX_DEPTH} deep", id="deep"),
    pytest.param(nested(100000), f"containers nested more than {pickles.MAX_DEPTH} deep", id="very-deep"),
    pytest.param(pickle.EMPTY_LIST + pickle.MEMOIZE + pickle.BINGET + b"\x00" + pickle.APPEND + pickle.STOP,
                 "a container that holds itself", id="cycle"),
])
def test_structure_is_bounded(tmp_path, data, refused):
    path = tmp_path / "x.pdparams"
    path.write_bytes(data)
    with pytest.raises(pickles.UntrustedPickleError, match=f"^{re.escape(f'{path}: refused to unpickle {refused},')}"):
        pickles.load(path)


def test_depth_at_the_bound_loads(tmp_path):
    path = tmp_path / "x.pdparams"
    path.write_bytes(nested(pickles.MAX_DEPTH))
    value = pickles.load(path)
    for _ in range(pickles.MAX_DEPTH):
        assert type(value) is list and len(value) == 1
        value = value[0]
    assert value == 1.0


# -- honest files: every pickle Paddle writes loads exactly as plain pickle reads it --

def same(a, b):
    if isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(b, dict):
        return type(a) is type(b) and list(a) == list(b) and all(same(a[k], b[k]) for k in b)
    if isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


FIXTURE_PICKLES = sorted(p for p in glob.glob(str(kit.REPO / "tests" / "data" / "**" / "*.pd*"), recursive=True)
                         if p.endswith((".pdparams", ".pdopt")))


@pytest.mark.parametrize("path", [pytest.param(p, id=os.path.relpath(p, kit.REPO / "tests" / "data"))
                                  for p in FIXTURE_PICKLES])
def test_every_fixture_pickle_loads_as_plain_pickle_reads_it(path):
    with open(path, "rb") as f:
        expected = pickle.load(f, encoding="latin1")
    assert same(pickles.load(path), expected), path


def _static_program():
    main, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main, startup):
        x = paddle.static.data("x", [None, 3], "float32")
        loss = paddle.mean(paddle.static.nn.fc(x, 2))
        paddle.optimizer.Adam(0.1).minimize(loss)
    exe = paddle.static.Executor(paddle.CPUPlace())
    scope = paddle.static.Scope()
    with paddle.static.scope_guard(scope):
        exe.run(startup)
        exe.run(main, feed={"x": np.ones([2, 3], "float32")}, fetch_list=[loss])
    return main, scope


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_static_save_of_each_protocol_loads_as_paddle_loads_it(static_mode, tmp_path, protocol):
    main, scope = _static_program()
    prefix = tmp_path / "model"
    with paddle.static.scope_guard(scope):
        paddle.static.save(main, str(prefix), protocol=protocol)
    expected = paddle.static.load_program_state(str(prefix))
    got = pickles.load_program_state(prefix)
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert same(got[name], np.asarray(expected[name])), name


def _dygraph_files(directory):
    """name -> the object paddle.save wrote there, for every kind of dygraph save."""
    paddle.disable_static()
    try:
        net = paddle.nn.Linear(3, 2)
        sched = paddle.optimizer.lr.PiecewiseDecay([2], [0.1, 0.01])
        opts = dict(adam=paddle.optimizer.Adam(sched, parameters=net.parameters()),
                    momentum=paddle.optimizer.Momentum(sched, parameters=net.parameters()))
        files = {}
        for name, opt in opts.items():
            net(paddle.ones([2, 3])).mean().backward()
            opt.step()
            opt.clear_grad()
            files[f"{name}.pdopt"] = (opt.state_dict(), 4)
        for protocol in (2, 3, 4):
            files[f"net_p{protocol}.pdparams"] = (net.state_dict(), protocol)
        files["tensor.pdparams"] = (net.weight, 4)
        files["nested.pdparams"] = ({"a": [1, 2.5, "s", None, True, (1, 2)], "b": {"c": net.bias}}, 4)
        dense = (getattr(paddle.base.core, "DenseTensor", None) or paddle.base.core.LoDTensor)()
        dense.set(np.arange(3, dtype="float32"), paddle.CPUPlace())
        files["dense.pdparams"] = (dense, 4)
        for name, (obj, protocol) in files.items():
            paddle.save(obj, str(directory / name), protocol=protocol)
        return sorted(files)
    finally:
        paddle.enable_static()


def test_every_paddle_save_loads_as_paddle_loads_it(static_mode, tmp_path):
    for name in _dygraph_files(tmp_path):
        path = tmp_path / name
        with open(path, "rb") as f:
            assert same(pickles.load(path), pickle.load(f, encoding="latin1")), name
        got, expected = pickles.paddle_load(path), paddle.load(str(path))
        if isinstance(expected, dict):
            assert sorted(got) == sorted(expected), name


# -- through the API and the trainer --

# under protocol 5 the real state's arrays are numpy's protocol-5 records, refused before the eval is reached
@pytest.mark.parametrize("protocol, refused", [(2, EVAL_ARGS), (4, EVAL_ARGS), (5, PROTOCOL_5_ARRAY)])
def test_load_checkpoint_refuses_a_payload_and_leaves_the_scope(static_mode, tmp_path, protocol, refused):
    fixture = kit.FIXTURES / kit.versions()[0] / "static_save" / "switch"
    shutil.copytree(fixture, tmp_path / "ckpt")
    path, marker = tmp_path / "ckpt" / "model.pdparams", tmp_path / "ran"
    with open(path, "rb") as f:
        state = pickle.load(f, encoding="latin1")
    write_payload(path, _then_state(marker, state), protocol)
    program = kit.Program("switch")
    before = program.state()
    with pytest.raises(pickles.UntrustedPickleError) as info:
        paddle_lr.load_checkpoint(program.main, tmp_path / "ckpt" / "model", program.exe, program.scope)
    assert re.match(refusal(path, refused), str(info.value)), str(info.value)
    assert not marker.exists()
    assert trainkit.same_state(program.state(), before) == []
    # trusted=True is Paddle's own loader: the payload runs, and the load "succeeds"
    paddle_lr.load_checkpoint(program.main, tmp_path / "ckpt" / "model", program.exe, program.scope, trusted=True)
    assert marker.exists()


def rehash(directory):
    """Rewrite a snapshot's manifest for its files as they are now (what an attacker would do)."""
    path = directory / snapshot.MANIFEST
    manifest = json.loads(path.read_text())
    for name in manifest["files"]:
        data = (directory / name).read_bytes()
        manifest["files"][name] = dict(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One tiny run per mode, by mode flag, and its dataset directory."""
    return trainkit.reference_runs(tmp_path_factory)


RESUMES = [pytest.param((), "model.pdparams", id="static-pdparams"),
           pytest.param(("--dygraph",), "model.pdopt", id="dygraph-pdopt")]


@pytest.mark.parametrize("flags, victim", RESUMES)
def test_resume_refuses_a_payload_in_a_rehashed_snapshot(runs, tmp_path, capsys, flags, victim):
    dataset, ref = runs
    snap, marker, out = tmp_path / "snapshot_4", tmp_path / "ran", tmp_path / "out"
    shutil.copytree(ref[flags] / "snapshot_4", snap)
    with open(snap / victim, "rb") as f:
        state = pickle.load(f, encoding="latin1")
    write_payload(snap / victim, _then_state(marker, state), 4)
    rehash(snap)
    assert train_tool.main(trainkit.train_args(dataset, out, *flags, "--resume", str(snap))) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.match(refusal(snap / victim, EVAL_ARGS), err[len("error: "):-1]), err
    assert not marker.exists()
    assert not (out / "train_log.jsonl").exists()
    # the opt-out: Paddle's own loader runs the payload, and the resumed run is the honest one's
    assert train_tool.main(trainkit.train_args(dataset, out, *flags, "--resume", str(snap),
                                               "--trust-checkpoint")) == 0
    assert marker.exists()
    assert trainkit.read_lines(out / "train_log.jsonl") == trainkit.read_lines(ref[flags] / "train_log.jsonl")[4:]


@pytest.mark.parametrize("flags, victim", RESUMES)
def test_the_tool_refuses_in_a_subprocess_with_exit_2(runs, tmp_path, flags, victim):
    dataset, ref = runs
    snap, marker = tmp_path / "snapshot_4", tmp_path / "ran"
    shutil.copytree(ref[flags] / "snapshot_4", snap)
    write_payload(snap / victim, Reduce(os.system, (f"echo ran > {marker}",)), 2)
    rehash(snap)
    done = subprocess.run([sys.executable, str(trainkit.TRAIN_PY),
                           *trainkit.train_args(dataset, tmp_path / "out", *flags, "--resume", str(snap))],
                          capture_output=True, text=True, env=trainkit.subprocess_env(), timeout=300)
    assert done.returncode == 2, done.stderr
    assert re.match(refusal(snap / victim, "the global posix.system"), done.stderr[len("error: "):-1]), done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert not marker.exists()


def test_trust_checkpoint_needs_resume(tmp_path, capsys):
    assert train_tool.main(trainkit.train_args(tmp_path / "data", tmp_path / "out", "--trust-checkpoint")) == 2
    assert capsys.readouterr().err == "error: paddle-lr-train: --trust-checkpoint needs --resume\n"

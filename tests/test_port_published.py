"""paddle-lr-port on the published fluid-era bodies, as published, gives what they give on fluid 1.8.5.

Each file of tests/data/fluid_bodies/published/ (PROVENANCE.json: repository, path, commit) is
ported by the tool with no hand edit, imported, and called as tools/fluid18/record_bodies.py
called the original on fluid 1.8.5 (tests/data/fluid185/bodies/). The lr at every step:
bit for bit on 2.6.2; on 3.x bit for bit where fluid's graph has no exp/cos/pow, else within
one ulp of the call's peak lr. The lr feeds the optimizer the repository built; its parameters
after every step of a tiny program: bit for bit on 2.6.2 (3.x: within one ulp of the peak
parameter where the lr is), except under Adam, whose update Paddle 2.6 and 3.x compute
differently from fluid 1.8.5's adam op whatever the lr (a float lr included): there within
2**-12 of the peak parameter.
"""
import hashlib
import json

import numpy as np
import paddle
import pytest

import publishedkit as kit
from conftest import first_mismatch
from paddle_lr.tools.port import _summary, port_source

ON_2X = paddle.__version__.startswith("2.")
# ERNIE, BERT and ppdet call fluid's set_gradient_clip, which Paddle deprecates (ported as it is).
pytestmark = pytest.mark.filterwarnings("ignore:Caution! 'set_gradient_clip':UserWarning")
PROVENANCE = json.loads((kit.PUBLISHED / "PROVENANCE.json").read_text())
CALLS = [pytest.param(body, call, id=f"{body}-{call['id']}")
         for body in kit.BODIES for call in kit.recording(body)["calls"]]

# body -> (names and imports ported, [(line, name) left unported], lines of `with init_on_cpu():` removed)
SUMMARY = {
    "image_classification_learning_rate": (40, [], [34, 57]),
    "image_classification_optimizer": (47, [], []),
    "ernie_optimization": (22, [], []),
    "ernie_fluid18_optimization": (19, [(111, "F.contrib.mixed_precision.decorate"),
                                        (113, "F.contrib.mixed_precision.AutoMixedPrecisionLists")], []),
    "bert_optimization": (17, [], []),
    "ppdet_optimizer": (20, [], []),
    "ocr_optimizer": (10, [], []),
}


@pytest.fixture(scope="module")
def tmp_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ported")


def test_every_published_body_is_recorded_and_summarised():
    assert sorted(kit.BODIES) == sorted(SUMMARY) == sorted(p.stem for p in kit.RECORDINGS.glob("*.json"))
    assert sorted(entry["file"] for entry in PROVENANCE["files"]) == sorted(v[0] for v in kit.BODIES.values())


@pytest.mark.parametrize("entry", PROVENANCE["files"], ids=lambda entry: entry["file"])
def test_the_body_is_the_published_file(entry):
    """The file is byte for byte the one published at its commit, and the one fluid 1.8.5 ran."""
    data = (kit.PUBLISHED / entry["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{entry['file']} is not as published"
    recorded = [kit.recording(b) for b, v in kit.BODIES.items() if v[0] == entry["file"]]
    assert [r["sha256"] for r in recorded] == [entry["sha256"]]
    assert entry["repository"].startswith("PaddlePaddle/") and len(entry["commit"]) == 40


@pytest.mark.parametrize("body", list(SUMMARY))
def test_the_tool_ports_the_body_and_says_what_it_did(body):
    result = port_source(kit.source(body), kit.BODIES[body][0])
    ported, left, notes = SUMMARY[body]
    assert sum(result.ported.values()) == ported, _summary(body, result)
    assert [(line, name) for line, name, _ in result.left] == left, _summary(body, result)
    assert [line for line, _ in result.notes] == notes, _summary(body, result)
    assert "paddle.fluid" not in result.source and "fluid." not in result.source
    again = port_source(result.source)
    assert again.source == result.source and not again.ported, "the port of the port changes it"


def _peak_ulp(values):
    return float(np.spacing(np.float32(np.abs(values).max())))


def _compare(what, got, want, bound):
    """A message naming the first value over ``bound`` (0: bit for bit), or None."""
    assert got.shape == want.shape, f"{what}: {got.shape} values, fluid 1.8.5 recorded {want.shape}"
    if bound == 0:
        problem = first_mismatch(np.arange(got.size), got, want.view(np.uint32))
        return problem and f"{what} vs fluid 1.8.5: {problem}"
    error = np.abs(got.astype(np.float64) - want.astype(np.float64))
    i = int(error.argmax())
    if error[i] <= bound:
        return None
    return (f"{what}: {int((error > bound).sum())} of {got.size} values differ by more than {bound:.3g}; "
            f"the most at [{i}]: got {got[i]!r}, fluid 1.8.5 {want[i]!r}")


@pytest.mark.parametrize("body, call", CALLS)
def test_ported_body_gives_fluid_185s_values(body, call, tmp_dir):
    _, module = kit.ported(body, tmp_dir)
    if "error" in call:  # the published code fails on fluid 1.8.5 too: the port keeps its error
        with pytest.raises(Exception) as error:
            kit.run(module, call["call"], call["kind"], call["steps"])
        assert f"{error.type.__name__}: {error.value}" == call["error"]
        return
    got, _ = kit.run(module, call["call"], call["kind"], call["steps"])
    want = kit.decode_bits(call["lr"]).view(np.float32)
    exact_lr = ON_2X or not call["kernels"]
    problem = _compare(f"{body} {call['call']}: lr", got["lr"], want, 0 if exact_lr else _peak_ulp(want))
    assert problem is None, problem
    for name in kit.recorder.PARAMS if call["kind"] != "lr" else ():
        want_p = kit.decode_bits(call[name]).view(np.float32)
        if "adam" in call["optimizer_ops"]:
            bound = float(np.abs(want_p).max()) * 2.0 ** -12
        else:
            bound = 0 if exact_lr else _peak_ulp(want_p)
        problem = _compare(f"{body} {call['call']}: {name} ({call['optimizer_ops']})", got[name], want_p, bound)
        assert problem is None, problem
    assert len(set(want.tolist())) > 1 or call["kind"] != "lr", f"{call['call']}: a constant lr tests little"


def _cosine_differences(tmp_dir):
    """Image classification's cosine_decay_with_warmup (learning_rate.py) ported: the steps that
    differ from fluid 1.8.5's, and the steps where the running Paddle's cos kernel and the C
    library's cosf (fluid's, 2.6.2's) round the body's own cos input differently.

    The cos input, op for op: ``scale(step - scale(5.0, 3), pi / 60)``.
    """
    from paddle_lr.schedules.common import scale_ref, steps_f32
    from paddle_lr.schedules.kernels import C_KERNELS

    body = "image_classification_learning_rate"
    call = next(c for c in kit.recording(body)["calls"] if c["id"] == "cosine_decay_with_warmup")
    assert call["call"] == "cosine_decay_with_warmup(0.1, step_each_epoch=3, epochs=20)"
    _, module = kit.ported(body, tmp_dir)
    got = kit.run(module, call["call"], call["kind"], call["steps"])[0]["lr"]
    want = kit.decode_bits(call["lr"]).view(np.float32)
    steps = np.arange(call["steps"])
    x = scale_ref(steps_f32(steps) - scale_ref(np.float32(5.0), 3), np.pi / 60)
    eager = paddle.cos(paddle.to_tensor(x)).numpy()
    kernel_differs = set(np.flatnonzero(eager.view(np.uint32) != C_KERNELS["cos"](x).view(np.uint32)).tolist())
    port_differs = set(np.flatnonzero(got.view(np.uint32) != want.view(np.uint32)).tolist())
    return port_differs, kernel_differs


@pytest.mark.skipif(ON_2X, reason="2.x reproduces every bit")
def test_cosine_steps_differ_on_3x_only_where_the_cos_kernel_does(tmp_dir):
    """The 3.x steps that differ from fluid's are steps where 3.x's cos kernel differs: the
    kernel's difference, not the port's (on 3.0 to 3.3.0 neither differs anywhere)."""
    port_differs, kernel_differs = _cosine_differences(tmp_dir)
    assert port_differs <= kernel_differs, (
        f"steps {sorted(port_differs - kernel_differs)} differ from fluid's although 3.x's cos kernel agrees there")
    assert min(port_differs, default=15) >= 15, "a warmup step (no cos) differs"


@pytest.mark.measured_on("3.3.1")
def test_the_cos_bound_is_exercised(tmp_dir):
    """On 3.3.1 the cos kernel differs from cosf on some of the body's steps, so the cos bound
    of the ported schedule is tested, not moot."""
    port_differs, kernel_differs = _cosine_differences(tmp_dir)
    assert port_differs and kernel_differs, (port_differs, kernel_differs)

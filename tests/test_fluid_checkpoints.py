"""fluid 1.8.5's checkpoints, in every format fluid wrote, resume through load_checkpoint.

The fixtures (tests/data/fluid185/checkpoints/, written by
tools/fluid18/record_checkpoints.py on paddlepaddle 1.8.5) hold, for each case
(a schedule and an optimizer), the checkpoint saved after iteration
``save_after`` of a tiny fc program in six formats, and fluid's uninterrupted
run: the lr, the loss, the parameters and the step counter after every
iteration. Here the same program is built with paddle_lr (its lr from the
library's schedule, or for the seed also from the seed's fluid body ported by
renaming), the checkpoint is loaded at ``save_after`` and the run continues to
the end, compared with fluid's at every iteration.
"""
import json

import numpy as np
import paddle
import pytest

import paddle_lr
from paddle_lr.optimizer import FLUID_ACCUMULATORS
from paddle_lr.schedules.registry import REGISTRY

import familykit
import fluid185kit

FIXTURES = fluid185kit.FIXTURES / "checkpoints"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
CASES = MANIFEST["cases"]
SAVE_AFTER, ITERATIONS = MANIFEST["save_after"], MANIFEST["iterations"]
COUNTER = "@LR_DECAY_COUNTER@"
IS_2X = paddle.__version__.startswith("2.")


def decode(entry):
    return np.frombuffer(bytes.fromhex(entry["hex"]), dtype=entry["dtype"]).reshape(entry["shape"])


def renamed_seed(learning_rate, boundaries, values, warmup_iter, warmup_factor):
    """The seed's fluid body (tools/fluid18/fluid18graphs.seed_schedule) with fluid's names replaced by paddle_lr's."""
    global_step = paddle_lr.decay_step_counter()
    lr = paddle_lr.create_global_var(shape=[1], value=0.0, dtype="float32", persistable=True, name="learning_rate")
    warmup_iter_var = paddle_lr.fill_constant(shape=[1], dtype="float32", value=float(warmup_iter), force_cpu=True)
    with paddle_lr.Switch() as switch:
        with switch.case(global_step < warmup_iter_var):
            alpha = global_step / warmup_iter_var
            factor = warmup_factor * (1 - alpha) + alpha
            decayed_lr = learning_rate * factor
            paddle_lr.assign(decayed_lr, lr)
        for i in range(len(boundaries)):
            boundary_val = paddle_lr.fill_constant(shape=[1], dtype="float32", value=float(boundaries[i]),
                                                   force_cpu=True)
            value_var = paddle_lr.fill_constant(shape=[1], dtype="float32", value=float(values[i]))
            with switch.case(global_step < boundary_val):
                paddle_lr.assign(value_var, lr)
        last_value_var = paddle_lr.fill_constant(shape=[1], dtype="float32", value=float(values[len(values) - 1]))
        with switch.default():
            paddle_lr.assign(last_value_var, lr)
    return lr


def as_fluid_built(spec):
    """The spec with ``impl="switch"`` wherever the schedule has lowerings: fluid's ops as they were.

    The resume tests run each fluid checkpoint into both this and the default branch-free lookup (whose
    tables stand for the Switch's lr variable, a combined file's included).
    """
    args = dict(spec["args"])
    if isinstance(args.get("learning_rate"), dict):
        args["learning_rate"] = as_fluid_built(args["learning_rate"])
    if "impl" in REGISTRY[spec["fn"]].options:
        args["impl"] = "switch"
    return dict(spec, args=args)


class Program:
    """A case's program built with paddle_lr, in its own scope; ``source`` says where its lr comes from."""

    def __init__(self, case, source="paddle_lr", hidden=None, lowering="switch"):
        record = CASES[case]
        initial = {name: decode(entry) for name, entry in record["initial"].items()}
        size = MANIFEST["batch"]
        self.main, self.startup = paddle.static.Program(), paddle.static.Program()
        with paddle.utils.unique_name.guard(), paddle.static.program_guard(self.main, self.startup):
            x = paddle.static.data("x", [None, size["in"]], "float32")
            y = paddle.static.data("y", [None, 1], "float32")
            h = self._fc(x, hidden or size["hidden"], "fc_0", initial if hidden is None else None, "tanh")
            out = self._fc(h, 1, "fc_1", initial if hidden is None else None)
            self.loss = paddle.mean(paddle.square(out - y))
            spec = record["schedule"]
            self.lr = (renamed_seed(**spec["args"]) if source == "renamed"
                       else familykit.build_nodes(as_fluid_built(spec) if lowering == "switch" else spec)[-1][1])
            optimizer = getattr(paddle_lr, MANIFEST["optimizers"][record["optimizer"]])
            optimizer(self.lr, regularization=paddle_lr.L2Decay(MANIFEST["l2_decay"]),
                      **MANIFEST["optimizer_args"][record["optimizer"]]).minimize(self.loss)
        self.parameters = record["parameters"]
        self.scope, self.exe = paddle.static.Scope(), paddle.static.Executor(paddle.CPUPlace())
        with paddle.static.scope_guard(self.scope):
            self.exe.run(self.startup)

    @staticmethod
    def _fc(x, size, name, initial, activation=None):
        def attr(suffix):
            init = None if initial is None else paddle.nn.initializer.Assign(initial[f"{name}.{suffix}"])
            return paddle.ParamAttr(name=f"{name}.{suffix}", initializer=init)

        return paddle.static.nn.fc(x, size, activation=activation, weight_attr=attr("w_0"), bias_attr=attr("b_0"))

    def run(self, iteration):
        feed = {name: decode(entry) for name, entry in MANIFEST["feeds"][iteration].items()}
        with paddle.static.scope_guard(self.scope):
            lr, loss = self.exe.run(self.main, feed=feed, fetch_list=[self.lr, self.loss])
        return np.float32(np.asarray(lr).reshape(-1)[0]), np.float32(np.asarray(loss).reshape(-1)[0])

    def tensor(self, name):
        return np.array(self.scope.find_var(name).get_tensor())


def bits(value):
    return f"{np.float32(value).view(np.uint32):08x}"


def from_bits(text):
    return np.uint32(int(text, 16)).view(np.float32)


#: How each format's checkpoint is given to load_checkpoint: (id, the path(s) under the format's directory).
LOADS = {
    "save_persistables": [("dir", ".")],
    "save_persistables_combined": [("dir", "."), ("file", "all")],
    "save_vars_combined": [("dir", "."), ("file", "state")],
    "params_and_rest_files": [("dir", "."), ("files", ["params", "rest"])],
    "params_and_rest_dirs": [("dirs", ["params", "rest"])],
    "fluid_save": [("prefix", "model"), ("dir", "."), ("pdparams", "model.pdparams")],
}


def load_path(case, form, where):
    directory = FIXTURES / case / form
    if isinstance(where, list):
        return [directory / w for w in where]
    return directory if where == "." else directory / where


def exact_here(case):
    """Whether fluid's run continues bit for bit on this Paddle: not for Adam (its kernel and fluid's differ,
    see docs/checkpoints.md), not on 3.x where the schedule calls exp/cos/pow (their kernels differ)."""
    record = CASES[case]
    return record["optimizer"] != "adam" and (IS_2X or not familykit.kernels_of(record["schedule"]))


def sources(case):
    return ["paddle_lr", "renamed"] if CASES[case]["schedule"]["fn"] == "exponential_with_warmup_decay" else ["paddle_lr"]


def lowerings(case, source):
    """fluid's Switch, and the default branch-free lookup where the schedule has one (the renamed seed is the
    user's own Switch)."""
    has_impl = "impl" in REGISTRY[CASES[case]["schedule"]["fn"]].options
    return ["switch", "default"] if source == "paddle_lr" and has_impl else ["switch"]


RESUMES = [pytest.param(case, source, form, where, lowering, id=f"{case}-{source}-{lowering}-{form}-{label}")
           for case in sorted(CASES) for source in sources(case) for lowering in lowerings(case, source)
           for form in sorted(LOADS) for label, where in LOADS[form]]


@pytest.mark.parametrize("case, source, form, where, lowering", RESUMES)
def test_a_fluid_checkpoint_resumes_as_fluid_ran(static_mode, case, source, form, where, lowering):
    record = CASES[case]
    program = Program(case, source, lowering=lowering)
    loaded = paddle_lr.load_checkpoint(program.main, load_path(case, form, where), program.exe, program.scope)

    saved = {name: decode(entry) for name, entry in record["saved"].items()}
    # A combined file has no names: there, fluid's name of the program's lr variable is its name without the suffix.
    names = {name: loaded.renamed.get(name) or (name if name in saved else name.rsplit("_", 1)[0])
             for name in loaded.state}
    # The default lookup's tables stand for the Switch's lr variables (loaded.replaced): not restored, recomputed.
    # A combined file names none of its tensors, so there only their count is known.
    switch_lr = sorted(n for n in saved if n.startswith("learning_rate")) if loaded.replaced else []
    assert len(loaded.replaced) == len(switch_lr), f"replaced {loaded.replaced}, fluid's Switch wrote {switch_lr}"
    want = sorted(set(saved) - set(switch_lr))
    assert sorted(names.values()) == want, f"restored {sorted(names.values())}, fluid saved {want} (and {switch_lr})"
    for ours, theirs in names.items():
        got = program.tensor(ours)
        assert got.dtype == saved[theirs].dtype and got.tobytes() == saved[theirs].tobytes(), (
            f"{ours}: in the scope {got!r}, fluid saved {theirs} = {saved[theirs]!r}")

    exact = exact_here(case)
    peak = max(from_bits(b) for b in record["lr_bits"])
    for iteration in range(SAVE_AFTER, ITERATIONS):
        lr, loss = program.run(iteration)
        assert int(program.tensor(COUNTER)[0]) == record["counter_after"][iteration], f"iteration {iteration}: counter"
        want_lr, want_loss = from_bits(record["lr_bits"][iteration]), from_bits(record["loss_bits"][iteration])
        params = {name: program.tensor(name) for name in record["parameters"]}
        want = {name: np.frombuffer(bytes.fromhex(h), np.float32).reshape(params[name].shape)
                for name, h in record["parameters_after"][iteration].items()}
        if exact:
            assert bits(lr) == bits(want_lr), f"iteration {iteration}: lr {lr!r}, fluid {want_lr!r}"
            assert bits(loss) == bits(want_loss), f"iteration {iteration}: loss {loss!r}, fluid {want_loss!r}"
            for name in params:
                assert params[name].tobytes() == want[name].tobytes(), (
                    f"iteration {iteration}: {name} {params[name]!r}, fluid {want[name]!r}")
        else:
            # The lr within 2 ulp of the peak lr, absolute (the family's 3.x contract); loss and parameters
            # within what that and Adam's kernel make of it over six iterations (measured: docs/checkpoints.md).
            assert abs(float(lr) - float(want_lr)) <= 2 * float(np.spacing(peak)), (
                f"iteration {iteration}: lr {lr!r}, fluid {want_lr!r}")
            assert abs(float(loss) - float(want_loss)) <= 1e-6 * max(1.0, abs(float(want_loss))), (
                f"iteration {iteration}: loss {loss!r}, fluid {want_loss!r}")
            for name in params:
                assert np.max(np.abs(params[name] - want[name])) <= 1e-6, (
                    f"iteration {iteration}: {name} {params[name]!r}, fluid {want[name]!r}")


def test_every_case_and_format_is_recorded():
    """The fixture holds what the tests above iterate: each format of each case, the seed with four optimizers."""
    assert sorted(LOADS) == sorted(MANIFEST["formats"])
    assert {c["optimizer"] for c in CASES.values()} == {"momentum", "sgd", "adam", "rmsprop"}
    for case in CASES:
        assert sorted(p.name for p in (FIXTURES / case).iterdir()) == sorted(LOADS), case


def _state(program):
    return {name: program.tensor(name) for name in paddle_lr.graph.ir.persistables(program.main)}


def _unchanged(before, program):
    after = _state(program)
    return [name for name in before if after[name].tobytes() != before[name].tobytes()]


PARAMS_ONLY = [pytest.param(["params_and_rest_dirs", "params"], id="save_params-dir"),
               pytest.param(["params_and_rest_files", "params"], id="save_params-combined-file")]


@pytest.mark.parametrize("parts", PARAMS_ONLY)
def test_a_params_only_checkpoint_is_refused_in_one_line(static_mode, parts):
    program = Program("seed-momentum")
    before = _state(program)
    path = FIXTURES.joinpath("seed-momentum", *parts)
    with pytest.raises(paddle_lr.CheckpointError) as info:
        paddle_lr.load_checkpoint(program.main, path, program.exe, program.scope)
    assert str(info.value) == (
        f"checkpoint {path}: holds the parameters only (fluid's save_params): missing @LR_DECAY_COUNTER@, "
        "fc_0.b_0_velocity_0, fc_0.w_0_velocity_0, fc_1.b_0_velocity_0, fc_1.w_0_velocity_0; "
        "load_checkpoint(..., params_only=True) loads the parameters alone (fine-tuning)")
    assert _unchanged(before, program) == []


@pytest.mark.parametrize("parts", PARAMS_ONLY + [pytest.param(["save_persistables"], id="full-checkpoint")])
def test_params_only_loads_the_parameters_alone(static_mode, parts):
    """Fine-tuning: the parameters as fluid saved them, the counter and the accumulators from the startup program."""
    record = CASES["seed-momentum"]
    program = Program("seed-momentum")
    before = _state(program)
    loaded = paddle_lr.load_checkpoint(program.main, FIXTURES.joinpath("seed-momentum", *parts), program.exe,
                                       program.scope, params_only=True)
    assert sorted(loaded.state) == record["parameters"]
    for name in record["parameters"]:
        assert program.tensor(name).tobytes() == decode(record["saved"][name]).tobytes(), name
    assert sorted(_unchanged(before, program)) == record["parameters"]
    lr, _ = program.run(SAVE_AFTER)
    assert bits(lr) == record["lr_bits"][0], f"the first run after a params-only load: lr {lr!r}, step 0's"


def test_a_combined_file_of_another_program_is_refused_in_one_line(static_mode):
    program = Program("seed-momentum", hidden=5)
    before = _state(program)
    path = FIXTURES / "seed-momentum" / "save_persistables_combined" / "all"
    with pytest.raises(paddle_lr.CheckpointError) as info:
        paddle_lr.load_checkpoint(program.main, path, program.exe, program.scope)
    text = str(info.value)
    assert text.startswith(
        f"checkpoint {path}: all is a combined file (save_combine) of 10 tensors (int64[1], float32[4], "
        "float32[4], float32[3, 4], float32[3, 4], float32[1], float32[1], float32[4, 1], ... (2 more)) that fits "
        "no list of the program's persistables in fluid's order (sorted by name): expected all 10 persistables ("
    ) and text.endswith("its 4 parameters or its 6 other persistables") and "\n" not in text, text
    assert _unchanged(before, program) == []


DAMAGED = [pytest.param(lambda data: data[:212], "the record at byte 186 is not a whole tensor: the file ends inside it "
                        "(truncated: its header claims FP32 [3, 4], 74 bytes, and 26 are left))", id="truncated"),
           pytest.param(lambda data: data + b"\0\0\0\0junk", "the record at byte 428 is not a tensor (", id="appended")]


@pytest.mark.parametrize("damage, message", DAMAGED)
def test_a_damaged_combined_file_is_refused_naming_the_offset(static_mode, tmp_path, damage, message):
    path = tmp_path / "all"
    path.write_bytes(damage((FIXTURES / "seed-momentum" / "save_persistables_combined" / "all").read_bytes()))
    program = Program("seed-momentum")
    before = _state(program)
    with pytest.raises(paddle_lr.CheckpointError) as info:
        paddle_lr.load_checkpoint(program.main, path, program.exe, program.scope)
    assert str(info.value).startswith(f"checkpoint {path}: all is not a combined tensor file ({message}"), str(info.value)
    assert "\n" not in str(info.value) and _unchanged(before, program) == []


def test_a_variable_in_two_paths_is_refused(static_mode):
    program = Program("seed-momentum")
    path = FIXTURES / "seed-momentum" / "save_persistables"
    with pytest.raises(paddle_lr.CheckpointError) as info:
        paddle_lr.load_checkpoint(program.main, [path, path], program.exe, program.scope)
    assert str(info.value) == f"checkpoint {path}: @LR_DECAY_COUNTER@ is also in {path}"


def test_a_list_reports_its_paths_and_formats(static_mode):
    program = Program("seed-momentum")
    paths = load_path("seed-momentum", "params_and_rest_files", ["params", "rest"])
    loaded = paddle_lr.load_checkpoint(program.main, paths, program.exe, program.scope)
    assert (loaded.path, loaded.format) == (tuple(paths), "combined+combined")


@pytest.mark.parametrize("optimizer", sorted(FLUID_ACCUMULATORS))
def test_accumulators_carry_fluid_names(static_mode, optimizer):
    """FLUID_ACCUMULATORS against fluid 1.8.5's names (the fixture) and the running Paddle's (the program)."""
    case = f"seed-{optimizer.lower()}"
    record = CASES[case]
    table = FLUID_ACCUMULATORS[optimizer]
    fluid = set(record["persistables"]) - set(record["parameters"]) - {COUNTER, "learning_rate"}
    assert fluid == {f"{p}_{suffix}_0" for p in record["parameters"] for suffix in table}
    ours = set(paddle_lr.graph.ir.persistables(Program(case).main))
    assert ours - set(record["parameters"]) - {COUNTER, "learning_rate_0"} == {
        f"{p}_{today}_0" for p in record["parameters"] for today in table.values()}


# -- fluid 1.8's keywords ------------------------------------------------------

FLUID_OPTIMIZERS = [pytest.param(cls, kwargs, id=cls.__name__) for cls, kwargs in (
    (paddle_lr.SGD, {}), (paddle_lr.Momentum, {"momentum": 0.9}), (paddle_lr.Adam, {}), (paddle_lr.RMSProp, {}))]


@pytest.mark.parametrize("cls, kwargs", FLUID_OPTIMIZERS)
def test_fluid_keywords_are_taken(static_mode, cls, kwargs):
    regularizer, clip = paddle_lr.L2Decay(1e-4), paddle.nn.ClipGradByGlobalNorm(1.0)
    with paddle.static.program_guard(paddle.static.Program(), paddle.static.Program()):
        x = paddle.static.data("x", [2, 3], "float32")
        loss = paddle.mean(paddle.static.nn.fc(x, 1))
        optimizer = cls(0.1, regularization=regularizer, grad_clip=clip, name="fluid_opt", **kwargs)
        optimizer.minimize(loss)
    # Paddle's Momentum fuses an L2Decay into its op (it keeps the coefficient); the others keep the regularizer.
    decay = ((optimizer._regularization_method, optimizer._regularization_coeff) if cls is paddle_lr.Momentum
             else optimizer.regularization)
    assert decay == (("l2_decay", 1e-4) if cls is paddle_lr.Momentum else regularizer)
    assert (optimizer._grad_clip, optimizer._name) == (clip, "fluid_opt")


@pytest.mark.parametrize("cls, kwargs", FLUID_OPTIMIZERS)
def test_parameter_list_is_parameters(cls, kwargs):
    paddle.disable_static()
    linear = paddle.nn.Linear(3, 1)
    optimizer = cls(0.1, parameter_list=linear.parameters(), **kwargs)
    assert [p.name for p in optimizer._parameter_list] == [p.name for p in linear.parameters()]


BOTH = [
    pytest.param(lambda: paddle_lr.SGD(0.1, regularization=paddle_lr.L2Decay(1e-4), weight_decay=1e-4),
                 "SGD: give regularization or weight_decay, not both", id="SGD-regularization"),
    pytest.param(lambda: paddle_lr.RMSProp(0.1, parameter_list=[], parameters=[]),
                 "RMSProp: give parameter_list or parameters, not both, got [] and []", id="RMSProp-parameter_list"),
    pytest.param(lambda: paddle_lr.Adam(0.1, regularization=paddle_lr.L2Decay(1e-4), weight_decay=1e-4),
                 "Adam: give regularization or weight_decay, not both", id="Adam-regularization"),
    pytest.param(lambda: paddle_lr.Momentum(0.1, 0.9, parameter_list=[], parameters=[]),
                 "Momentum: give parameter_list or parameters, not both", id="Momentum-parameter_list"),
    pytest.param(lambda: paddle_lr.AdamW(0.1, regularization=paddle_lr.L2Decay(1e-4)),
                 "AdamW: regularization is not taken (fluid 1.8 had no AdamW; give weight_decay=)", id="AdamW-regularization"),
    pytest.param(lambda: paddle_lr.AdamW(0.1, parameter_list=[]),
                 "AdamW: parameter_list is not taken (fluid 1.8 had no AdamW; give parameters=), got []",
                 id="AdamW-parameter_list"),
]


@pytest.mark.parametrize("call, message", BOTH)
def test_conflicting_or_unknown_fluid_keywords_are_one_line(static_mode, call, message):
    with paddle.static.program_guard(paddle.static.Program(), paddle.static.Program()):
        with pytest.raises(paddle_lr.ConfigError) as info:
            call()
    assert str(info.value).startswith(message) and "\n" not in str(info.value), str(info.value)

"""load_checkpoint: fixtures recorded on every Paddle version, both formats, both lowerings; the errors.

The fixtures (tests/data/checkpoints/<version>/, written by tools/record_checkpoints.py
with each Paddle) are loaded on whichever Paddle runs these tests: every tensor
must equal what was saved, bit for bit, and the lr of the following runs the
uninterrupted run's.
"""
import pickle
import shutil

import numpy as np
import paddle
import pytest

import paddle_lr
from paddle_lr.graph import tables

import checkpointkit as kit

VERSIONS = kit.versions()


def test_both_versions_are_recorded():
    """The cross-version tests below need a fixture of each supported Paddle line."""
    assert {v.split(".")[0] for v in VERSIONS} >= {"2", "3"}, VERSIONS


def fixture_path(version, form, lowering):
    directory = kit.FIXTURES / version / form / lowering
    return directory / "model" if form == "static_save" else directory


def bits(value):
    return f"{np.float32(value).view(np.uint32):08x}"


def same_array(got, expected):
    got = np.asarray(got)
    return got.dtype == expected.dtype and got.shape == expected.shape and got.tobytes() == expected.tobytes()


LOADS = [pytest.param(v, f, lo, id=f"{v}-{f}-{lo}") for v in VERSIONS for f in kit.FORMATS for lo in kit.LOWERINGS]


@pytest.mark.parametrize("version, form, lowering", LOADS)
def test_fixture_loads_exactly_and_the_lr_continues(static_mode, version, form, lowering):
    recorded = kit.manifest(version)["lowerings"][lowering]
    saved = {name: kit.decode(entry) for name, entry in recorded["saved"].items()}
    program = kit.Program(lowering)
    loaded = paddle_lr.load_checkpoint(program.main, fixture_path(version, form, lowering),
                                       program.exe, program.scope)

    assert loaded.format == form.replace("static_save", "static.save").replace("_", "-")
    state_names = sorted(n for n in saved if not tables.is_table(n))
    assert sorted(loaded.state) == state_names
    assert loaded.tables == tuple(tables.names(program.main))
    in_scope = program.state()
    for name in state_names:
        assert same_array(loaded.state[name], saved[name]), f"{name}: returned {loaded.state[name]!r}, saved {saved[name]!r}"
        assert same_array(in_scope[name], saved[name]), f"{name}: in the scope {in_scope[name]!r}, saved {saved[name]!r}"
    for name in loaded.tables:
        assert same_array(in_scope[name], tables.contents(name)), f"table {name} is not the program's"

    for i, step in enumerate(range(kit.SAVED_AFTER, kit.SAVED_AFTER + kit.RUNS_AFTER)):
        got = program.run(step)
        reference = paddle_lr.lr_at(step, **kit.SCHEDULE)
        assert bits(got) == recorded["lr_after"][i] == bits(reference), (
            f"step {step}: got {got!r} ({bits(got)}), uninterrupted run on {version} "
            f"{recorded['lr_after'][i]}, lr_at {reference!r} ({bits(reference)})")


@pytest.mark.parametrize("version", VERSIONS)
def test_branchless_tables_follow_the_program_schedule(static_mode, version):
    """A checkpoint made with another schedule: state from it, lr from the program's schedule."""
    schedule = dict(kit.SCHEDULE, boundaries=[4, 6, 8], values=[0.05, 0.02, 0.01, 0.005], warmup_iter=2)
    program = kit.Program("branchless", schedule)
    loaded = paddle_lr.load_checkpoint(program.main, fixture_path(version, "static_save", "branchless"),
                                       program.exe, program.scope)
    assert int(loaded.state["@LR_DECAY_COUNTER@"][0]) == kit.SAVED_AFTER - 1
    for step in range(kit.SAVED_AFTER, kit.SAVED_AFTER + kit.RUNS_AFTER):
        got, expected = program.run(step), paddle_lr.lr_at(step, **schedule)
        assert bits(got) == bits(expected), f"step {step}: got {got!r}, expected {expected!r}"


@pytest.mark.parametrize("version", VERSIONS)
def test_a_snapshot_loads_through_load_checkpoint(version):
    """The trainer's static snapshot: manifest checked, then loaded as a paddle.static.save checkpoint."""
    from paddle_lr.checkpoint import read_checkpoint

    where, form, state, written_by = read_checkpoint(kit.FIXTURES / version / "snapshot_static")
    assert (form, written_by) == ("snapshot", version)
    assert int(state["@LR_DECAY_COUNTER@"][0]) == kit.SNAPSHOT_AT - 1


@pytest.mark.parametrize("version", VERSIONS)
def test_a_snapshot_restores_the_trainer_program(static_mode, tmp_path, version):
    """load_checkpoint(<the trainer's static program>, <a snapshot directory>) on any version."""
    from paddle_lr.demo.keys import load_config
    from paddle_lr.demo import training

    recorded = kit.manifest(version)
    config = load_config(kit.REPO / "configs" / "shapes_demo.yml", recorded["train_overrides"])
    with kit.small_detector():
        engine = training.StaticEngine(config, num_classes=3)
    path = kit.FIXTURES / version / "snapshot_static"
    loaded = paddle_lr.load_checkpoint(engine.main, path, engine.exe, engine.scope)
    assert (loaded.format, loaded.path, loaded.paddle_version) == ("snapshot", path, version)
    assert int(loaded.state["@LR_DECAY_COUNTER@"][0]) == kit.SNAPSHOT_AT - 1
    lr, _ = engine.step(_zero_batch(config))
    assert bits(lr) == recorded["train_logs"]["static"][kit.SNAPSHOT_AT]["lr_bits"]


def _zero_batch(config):
    from paddle_lr.demo import detector

    size, grid = config.image_size, config.image_size // detector.STRIDE
    return dict(image=np.zeros((2, 3, size, size), "float32"), heat=np.zeros((2, 3, grid, grid), "float32"),
                reg=np.zeros((2, 4, grid, grid), "float32"), mask=np.zeros((2, 1, grid, grid), "float32"))


def test_a_dygraph_snapshot_is_refused_in_one_line(static_mode):
    program = kit.Program("switch")
    path = kit.FIXTURES / VERSIONS[0] / "snapshot_dygraph"
    with pytest.raises(paddle_lr.CheckpointError) as info:
        paddle_lr.load_checkpoint(program.main, path, program.exe, program.scope)
    assert str(info.value) == (f"checkpoint {path}: a dygraph snapshot (paddle.save state dicts); "
                               "load_checkpoint reads static programs' checkpoints")


# -- what does not load ------------------------------------------------------

def _static_files(directory):
    return [directory / "model.pdparams", directory / "model.pdopt"]


def _read_pickle(path):
    with open(path, "rb") as f:
        return pickle.load(f)


def _write_pickle(path, state):
    with open(path, "wb") as f:
        pickle.dump(state, f, protocol=4)


def drop(form, directory, name):
    if form == "per_variable":
        (directory / name).unlink()
        return
    for path in _static_files(directory):
        state = _read_pickle(path)
        if name in state:
            del state[name]
            _write_pickle(path, state)


def copy_as(form, directory, source, target):
    """Save the tensor ``source`` under the name ``target`` (replacing or adding it)."""
    if form == "per_variable":
        shutil.copyfile(directory / source, directory / target)
        return
    states = {path: _read_pickle(path) for path in _static_files(directory)}
    value = next(state[source] for state in states.values() if source in state)
    holder = next((path for path, state in states.items() if target in state), _static_files(directory)[1])
    states[holder][target] = value
    _write_pickle(holder, states[holder])


def file_of(form, directory, name):
    if form == "per_variable":
        return directory / name
    return next(path for path in _static_files(directory) if name in _read_pickle(path))


def truncate(path):
    path.write_bytes(path.read_bytes()[:30])


ERRORS = [
    ("missing", lambda form, d: drop(form, d, "ckpt_fc.b_velocity_0"), "missing ckpt_fc.b_velocity_0"),
    ("unexpected", lambda form, d: copy_as(form, d, "ckpt_fc.b", "extra_var_0"), "unexpected extra_var_0"),
    ("shape", lambda form, d: copy_as(form, d, "ckpt_fc.w", "ckpt_fc.b"),
     "shape mismatch ckpt_fc.b saved [3, 2], expected [2]"),
    ("dtype", lambda form, d: copy_as(form, d, "@LR_DECAY_COUNTER@", "learning_rate_0"),
     "dtype mismatch learning_rate_0 saved int64, expected float32"),
    # a switch checkpoint's lr variable is skipped only where the program's tables stand for it
    ("lr-unexpected", lambda form, d: copy_as(form, d, "learning_rate_0", "learning_rate_7"),
     "unexpected learning_rate_7"),
    ("several", lambda form, d: (drop(form, d, "ckpt_fc.w"), copy_as(form, d, "ckpt_fc.b", "extra_var_0")),
     "missing ckpt_fc.w; unexpected extra_var_0"),
    ("truncated", lambda form, d: truncate(file_of(form, d, "ckpt_fc.w")),
     {"per_variable": "ckpt_fc.w is not a tensor file (its header claims FP32 [3, 2], 50 bytes, and the file has 30: "
                      "truncated or damaged)",
      "static_save": "model.pdparams/.pdopt is unreadable ("}),
    ("garbage", lambda form, d: file_of(form, d, "ckpt_fc.w").write_bytes(b"not a checkpoint\n" * 4),
     {"per_variable": "ckpt_fc.w is not a tensor file (",
      "static_save": "model.pdparams/.pdopt is unreadable ("}),
]


@pytest.mark.parametrize("form", kit.FORMATS)
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("damage, message", [pytest.param(d, m, id=i) for i, d, m in ERRORS])
def test_a_checkpoint_that_does_not_fit_leaves_the_scope_untouched(static_mode, tmp_path, version, form,
                                                                   damage, message):
    directory = tmp_path / form
    shutil.copytree(kit.FIXTURES / version / form / "switch", directory)
    damage(form, directory)
    path = directory / "model" if form == "static_save" else directory
    program = kit.Program("switch")
    program.run(0)
    before = program.state()
    with pytest.raises(paddle_lr.CheckpointError) as info:
        paddle_lr.load_checkpoint(program.main, path, program.exe, program.scope)
    text = str(info.value)
    expected = message[form] if isinstance(message, dict) else message
    assert text.startswith(f"checkpoint {path}: ") and expected in text and "\n" not in text, text
    assert isinstance(info.value, paddle_lr.ConfigError)
    after = program.state()
    assert [n for n in before if not same_array(after[n], before[n])] == []


OTHER_LOWERING = [pytest.param(v, f, saved, built, id=f"{v}-{f}-{saved}-into-{built}")
                  for v in VERSIONS for f in kit.FORMATS
                  for saved, built in (("switch", "branchless"), ("branchless", "switch"))]


@pytest.mark.parametrize("version, form, saved_with, built_with", OTHER_LOWERING)
def test_another_lowering_loads_and_the_lr_continues(static_mode, version, form, saved_with, built_with):
    """A switch checkpoint in a branch-free program, and the reverse (the default changed from one to the other).

    The Switch's lr variable and the tables are both computed from the schedule
    and the counter: a switch checkpoint's lr variable is skipped in a program
    with tables, a Switch program does not need its lr variable from a
    checkpoint, the rest loads exactly, and the lr continues as the
    uninterrupted run's.
    """
    recorded = kit.manifest(version)["lowerings"][saved_with]
    saved = {name: kit.decode(entry) for name, entry in recorded["saved"].items()}
    program = kit.Program(built_with)
    loaded = paddle_lr.load_checkpoint(program.main, fixture_path(version, form, saved_with),
                                       program.exe, program.scope)
    lr_var = "learning_rate_0"
    # the switch's lr variable is skipped where the tables stand for it; a Switch program recomputes its own
    assert loaded.replaced == ((lr_var,) if saved_with == "switch" else ())
    assert sorted(loaded.state) == sorted(n for n in saved if not tables.is_table(n) and n != lr_var)
    in_scope = program.state()
    for name in loaded.state:
        assert same_array(in_scope[name], saved[name]), f"{name}: in the scope {in_scope[name]!r}, saved {saved[name]!r}"
    for i, step in enumerate(range(kit.SAVED_AFTER, kit.SAVED_AFTER + kit.RUNS_AFTER)):
        got = program.run(step)
        assert bits(got) == recorded["lr_after"][i], (
            f"step {step}: got {got!r} ({bits(got)}), uninterrupted {saved_with} run on {version} "
            f"{recorded['lr_after'][i]}")


def test_nothing_there(static_mode, tmp_path):
    program = kit.Program("switch")
    with pytest.raises(paddle_lr.CheckpointError) as info:
        paddle_lr.load_checkpoint(program.main, tmp_path / "nope", program.exe, program.scope)
    assert str(info.value).startswith(f"checkpoint {tmp_path / 'nope'}: no such checkpoint (")


def test_startup_not_run(static_mode):
    program = kit.Program("switch")
    empty = paddle.static.Scope()
    with pytest.raises(paddle_lr.CheckpointError) as info:
        paddle_lr.load_checkpoint(program.main, fixture_path(VERSIONS[0], "static_save", "switch"), None, empty)
    assert "not in the scope (run the startup program first): @LR_DECAY_COUNTER@, ckpt_fc.b" in str(info.value)


def test_save_checkpoint_round_trip(static_mode, tmp_path):
    """save_checkpoint is paddle.static.save; what it writes loads back exactly."""
    program = kit.Program("branchless")
    for step in range(kit.SAVED_AFTER):
        program.run(step)
    saved = program.state()
    paddle_lr.save_checkpoint(program.main, tmp_path / "ckpt", scope=program.scope)
    fresh = kit.Program("branchless")
    loaded = paddle_lr.load_checkpoint(fresh.main, tmp_path / "ckpt.pdparams", fresh.exe, fresh.scope)
    assert loaded.format == "static.save" and loaded.path == tmp_path / "ckpt"
    assert [n for n in saved if not same_array(fresh.state()[n], saved[n])] == []

"""No input kills or hangs the process: a tensor of another program, shapes past memory, FIFOs and devices
as files, broken datasets, names that would leave a checkpoint directory. Each is one line, exit 2.

The FIFO and device cases run the tools in subprocesses with a timeout, so that a regression hangs one
case, not the suite.
"""
import json
import os
import shutil
import subprocess
import sys

import paddle
import pytest

import paddle_lr
from paddle_lr import rules
from paddle_lr.demo import coco_data, detector, shapes_dataset

import trainkit

FOREIGN = ("learning_rate: must be a tensor of the program being built (the default main program), "
           "got lr_a of another program (build it under the same program_guard)")

# name -> a call taking the other program's lr tensor, inside the program being built
USES = {
    "linear_lr_warmup-switch": lambda lr, loss: paddle_lr.linear_lr_warmup(lr, 5, 0.0, 0.1),
    "linear_lr_warmup-branchless": lambda lr, loss: paddle_lr.linear_lr_warmup(lr, 5, 0.0, 0.1, impl="branchless"),
    "exponential_decay": lambda lr, loss: paddle_lr.exponential_decay(lr, 10, 0.5),
    "cosine_decay": lambda lr, loss: paddle_lr.cosine_decay(lr, 10, 2),
    "Momentum": lambda lr, loss: paddle_lr.Momentum(lr, 0.9).minimize(loss),
    "SGD-keyword": lambda lr, loss: paddle_lr.SGD(learning_rate=lr).minimize(loss),
    "Adam": lambda lr, loss: paddle_lr.Adam(lr).minimize(loss),
}


@pytest.mark.parametrize("use", list(USES))
def test_a_tensor_of_another_program_is_refused_when_built(static_mode, use):
    other, main = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(other, paddle.static.Program()):
        lr = paddle_lr.create_global_var([1], 0.1, "float32", persistable=True, name="lr_a")
    with paddle.static.program_guard(main, paddle.static.Program()):
        x = paddle.static.data("x", [None, 2], "float32")
        loss = paddle.mean(paddle.static.nn.fc(x, 1))
        before = len(main.global_block().ops)
        with pytest.raises(paddle_lr.ConfigError) as info:
            USES[use](lr, loss)
    assert str(info.value) == FOREIGN
    if use.startswith(("linear", "exponential", "cosine")):
        assert len(main.global_block().ops) == before, "ops were built before the refusal"


@pytest.mark.parametrize("build, shape, itemsize", [
    pytest.param(lambda s: paddle_lr.create_global_var(s, 0.0, "float32"), [2 ** 62], 4, id="create_global_var-2**62"),
    pytest.param(lambda s: paddle_lr.create_global_var(s, 0, "int64"), [2 ** 31, 2 ** 31], 8, id="int64-2**31-squared"),
    pytest.param(lambda s: paddle_lr.fill_constant(s, "float32", 0.0), [2 ** 62], 4, id="fill_constant-2**62"),
])
def test_a_shape_past_memory_is_refused_before_paddle_allocates(static_mode, build, shape, itemsize):
    main = paddle.static.Program()
    with paddle.static.program_guard(main, paddle.static.Program()):
        with pytest.raises(paddle_lr.ConfigError) as info:
            build(shape)
    need = itemsize
    for d in shape:
        need *= d
    assert str(info.value) == (f"shape: must fit in this machine's memory ({rules.memory_bytes()} bytes), "
                               f"got {shape}, which needs {need} bytes")


@pytest.mark.parametrize("name", ["../outside", "/etc/lr", "a/../../b", ""])
def test_a_name_that_would_leave_a_checkpoint_directory_is_refused(static_mode, name):
    with paddle.static.program_guard(paddle.static.Program(), paddle.static.Program()):
        with pytest.raises(paddle_lr.ConfigError) as info:
            paddle_lr.create_global_var([1], 0.5, "float32", persistable=True, name=name)
    assert str(info.value) == ("name: must be a variable name that stays inside a checkpoint directory as a file "
                               f"name (not empty, no leading '/', no '..' part), got {name!r}")


def test_a_name_with_a_subdirectory_is_kept(static_mode):
    with paddle.static.program_guard(paddle.static.Program(), paddle.static.Program()):
        paddle_lr.create_global_var([1], 0.5, "float32", persistable=True, name="block/lr")


def run_tool(tool, args):
    return subprocess.run([sys.executable, str(trainkit.REPO / "tools" / tool), *args], capture_output=True,
                          text=True, env=trainkit.subprocess_env(), timeout=120)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


# tool, its arguments around the special file, the one line's start (the file named after it)
SPECIAL_INPUTS = [
    pytest.param("warmup_calc.py", lambda f: ["-c", str(f), "--batch", "16", "--images", "1000"],
                 "error: config: must be a regular file, got", id="warmup_calc-c"),
    pytest.param("plot_lr.py", lambda f: ["-c", str(f), "--out", "/nonexistent/x.png"],
                 "error: config: must be a regular file, got", id="plot_lr-c"),
    pytest.param("train.py", lambda f: ["-c", str(f)], "error: config: must be a regular file, got", id="train-c"),
    pytest.param("warmup_calc.py", lambda f: ["-c", str(trainkit.CONFIG), "--ann", str(f), "--batch", "16"],
                 "error: ann: must be a regular file, got", id="warmup_calc-ann"),
]


@pytest.mark.parametrize("tool, args, start", SPECIAL_INPUTS)
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_fifo_or_a_device_as_input_is_refused_without_reading(fifo, tool, args, start, kind):
    special = fifo if kind == "fifo" else "/dev/zero"
    done = run_tool(tool, args(special))
    label = "a FIFO" if kind == "fifo" else "a character device"
    assert (done.returncode, done.stderr) == (2, f"{start} {str(special)!r} ({label})\n")


def test_a_config_past_the_size_bound_is_refused(tmp_path):
    path = tmp_path / "big.yml"
    with open(path, "wb") as f:
        f.truncate(rules.MAX_TEXT_BYTES + 1)
    done = run_tool("warmup_calc.py", ["-c", str(path), "--batch", "16", "--images", "1000"])
    assert (done.returncode, done.stderr) == (
        2, f"error: config: must be at most {rules.MAX_TEXT_BYTES} bytes, got {str(path)!r} "
           f"of {rules.MAX_TEXT_BYTES + 1} bytes\n")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A generated shapes dataset to break, one copy per case."""
    root = tmp_path_factory.mktemp("data") / "shapes"
    shapes_dataset.ensure_shapes(trainkit.tiny_config(root))
    return root


def _write(relative, data):
    def damage(root):
        (root / relative).write_bytes(data)
    return damage


def _edit_annotations(change):
    def damage(root):
        path = root / "annotations" / "instances_train.json"
        coco = json.loads(path.read_text())
        change(coco)
        path.write_text(json.dumps(coco))
    return damage


def _first_image(root):
    coco = json.loads((root / "annotations" / "instances_train.json").read_text())
    return root / "train" / sorted(coco["images"], key=lambda r: r["id"])[0]["file_name"]


ANN = "{root}/annotations/instances_train.json"
# id -> (damage, the one line)
BROKEN = {
    "annotations-not-json": (_write("annotations/instances_train.json", b"{"),
                             "dataset_dir: " + ANN + " is not JSON: Expecting property name enclosed in double "
                             "quotes: line 1 column 2 (char 1)"),
    "annotations-a-list": (_write("annotations/instances_train.json", b"[]"),
                           "dataset_dir: " + ANN + " must be a COCO annotation file with images, annotations, "
                           "categories lists"),
    "empty-split": (_edit_annotations(lambda c: (c["images"].clear(), c["annotations"].clear())),
                    "dataset_dir: " + ANN + " lists no images or no categories (an empty split)"),
    "missing-image": (lambda root: os.unlink(_first_image(root)),
                      "dataset_dir: cannot read {image}: No such file or directory"),
    "image-not-an-image": (lambda root: _first_image(root).write_bytes(b"not a png"),
                           "dataset_dir: {image} is not a readable image (cannot identify image file "),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_dataset_is_one_line_naming_the_file(dataset, tmp_path, case):
    damage, message = BROKEN[case]
    root = tmp_path / "shapes"
    shutil.copytree(dataset, root)
    image = _first_image(root)
    damage(root)
    with pytest.raises(paddle_lr.ConfigError) as info:
        coco_data.CocoDetection(root, "train", 32, detector.STRIDE)
    expected = message.format(root=root, image=image)
    assert str(info.value).startswith(expected), str(info.value)
    assert "\n" not in str(info.value)

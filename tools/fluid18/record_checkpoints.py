#!/usr/bin/env python3
"""Record fluid 1.8.5's checkpoints, in every format fluid wrote, and the runs they interrupt.

    GLOG_minloglevel=2 /work/venvs/fluid185/bin/python tools/fluid18/record_checkpoints.py --out tests/data/fluid185

Runs on paddlepaddle 1.8.5 (``paddle.fluid``) and Python 3.5-3.8 only; it
never imports paddle_lr. For each case (a learning-rate schedule and an
optimizer, see ``CASES``) it trains a tiny program (two fc layers, fixed
initial values, a fixed batch per iteration) for ``ITERATIONS`` iterations
and, after iteration ``SAVE_AFTER``, saves its persistables in each format
of ``FORMATS`` under ``OUT/checkpoints/<case>/<format>/``. The program is
built afresh under ``fluid.unique_name.guard()`` for each format, so that
every format is saved from the same state by its own uninterrupted run.

``OUT/checkpoints/manifest.json`` records the batches fed, and per case the
names fluid gave the persistables, the initial parameters and the state saved
(dtype, shape, bytes in hex), and for every iteration of the uninterrupted run
the lr and the loss (float32 bits), the parameters after it (hex) and the
step counter after it. Everything written is a function of the code only:
two runs write identical files.
"""
from __future__ import print_function

import argparse
import os
import shutil

import fluid18common as common  # first: it pins MKL's code path before Paddle loads
import fluid18io
from fluid18graphs import SEED_SOURCE, family_schedule
import numpy as np
import paddle.fluid as fluid

TOPIC = "checkpoints"
ITERATIONS = 12
#: The checkpoint is saved after this many iterations (the counter then holds SAVE_AFTER - 1).
SAVE_AFTER = 6
BATCH, IN, HIDDEN = 4, 3, 4
BASE_LR = 0.05
COUNTER = common.COUNTER
L2 = 1e-4

VALUES = [BASE_LR, BASE_LR * 0.1, BASE_LR * 0.01]

#: name -> the schedule spec ``{"fn", "args"}``: the call ``fn(**args)``; an ``args["learning_rate"]``
#: that is itself a spec is built first and its tensor passed in.
SCHEDULES = {
    "seed": {"fn": "exponential_with_warmup_decay",
              "args": {"learning_rate": BASE_LR, "boundaries": [8, 10], "values": VALUES,
                       "warmup_iter": 4, "warmup_factor": 1.0 / 3}},
    "piecewise_decay": {"fn": "piecewise_decay", "args": {"boundaries": [8, 10], "values": VALUES}},
    "linear_lr_warmup": {"fn": "linear_lr_warmup",
                          "args": {"learning_rate": BASE_LR, "warmup_steps": 8, "start_lr": 0.01,
                                   "end_lr": BASE_LR}},
    "linear_lr_warmup_piecewise": {"fn": "linear_lr_warmup",
                                    "args": {"learning_rate": {"fn": "piecewise_decay",
                                                               "args": {"boundaries": [8, 10], "values": VALUES}},
                                             "warmup_steps": 4, "start_lr": 0.01, "end_lr": BASE_LR}},
    "exponential_decay": {"fn": "exponential_decay",
                           "args": {"learning_rate": BASE_LR, "decay_steps": 4, "decay_rate": 0.5}},
    "natural_exp_decay": {"fn": "natural_exp_decay",
                           "args": {"learning_rate": BASE_LR, "decay_steps": 4, "decay_rate": 0.5,
                                    "staircase": True}},
    "inverse_time_decay": {"fn": "inverse_time_decay",
                            "args": {"learning_rate": BASE_LR, "decay_steps": 4, "decay_rate": 0.5}},
    "polynomial_decay": {"fn": "polynomial_decay",
                          "args": {"learning_rate": BASE_LR, "decay_steps": 10, "end_learning_rate": 0.001,
                                   "power": 2.0}},
    "cosine_decay": {"fn": "cosine_decay", "args": {"learning_rate": BASE_LR, "step_each_epoch": 2,
                                                     "epochs": 6}},
    "noam_decay": {"fn": "noam_decay", "args": {"d_model": 16, "warmup_steps": 4, "learning_rate": 0.5}},
}

#: The optimizers, with fluid 1.8's keywords. AdamW did not exist in fluid 1.8 (it came with Paddle 2.0).
OPTIMIZERS = {
    "momentum": ("Momentum", {"momentum": 0.9}),
    "sgd": ("SGD", {}),
    "adam": ("Adam", {}),
    "rmsprop": ("RMSProp", {}),
}

#: Every schedule with Momentum(0.9, L2Decay(1e-4)); the seed with each optimizer.
CASES = [(s, "momentum") for s in sorted(SCHEDULES)] + [("seed", o) for o in ("adam", "rmsprop", "sgd")]

#: The formats: directory -> what fluid 1.8 called to write it.
FORMATS = {
    "save_persistables": "fluid.io.save_persistables(exe, DIR, main)",
    "save_persistables_combined": "fluid.io.save_persistables(exe, DIR, main, filename='all')",
    "save_vars_combined": "fluid.io.save_vars(exe, DIR, main, vars=<every persistable>, filename='state')",
    "params_and_rest_files": "fluid.io.save_params(exe, DIR, main, filename='params'); "
                             "fluid.io.save_vars(exe, DIR, main, vars=<the other persistables>, filename='rest')",
    "params_and_rest_dirs": "fluid.io.save_params(exe, DIR/params, main); "
                            "fluid.io.save_vars(exe, DIR/rest, main, vars=<the other persistables>)",
    "fluid_save": "fluid.save(main, DIR/model) (model.pdparams, model.pdopt; model.pdmodel removed)",
}


def case_name(schedule, optimizer):
    return schedule + "-" + optimizer


def initial_values():
    """Fixed initial parameters (no random initializer involved)."""
    w0 = np.linspace(-0.6, 0.6, IN * HIDDEN).astype("float32").reshape(IN, HIDDEN)
    b0 = np.linspace(-0.1, 0.1, HIDDEN).astype("float32")
    w1 = np.linspace(0.5, -0.4, HIDDEN).astype("float32").reshape(HIDDEN, 1)
    b1 = np.array([0.05], dtype="float32")
    return w0, b0, w1, b1


def batch(iteration):
    """The batch of an iteration: a fixed function of its number."""
    base = np.linspace(-1.0, 1.0, BATCH * IN).astype("float32").reshape(BATCH, IN)
    x = (base * np.float32(1 + 0.25 * (iteration % 5))).astype("float32")
    y = (np.sum(x, axis=1, keepdims=True) * np.float32(0.5)).astype("float32")
    return {"x": x, "y": y}


def build(schedule, optimizer):
    """The program of a case: returns (main, startup, lr, loss, parameter names)."""
    main, startup = fluid.Program(), fluid.Program()
    w0, b0, w1, b1 = initial_values()
    init = fluid.initializer.NumpyArrayInitializer
    with fluid.unique_name.guard(), fluid.program_guard(main, startup):
        x = fluid.data("x", [None, IN], "float32")
        y = fluid.data("y", [None, 1], "float32")
        hidden = fluid.layers.fc(x, HIDDEN, act="tanh", param_attr=fluid.ParamAttr(initializer=init(w0)),
                                 bias_attr=fluid.ParamAttr(initializer=init(b0)))
        out = fluid.layers.fc(hidden, 1, param_attr=fluid.ParamAttr(initializer=init(w1)),
                              bias_attr=fluid.ParamAttr(initializer=init(b1)))
        loss = fluid.layers.mean(fluid.layers.square(out - y))
        lr = family_schedule(SCHEDULES[schedule]["fn"], SCHEDULES[schedule]["args"])
        kind, kwargs = OPTIMIZERS[optimizer]
        opt = getattr(fluid.optimizer, kind)(learning_rate=lr, regularization=fluid.regularizer.L2Decay(L2),
                                             **kwargs)
        opt.minimize(loss)
    params = sorted(p.name for p in main.all_parameters())
    return main, startup, lr, loss, params


def persistables(main):
    return [v for v in main.list_vars() if fluid.io.is_persistable(v)]


def tensor_state(scope, names):
    return dict((n, np.array(scope.find_var(n).get_tensor())) for n in names)


def encode(array):
    array = np.ascontiguousarray(array)
    return {"dtype": str(array.dtype), "shape": [int(d) for d in array.shape], "hex": array.tobytes().hex()}


def f32_bits(value):
    return "%08x" % int(np.asarray(value, dtype=np.float32).reshape(-1)[0].view(np.uint32))


def save(form, exe, main, directory):
    rest = [v for v in persistables(main) if not isinstance(v, fluid.framework.Parameter)]
    if form == "save_persistables":
        fluid.io.save_persistables(exe, directory, main)
    elif form == "save_persistables_combined":
        fluid.io.save_persistables(exe, directory, main, filename="all")
    elif form == "save_vars_combined":
        fluid.io.save_vars(exe, directory, main, vars=persistables(main), filename="state")
    elif form == "params_and_rest_files":
        fluid.io.save_params(exe, directory, main, filename="params")
        fluid.io.save_vars(exe, directory, main, vars=rest, filename="rest")
    elif form == "params_and_rest_dirs":
        fluid.io.save_params(exe, os.path.join(directory, "params"), main)
        fluid.io.save_vars(exe, os.path.join(directory, "rest"), main, vars=rest)
    elif form == "fluid_save":
        os.makedirs(directory)
        fluid.save(main, os.path.join(directory, "model"))
        # The program file is dropped: no loader reads it, and fluid writes it differently from run to run
        # (the Switch's ops come out in another order), which a fixture compared byte for byte cannot be.
        os.remove(os.path.join(directory, "model.pdmodel"))
    else:
        raise KeyError(form)


def run_case(schedule, optimizer, out):
    """Train the case once per format, saving after SAVE_AFTER iterations; returns its manifest entry."""
    record = None
    for form in sorted(FORMATS):
        main, startup, lr, loss, params = build(schedule, optimizer)
        scope, exe = fluid.Scope(), fluid.Executor(fluid.CPUPlace())
        names = sorted(v.name for v in persistables(main))
        lrs, losses, after, counters = [], [], [], []
        with fluid.scope_guard(scope):
            exe.run(startup)
            initial = dict((n, encode(a)) for n, a in sorted(tensor_state(scope, params).items()))
            for iteration in range(ITERATIONS):
                if iteration == SAVE_AFTER:
                    saved = tensor_state(scope, names)
                    save(form, exe, main, os.path.join(out, case_name(schedule, optimizer), form))
                lr_value, loss_value = exe.run(main, feed=batch(iteration), fetch_list=[lr, loss],
                                               use_program_cache=True)
                lrs.append(f32_bits(lr_value))
                losses.append(f32_bits(loss_value))
                after.append(dict((n, a.tobytes().hex()) for n, a in sorted(tensor_state(scope, params).items())))
                counters.append(int(np.array(scope.find_var(COUNTER).get_tensor())[0]))
        entry = {"schedule": SCHEDULES[schedule], "optimizer": optimizer, "persistables": names,
                 "parameters": params, "initial": initial,
                 "saved": dict((n, encode(a)) for n, a in sorted(saved.items())),
                 "lr_bits": lrs, "loss_bits": losses, "parameters_after": after, "counter_after": counters}
        if record is not None and record != entry:
            raise AssertionError("%s: the run saving %s differs from the others" % (case_name(schedule, optimizer),
                                                                                   form))
        record = entry
    return record


def main_():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="the directory; writes OUT/%s/" % TOPIC)
    args = parser.parse_args()
    out = os.path.join(args.out, TOPIC)
    if os.path.isdir(out):
        shutil.rmtree(out)
    common.make_folder(args.out, TOPIC)
    cases = {}
    for schedule, optimizer in CASES:
        cases[case_name(schedule, optimizer)] = run_case(schedule, optimizer, out)
    manifest = common.header()
    manifest.update({
        "seed_source": SEED_SOURCE, "iterations": ITERATIONS, "save_after": SAVE_AFTER,
        "batch": {"size": BATCH, "in": IN, "hidden": HIDDEN}, "l2_decay": L2, "formats": FORMATS,
        "feeds": [dict((k, encode(v)) for k, v in sorted(batch(i).items())) for i in range(ITERATIONS)],
        "optimizers": dict((k, v[0]) for k, v in OPTIMIZERS.items()),
        "optimizer_args": dict((k, v[1]) for k, v in OPTIMIZERS.items()), "cases": cases})
    fluid18io.write_json(os.path.join(out, "manifest.json"), manifest)
    print("wrote %d cases x %d formats to %s" % (len(cases), len(FORMATS), out))


if __name__ == "__main__":
    main_()

"""Record a small fluid 1.8.5 training program, iteration by iteration (Python 3.5-3.8, paddle.fluid 1.8.5).

    python tools/fluid18/record_training.py --out DIR

writes ``DIR/training/<optimizer>.json`` for Momentum (the seed's recipe,
``Momentum(0.9, regularization=L2Decay(1e-4))``), Adam and RMSProp: a
two-layer fc regression whose lr is the seed's ``exponential_with_warmup_decay``
Switch graph (see ``fluid18graphs.seed_schedule``), run for ``ITERATIONS``
iterations on the CPU. Recorded: every parameter before the first iteration
(so another Paddle can start from the same values, whatever its initializers
draw), and at every iteration the lr and the loss (fetched: computed before
that iteration's update), every parameter's gradient (``<name>@GRAD``: with
``regularization=`` fluid adds the L2 term into it) and every parameter after the update, as float32 bit patterns. The data are ``numpy.random.RandomState(DATA_SEED)``
draws; they are recorded too (numpy's float32 ``tanh`` and ``dot`` differ
between numpy versions and CPUs, so the tests read them rather than draw them).
"""
import argparse
import sys

from fluid18common import fluid, header, make_folder  # first: pins MKL

import numpy as np

import fluid18io
from fluid18graphs import seed_schedule

ITERATIONS = 30
BATCH, FEATURES, HIDDEN = 8, 6, 10
DATA_SEED, PROGRAM_SEED = 1234, 90
# The seed's arguments, scaled to 30 iterations: warmup over 5, decays at 12 and 22.
SCHEDULE = {"learning_rate": 0.1, "boundaries": [12, 22], "values": [0.1, 0.01, 0.001],
            "warmup_iter": 5, "warmup_factor": 1.0 / 3}
L2 = 1e-4

OPTIMIZERS = {
    "momentum": ("fluid.optimizer.Momentum(lr, momentum=0.9, regularization=fluid.regularizer.L2Decay(1e-4))",
                 lambda lr: fluid.optimizer.Momentum(lr, momentum=0.9,
                                                     regularization=fluid.regularizer.L2Decay(L2))),
    "adam": ("fluid.optimizer.Adam(lr)", lambda lr: fluid.optimizer.Adam(lr)),
    "rmsprop": ("fluid.optimizer.RMSProp(lr, regularization=fluid.regularizer.L2Decay(1e-4))",
                lambda lr: fluid.optimizer.RMSProp(lr, regularization=fluid.regularizer.L2Decay(L2))),
}


def make_data():
    """The batches: x [ITERATIONS, BATCH, FEATURES], y [ITERATIONS, BATCH, 1], float32; batch i is x[i], y[i]."""
    rng = np.random.RandomState(DATA_SEED)
    x = rng.uniform(-1.0, 1.0, size=(ITERATIONS, BATCH, FEATURES)).astype(np.float32)
    w = rng.uniform(-1.0, 1.0, size=(FEATURES, 1)).astype(np.float32)
    y = (np.tanh(x.dot(w)) + 0.1 * rng.standard_normal(size=(ITERATIONS, BATCH, 1))).astype(np.float32)
    return x, y


def build(make_optimizer):
    """The program: fc(relu) -> fc -> mean squared error, the seed's lr; (main, startup, lr, loss)."""
    main, startup = fluid.Program(), fluid.Program()
    main.random_seed = startup.random_seed = PROGRAM_SEED
    with fluid.unique_name.guard(), fluid.program_guard(main, startup):
        x = fluid.data("x", [BATCH, FEATURES], "float32")
        y = fluid.data("y", [BATCH, 1], "float32")
        hidden = fluid.layers.fc(x, HIDDEN, act="relu", param_attr=fluid.ParamAttr(name="fc0.w"),
                                 bias_attr=fluid.ParamAttr(name="fc0.b"))
        out = fluid.layers.fc(hidden, 1, param_attr=fluid.ParamAttr(name="fc1.w"),
                              bias_attr=fluid.ParamAttr(name="fc1.b"))
        loss = fluid.layers.mean(fluid.layers.square_error_cost(out, y))
        lr = seed_schedule(**SCHEDULE)
        make_optimizer(lr).minimize(loss)
    return main, startup, lr, loss


def record(name):
    source, make_optimizer = OPTIMIZERS[name]
    main, startup, lr, loss = build(make_optimizer)
    params = sorted(p.name for p in main.global_block().all_parameters())
    x, y = make_data()
    scope = fluid.Scope()
    exe = fluid.Executor(fluid.CPUPlace())
    lrs, losses = [], []
    trail = dict((p, []) for p in params)
    grads = dict((p, []) for p in params)
    with fluid.scope_guard(scope):
        exe.run(startup)
        initial = dict((p, np.array(scope.find_var(p).get_tensor())) for p in params)
        for i in range(ITERATIONS):
            got = exe.run(main, feed={"x": x[i], "y": y[i]}, fetch_list=[lr, loss] + [p + "@GRAD" for p in params],
                          use_program_cache=True)
            lrs.append(got[0].reshape(-1)[0])
            losses.append(got[1].reshape(-1)[0])
            for p, grad in zip(params, got[2:]):
                trail[p].append(np.array(scope.find_var(p).get_tensor()))
                grads[p].append(grad)
    return {
        "optimizer": source,
        "schedule": dict(SCHEDULE, fn="exponential_with_warmup_decay (the seed's Switch graph)"),
        "program": {"layers": "fc(x, hidden, act=relu, fc0.w, fc0.b) -> fc(1, fc1.w, fc1.b) -> "
                              "mean(square_error_cost(out, y))", "hidden": HIDDEN, "random_seed": PROGRAM_SEED},
        "data": {"seed": DATA_SEED, "iterations": ITERATIONS, "batch": BATCH, "features": FEATURES,
                 "x": fluid18io.encode_bits(x), "y": fluid18io.encode_bits(y)},
        "lr": fluid18io.encode_bits(np.array(lrs, dtype=np.float32)),
        "loss": fluid18io.encode_bits(np.array(losses, dtype=np.float32)),
        "params": dict((p, {"shape": list(initial[p].shape),
                            "initial": fluid18io.encode_bits(initial[p]),
                            "after_each_iteration": fluid18io.encode_bits(np.stack(trail[p])),
                            "grad_each_iteration": fluid18io.encode_bits(np.stack(grads[p]))})
                       for p in params),
    }


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the recording's root; files go to OUT/training/")
    args = parser.parse_args(argv)
    folder = make_folder(args.out, "training")
    for name in sorted(OPTIMIZERS):
        fluid18io.write_json("%s/%s.json" % (folder, name), dict(header(), **record(name)))
        print("training %s: %d iterations" % (name, ITERATIONS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

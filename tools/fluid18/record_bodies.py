"""Record what the published fluid-era lr bodies give on fluid 1.8.5 (Python 3.5-3.8, paddle.fluid 1.8.5).

    python tools/fluid18/record_bodies.py --out DIR

writes ``DIR/bodies/<body>.json``, one per file of
``tests/data/fluid_bodies/published/`` (see its PROVENANCE.json): each file
imported as a module, as published, and its schedule functions (and the
optimizers it builds) called with the arguments of :data:`BODIES`. Per call:
the lr fetched after every ``Executor.run`` of the main program, on the CPU,
and, where the call builds an optimizer, the two parameters of a tiny program
(``loss = mean((x * w + b - y) ** 2)``) after every step; or the error the
call raises; and which of the program's ops (in any block) are exp/cos/pow and
optimizer updates. Only what is outside the learning-rate part is stubbed
(:data:`STUBS`: a logger, decorators, fp16 helpers never called with fp16 off,
an argument object) and, on fluid 1.8.5, ``paddle.fluid.initializer.init_on_cpu``,
which fluid 1.8 removed: a context manager that did nothing on the CPU.

The tests (tests/test_port_published.py) port each file with paddle-lr-port,
make the same calls on Paddle 3.3.1 and 2.6.2 (the calls, stubs and tiny
program's data come from here) and compare with these recordings.
"""
import argparse
import contextlib
import hashlib
import importlib.util
import logging
import os
import sys
import types

# fluid's float32 division goes through MKL's vsDiv; pin one code path (see record_traces.py).
os.environ["MKL_CBWR"] = "COMPATIBLE"

import numpy as np

import fluid18io

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PUBLISHED = os.path.join(ROOT, "tests", "data", "fluid_bodies", "published")
TOPIC = "bodies"

# The argument object PaddleCV image classification's train.py passes to Optimizer(args).
IC_ARGS = ("Args(batch_size=8, lr=0.1, lr_strategy='piecewise_decay', l2_decay=1e-4, momentum_rate=0.9, "
           "step_epochs=[2, 4], num_epochs=6, total_images=40, warm_up_epochs=2.0, decay_epochs=2.4, "
           "decay_rate=0.97)")
OCR_COSINE = ("{'base_lr': 0.001, 'beta1': 0.9, 'beta2': 0.999, 'l2_decay': 1e-5, "
              "'decay': {'function': 'cosine_decay', 'step_each_epoch': 3, 'total_epoch': 8}}")
OCR_PIECEWISE = ("{'base_lr': 0.001, 'beta1': 0.9, 'beta2': 0.999, "
                 "'decay': {'function': 'piecewise_decay', 'boundaries': [5, 9], 'decay_rate': 0.1}}")
PPDET_WARMUP = "LinearWarmup(steps=4, start_factor=1. / 3)"

# body -> (the file under tests/data/fluid_bodies/published/, the stubs it needs, its calls).
# A call: (id, Python expression in the module's namespace, kind, steps). Kinds:
#   "lr": the expression returns the lr tensor;
#   "optimizer": it returns an optimizer, minimize(loss) is called on the tiny program;
#   "minimize": it builds the updates itself from loss, main, startup and returns the lr (or (lr, ...)).
BODIES = {
    "image_classification_learning_rate": (
        "PaddlePaddle/models/PaddleCV/image_classification/utils/learning_rate.py", ["init_on_cpu"], [
            ("cosine_decay", "cosine_decay(0.1, step_each_epoch=3, epochs=20)", "lr", 64),
            ("cosine_decay_with_warmup", "cosine_decay_with_warmup(0.1, step_each_epoch=3, epochs=20)", "lr", 66),
            ("lr_warmup_over_cosine_decay", "lr_warmup(cosine_decay(0.1, 3, 20), 5, 0.0, 0.1)", "lr", 30),
            ("Optimizer.piecewise_decay", "Optimizer(%s).piecewise_decay()" % IC_ARGS, "optimizer", 24),
            ("Optimizer.cosine_decay", "Optimizer(%s).cosine_decay()" % IC_ARGS, "optimizer", 24),
            ("Optimizer.cosine_decay_warmup", "Optimizer(%s).cosine_decay_warmup()" % IC_ARGS, "optimizer", 24),
            ("Optimizer.linear_decay", "Optimizer(%s).linear_decay()" % IC_ARGS, "optimizer", 12),
            ("Optimizer.adam_decay", "Optimizer(%s).adam_decay()" % IC_ARGS, "optimizer", 12),
        ]),
    "image_classification_optimizer": (
        "PaddlePaddle/models/PaddleCV/image_classification/utils/optimizer.py", [], [
            ("cosine_decay", "cosine_decay(0.1, step_each_epoch=3, epochs=20)", "lr", 4),
            ("cosine_decay_with_warmup", "cosine_decay_with_warmup(0.1, step_each_epoch=3, epochs=20, "
                                         "warm_up_epoch=5.0)", "lr", 66),
            ("exponential_decay_with_warmup", "exponential_decay_with_warmup(0.1, step_each_epoch=4, "
                                              "decay_epochs=2.5, decay_rate=0.9, warm_up_epoch=2.0)", "lr", 40),
            ("lr_warmup_over_exponential", "lr_warmup(exponential_decay_with_warmup(0.1, 4, 6.0), 5, 0.0, 0.1)",
             "lr", 30),
            ("Optimizer.piecewise_decay", "Optimizer(%s).piecewise_decay()" % IC_ARGS, "optimizer", 24),
            ("Optimizer.cosine_decay_warmup", "Optimizer(%s).cosine_decay_warmup()" % IC_ARGS, "optimizer", 24),
            ("Optimizer.exponential_decay_warmup", "Optimizer(%s).exponential_decay_warmup()" % IC_ARGS,
             "optimizer", 24),
            ("Optimizer.cosine_decay_RMSProp", "Optimizer(%s).cosine_decay_RMSProp()" % IC_ARGS, "optimizer", 24),
            ("Optimizer.default_decay", "Optimizer(%s).default_decay()" % IC_ARGS, "optimizer", 8),
        ]),
    "ernie_optimization": (
        "PaddlePaddle/ERNIE/optimization.py", ["utils.fp16"], [
            ("linear_warmup_decay", "linear_warmup_decay(0.1, warmup_steps=4, num_train_steps=10)", "lr", 12),
            ("optimization.linear_warmup_decay", "optimization(loss, 4, 10, 0.1, main, startup, 0.01)",
             "minimize", 12),
            ("optimization.noam_decay", "optimization(loss, 4, 10, 0.1, main, startup, 0.01, "
                                        "scheduler='noam_decay')", "minimize", 12),
            ("optimization.constant", "optimization(loss, 0, 10, 0.1, main, startup, 0.0)", "minimize", 6),
        ]),
    "bert_optimization": (
        "PaddlePaddle/LARK/BERT/optimization.py", ["utils.fp16"], [
            ("linear_warmup_decay", "linear_warmup_decay(0.1, warmup_steps=4, num_train_steps=10)", "lr", 12),
            ("optimization.linear_warmup_decay", "optimization(loss, 4, 10, 0.1, main, startup, 0.01)",
             "minimize", 12),
            ("optimization.noam_decay", "optimization(loss, 4, 10, 0.1, main, startup, 0.0, "
                                        "scheduler='noam_decay')", "minimize", 12),
        ]),
    "ppdet_optimizer": (
        "PaddlePaddle/PaddleDetection/static/ppdet/optimizer.py", ["ppdet.core.workspace"], [
            ("PiecewiseDecay+LinearWarmup", "LearningRate(0.01, [PiecewiseDecay(milestones=[6, 9]), %s])()"
             % PPDET_WARMUP, "lr", 12),
            ("PiecewiseDecay.values", "LearningRate(0.01, [PiecewiseDecay(values=[0.02, 0.01, 0.005], "
                                      "milestones=[3, 7])])()", "lr", 10),
            ("PolynomialDecay", "LearningRate(0.01, [PolynomialDecay(max_iter=12, end_lr=0.0001, power=0.9)])()",
             "lr", 14),
            ("ExponentialDecay", "LearningRate(0.01, [ExponentialDecay(max_iter=4, decay_rate=0.5)])()", "lr", 14),
            ("CosineDecay+LinearWarmup", "LearningRate(0.01, [CosineDecay(max_iters=20), %s])()" % PPDET_WARMUP,
             "lr", 22),
            ("CosineDecayWithSkip", "LearningRate(0.01, [CosineDecayWithSkip(total_steps=20, skip_steps=5)])()",
             "lr", 22),
            ("CosineDecayWithSkip.no_skip", "LearningRate(0.01, [CosineDecayWithSkip(total_steps=20)])()",
             "lr", 22),
            ("OptimizerBuilder.Momentum", "OptimizerBuilder()(LearningRate(0.01, [PiecewiseDecay(milestones=[6, 9]),"
                                          " %s])())" % PPDET_WARMUP, "optimizer", 12),
            ("OptimizerBuilder.clip_grad_by_norm", "OptimizerBuilder(clip_grad_by_norm=0.5)(LearningRate(0.01, "
                                                   "[CosineDecay(max_iters=20)])())", "optimizer", 12),
        ]),
    "ocr_optimizer": (
        "PaddlePaddle/PaddleOCR/ppocr/optimizer.py", ["ppocr.utils.utility"], [
            ("AdamDecay.cosine_decay", "AdamDecay(%s)" % OCR_COSINE, "optimizer", 26),
            ("AdamDecay.piecewise_decay", "AdamDecay(%s)" % OCR_PIECEWISE, "optimizer", 12),
            ("RMSProp.cosine_decay", "RMSProp(%s)" % OCR_COSINE, "optimizer", 26),
            ("RMSProp.constant", "RMSProp({'base_lr': 0.001})", "optimizer", 6),
        ]),
}

# What is stubbed, outside the learning-rate part, for a body to import.
STUBS = {
    "utils.fp16": "ERNIE's and BERT's fp16 helpers (create_master_params_grads, master_param_to_train_param, "
                  "apply_dynamic_loss_scaling), only called with use_fp16=True: they raise if called",
    "ppdet.core.workspace": "PaddleDetection's config registry decorators register and serializable: "
                            "they return the class",
    "ppocr.utils.utility": "PaddleOCR's initial_logger: a logging.Logger",
    "init_on_cpu": "on fluid 1.8.5 only, paddle.fluid.initializer.init_on_cpu, which fluid 1.8 removed "
                   "(fluid 1.5 had it): a context manager that does nothing (a CPU run's constants are "
                   "on the CPU anyway)",
}


class Args(object):
    """The argument object of a train.py: the keywords as attributes."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def _fp16_helper(*args, **kwargs):
    raise RuntimeError("utils.fp16 is stubbed: the fp16 path is not recorded")


def _identity(cls):
    return cls


def install_stubs(names, fluid=None):
    """Put the stub modules of ``names`` in ``sys.modules`` (``fluid``: the paddle.fluid module, on 1.8.5)."""
    modules = {
        "utils.fp16": {"create_master_params_grads": _fp16_helper, "master_param_to_train_param": _fp16_helper,
                       "apply_dynamic_loss_scaling": _fp16_helper},
        "ppdet.core.workspace": {"register": _identity, "serializable": _identity},
        "ppocr.utils.utility": {"initial_logger": lambda: logging.getLogger("ppocr")},
    }
    for name in names:
        if name == "init_on_cpu":
            fluid.initializer.init_on_cpu = contextlib.contextmanager(lambda: (yield))
            continue
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
        for key, value in modules[name].items():
            setattr(sys.modules[name], key, value)


def load_module(path, name):
    """Import the Python file ``path`` as the module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_data():
    """The tiny program's inputs and initial parameters: (x [8, 4], y [8, 4], w [4], b [4]), float32."""
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (8, 4)).astype(np.float32)
    y = rng.uniform(-1, 1, (8, 4)).astype(np.float32)
    return x, y, rng.uniform(-0.5, 0.5, 4).astype(np.float32), np.zeros(4, np.float32)


#: the ops whose kernels round differently on Paddle 3.x, and the optimizers' update ops.
KERNELS = set(["cos", "exp", "pow", "elementwise_pow"])
OPTIMIZER_OPS = set(["sgd", "momentum", "rmsprop", "adam"])

#: the tiny program's parameter names (fc's, so that ERNIE's weight decay skips the bias as it does fc's).
PARAMS = ("fc_0.w_0", "fc_0.b_0")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _tiny_program(fluid):
    x0, y0, w0, b0 = tiny_data()
    x = fluid.layers.assign(x0)
    y = fluid.layers.assign(y0)
    init = fluid.initializer.NumpyArrayInitializer
    w = fluid.layers.create_parameter([4], "float32", name=PARAMS[0], default_initializer=init(w0))
    b = fluid.layers.create_parameter([4], "float32", name=PARAMS[1], default_initializer=init(b0))
    d = x * w + b - y
    return fluid.layers.reduce_mean(d * d)


def _run(fluid, module, expression, kind, steps):
    main, startup = fluid.Program(), fluid.Program()
    with fluid.unique_name.guard(), fluid.program_guard(main, startup):
        namespace = dict(vars(module), Args=Args)
        if kind == "lr":
            lr = eval(expression, namespace)
            fetch = [lr]
        else:
            namespace.update(loss=_tiny_program(fluid), main=main, startup=startup)
            built = eval(expression, namespace)
            if kind == "optimizer":
                built.minimize(namespace["loss"])
                lr = built._global_learning_rate()
            else:
                lr = built[0] if isinstance(built, tuple) else built
            fetch = [lr] + [main.global_block().var(name) for name in PARAMS]
    ops = set(op.type for block in main.blocks for op in block.ops)
    scope = fluid.Scope()
    exe = fluid.Executor(fluid.CPUPlace())
    rows = []
    with fluid.scope_guard(scope):
        exe.run(startup)
        for _ in range(steps):
            rows.append([np.asarray(v, np.float32).reshape(-1) for v in
                         exe.run(main, fetch_list=fetch, use_program_cache=True)])
    out = {"lr": fluid18io.encode_bits(np.concatenate([row[0] for row in rows])),
           "kernels": sorted(ops & KERNELS), "optimizer_ops": sorted(ops & OPTIMIZER_OPS)}
    for i, name in enumerate(PARAMS if kind != "lr" else ()):
        out[name] = fluid18io.encode_bits(np.concatenate([row[i + 1] for row in rows]))
    return out


def record(body, out_dir):
    import paddle.fluid as fluid

    relpath, stubs, calls = BODIES[body]
    path = os.path.join(PUBLISHED, *relpath.split("/"))
    install_stubs(stubs, fluid)
    module = load_module(path, "published_" + body)
    results = []
    for call_id, expression, kind, steps in calls:
        entry = {"id": call_id, "call": expression, "kind": kind, "steps": steps}
        try:
            entry.update(_run(fluid, module, expression, kind, steps))
        except Exception as exc:  # the published code's own error is the recording
            entry["error"] = "%s: %s" % (type(exc).__name__, exc)
        results.append(entry)
    fluid18io.write_json(os.path.join(out_dir, body + ".json"), {
        "file": relpath, "sha256": sha256(path), "stubs": stubs, "params": list(PARAMS),
        "paddle": __import__("paddle").__version__, "calls": results})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the recordings go to OUT/%s/" % TOPIC)
    parser.add_argument("--body", action="append", choices=sorted(BODIES), help="only these bodies")
    args = parser.parse_args(argv)
    out_dir = os.path.join(args.out, TOPIC)
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
    for body in args.body or sorted(BODIES):
        record(body, out_dir)
        print("%s/%s.json" % (out_dir, body))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The published fluid-era bodies' calls, stubs and tiny program (Python 3.5+, numpy only; no Paddle).

Shared by tools/fluid18/record_bodies.py, which makes these calls on fluid 1.8.5,
and tests/test_port_published.py, which makes them on the ported files; so the
two sides make one set of calls. Never imports Paddle or paddle_lr.
"""
import contextlib
import hashlib
import importlib.util
import logging
import os
import sys
import types

import numpy as np

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

# ERNIE's two optimization.py (the repository root's, and ernie/'s for fluid 1.8) take the same calls.
ERNIE_CALLS = [
    ("linear_warmup_decay", "linear_warmup_decay(0.1, warmup_steps=4, num_train_steps=10)", "lr", 12),
    ("optimization.linear_warmup_decay", "optimization(loss, 4, 10, 0.1, main, startup, 0.01)", "minimize", 12),
    ("optimization.noam_decay", "optimization(loss, 4, 10, 0.1, main, startup, 0.01, scheduler='noam_decay')",
     "minimize", 12),
    ("optimization.constant", "optimization(loss, 0, 10, 0.1, main, startup, 0.0)", "minimize", 6),
]

# (The tiny program's gradients start at a global norm of 0.196: ppdet's clip_grad_by_norm=0.05 clips its
# steps; ERNIE's and BERT's clip_norm=1.0, fixed in their code, does not.)
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
    "ernie_optimization": ("PaddlePaddle/ERNIE/optimization.py", ["utils.fp16"], ERNIE_CALLS),
    "ernie_fluid18_optimization": ("PaddlePaddle/ERNIE/ernie/optimization.py", [], ERNIE_CALLS),
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
            ("OptimizerBuilder.clip_grad_by_norm", "OptimizerBuilder(clip_grad_by_norm=0.05)(LearningRate(0.01, "
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

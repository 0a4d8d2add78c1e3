"""Record the cosine recipes people train with, every step, on fluid 1.8.5 (Python 3.5-3.8, paddle.fluid 1.8.5).

    python tools/fluid18/record_cosine.py --out DIR

writes ``DIR/cosine/recipes.json``: the lr fetched after every
``Executor.run`` for the whole run of

* ``resnet_cosine``: ImageNet ResNet's ``fluid.layers.cosine_decay(0.1,
  step_each_epoch, 120)``, 5005 steps an epoch (1281167 images, batch 256);
* ``imagenet_warmup_cosine``: PaddleCV image classification's published
  ``cosine_decay_with_warmup(0.1, 5005, 120)`` (a Switch: 5 warmup epochs,
  then a per-step cosine), from ``utils/learning_rate.py`` as published
  (``tests/data/fluid_bodies/published/``, PROVENANCE.json), imported with the
  stubs ``bodies.py`` gives it, as ``record_bodies.py`` does;
* ``ppdet_ssdlite_cosine``: PaddleDetection's static ``CosineDecay(max_iters)``
  under ``LinearWarmup`` (``ppdet/optimizer.py``: ``fluid.layers.cosine_decay(
  base_lr, 1, max_iters)`` passed to ``fluid.layers.linear_lr_warmup(lr, steps,
  base_lr * start_factor, base_lr)``) with ``ssdlite_mobilenet_v3_large.yml``'s
  numbers: base_lr 0.4, max_iters 400000, start_factor 0.33333, steps 2000.
"""
import argparse
import os
import sys

from fluid18common import fluid, header, make_folder  # first: pins MKL

import numpy as np

import fluid18io
from bodies import BODIES, PUBLISHED, install_stubs, load_module
from fluid18graphs import family_schedule
from record_traces import run_trace

BODY = "image_classification_learning_rate"
STEPS_PER_EPOCH = 5005

RECIPES = [
    {"name": "resnet_cosine", "base_lr": 0.1, "steps": 120 * STEPS_PER_EPOCH,
     "schedule": {"fn": "cosine_decay", "args": {"learning_rate": 0.1, "step_each_epoch": STEPS_PER_EPOCH,
                                                 "epochs": 120}}},
    {"name": "imagenet_warmup_cosine", "base_lr": 0.1, "steps": 120 * STEPS_PER_EPOCH,
     "body": BODY, "file": BODIES[BODY][0],
     "call": "cosine_decay_with_warmup(0.1, step_each_epoch=%d, epochs=120)" % STEPS_PER_EPOCH},
    {"name": "ppdet_ssdlite_cosine", "base_lr": 0.4, "steps": 400000,
     "schedule": {"fn": "linear_lr_warmup",
                  "args": {"learning_rate": {"fn": "cosine_decay",
                                             "args": {"learning_rate": 0.4, "step_each_epoch": 1, "epochs": 400000}},
                           "warmup_steps": 2000, "start_lr": 0.4 * 0.33333, "end_lr": 0.4}}},
]


def body_schedule(call):
    """``call`` in the published file, imported on the real fluid (with its stubs)."""
    install_stubs(BODIES[BODY][1], fluid)
    module = load_module(os.path.join(PUBLISHED, BODIES[BODY][0]), "published_" + BODY)
    return eval(call, vars(module))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the recording's root; files go to OUT/cosine/")
    args = parser.parse_args(argv)
    folder = make_folder(args.out, "cosine")
    cases = []
    for recipe in RECIPES:
        if "schedule" in recipe:
            build = lambda: family_schedule(recipe["schedule"]["fn"], recipe["schedule"]["args"])
        else:
            build = lambda: body_schedule(recipe["call"])
        bits = run_trace(build, recipe["steps"])
        cases.append(dict(recipe, first_step=0, lr=fluid18io.encode_bits(bits)))
        print("cosine %s: %d steps" % (recipe["name"], recipe["steps"]))
    fluid18io.write_json(os.path.join(folder, "recipes.json"), dict(header(), cases=cases))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

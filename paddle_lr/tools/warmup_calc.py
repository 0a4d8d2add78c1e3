"""warmup_calc: a recipe's warmup, decay steps and length on another dataset or batch, same epochs.

    tools/warmup_calc.py --images 22720 --batch 64 --ref-images 118287 --ref-batch 64 \\
        --ref-warmup-iter 4000 --lr-steps 65000 68000 --max-iter 70000
    tools/warmup_calc.py --ann data/custom/annotations/instances_train.json --batch 16 \\
        --warmup-epochs 2 --json
    tools/warmup_calc.py -c configs/yolov3_warmup_piecewise.yml --images 22720 --batch 16

With ``-c``, the reference recipe (warmup, decay steps, max_iter, total batch,
dataset_images) comes from a config, whatever its schedule: the R-CNN keys, a
``schedule:`` spec or a PaddleDetection static config; arguments given win.
"""
import json

from ..demo.coco_count import count_images
from ..config import boundary_marks, warmup_iters
from ..planning import plan_schedule, total_batch
from ._cli import ArgumentParser, UsageError, add_config_args, load_config_args, run
from .plot_lr import dataset_images

__all__ = ["PROG", "main"]

#: the console script's name, used in usage and error lines.
PROG = "paddle-lr-warmup-calc"


def _number(text):
    """An int when the text is one, else a float (fractional warmups are allowed)."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def _parser():
    parser = ArgumentParser(
        prog=PROG,
        description="Convert warmup (and lr_steps, max_iter) between datasets and batch sizes, "
        "keeping epochs constant.",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--images", type=int, help="training images of the target dataset")
    target.add_argument("--ann", metavar="COCO_JSON", help="count the images of this COCO annotation file")
    parser.add_argument("--batch", type=int, required=True, help="target total batch (devices x images)")
    parser.add_argument("--ref-images", type=int, help="training images of the reference recipe's dataset")
    parser.add_argument("--ref-batch", type=int, help="total batch of the reference recipe")
    # Required unless -c gives the reference recipe (checked in _main).
    warmup = parser.add_mutually_exclusive_group()
    warmup.add_argument("--ref-warmup-iter", type=_number, help="the reference warmup, iterations")
    warmup.add_argument("--warmup-epochs", type=float, help="the warmup in epochs")
    parser.add_argument("--lr-steps", type=int, nargs="+", help="the reference decay steps, iterations")
    parser.add_argument("--max-iter", type=int, help="the reference training length, iterations")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    add_config_args(parser, required=False)
    for action in parser._actions:
        if action.dest == "config":
            action.help = ("the reference recipe as a config (any schedule): its warmup, decay steps, "
                           "max_iter, total batch and dataset_images, unless given above")
    return parser


def _from_config(args):
    """Fill the reference recipe's arguments that were not given from ``-c``/``-o``."""
    config = load_config_args(args)
    marks = boundary_marks(config)
    if args.ref_warmup_iter is None and args.warmup_epochs is None:
        warmup = warmup_iters(config)
        args.ref_warmup_iter = int(warmup) if float(warmup).is_integer() else warmup
    if args.lr_steps is None and marks:
        args.lr_steps = [step for step, _ in marks]
    if args.max_iter is None:
        args.max_iter = config.max_iter
    if args.ref_batch is None:
        args.ref_batch = total_batch(config)
    if args.ref_images is None:
        args.ref_images = dataset_images(config)
    return args


def _table(plan, args):
    counted = "" if args.ann is None else f" (counted in {args.ann})"
    lines = [f"target: {plan['images']} images{counted}, batch {plan['batch']}"]
    if args.ref_images is not None:
        lines.append(f"reference: {args.ref_images} images, batch {args.ref_batch}")
    lines += [f"{'key':<14}{'iterations':>12}{'epochs':>12}",
              f"{'warm_up_iter':<14}{plan['warm_up_iter']:>12}{plan['warmup_epochs']:>12.4f}"]
    for i, (step, epochs) in enumerate(zip(plan.get("lr_steps", []), plan.get("lr_steps_epochs", []))):
        lines.append(f"{f'lr_steps[{i}]':<14}{step:>12}{epochs:>12.4f}")
    if "max_iter" in plan:
        lines.append(f"{'max_iter':<14}{plan['max_iter']:>12}{plan['max_iter_epochs']:>12.4f}")
    return "\n".join(lines)


def _main(argv):
    args = _parser().parse_args(argv)
    if args.config is not None:
        args = _from_config(args)
    elif args.ref_warmup_iter is None and args.warmup_epochs is None:
        raise UsageError(f"{PROG}: one of the arguments --ref-warmup-iter --warmup-epochs is required "
                         "(or -c CONFIG)")
    images = args.images if args.ann is None else count_images(args.ann)
    plan = plan_schedule(
        images,
        args.batch,
        ref_images=args.ref_images,
        ref_batch=args.ref_batch,
        ref_warmup_iter=args.ref_warmup_iter,
        warmup_epochs=args.warmup_epochs,
        lr_steps=args.lr_steps,
        max_iter=args.max_iter,
    )
    if args.json:
        print(json.dumps(plan))
    else:
        print(_table(plan, args))
    return 0


def main(argv=None):
    """Run warmup_calc.

    Args:
        argv (list[str], optional): the arguments (``sys.argv[1:]`` by default).

    Returns:
        int: 0, or 2 with one line on stderr for bad arguments or a bad ``--ann`` file.
    """
    return run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())

"""Write the synthetic shapes detection dataset (COCO format).

    tools/make_shapes_dataset.py --out DIR [--train N] [--val N] [--size PX] [--seed S]

Writes ``DIR/{train,val}/*.png`` and ``DIR/annotations/instances_{train,val}.json``:
1 to 4 rectangles, ellipses and triangles per image on noisy backgrounds. The
same arguments give the same bytes.
"""

from .. import rules
from ..demo import keys
from ..demo import shapes_dataset as shapes
from ._cli import ArgumentParser, new_directory, run

__all__ = ["PROG", "main"]

#: the console script's name, used in usage and error lines.
PROG = "paddle-lr-make-shapes-dataset"


def _parser():
    defaults = keys.cfg
    parser = ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="dataset root to create (must not exist)")
    parser.add_argument("--train", type=int, default=defaults.shapes_train_images,
                        help=f"training images (default {defaults.shapes_train_images})")
    parser.add_argument("--val", type=int, default=defaults.shapes_val_images,
                        help=f"validation images (default {defaults.shapes_val_images})")
    parser.add_argument("--size", type=int, default=defaults.image_size,
                        help=f"image side in pixels (default {defaults.image_size})")
    parser.add_argument("--seed", type=int, default=defaults.seed, help=f"random seed (default {defaults.seed})")
    return parser


def _main(argv):
    args = _parser().parse_args(argv)
    out = new_directory(PROG, "--out", args.out)
    shapes.make_shapes(
        out,
        # The ranges of the cfg's shapes_*_images, image_size and seed keys (the demo's limits).
        train=rules.integer("--train", args.train, low=1, high=keys.MAX_SPLIT_IMAGES),
        val=rules.integer("--val", args.val, low=1, high=keys.MAX_SPLIT_IMAGES),
        size=rules.integer("--size", args.size, low=keys.MIN_IMAGE_SIZE, high=keys.MAX_IMAGE_SIZE),
        seed=rules.integer("--seed", args.seed, low=0, high=keys.MAX_SEED),
    )
    print(f"wrote {args.train} train and {args.val} val images of {args.size}x{args.size} to {out}")
    return 0


def main(argv=None):
    """Run the tool.

    Args:
        argv (list[str], optional): the arguments (``sys.argv[1:]`` by default).

    Returns:
        int: the exit status (0; 2 for a bad argument).
    """
    return run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())

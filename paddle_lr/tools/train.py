"""Train the demo detector with the cfg's in-graph learning rate; snapshots, resume, COCO AP.

    tools/train.py -c configs/shapes_demo.yml [-o KEY=VALUE ...] [--output DIR]
                   [--resume SNAPSHOT_DIR [--trust-checkpoint] [--replace-log]] [--dygraph] [--eval-only]

Static graph by default; ``--dygraph`` trains the same model with the dygraph
twin of the schedule, under ``paddle.DataParallel`` when started with
``python -m paddle.distributed.launch --nproc_per_node N``.
"""
import warnings

import paddle

from .. import rules
from ..demo import snapshot, training
from ._cli import ArgumentParser, UsageError, add_config_args, interrupt_note, load_config_args, run

__all__ = ["PROG", "main"]

#: the console script's name, used in usage and error lines.
PROG = "paddle-lr-train"


def _parser():
    parser = ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    add_config_args(parser)
    parser.add_argument("--output", default="output", help="output directory (default: output)")
    parser.add_argument(
        "--resume", metavar="SNAPSHOT_DIR",
        help="a snapshot directory, or a directory of snapshot_* (the newest complete one is used)",
    )
    parser.add_argument(
        "--trust-checkpoint", action="store_true",
        help="read the resumed snapshot's pickles with Paddle's own loader, which runs any code they name "
             "(by default only what Paddle's save writes is admitted); only for snapshots you trust",
    )
    parser.add_argument(
        "--replace-log", action="store_true",
        help="resume another run's snapshot into an --output that has a log of its own, replacing its lines "
             "from the snapshot's iteration on (refused otherwise)",
    )
    parser.add_argument("--dygraph", action="store_true", help="train in dygraph mode")
    parser.add_argument(
        "--eval-only", action="store_true", help="evaluate the initial (or resumed) parameters, no training"
    )
    return parser


def _resume_from(output):
    """What an interrupted run leaves to resume from, for its one line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", snapshot.SnapshotWarning)
        try:
            directory, manifest = snapshot.find_snapshot(output)
        except snapshot.SnapshotError:
            return f"no complete snapshot in {output}"
    return (f"the last complete snapshot is {directory} (iteration {manifest['iteration']}); "
            f"resume with --resume {output}")


def _main(argv):
    args = _parser().parse_args(argv)
    rules.path_text("--output", args.output)
    if args.resume is not None:
        rules.path_text("--resume", args.resume)
    config = load_config_args(args)
    _, world_size = training.world()
    if world_size > 1 and not args.dygraph and not paddle.is_compiled_with_cuda():
        raise UsageError(
            f"{PROG}: static data parallel (world size {world_size}) needs a GPU build of Paddle "
            "(fleet collective); use --dygraph for CPU data parallel"
        )
    for flag, given in (("--trust-checkpoint", args.trust_checkpoint), ("--replace-log", args.replace_log)):
        if given and args.resume is None:
            raise UsageError(f"{PROG}: {flag} needs --resume")
    with interrupt_note(lambda: _resume_from(args.output)):
        training.train(config, args.output, resume=args.resume, dygraph=args.dygraph, eval_only=args.eval_only,
                       trust_checkpoint=args.trust_checkpoint, replace_log=args.replace_log)
    return 0


def main(argv=None):
    """Run the tool.

    Args:
        argv (list[str], optional): the arguments (``sys.argv[1:]`` by default).

    Returns:
        int: the exit status (0; 2 for a bad cfg, argument or snapshot).
    """
    return run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())

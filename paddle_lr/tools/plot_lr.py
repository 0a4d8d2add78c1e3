"""plot_lr: a config's learning rate over max_iter, as a figure and/or a table of segments.

    tools/plot_lr.py -c configs/rcnn_1x.yml --output output/lr_rcnn_1x.png --table
    tools/plot_lr.py -c configs/coco17.yml -o max_iter=80000 --log --output lr.png

Every value comes from the schedule's numpy reference evaluated at every step
(:func:`paddle_lr.lr_at` for the R-CNN keys, the family's references for a
``schedule:`` spec or a PaddleDetection config); the segments are where those
values change, the warmup ramp (and any stretch that changes at every step, a
cosine decay say) being one segment.
"""
import math
import os

import numpy as np

from ..coco_count import count_images, train_annotations
from ..config import boundary_marks, describe, reference_lr, schedule_args, warmup_iters
from ..planning import scale_for_batch, total_batch
from ..planning import epochs_of
from ._cli import ArgumentParser, UsageError, add_config_args, load_config_args, run

__all__ = ["PROG", "main", "lr_segments", "dataset_images"]

#: the console script's name, used in usage and error lines.
PROG = "paddle-lr-plot-lr"


def lr_segments(config):
    """The schedule of a cfg as segments: the warmup ramp, then each constant or varying stretch.

    Args:
        config (AttrDict): a validated (and batch-scaled) cfg.

    Returns:
        tuple: ``(steps, lr, segments)``: ``steps`` is ``arange(max_iter)``, ``lr``
        is the schedule's reference (:func:`~paddle_lr.config.reference_lr`, which
        is :func:`~paddle_lr.lr_at` for the R-CNN keys) at every step (float32),
        and ``segments`` is a list of dicts with ``start`` and ``stop`` (steps,
        ``stop`` exclusive), ``first`` and ``last`` (the lr at ``start`` and
        ``stop - 1``), ``warmup`` (bool: the linear warmup ramp) and ``varying``
        (bool: the lr changes at every step of it, as in a cosine or exponential decay).
    """
    steps = np.arange(config.max_iter)
    lr = reference_lr(config, steps)
    n = config.max_iter
    warm_steps = min(math.ceil(warmup_iters(config)), n)
    changes = np.zeros(n + 1, dtype=bool)
    changes[1:n] = lr[1:] != lr[:-1]
    bounds = [(0, warm_steps, True)] if warm_steps > 0 else []
    # Inside the warmup the lr changes at every step: the ramp is one segment. After it, a
    # segment is a constant stretch, or a stretch where the lr changes at every step.
    i = warm_steps
    while i < n:
        j = i + 1
        if j < n and changes[j]:
            while j < n and changes[j]:
                j += 1
            if j < n:  # lr[j] repeats lr[j - 1]: the constant stretch starts at j - 1
                j -= 1
        else:
            while j < n and not changes[j]:
                j += 1
        bounds.append((i, j, False))
        i = j
    return steps, lr, [
        dict(start=start, stop=stop, first=lr[start], last=lr[stop - 1], warmup=warmup,
             varying=not warmup and stop - start > 1 and lr[start] != lr[stop - 1])
        for start, stop, warmup in bounds
    ]


def dataset_images(config):
    """The training set size, for epochs: ``dataset_images``, else counted in the train annotations.

    Args:
        config (AttrDict): a validated cfg.

    Returns:
        int or None: the number of images, or None when neither is available.
    """
    if config.dataset_images is not None:
        return config.dataset_images
    path = train_annotations(config)
    if path is None or not os.path.exists(path):
        return None
    return count_images(path, name="dataset_dir")


def _table(name, config, segments, images):
    batch = total_batch(config)
    known = images is not None
    header = (f"{name}: {config.max_iter} iterations, total batch {batch} "
              f"= num_devices {config.num_devices} x im_per_batch {config.im_per_batch}, ")
    header += f"{images} training images" if known else "epochs unknown (set dataset_images)"
    lines = [header, (f"{'segment':<9}{'steps':<17}{'lr':<36}" + ("epochs" if known else "")).rstrip()]
    for i, seg in enumerate(segments):
        label = "warmup" if seg["warmup"] else str(i + 1 - int(segments[0]["warmup"]))
        steps = f"{seg['start']}-{seg['stop'] - 1}"
        # str() of a float32 is its shortest round-trip form (0.01, not 0.009999999776482582).
        ramp = seg["warmup"] or seg["varying"]
        lr = f"{seg['first']!s} -> {seg['last']!s}" if ramp else str(seg["first"])
        line = f"{label:<9}{steps:<17}{lr:<36}"
        if known:
            line += (f"{epochs_of(seg['start'], images, batch):.4f}-"
                     f"{epochs_of(seg['stop'], images, batch):.4f}")
        lines.append(line.rstrip())
    return "\n".join(lines)


def _check_output(path):
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if ext not in formats:
        raise UsageError(f"--output: must end in an image format ({', '.join(sorted(formats))}), "
                         f"got {path!r}")


def _plot(path, name, config, steps, lr, segments, images, log):
    # Figure without pyplot: the Agg canvas, no GUI backend and no global figure state.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 5), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(steps, lr, color="tab:blue", lw=1.8)
    marks = []
    if segments[0]["warmup"]:
        marks.append((segments[0]["stop"], f"warmup end {segments[0]['stop']}"))
    marks += [(b, label) for b, label in boundary_marks(config) if warmup_iters(config) < b < config.max_iter]
    for x, label in marks:
        ax.axvline(x, color="0.45", ls="--", lw=1)
        # Right of the line, in the half the curve leaves free: below it where the lr rises
        # (warmup end), above it where the lr drops (a boundary).
        rises = lr[x] >= lr[x - 1]
        ax.annotate(label, (x, 0.03 if rises else 0.97), xycoords=("data", "axes fraction"),
                    xytext=(4, 0), textcoords="offset points", rotation=90, ha="left",
                    va="bottom" if rises else "top", fontsize=9, color="0.25")
    for seg in segments:
        if not (seg["warmup"] or seg["varying"]):
            ax.annotate(f"{seg['first']:.4g}", ((seg["start"] + seg["stop"]) / 2, seg["first"]),
                        xytext=(0, 4), textcoords="offset points", ha="center", va="bottom",
                        fontsize=9, color="tab:blue")
    if log:
        positive = lr[lr > 0]
        if positive.size == 0:
            raise UsageError("--log: the lr is never positive, nothing to draw on a log scale")
        ax.set_yscale("log")
        # Room above the top segment for its value label, as the linear scale has.
        ax.set_ylim(float(positive.min()) / 1.5, float(positive.max()) * 1.5)
    else:
        ax.set_ylim(min(0.0, float(lr.min())), float(lr.max()) * 1.12)
    ax.set_xlim(0, config.max_iter)
    ax.set_xlabel("iteration")
    ax.set_ylabel("learning rate" + (" (log)" if log else ""))
    ax.grid(alpha=0.3)
    if images is not None:
        per_epoch = images / total_batch(config)
        top = ax.secondary_xaxis("top", functions=(lambda s: s / per_epoch, lambda e: e * per_epoch))
        top.set_xlabel(f"epoch ({images} images, batch {total_batch(config)})")
    if config.get("schedule") is None:
        values = " / ".join(f"{v:.3g}" for v in schedule_args(config)["values"])
        ax.set_title(f"{name}: warmup {config.warm_up_iter:g} iterations "
                     f"(x{config.warm_up_factor:.3g} -> x1), then lr {values}")
    else:
        title = describe(config)
        ax.set_title(f"{name}: {title if len(title) <= 110 else title[:107] + '...'}", fontsize=10)
    if segments[0]["warmup"] and segments[0]["stop"] < 0.05 * config.max_iter:
        _warmup_inset(ax, steps, lr, segments[0]["stop"], log)
    fig.savefig(path)


def _warmup_inset(ax, steps, lr, warm_steps, log):
    # The ramp is a few pixels wide at full scale: zoom on it.
    span = min(len(steps), 2 * warm_steps)
    inset = ax.inset_axes([0.3, 0.22, 0.3, 0.38])
    inset.plot(steps[:span], lr[:span], color="tab:blue", lw=1.5)
    inset.axvline(warm_steps, color="0.45", ls="--", lw=1)
    inset.set_xlim(0, span)
    if log:
        inset.set_yscale("log")
    inset.set_title("warmup", fontsize=9)
    inset.tick_params(labelsize=8)
    inset.grid(alpha=0.3)


def _parser():
    parser = ArgumentParser(prog=PROG, description="Plot or tabulate a config's learning rate.")
    add_config_args(parser)
    parser.add_argument("--output", metavar="FILE.png", help="write the figure here")
    parser.add_argument("--table", action="store_true",
                        help="print the segments (the default when no --output)")
    parser.add_argument("--log", action="store_true", help="log-scale lr axis")
    return parser


def _main(argv):
    args = _parser().parse_args(argv)
    if args.output is not None:
        _check_output(args.output)
    config = scale_for_batch(load_config_args(args))
    name = os.path.splitext(os.path.basename(args.config))[0]
    steps, lr, segments = lr_segments(config)
    images = dataset_images(config)
    if args.output is not None:
        bad = np.flatnonzero(~np.isfinite(lr))
        if bad.size:
            raise UsageError(f"--output: the lr is not finite from step {int(bad[0])} on ({lr[bad[0]]!s}), "
                             "nothing to draw")
        try:
            os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)  # output/ on a first run
            _plot(args.output, name, config, steps, lr, segments, images, args.log)
        except OSError as exc:
            raise UsageError(f"--output: cannot write {args.output}: {exc.strerror}") from None
        print(f"wrote {args.output}")
    if args.table or args.output is None:
        print(_table(name, config, segments, images))
    return 0


def main(argv=None):
    """Run plot_lr.

    Args:
        argv (list[str], optional): the arguments (``sys.argv[1:]`` by default).

    Returns:
        int: 0, or 2 with one line on stderr for a bad config or arguments.
    """
    return run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())

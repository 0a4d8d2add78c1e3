"""plot_lr: a config's learning rate over max_iter, as a figure and/or a table of segments.

    tools/plot_lr.py -c configs/rcnn_1x.yml --output output/lr_rcnn_1x.png --table
    tools/plot_lr.py -c configs/coco17.yml -o max_iter=80000 --log --output lr.png

Every value comes from the schedule's numpy reference (:func:`paddle_lr.lr_at`
for the R-CNN keys, the family's references for a ``schedule:`` spec or a
PaddleDetection config), evaluated at every step in chunks of :data:`CHUNK`
steps, so that memory does not grow with ``max_iter``. Of each chunk the scan
keeps only what is drawn and printed: where the values change (the segments,
the warmup ramp and any stretch that changes at every step, a cosine decay say,
being one segment each), and for each of :data:`COLUMNS` columns of the x axis
the first, last, lowest and highest value with their steps (more columns than
the figure has pixels: the curve drawn through them is the curve of every
step). The values printed and the change points drawn are the reference
evaluated again at exactly those steps.
"""
import dataclasses
import io
import math
import os
from typing import List, Optional

import numpy as np

from ..demo.coco_count import count_images, train_annotations
from ..config import boundary_marks, describe, reference_lr, schedule_args, warmup_iters
from ..planning import scale_for_batch, total_batch
from ..planning import epochs_of
from ..rules import MAX_BOUNDARIES
from ._cli import ArgumentParser, UsageError, add_config_args, load_config_args, run

__all__ = ["PROG", "CHUNK", "COLUMNS", "MAX_SEGMENTS", "main", "scan", "lr_segments", "dataset_images"]

#: the console script's name, used in usage and error lines.
PROG = "paddle-lr-plot-lr"

#: Steps evaluated at once: the scan holds a few arrays of this length, whatever ``max_iter``.
CHUNK = 1 << 20
#: Columns of the x axis the curve keeps four points of: more than the figure has pixels.
COLUMNS = 4096
#: The segments listed at most: as many as a cfg's boundaries make at most (a value each, and the
#: warmup); a schedule that changes more often (a staircase of a few steps over millions) has the
#: rest counted in one last line.
MAX_SEGMENTS = MAX_BOUNDARIES + 2
#: A constant segment gets its value written above it when it is at least this share of the axis wide.
_LABELLED_WIDTH = 1 / 40
#: The characters of a title at most (the figure's width at the title's font size).
_TITLE_CHARACTERS = 120
#: A mark (warmup end, boundary) is labelled when at least this share of the axis from the last labelled.
_MARK_SPACING = 1 / 100


class _Cuts:
    """Cuts steps ``[begin, n)`` into segments from where the lr changes, as the chunks stream by.

    A segment is a constant stretch, or a stretch where the lr changes at every
    step (its last step is the one before the value that then stays). ``feed``
    takes runs of the "changes at this step" flags, in order, from step ``begin + 1``.
    """

    def __init__(self, begin, n, limit):
        self.start, self.n, self.limit = begin, n, limit
        self.mode = None  # None: the next flag decides; True: a varying stretch; False: a constant one
        self.bounds: List[tuple] = []
        self.more = 0  # segments past the limit (counted, not kept)

    def _close(self, stop):
        if len(self.bounds) < self.limit:
            self.bounds.append((self.start, stop))
        else:
            self.more += 1
        self.start = stop

    def feed(self, changes, first):
        """The flags ``changes`` of steps ``first, first + 1, ...`` (whether the lr differs from the step before)."""
        if changes.size == 0:
            return
        edges = np.flatnonzero(changes[1:] != changes[:-1]) + 1
        starts = np.concatenate([[0], edges])
        stops = np.concatenate([edges, [changes.size]])
        for changed, a, b in zip(changes[starts].tolist(), (starts + first).tolist(), (stops + first).tolist()):
            while a < b:
                if self.mode is None:
                    self.mode = changed
                if self.mode == changed:
                    a = b
                elif self.mode:  # the value at a stays: the varying stretch ends at a - 2
                    self._close(a - 1)
                    self.mode = False
                else:  # the lr changes at a: a new segment starts there, the flag at a + 1 decides
                    self._close(a)
                    self.mode = None
                    a += 1

    def finish(self):
        if self.start < self.n:
            self._close(self.n)
        return self.bounds


class _Curve:
    """Of steps ``[0, stop)``, cut into ``columns``: each column's first, last, lowest and highest point."""

    def __init__(self, stop, columns):
        self.stop, self.columns = stop, max(1, min(columns, stop))
        self.kept: List[np.ndarray] = []

    def feed(self, values, first):
        count = min(values.size, self.stop - first)
        if count <= 0:
            return
        values = values[:count]
        column = (np.arange(first, first + count) * self.columns) // self.stop
        starts = np.concatenate([[0], np.flatnonzero(np.diff(column)) + 1])
        stops = np.concatenate([starts[1:], [count]])
        piece = np.repeat(np.arange(starts.size), stops - starts)
        picked = [starts, stops - 1]
        for extreme in (np.fmin, np.fmax):
            hits = np.flatnonzero(values == extreme.reduceat(values, starts)[piece])
            picked.append(hits[np.concatenate([[True], piece[hits][1:] != piece[hits][:-1]])])
        self.kept.append(np.unique(np.concatenate(picked)) + first)

    def steps(self):
        return np.unique(np.concatenate(self.kept)) if self.kept else np.zeros(0, np.int64)


@dataclasses.dataclass
class Scan:
    """What plot_lr draws and prints of a cfg's schedule (see :func:`scan`).

    Attributes:
        segments: dicts with ``start`` and ``stop`` (steps, ``stop`` exclusive),
            ``first`` and ``last`` (the lr at ``start`` and ``stop - 1``),
            ``warmup`` (bool: the linear warmup ramp) and ``varying`` (bool: the lr
            changes at every step of it, as in a cosine or exponential decay).
        more: how many segments followed the :data:`MAX_SEGMENTS` listed.
        first_bad: the first step whose lr is not finite, or None.
        low, high: the lowest and highest finite lr (None when none is).
        low_positive: the lowest lr > 0, or None.
        curve: ``(steps, lr)`` of the figure's curve: each column's extremes and every change point.
        inset: ``(steps, lr)`` of the warmup zoom (over ``[0, inset_span)``), or None.
    """

    segments: list
    more: int
    first_bad: Optional[int]
    low: Optional[float]
    high: Optional[float]
    low_positive: Optional[float]
    curve: Optional[tuple] = None
    inset: Optional[tuple] = None


def _extend(old, new, pick):
    return new if old is None else pick(old, new)


def scan(config, *, draw=False, inset_span=0, chunk=CHUNK, columns=COLUMNS):
    """The segments of a cfg's schedule, and what its figure draws, in memory that does not grow with max_iter.

    Args:
        config (AttrDict): a validated (and batch-scaled) cfg.
        draw (bool): also keep the figure's curve.
        inset_span (int): also keep the curve of steps ``[0, inset_span)`` (the warmup zoom).
        chunk (int): steps evaluated at once.
        columns (int): columns of the x axis the curve keeps.

    Returns:
        Scan.
    """
    n = config.max_iter
    warm_steps = min(math.ceil(warmup_iters(config)), n)
    cuts = _Cuts(warm_steps, n, MAX_SEGMENTS)
    curve = _Curve(n, columns) if draw else None
    inset = _Curve(inset_span, columns) if inset_span else None
    first_bad = low = high = low_positive = None
    previous = None
    for first in range(0, n, chunk):
        values = reference_lr(config, np.arange(first, min(first + chunk, n)))
        if first_bad is None and not np.isfinite(values).all():
            first_bad = first + int(np.flatnonzero(~np.isfinite(values))[0])
        finite = values[np.isfinite(values)]
        if finite.size:
            low, high = _extend(low, finite.min(), min), _extend(high, finite.max(), max)
        positive = finite[finite > 0]
        if positive.size:
            low_positive = _extend(low_positive, positive.min(), min)
        # the flag of step s: lr[s] != lr[s - 1], for the steps after the warmup's first
        joined = values if previous is None else np.concatenate([[previous], values])
        offset = first + 1 - (joined.size - values.size)
        flags_from = max(warm_steps + 1, offset)
        cuts.feed(joined[flags_from - offset + 1:] != joined[flags_from - offset:-1], flags_from)
        previous = values[-1]
        for part in (curve, inset):
            if part is not None:
                part.feed(values, first)
    # the warmup ramp is one segment; after it, where the values change
    bounds = ([(0, warm_steps, True)] if warm_steps > 0 else []) + [(a, b, False) for a, b in cuts.finish()]
    ends = np.array([s for start, stop, _ in bounds for s in (start, stop - 1)], dtype=np.int64)
    at_ends = reference_lr(config, ends).reshape(-1, 2)
    segments = [
        dict(start=start, stop=stop, first=lr[0], last=lr[1], warmup=warmup,
             varying=not warmup and stop - start > 1 and lr[0] != lr[1])
        for (start, stop, warmup), lr in zip(bounds, at_ends)
    ]

    def points(part, extra):
        steps = np.unique(np.concatenate([part.steps(), extra[extra < part.stop]]))
        return steps, reference_lr(config, steps)

    return Scan(segments, cuts.more, first_bad, low, high, low_positive,
                curve=points(curve, ends) if curve else None, inset=points(inset, ends) if inset else None)


def lr_segments(config):
    """The schedule of a cfg as segments (:attr:`Scan.segments` of :func:`scan`).

    Args:
        config (AttrDict): a validated (and batch-scaled) cfg.

    Returns:
        list[dict]: the segments, at most :data:`MAX_SEGMENTS`.
    """
    return scan(config).segments


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


# The table's style: no edges, two spaces between columns, a line of dashes under the header.
_HEADER_RULE = "    \n    \n----\n    \n    \n    \n    \n    \n"


def _table(name, config, found, images):
    from rich.box import Box
    from rich.console import Console
    from rich.table import Table

    batch = total_batch(config)
    known = images is not None
    header = (f"{name}: {config.max_iter} iterations, total batch {batch} "
              f"= num_devices {config.num_devices} x im_per_batch {config.im_per_batch}, ")
    header += f"{images} training images" if known else "epochs unknown (set dataset_images)"
    table = Table(box=Box(_HEADER_RULE, ascii=True), show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                  header_style=None, highlight=False)
    for column in ["segment", "steps", "lr"] + (["epochs"] if known else []):
        table.add_column(column, no_wrap=True, overflow="ignore")
    warm = int(found.segments[0]["warmup"])
    for i, seg in enumerate(found.segments):
        # str() of a float32 is its shortest round-trip form (0.01, not 0.009999999776482582).
        ramp = seg["warmup"] or seg["varying"]
        row = ["warmup" if seg["warmup"] else str(i + 1 - warm), f"{seg['start']}-{seg['stop'] - 1}",
               f"{seg['first']!s} -> {seg['last']!s}" if ramp else str(seg["first"])]
        if known:
            row.append(f"{epochs_of(seg['start'], images, batch):.4f}-{epochs_of(seg['stop'], images, batch):.4f}")
        table.add_row(*row)
    out = io.StringIO()
    Console(file=out, width=1 << 16, color_system=None, force_terminal=False, markup=False, emoji=False,
            highlight=False, legacy_windows=False).print(table, crop=False)
    lines = [header] + [line.rstrip() for line in out.getvalue().splitlines()]
    if found.more:
        last = found.segments[-1]["stop"]
        lines.append(f"... and {found.more} more segments, steps {last}-{config.max_iter - 1} "
                     f"(the table lists {MAX_SEGMENTS} at most)")
    return "\n".join(lines)


def _check_output(path):
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if ext not in formats:
        raise UsageError(f"--output: must end in an image format ({', '.join(sorted(formats))}), "
                         f"got {path!r}")


def _plot(path, name, config, found, images, log):
    # Figure without pyplot: the Agg canvas, no GUI backend and no global figure state.
    from matplotlib.figure import Figure

    segments = found.segments
    fig = Figure(figsize=(10, 5), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(*found.curve, color="tab:blue", lw=1.8)
    marks = []
    if segments[0]["warmup"]:
        marks.append((segments[0]["stop"], f"warmup end {segments[0]['stop']}"))
    warmup = warmup_iters(config)
    marks += [(b, label) for b, label in boundary_marks(config) if warmup < b < config.max_iter]
    # One collection of lines (not one artist per mark: a cfg may have 10000 boundaries), and
    # a label on each mark far enough from the last one labelled to be read.
    ax.vlines([x for x, _ in marks], 0, 1, transform=ax.get_xaxis_transform(), colors="0.45",
              linestyles="--", lw=1)
    around = reference_lr(config, np.array([s for x, _ in marks for s in (x - 1, x)], dtype=np.int64))
    labelled = -math.inf
    for (x, label), (before, after) in zip(marks, around.reshape(-1, 2)):
        if x - labelled < _MARK_SPACING * config.max_iter:
            continue
        labelled = x
        # Right of the line, in the half the curve leaves free: below it where the lr rises
        # (warmup end), above it where the lr drops (a boundary).
        rises = after >= before
        ax.annotate(label, (x, 0.03 if rises else 0.97), xycoords=("data", "axes fraction"),
                    xytext=(4, 0), textcoords="offset points", rotation=90, ha="left",
                    va="bottom" if rises else "top", fontsize=9, color="0.25")
    for seg in segments:
        if not (seg["warmup"] or seg["varying"]) and seg["stop"] - seg["start"] >= _LABELLED_WIDTH * config.max_iter:
            ax.annotate(f"{seg['first']:.4g}", ((seg["start"] + seg["stop"]) / 2, seg["first"]),
                        xytext=(0, 4), textcoords="offset points", ha="center", va="bottom",
                        fontsize=9, color="tab:blue")
    if log:
        if found.low_positive is None:
            raise UsageError("--log: the lr is never positive, nothing to draw on a log scale")
        ax.set_yscale("log")
        # Room above the top segment for its value label, as the linear scale has.
        ax.set_ylim(float(found.low_positive) / 1.5, float(found.high) * 1.5)
    else:
        ax.set_ylim(min(0.0, float(found.low)), float(found.high) * 1.12)
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
        ax.set_title(_shortened(f"{name}: warmup {config.warm_up_iter:g} iterations "
                                f"(x{config.warm_up_factor:.3g} -> x1), then lr {values}"))
    else:
        ax.set_title(_shortened(f"{name}: {describe(config)}"), fontsize=10)
    if found.inset is not None:
        _warmup_inset(ax, found.inset, segments[0]["stop"], log)
    fig.savefig(path)


def _shortened(title, most=_TITLE_CHARACTERS):
    """A title that fits above the figure: cut with "..." (a cfg may have 10000 values)."""
    return title if len(title) <= most else title[:most - 3] + "..."


def _inset_span(config):
    """The steps the warmup zoom shows (twice the ramp), or 0: no zoom, the ramp is wide enough."""
    warm_steps = min(math.ceil(warmup_iters(config)), config.max_iter)
    return min(config.max_iter, 2 * warm_steps) if 0 < warm_steps < 0.05 * config.max_iter else 0


def _warmup_inset(ax, curve, warm_steps, log):
    # The ramp is a few pixels wide at full scale: zoom on it.
    steps, _ = curve
    inset = ax.inset_axes([0.3, 0.22, 0.3, 0.38])
    inset.plot(*curve, color="tab:blue", lw=1.5)
    inset.axvline(warm_steps, color="0.45", ls="--", lw=1)
    inset.set_xlim(0, int(steps[-1]) + 1)
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
    drawn = args.output is not None
    found = scan(config, draw=drawn, inset_span=_inset_span(config) if drawn else 0)
    images = dataset_images(config)
    if drawn:
        if found.first_bad is not None:
            bad = reference_lr(config, [found.first_bad])[0]
            raise UsageError(f"--output: the lr is not finite from step {found.first_bad} on ({bad!s}), "
                             "nothing to draw")
        try:
            os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)  # output/ on a first run
            _plot(args.output, name, config, found, images, args.log)
        except OSError as exc:
            raise UsageError(f"--output: cannot write {args.output}: {exc.strerror}") from None
        print(f"wrote {args.output}")
    if args.table or not drawn:
        print(_table(name, config, found, images))
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

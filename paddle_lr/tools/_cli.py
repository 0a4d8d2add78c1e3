"""What every tool shares: one-line errors with exit status 2, signals as one line, and cfg options."""
import argparse
import contextlib
import logging
import os
import pathlib
import signal
import sys
import threading
import warnings

from .. import rules

__all__ = ["UsageError", "ArgumentParser", "add_config_args", "load_config_args", "new_directory", "interrupt_note",
           "run"]

#: Exit statuses of a run ended by a signal, as a shell reports them (128 + the signal's number).
_SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


class UsageError(Exception):
    """A bad command line or input file; the message is one line."""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse`` whose errors raise :class:`UsageError` instead of printing usage."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def add_config_args(parser, required=True):
    """Add ``-c CONFIG`` and ``-o KEY=VALUE ...`` to a parser.

    Args:
        parser (ArgumentParser): the tool's parser.
        required (bool): whether ``-c`` must be given.

    Returns:
        ArgumentParser: ``parser``.
    """
    parser.add_argument("-c", "--config", required=required, help="YAML config file")
    parser.add_argument(
        "-o", "--opt", nargs="*", default=[], metavar="KEY=VALUE", help="override cfg keys"
    )
    return parser


def load_config_args(args):
    """The validated cfg of ``-c`` and ``-o``, the demo's keys with the library's.

    Args:
        args (argparse.Namespace): parsed arguments from :func:`add_config_args`.

    Returns:
        AttrDict: the cfg.
    """
    from ..demo.keys import load_config

    return load_config(args.config, args.opt)


def new_directory(prog, option, value):
    """A directory the tool is about to create, which must not exist yet.

    Args:
        prog (str): the tool's name, for the message.
        option (str): the option that named it (``--out``).
        value (str): the path given.

    Returns:
        pathlib.Path: the path.
    """
    path = pathlib.Path(value)
    if path.exists():
        raise UsageError(f"{prog}: {option} must not exist yet, got {str(path)!r}")
    return path


def _format_warning(message, category, filename, lineno, line=None):
    return f"warning: {message}\n"


class _StdoutHandler(logging.StreamHandler):
    """Writes each record to ``sys.stdout`` as it is at that moment (a redirect or pytest's capture)."""

    def __init__(self):
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):
        pass


def _log_to_stdout():
    """``paddle_lr``'s INFO records (what a run did) go to stdout, once, bare; not through the root logger."""
    logger = logging.getLogger("paddle_lr")
    if not any(isinstance(h, _StdoutHandler) for h in logger.handlers):
        logger.addHandler(_StdoutHandler())
    logger.setLevel(logging.INFO)
    logger.propagate = False


class _Terminated(BaseException):
    """SIGTERM, raised where the program is, as Ctrl-C raises KeyboardInterrupt."""


def _raise_terminated(signum, frame):
    raise _Terminated()


@contextlib.contextmanager
def interrupt_note(note):
    """While the body runs, a Ctrl-C or SIGTERM line ends with ``note()`` (what is left to resume from).

    Args:
        note (callable): ``note() -> str``, called once, after the interrupt.

    Yields:
        None.
    """
    try:
        yield
    except (KeyboardInterrupt, _Terminated) as exc:
        exc.note = note  # for run(), which prints the line
        raise


def _interrupted(signum, note):
    line = f"interrupted by {signal.Signals(signum).name}"
    if note is not None:
        try:
            line += f"; {note()}"
        except Exception as exc:  # the note reads files: never a traceback on the way out
            line += f"; (what is left could not be read: {type(exc).__name__})"
    print(f"error: {rules.one_line(line)}", file=sys.stderr)
    return _SIGNAL_EXIT[signum]


def _os_error(exc):
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    return f"{where}: {exc.strerror or exc}" if where else str(exc.strerror or exc)


def run(main, argv=None):
    """Run a tool's body: one line for every way it can fail, and an exit status.

    A :class:`ConfigError` or :class:`UsageError` exits 2; an ``OSError`` (no
    space, read-only, permission) exits 2 naming the path; Ctrl-C exits 130 and
    SIGTERM 143, each with one line (and the tool's :func:`interrupt_note`),
    never a traceback.

    Args:
        main (callable): ``main(argv) -> int or None``.
        argv (list[str], optional): the arguments (``sys.argv[1:]`` by default).

    Returns:
        int: the exit status.
    """
    os.environ.setdefault("GLOG_minloglevel", "2")
    # paddle 3.x points the root logger at stderr with level INFO when imported, which lets
    # other libraries' INFO records (matplotlib building its font cache) reach stderr.
    logging.getLogger().setLevel(logging.WARNING)
    _log_to_stdout()
    warnings.formatwarning = _format_warning
    warnings.filterwarnings("default", category=rules.ScheduleWarning)
    in_main_thread = threading.current_thread() is threading.main_thread()
    # Paddle's own SIGTERM handler prints a C++ traceback; this one raises where the program is.
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        return main(sys.argv[1:] if argv is None else argv) or 0
    except (rules.ConfigError, UsageError) as exc:
        print(f"error: {rules.one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {rules.one_line(_os_error(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        return _interrupted(signal.SIGINT, getattr(exc, "note", None))
    except _Terminated as exc:
        return _interrupted(signal.SIGTERM, getattr(exc, "note", None))
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)

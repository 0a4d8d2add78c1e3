"""What every tool shares: one-line errors with exit status 2, and cfg options."""
import argparse
import logging
import os
import pathlib
import sys
import warnings

from .. import rules

__all__ = ["UsageError", "ArgumentParser", "add_config_args", "load_config_args", "new_directory", "run"]


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
    """The validated cfg of ``-c`` and ``-o``.

    Args:
        args (argparse.Namespace): parsed arguments from :func:`add_config_args`.

    Returns:
        AttrDict: the cfg.
    """
    from ..config import load_config

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


def run(main, argv=None):
    """Run a tool's body; a :class:`ConfigError` or :class:`UsageError` exits 2 with one line.

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
    try:
        return main(sys.argv[1:] if argv is None else argv) or 0
    except (rules.ConfigError, UsageError) as exc:
        print(f"error: {rules.one_line(exc)}", file=sys.stderr)
        return 2

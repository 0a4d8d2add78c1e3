"""Fault injection for the crash tests: a real SIGKILL at a named point of a run.

With ``PADDLE_LR_FAULT_AT=<point>:<iteration>`` in the environment, the
training run kills itself with ``SIGKILL`` (no handler, no flush, no cleanup:
what a power cut or the OOM killer does to the process) when it reaches that
point. The points are:

``iter:N``
    right after the log line of iteration ``N - 1`` (``N`` iterations done),
    before any snapshot of that iteration;
``log:N``
    half-way through writing the log line of iteration ``N``;
``snapshot:N``
    while writing ``snapshot_N``: its state files are written, its manifest
    is not, and it has not been renamed into place;
``final:N``
    the same while writing ``final/`` (``N`` is ``max_iter``).

Unset (the normal case), nothing happens. ``PADDLE_LR_FAULT_SIGNAL=INT`` (or
``TERM``) sends that signal instead of ``SIGKILL``: Ctrl-C or a scheduler's
SIGTERM at the same exact point.
"""
import os
import signal

__all__ = ["ENV", "SIGNAL_ENV", "armed", "kill", "point"]

ENV = "PADDLE_LR_FAULT_AT"
SIGNAL_ENV = "PADDLE_LR_FAULT_SIGNAL"


def armed(name, iteration):
    """Whether the run must die at this point.

    Args:
        name (str): the point: ``iter``, ``log``, ``snapshot`` or ``final``.
        iteration (int): the iteration the point is at.

    Returns:
        bool: True when ``PADDLE_LR_FAULT_AT`` is ``<name>:<iteration>``.
    """
    return os.environ.get(ENV) == f"{name}:{iteration}"


def kill():
    """Send ``SIGKILL`` (or ``PADDLE_LR_FAULT_SIGNAL``'s signal) to this process.

    Returns:
        Never returns under SIGKILL; the signal's handler takes over for another.
    """
    os.kill(os.getpid(), signal.Signals[f"SIG{os.environ.get(SIGNAL_ENV, 'KILL')}"])


def point(name, iteration):
    """Die here when :func:`armed` says so.

    Args:
        name (str): the point.
        iteration (int): the iteration the point is at.

    Returns:
        None (when not armed).
    """
    if armed(name, iteration):
        kill()

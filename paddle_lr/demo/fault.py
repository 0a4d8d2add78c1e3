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

Unset (the normal case), nothing happens.
"""
import os
import signal

__all__ = ["ENV", "armed", "kill", "point"]

ENV = "PADDLE_LR_FAULT_AT"


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
    """Send ``SIGKILL`` to this process.

    Returns:
        Never returns.
    """
    os.kill(os.getpid(), signal.SIGKILL)


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

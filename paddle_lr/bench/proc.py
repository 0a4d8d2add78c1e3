"""What the bench reads of its child processes (Linux ``/proc``)."""

__all__ = ["rss_kb"]


def rss_kb(pid: int) -> int:
    """The resident memory of process ``pid`` in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

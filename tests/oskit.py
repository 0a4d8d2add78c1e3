"""Real operating-system refusals for a child process: permission, read-only file systems, a full disk.

The tests run as root, for whom ``chmod`` changes nothing. Each child here
runs in a mount namespace of its own (``unshare --mount``; with ``--user
--map-root-user`` when not root) and through ``setpriv`` without
``CAP_DAC_OVERRIDE`` and ``CAP_DAC_READ_SEARCH``, so that it obeys mode bits
as any user does, whoever runs the tests:

* **permission**: the test ``chmod``\\ s a file or directory (:func:`locked`);
* **read-only**: a directory is bind-mounted read-only in the child's
  namespace (``EROFS``);
* **full disk**: a tmpfs of a few pages is mounted on a directory in the
  child's namespace (``ENOSPC``), first given a copy of a directory and then
  filled with a file when asked; before the namespace goes, what the child
  left on it is copied out (without the filler) for the test to check.

Where the system allows none of this (no ``unshare``/``setpriv``, no mount
namespace), :func:`require` skips in one line.
"""
import contextlib
import functools
import os
import pathlib
import shlex
import shutil
import subprocess

import pytest

#: The capabilities that let root ignore mode bits.
_DAC = "-dac_override,-dac_read_search"
#: The file that fills a tmpfs (left out of what is copied back).
FILLER = ".filler"


def _namespace():
    tools = [shutil.which(name) for name in ("unshare", "setpriv", "mount")]
    if not all(tools):
        return None
    return ["unshare", "--mount", "--propagation", "private"] + ([] if os.geteuid() == 0 else
                                                                ["--user", "--map-root-user"])


@functools.lru_cache(maxsize=None)
def _unavailable():
    """Why no child can be confined here, or None."""
    namespace = _namespace()
    if namespace is None:
        return "unshare, setpriv or mount is not installed"
    probe = subprocess.run(
        [*namespace, "sh", "-c", f"mount -t tmpfs -o size=4k tmpfs /mnt && setpriv --bounding-set {_DAC} true"],
        capture_output=True, text=True)
    if probe.returncode != 0:
        return f"no private mount namespace here ({' '.join(probe.stderr.split())[:120]})"
    return None


def require():
    """Skip in one line where no child can be confined."""
    reason = _unavailable()
    if reason is not None:
        pytest.skip(f"no real permission, read-only or full-disk refusal to test: {reason}")


def command(argv, *, readonly=(), full=None, copy_in=None, fill=False, copy_out=None):
    """``argv`` confined: no override of mode bits, and the mounts asked for.

    Args:
        argv (list[str]): the child's command.
        readonly (iterable of paths): directories bind-mounted read-only.
        full (tuple, optional): ``(directory, bytes)``: a tmpfs of that size mounted there.
        copy_in (path, optional): a directory whose content is copied onto the tmpfs first.
        fill (bool): fill the tmpfs to the last byte before the child runs.
        copy_out (path, optional): where what is on the tmpfs after the child is copied (without the filler).

    Returns:
        list[str]: the command line.
    """
    q = shlex.quote
    script = []
    for path in readonly:
        script += [f"mount --bind {q(str(path))} {q(str(path))}", f"mount -o remount,bind,ro {q(str(path))}"]
    if full is not None:
        where = q(str(full[0]))
        script.append(f"mount -t tmpfs -o size={int(full[1])} tmpfs {where}")
        if copy_in is not None:
            script.append(f"cp -a {q(str(copy_in))}/. {where}/")
        if fill:
            script.append(f"{{ dd if=/dev/zero of={where}/{FILLER} bs=4096 2>/dev/null; true; }}")
    run = f'setpriv --bounding-set {_DAC} -- "$@"; rc=$?'
    if copy_out is not None:
        run += (f"; mkdir -p {q(str(copy_out))} && rm -f {where}/{FILLER}"
                f" && cp -a {where}/. {q(str(copy_out))}/; exit $rc")
    else:
        run += "; exit $rc"
    script.append(run)
    return [*_namespace(), "sh", "-c", " && ".join(script), "sh", *map(str, argv)]


def run(argv, env, timeout=300, **confinement):
    """Run ``argv`` confined (:func:`command`); returns the ``CompletedProcess`` (text)."""
    require()
    return subprocess.run(command(argv, **confinement), capture_output=True, text=True, env=env, timeout=timeout)


@contextlib.contextmanager
def locked(path, mode):
    """``path`` with ``mode`` while inside, its mode restored after (so pytest can remove it)."""
    path = pathlib.Path(path)
    before = path.stat().st_mode & 0o7777
    path.chmod(mode)
    try:
        yield path
    finally:
        path.chmod(before)


def leftovers(directory):
    """The hidden entries (temporary files, ``.saving`` directories) anywhere under ``directory``."""
    directory = pathlib.Path(directory)
    return sorted(str(p.relative_to(directory)) for p in directory.rglob(".*") if p.name != FILLER)

"""Compare a fresh recording with the committed fixtures: one line per differing file.

    python tools/fluid18/compare.py RECORDED_DIR tests/data/fluid185

Runs on Python 3.5+ with numpy (the fluid 1.8.5 environment, or any other).
JSON files are compared by value, with encoded float32 arrays (see
``fluid18io.py``) decoded first, and the first difference is named by its path
in the file (and its index, for an array); other files are compared byte for
byte. Prints ``same: N files`` and exits 0 when nothing differs, else exits 1.
"""
import os
import sys

import numpy as np

import fluid18io


def files_under(root):
    found = set()
    for folder, _, names in os.walk(root):
        for name in names:
            found.add(os.path.relpath(os.path.join(folder, name), root))
    return found


def first_difference(got, want, path="$"):
    """A phrase naming the first place ``got`` differs from ``want``, or None."""
    if fluid18io.is_encoded(got) and fluid18io.is_encoded(want):
        a, b = fluid18io.decode_bits(got), fluid18io.decode_bits(want)
        if a.size != b.size:
            return "%s: %d values recorded, %d in the fixture" % (path, a.size, b.size)
        bad = np.flatnonzero(a != b)
        if bad.size:
            i = int(bad[0])
            return "%s[%d]: recorded %r (0x%08x), fixture %r (0x%08x); %d of %d values differ" % (
                path, i, float(a[i:i + 1].view(np.float32)[0]), int(a[i]),
                float(b[i:i + 1].view(np.float32)[0]), int(b[i]), bad.size, a.size)
        return None
    if isinstance(got, dict) and isinstance(want, dict):
        for key in sorted(set(got) | set(want)):
            if key not in want:
                return "%s.%s: recorded, not in the fixture" % (path, key)
            if key not in got:
                return "%s.%s: in the fixture, not recorded" % (path, key)
            found = first_difference(got[key], want[key], "%s.%s" % (path, key))
            if found:
                return found
        return None
    if isinstance(got, list) and isinstance(want, list):
        if len(got) != len(want):
            return "%s: %d items recorded, %d in the fixture" % (path, len(got), len(want))
        for i, (a, b) in enumerate(zip(got, want)):
            found = first_difference(a, b, "%s[%d]" % (path, i))
            if found:
                return found
        return None
    if type(got) is not type(want) or got != want:
        return "%s: recorded %r, fixture %r" % (path, got, want)
    return None


# Files of the fixtures that no recorder writes: CPU names the CPU class they were recorded on (.ci/run reads it).
NOT_RECORDED = {"CPU"}


def compare(recorded, fixtures):
    """The lines describing every differing file (empty when all are equal)."""
    lines = []
    got, want = files_under(recorded) - NOT_RECORDED, files_under(fixtures) - NOT_RECORDED
    for name in sorted(got | want):
        if name not in want:
            lines.append("%s: recorded, but no fixture (add it to %s)" % (name, fixtures))
            continue
        if name not in got:
            lines.append("%s: fixture, but not recorded" % name)
            continue
        a, b = os.path.join(recorded, name), os.path.join(fixtures, name)
        if name.endswith(".json"):
            found = first_difference(fluid18io.read_json(a), fluid18io.read_json(b))
        else:
            with open(a, "rb") as fa, open(b, "rb") as fb:
                found = None if fa.read() == fb.read() else "the bytes differ"
        if found:
            lines.append("%s: %s" % (name, found))
    return lines, len(got | want)


def main(argv):
    if len(argv) != 2:
        print("usage: compare.py RECORDED_DIR FIXTURE_DIR")
        return 2
    lines, count = compare(argv[0], argv[1])
    for line in lines:
        print("differs: " + line)
    if lines:
        print("%d of %d files differ from %s" % (len(lines), count, argv[1]))
        return 1
    print("same: %d files" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

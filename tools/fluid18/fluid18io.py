"""Reading and writing the fluid 1.8.5 recordings (Python 3.5+, numpy only; never imports paddle_lr).

A recording is a JSON file. Every array of float32 values in it is stored by
its bit patterns, as uint32, in one of two encodings (``decode_bits`` reads
both):

* ``{"rle": [[first_index, bits], ...]}``: run-length, as ../shared/golden's
  traces: ``bits`` holds from ``first_index`` to the next entry's, the last
  entry to the end (``"n"``, the length, is stored beside it);
* ``{"zdelta": BASE64, "n": N}``: the bit patterns read as int32, each minus
  the one before it (the first as it is), little-endian int32, zlib level 9,
  base64. A smooth schedule changes by a few ulp every step; this keeps
  200000 steps in tens of KB where run-length coding would not.

``encode_bits`` picks whichever is shorter. The encodings are compared by
their decoded values (``compare.py``), never by their bytes, so another zlib
writing other bytes for the same values is no difference.
"""
import base64
import json
import zlib

import numpy as np


def encode_bits(values):
    """The float32 values (or their uint32 bit patterns) of a 1-D array, encoded."""
    array = np.asarray(values)
    if array.dtype != np.uint32:
        array = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    array = array.reshape(-1)
    n = int(array.size)
    changes = np.flatnonzero(np.diff(array)) + 1 if n else np.zeros(0, dtype=np.int64)
    starts = [0] + changes.tolist() if n else []
    rle = [[int(i), int(array[i])] for i in starts]
    signed = array.view(np.int32).astype(np.int64)
    deltas = np.diff(signed, prepend=np.int64(0)).astype(np.int64)
    deltas = ((deltas + 2 ** 31) % 2 ** 32 - 2 ** 31).astype("<i4")  # wrap, as int32 arithmetic does
    zdelta = base64.b64encode(zlib.compress(deltas.tobytes(), 9)).decode("ascii")
    if len(json.dumps(rle)) <= len(zdelta):
        return {"n": n, "rle": rle}
    return {"n": n, "zdelta": zdelta}


def decode_bits(encoded):
    """The uint32 bit patterns of an ``encode_bits`` result."""
    n = int(encoded["n"])
    if "rle" in encoded:
        out = np.empty(n, dtype=np.uint32)
        rle = encoded["rle"]
        for i, (first, bits) in enumerate(rle):
            end = rle[i + 1][0] if i + 1 < len(rle) else n
            out[first:end] = bits
        return out
    deltas = np.frombuffer(zlib.decompress(base64.b64decode(encoded["zdelta"])), dtype="<i4")
    if deltas.size != n:
        raise ValueError("zdelta holds %d values, n says %d" % (deltas.size, n))
    return (np.cumsum(deltas.astype(np.int64)) % 2 ** 32).astype(np.uint32)


def is_encoded(value):
    return isinstance(value, dict) and "n" in value and ("rle" in value or "zdelta" in value) and len(value) == 2


def write_json(path, data):
    """Deterministic JSON: sorted keys, fixed separators, a final newline."""
    with open(path, "w") as f:
        json.dump(data, f, sort_keys=True, indent=1, separators=(",", ": "))
        f.write("\n")


def read_json(path):
    with open(path) as f:
        return json.load(f)

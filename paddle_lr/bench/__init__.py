"""The bench behind ``paddle-lr-bench``: the cases it builds, the harness that times them, the report.

:mod:`.cases` builds one program per (impl, workload, boundaries);
:mod:`.harness` times them in interleaved rounds (:func:`~.harness.measure`)
or runs each in a watched child process for memory and first-run time
(:func:`~.harness.scale`); :mod:`.report` formats the records and checks the
issue's targets.
"""
from .cases import FAMILY, IMPLS, WORKLOADS
from .harness import measure, scale
from .report import TARGETS, evaluate_targets, format_scale, format_table

__all__ = ["IMPLS", "WORKLOADS", "FAMILY", "TARGETS", "measure", "scale", "evaluate_targets",
           "format_table", "format_scale"]

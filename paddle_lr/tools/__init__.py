"""The command-line tools, one module each with ``main(argv=None) -> int``.

Each runs as ``python -m paddle_lr.tools.<tool>``; ``tools/<tool>.py`` (from a
checkout) and the console script ``paddle-lr-<tool, "_" as "-">`` call the same
``main``, and that script name is the ``prog`` of its usage and error lines.
"""

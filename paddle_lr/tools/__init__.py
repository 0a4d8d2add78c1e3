"""The command-line tools. Each module has ``main(argv=None) -> int``; ``tools/<name>.py``
and the ``paddle-lr-*`` console scripts call it."""

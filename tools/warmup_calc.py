"""`paddle-lr-warmup-calc` from a checkout: see paddle_lr/tools/warmup_calc.py."""
import pathlib
import sys

# Run from a checkout without installing: the repository root holds paddle_lr.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from paddle_lr.tools.warmup_calc import main  # noqa: E402

raise SystemExit(main())

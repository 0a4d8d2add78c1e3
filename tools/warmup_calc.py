#!/usr/bin/env python3
from paddle_lr.tools.warmup_calc import main
raise SystemExit(main())

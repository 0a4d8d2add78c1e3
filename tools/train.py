#!/usr/bin/env python3
from paddle_lr.tools.train import main
raise SystemExit(main())

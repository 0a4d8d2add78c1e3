#!/usr/bin/env python3
from paddle_lr.tools.plot_lr import main
raise SystemExit(main())

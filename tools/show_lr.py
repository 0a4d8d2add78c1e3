#!/usr/bin/env python3
from paddle_lr.tools.show_lr import main
raise SystemExit(main())

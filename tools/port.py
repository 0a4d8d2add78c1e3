#!/usr/bin/env python3
from paddle_lr.tools.port import main
raise SystemExit(main())

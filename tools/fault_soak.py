#!/usr/bin/env python3
from paddle_lr.tools.fault_soak import main
raise SystemExit(main())

#!/usr/bin/env python3
from paddle_lr.tools.bench import main
raise SystemExit(main())

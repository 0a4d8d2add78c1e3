#!/usr/bin/env python3
from paddle_lr.tools.make_shapes_dataset import main
raise SystemExit(main())

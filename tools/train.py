from paddle_lr.tools.train import main

raise SystemExit(main())

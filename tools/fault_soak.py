from paddle_lr.tools.fault_soak import main

raise SystemExit(main())

from paddle_lr.tools.make_shapes_dataset import main

raise SystemExit(main())

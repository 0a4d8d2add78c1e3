from paddle_lr.tools.warmup_calc import main; raise SystemExit(main())

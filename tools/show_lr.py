from paddle_lr.tools.show_lr import main; raise SystemExit(main())

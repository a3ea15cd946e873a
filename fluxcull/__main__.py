from fluxcull.cli import main

raise SystemExit(main())

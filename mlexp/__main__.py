from mlexp.cli import main

raise SystemExit(main())

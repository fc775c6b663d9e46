from app.shell.cli import main

raise SystemExit(main())

"""`python -m kit` runs the command-line interface."""

from kit.cli import main

raise SystemExit(main())

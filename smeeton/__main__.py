"""`python -m smeeton` runs the command line."""

from smeeton.cli import main

raise SystemExit(main())

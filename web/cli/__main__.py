"""`python -m web.cli` is the `dossier` command (used by tests that run it as a subprocess)."""

from web.cli import main

main()

"""The `dossier` command line: the archive department's batch tool.

Each command parses its arguments, calls one service method and prints the result. Errors are
mapped in one place (``_errors.py``) to a one-line message and an exit code.
"""

from __future__ import annotations

from web.cli.app import main

__all__ = ["main"]

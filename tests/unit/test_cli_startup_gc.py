"""`dossier` run as the program opens the archive with the cyclic GC paused (``web.cli._startup``).

In-process invocations (``CliRunner``, tests) leave the host's collector alone; a run as the
program turns it back on, having frozen what the opening made. Each program run is a fresh
interpreter.
"""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]


def test_an_in_process_call_leaves_the_collector_alone() -> None:
    from web.cli.app import main

    frozen = gc.get_freeze_count()
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_a_program_run_turns_the_collector_back_on() -> None:
    code = ("import gc, sys\nsys.argv = ['dossier', '--version']\nfrom web.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint(gc.isenabled(), gc.get_freeze_count() > 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "True True"


def test_a_collector_turned_off_by_the_host_stays_off() -> None:
    code = ("import gc, sys\ngc.disable()\nsys.argv = ['dossier', '--version']\nfrom web.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint(gc.isenabled(), gc.get_freeze_count())")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False 0"

"""`dossier` starts fast: importing the command line loads no heavy library (issue #9 item 7).

Deterministic stand-ins for a timing test (``benchmarks/cli_start.py`` measures the time): every
command module is imported to list the commands, so a heavy import at the top of any of them
slows down `dossier --help`, `--version` and every command. Each check runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

REPO = Path(__file__).resolve().parents[2]

HEAVY = ("flask", "sqlalchemy", "reportlab", "pypdf", "pypdfium2", "tesserocr", "PIL", "opensearchpy",
         "elasticsearch", "boto3", "alembic", "pydantic", "gunicorn", "cryptography")


def _loaded_after(statement: str, names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` are in ``sys.modules`` after ``statement`` runs in a new interpreter."""
    code = f"import json, sys\n{statement}\nprint(json.dumps([n for n in {list(names)!r} if n in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_command_line_imports_no_heavy_library() -> None:
    assert _loaded_after("import web.cli.app", HEAVY) == []


def test_the_web_package_does_not_import_flask_until_an_app_is_made() -> None:
    """`web/__init__.py` holds the app factory; importing the package (as web.cli does) stays light."""
    assert _loaded_after("import web\nfrom web import create_app\nassert callable(create_app)", ("flask",)) == []


def test_opening_the_services_module_does_not_load_the_ingest_pipeline() -> None:
    """``services.ingest`` / ``services.intake`` are built on first use, so a read never imports them."""
    assert _loaded_after("import web.bootstrap", ("ingest.service", "ingest.jobs", "flask")) == []


def test_lazy_option_defaults_and_choices_are_the_constants() -> None:
    """Defaults and choices read on first use are the very constants the modules define."""
    from ingest.jobs import DEFAULT_LEASE_SECONDS, DEFAULT_MAX_ATTEMPTS
    from retention.inventory import DEFAULT_BATCH
    from retention.reports import FORMATS, LANGS
    from web.cli.app import main

    def option(command: click.Command, name: str) -> click.Parameter:
        return next(p for p in command.params if p.name == name)

    worker, inventory = main.commands["worker"], main.commands["inventory"]
    monthly = main.commands["report"].commands["monthly"]  # type: ignore[attr-defined]
    assert option(worker, "lease").get_default(click.Context(worker)) == DEFAULT_LEASE_SECONDS
    assert option(worker, "max_attempts").get_default(click.Context(worker)) == DEFAULT_MAX_ATTEMPTS
    assert option(inventory, "checkpoint_every").get_default(click.Context(inventory)) == DEFAULT_BATCH
    assert option(monthly, "fmt").type.choices == tuple(sorted(FORMATS))  # type: ignore[attr-defined]
    assert option(monthly, "lang").type.choices == tuple(LANGS)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("argv", "shown"), [
    (["worker", "--help"], "[default: 5; 1<=x<=100]"),
    (["serve", "--help"], "[default: 5; 1<=x<=100]"),
    (["intake", "list", "--help"], "[queued|processing|filed|refused|failed]"),
    (["inventory", "--help"], "[default: 500; x>=1]"),
    (["report", "monthly", "--help"], "[csv|html|pdf|xlsx]"),
])
def test_help_shows_lazy_defaults_as_values(argv: list[str], shown: str) -> None:
    from click.testing import CliRunner

    from web.cli.app import main

    result = CliRunner().invoke(main, argv, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert shown in result.output and "(dynamic)" not in result.output


def test_opening_the_archive_loads_only_what_a_read_needs() -> None:
    """What `dossier show` imports to open the archive leaves out what only some commands use:
    the holiday fallback, the PostgreSQL dialect, the disposal executor, the query side of the
    embedded index, the OpenCC converter and the HTTP client of a search server."""
    later = ("holidays", "sqlalchemy.dialects.postgresql", "retention.disposal", "search.plan", "search.query",
             "search.highlight", "opencc", "urllib.request")
    assert _loaded_after("import web.cli.app, web.bootstrap, records.mapping", later) == []

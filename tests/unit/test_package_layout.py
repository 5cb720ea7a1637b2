"""The generic top-level package names resolve to this repository, not to something installed."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["records", "ingest", "search", "retention", "web", "migrations"])
def test_top_level_package_is_ours(name: str) -> None:
    module = importlib.import_module(name)
    assert Path(module.__file__ or "").resolve().is_relative_to(REPO)


def test_records_imports_no_presentation_layer() -> None:
    """Dependencies point one way: records never imports web (architecture §1)."""
    offenders = [p for p in (REPO / "records").rglob("*.py") if "from web" in p.read_text() or "import web" in p.read_text()]
    assert offenders == []


def test_retention_imports_no_presentation_layer() -> None:
    """retention sits below web: the CLI and pages call it, never the other way round."""
    offenders = [p for p in (REPO / "retention").rglob("*.py") if "from web" in p.read_text() or "import web" in p.read_text()]
    assert offenders == []


def test_the_light_head_check_agrees_with_alembic() -> None:
    """Opening the archive reads the head revision without Alembic; it must be Alembic's head."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import migrations

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations.LOCATION))
    assert migrations.head_revision() == ScriptDirectory.from_config(cfg).get_current_head()


def test_import_contracts_hold() -> None:
    """records imports nothing of ingest, search, retention, web or migrations; ingest, search and
    retention never import web; only web composes (import-linter contracts in pyproject.toml)."""
    import subprocess
    import sys

    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr

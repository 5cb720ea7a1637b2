"""The generic top-level package names resolve to this repository, not to something installed."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["records", "ingest", "search", "retention", "web"])
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

"""`dossier import-bag` on the console: a sealed dossier comes back sealed, and `show` names its source (#10)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from records.settings import Settings
from tests.integration.retention.retention_world import ROOT
from web.bootstrap import Services, build_services, init_archive
from web.cli import main

if TYPE_CHECKING:
    from tests.conftest import FrozenClock


@pytest.fixture
def svc(settings: Settings, clock: FrozenClock) -> Iterator[Services]:
    init_archive(settings)
    services = build_services(settings, clock=clock)
    yield services
    services.close()


def cli(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *args])


def test_import_bag_keeps_the_sealed_state_and_show_names_the_source(svc: Services, settings: Settings,
                                                                      tmp_path: Path) -> None:
    """GIVEN a sealed dossier exported as a package (archive clock: the fixture's)
    WHEN `dossier import-bag` files it and `dossier show` shows the new dossier
    THEN the import prints source → new number as sealed, `show` prints the source reference and
    the source's timeline, and no deadline is overdue; a second import says it changed nothing."""
    number = svc.records.register_complaint("clerk", Registration(
        matter="律师拖延办理", received_at=datetime(2026, 10, 20, 1, tzinfo=timezone.utc), complainant="张三",
        category="拖延")).archive_number
    for state, on, kind in ((None, None, DocumentKind.COMPLAINT_LETTER),
                            (DossierState.ACCEPTED, date(2026, 10, 21), DocumentKind.ACCEPTANCE_NOTICE),
                            (DossierState.INVESTIGATING, date(2026, 10, 22), DocumentKind.INVESTIGATION_MINUTES),
                            (DossierState.DECIDED, date(2026, 10, 30), DocumentKind.DECISION),
                            (DossierState.REPLIED, date(2026, 11, 2), DocumentKind.REPLY_LETTER),
                            (DossierState.CLOSED, date(2026, 11, 3), None)):
        if state is not None:
            svc.records.advance("handler", number, state, on=on)
        if kind is not None:
            body = f"{kind.value} body".encode() * 20
            svc.records.file_document("clerk", number, body, kind=kind, filename=f"{kind.value}.txt",
                                      media_type="text/plain", analysis=DocumentAnalysis(outcome="ok", text=body.decode()))
    svc.retention.seal(ROOT, number)
    bag = tmp_path / "pkg"
    svc.bags.export(ROOT, [number], bag, tz=ZoneInfo(settings.timezone))

    result = cli(settings, "import-bag", str(bag))
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith(f"{number} → ") and first.endswith("(sealed)")
    new = first.split(" → ")[1].split()[0]

    shown = cli(settings, "show", new)
    assert shown.exit_code == 0, shown.output
    assert f"source reference   {number}" in shown.output and f"Dossier {new}  [sealed]" in shown.output
    assert "2026-10-21  accepted" in shown.output and "overdue" not in shown.output

    again = cli(settings, "import-bag", str(bag), "--json")
    assert again.exit_code == 0, again.output
    (d,) = json.loads(again.stdout)["dossiers"]
    assert d["already"] and d["archive_number"] == new and d["source_number"] == number

"""`dossier calendar import FILE` / `dossier calendar show YEAR`: the office loads a year's official calendar.

The deadlines are computed on the fixture clock with explicit dates (a complaint received on
2027-01-29), so nothing here depends on the day the suite runs.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from records.access.identity import Identity
from records.deadlines import ClockName
from records.model import Registration
from records.settings import Settings
from records.workdays import package_has_year
from web.bootstrap import build_services, init_archive
from web.cli import main
from web.cli._errors import exit_code_for
from records.office_calendar import InvalidCalendarError

if TYPE_CHECKING:
    from tests.conftest import FrozenClock

READER = Identity.operator("test-reader")
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "calendars" / "2027.example.json"
needs_2027_unknown = pytest.mark.skipif(package_has_year(2027), reason="chinesecalendar now carries 2027 itself")


@pytest.fixture
def archive(settings: Settings) -> Settings:
    init_archive(settings)
    return settings


def _run(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *args])


def _calendar_entries(settings: Settings) -> list[dict[str, object]]:
    svc = build_services(settings)
    try:
        return [dataclasses.asdict(e.event) for e in svc.access.read_audit_log(READER)
                if e.event.action == "manage_calendar"]
    finally:
        svc.close()


@needs_2027_unknown
def test_show_says_a_year_without_data_uses_the_fallback(archive: Settings) -> None:
    """GIVEN no calendar loaded for 2027 WHEN `calendar show 2027` THEN it says fallback, without make-up days,
    and names the command that loads the year; the package's 2026 shows its 调休 days."""
    r = _run(archive, "calendar", "show", "2027")
    assert r.exit_code == 0, r.output
    assert "source fallback" in r.output and "dossier calendar import FILE" in r.output
    assert "make-up working days (0)" in r.output
    r = _run(archive, "calendar", "show", "2026", "--json")
    shown = json.loads(r.output)
    assert shown["source"] == "package" and shown["workdays"] and shown["holidays"]
    assert {"day": "2026-01-01", "working": False, "name": "元旦"} in shown["holidays"]


def test_import_then_show_and_deadlines_count_the_make_up_day(archive: Settings, clock: FrozenClock) -> None:
    """GIVEN the 2027 calendar file WHEN imported from the console THEN one access-log entry is written,
    `show` lists its holidays and make-up days with source office, and a complaint received on Friday
    2027-01-29 must be accepted by Thursday 2027-02-04 (Sunday 01-31 is a make-up working day)."""
    r = _run(archive, "calendar", "import", str(EXAMPLE))
    assert r.exit_code == 0, r.output
    assert "calendar 2027 imported: 29 holiday(s), 6 make-up working day(s)" in r.output
    entries = _calendar_entries(archive)
    assert len(entries) == 1
    assert entries[0]["outcome"] == "allowed" and entries[0]["object_ref"] == "calendar:2027"
    assert entries[0]["details"]["change"] == "import_calendar"  # type: ignore[index]

    r = _run(archive, "calendar", "show", "2027", "--json")
    shown = json.loads(r.output)
    assert shown["source"] == "office"
    assert {"day": "2027-01-31", "working": True, "name": "春节调休"} in shown["workdays"]
    assert {"day": "2027-02-11", "working": False, "name": "春节"} in shown["holidays"]
    text = _run(archive, "calendar", "show", "2027").output
    assert "source office" in text and "2027-01-31" in text and "春节调休" in text

    clock.now = datetime(2027, 2, 1, 2, 0, tzinfo=timezone.utc)
    svc = build_services(archive, clock=clock)
    try:
        info = svc.records.register_complaint("test", Registration(
            matter="年初投诉", complainant="张三", received_at=datetime(2027, 1, 29, 2, 0, tzinfo=timezone.utc)))
        acceptance = svc.records.deadlines(info)[0]
        assert acceptance.clock is ClockName.ACCEPTANCE and acceptance.due_on.isoformat() == "2027-02-04"
    finally:
        svc.close()


def test_importing_a_year_again_replaces_it(archive: Settings, tmp_path: Path) -> None:
    """GIVEN 2027 imported WHEN a corrected file for 2027 is imported THEN only the new days remain."""
    assert _run(archive, "calendar", "import", str(EXAMPLE)).exit_code == 0
    fixed = tmp_path / "2027.csv"
    fixed.write_text("date,working,name\n2027-01-01,0,元旦\n2027-02-20,1,春节调休\n", encoding="utf-8")
    r = _run(archive, "calendar", "import", str(fixed), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"year": 2027, "holidays": 1, "workdays": 1, "replaced": 35}
    shown = json.loads(_run(archive, "calendar", "show", "2027", "--json").output)
    assert [d["day"] for d in shown["holidays"]] == ["2027-01-01"]
    assert [d["day"] for d in shown["workdays"]] == ["2027-02-20"]


def test_an_invalid_file_is_refused_clearly_and_changes_nothing(archive: Settings, tmp_path: Path) -> None:
    """GIVEN a file listing 2027-02-06 both as 春节 and as a make-up day WHEN imported
    THEN it exits with the invalid-content code, naming the field, and 2027 stays as it was."""
    assert _run(archive, "calendar", "import", str(EXAMPLE)).exit_code == 0
    bad = tmp_path / "2027.json"
    bad.write_text(json.dumps({"year": 2027, "holidays": {"春节": ["2027-02-06"]}, "workdays": ["2027-02-06"]}),
                   encoding="utf-8")
    r = _run(archive, "calendar", "import", str(bad))
    assert r.exit_code == exit_code_for(InvalidCalendarError) == 4, r.output
    assert "field 'workdays'[0]: 2027-02-06 is listed both a holiday and a working day" in r.output
    assert "Traceback" not in r.output
    missing = _run(archive, "calendar", "import", str(tmp_path / "nope.json"))
    assert missing.exit_code == 4 and "cannot read the file" in missing.output
    shown = json.loads(_run(archive, "calendar", "show", "2027", "--json").output)
    assert len(shown["workdays"]) == 6  # the earlier import is intact

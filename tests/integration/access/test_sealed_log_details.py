"""Nothing readable about a person outlives a destruction in the access log (issue #12 item 3).

A search for a complainant's name and the note given with a retrieval are stored sealed — under the
dossier's own key when the entry names one dossier, else under the key of the entry's month — yet
every reader (the audit export, the service) shows them in clear. Destroying the dossier's key, or
expiring an old month's key, leaves a marker where the details were, and the hash chain still
verifies, since it covers the stored (sealed) form. Entries written before issue #12 stay readable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from records.access.identity import Identity, RequestContext
from records.access.log import SEALED_DOSSIER_GONE, SEALED_PERIOD_GONE, AccessLog, LogEntry
from records.access.identity import AccessEvent, Outcome
from records.model import DossierInfo, Registration
from records.settings import Settings
from tests.conftest import FrozenClock
from web.bootstrap import Services, build_services, init_archive
from web.cli import main

OPERATOR = Identity.operator("console:tester")
QUERY = "司马翠屏"                # a complainant's name typed into the search box
NOTE = "令狐晚晴来电核对"          # what a caller said about a retrieval
ENCODINGS = ("utf-8", "utf-16-le", "gb18030")


@pytest.fixture
def svc(settings: Settings, clock: FrozenClock) -> Iterator[Services]:
    init_archive(settings)
    services = build_services(settings, clock=clock)
    yield services
    services.close()


def _dossier(svc: Services) -> DossierInfo:
    return svc.records.register_complaint("clerk", Registration(
        matter="律师收费投诉", received_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), complainant="某人",
        respondent="某律师事务所", category="收费", department="A"))


def _search_and_retrieve(svc: Services, number: str) -> None:
    svc.gate.search(OPERATOR, QUERY)
    svc.gate.dossier(OPERATOR, number, context=RequestContext(purpose=NOTE))


def _entries(svc: Services) -> list[LogEntry]:
    return svc.access.read_audit_log(OPERATOR)


def _search_entry(svc: Services) -> LogEntry:
    return next(e for e in _entries(svc) if e.event.action == "search")


def _view_entry(svc: Services, number: str) -> LogEntry:
    return next(e for e in _entries(svc) if e.event.action == "view_dossier" and e.event.object_ref == number)


def _found_in(raw: bytes, *needles: str) -> list[str]:
    """The needles in ``raw``: UTF-8, UTF-16-LE, GB18030, and as JSON escapes (how SQLite stores JSON columns)."""
    found = [f"{n} ({enc})" for n in needles for enc in ENCODINGS if n.encode(enc) in raw]
    return found + [f"{n} (json)" for n in needles if json.dumps(n)[1:-1].encode() in raw]


def _raw_catalogue(settings: Settings) -> bytes:
    catalogue = settings.data_dir / "catalogue.sqlite3"
    return b"".join(p.read_bytes() for p in (catalogue, Path(f"{catalogue}-wal")) if p.exists())


def test_a_search_and_a_retrieval_leave_no_clear_text_in_the_catalogue(settings: Settings, svc: Services) -> None:
    """GIVEN a search for a distinctive complainant name and a retrieval with a distinctive note,
    WHEN the catalogue file and its WAL are read raw, THEN neither appears (UTF-8, UTF-16-LE, GB18030),
    AND the access log read through the service shows both in clear."""
    info = _dossier(svc)
    _search_and_retrieve(svc, info.archive_number)
    raw = _raw_catalogue(settings)
    assert raw
    assert _found_in(raw, QUERY, NOTE) == []
    assert _search_entry(svc).event.details["q"] == QUERY
    view = _view_entry(svc, info.archive_number).event
    assert view.details["note"] == NOTE and view.object_ref == info.archive_number  # the number stays in clear


def test_the_audit_export_shows_the_query_and_the_note(settings: Settings, svc: Services) -> None:
    """GIVEN a search and a retrieval, WHEN an auditor runs `dossier audit export --json`,
    THEN the query text and the note are there in clear."""
    info = _dossier(svc)
    _search_and_retrieve(svc, info.archive_number)
    out = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "audit", "export", "--json"])
    assert out.exit_code == 0, out.output
    entries = json.loads(out.output)
    assert any(e["action"] == "search" and e["details"].get("q") == QUERY for e in entries)
    assert any(e["action"] == "view_dossier" and e["details"].get("note") == NOTE for e in entries)


def test_destroying_the_dossier_key_seals_its_entries_for_good_and_the_chain_still_verifies(
        svc: Services, clock: FrozenClock) -> None:
    """GIVEN a retrieval of dossier X with a note and a search, WHEN X's key is destroyed,
    THEN X's entry reads "(sealed: dossier destroyed)" (no error), its number still shows, the
    search entry (under the month's key) is still readable, AND `audit verify` passes."""
    info = _dossier(svc)
    _search_and_retrieve(svc, info.archive_number)
    svc.vault.dossier_keys.destroy(info.dossier_id, now=clock())
    view = _view_entry(svc, info.archive_number).event
    assert view.details == {"sealed": SEALED_DOSSIER_GONE}
    assert view.object_ref == info.archive_number and view.action == "view_dossier"
    assert _search_entry(svc).event.details["q"] == QUERY
    result = svc.access.verify_access_log(OPERATOR)
    assert result.ok, result.reason


def test_expire_details_destroys_old_month_keys_and_the_chain_still_verifies(
        settings: Settings, svc: Services, clock: FrozenClock) -> None:
    """GIVEN a search made in August and one made now (November), WHEN `audit expire-details`
    runs keeping one month, THEN the August key is destroyed and named, August's entry reads
    "(sealed: log period expired)", November's still shows its query, AND `audit verify` passes;
    a dry run names the periods without destroying any."""
    now = clock.now
    clock.now = datetime(2026, 8, 15, 3, tzinfo=timezone.utc)
    svc.gate.search(OPERATOR, "八月" + QUERY)
    clock.now = now
    svc.gate.search(OPERATOR, QUERY)
    assert svc.access.expire_log_details(OPERATOR, keep_months=1, dry_run=True) == ["period:2026-08"]
    assert any(e.event.details.get("q") == "八月" + QUERY for e in _entries(svc))  # a dry run destroys nothing
    assert svc.access.expire_log_details(OPERATOR, keep_months=1) == ["period:2026-08"]
    searches = [e.event for e in _entries(svc) if e.event.action == "search"]
    assert searches[0].details == {"sealed": SEALED_PERIOD_GONE}
    assert searches[1].details["q"] == QUERY
    assert svc.access.verify_access_log(OPERATOR).ok
    # The console command: the clock there is the wall clock, long past August 2026.
    out = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "audit", "expire-details",
                                    "--keep-months", "1", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["keep_months"] == 1
    verify = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "audit", "verify"])
    assert verify.exit_code == 0, verify.output


def test_expire_details_keeps_everything_when_set_to_zero(settings: Settings, svc: Services) -> None:
    """GIVEN details_keep_months = 0, WHEN `audit expire-details` runs,
    THEN it says the keys are kept forever and destroys none."""
    svc.gate.search(OPERATOR, QUERY)
    out = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "audit", "expire-details", "--keep-months", "0"])
    assert out.exit_code == 0, out.output
    assert "kept forever" in out.output
    assert _search_entry(svc).event.details["q"] == QUERY


def test_entries_written_in_clear_before_sealing_stay_readable_and_valid(settings: Settings, svc: Services,
                                                                        clock: FrozenClock) -> None:
    """GIVEN an entry appended by a log without a key ring (as before issue #12) between sealed ones,
    WHEN the log is read and verified, THEN the old entry shows its details as written AND the chain verifies."""
    svc.gate.search(OPERATOR, QUERY)
    legacy = AccessLog(signing_key=settings.audit_signing_key, checkpoint_file=settings.audit_checkpoint_file,
                       clock=clock)
    with svc.uow.write() as s:
        legacy.append(s, AccessEvent(at=clock(), actor="old", role="console", action="search",
                                     object_type="catalogue", outcome=Outcome.ALLOWED, reason="console",
                                     details={"q": "旧的查询"}))
    svc.gate.search(OPERATOR, QUERY + "2")
    queries = [e.event.details.get("q") for e in _entries(svc) if e.event.action == "search"]
    assert queries == [QUERY, "旧的查询", QUERY + "2"]
    assert svc.access.verify_access_log(OPERATOR).ok


def test_an_altered_sealed_entry_is_still_caught_by_verify(svc: Services) -> None:
    """GIVEN sealed entries, WHEN one entry's sealed details are swapped for another's in the database,
    THEN `audit verify` names that entry (the hash covers the sealed form)."""
    from sqlalchemy import text

    svc.gate.search(OPERATOR, QUERY)
    svc.gate.search(OPERATOR, "别的查询")
    with svc.uow.read() as s:
        rows = s.execute(text("SELECT seq, details FROM access_log ORDER BY seq")).all()
    (seq1, d1), (seq2, _d2) = [r for r in rows if "box" in str(r[1])][-2:]
    with svc.uow.write() as s:
        s.execute(text("DROP TRIGGER IF EXISTS access_log_no_update"))
        s.execute(text("UPDATE access_log SET details = :d WHERE seq = :seq"),
                  {"d": d1 if isinstance(d1, str) else json.dumps(d1), "seq": seq2})
    result = svc.access.verify_access_log(OPERATOR)
    assert not result.ok and result.first_broken_seq == seq2

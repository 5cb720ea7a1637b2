"""The index outbox: every catalogue change the search index must follow reaches it (issue #9 item 4).

Holes this closes, each shown against the real embedded FTS5 index (and PostgreSQL catalogue
where the ``services`` fixture offers it):

(a) a document filed while the index fails becomes searchable after the next automatic drain;
(b) a process SIGKILLed between the catalogue commit and the index write leaves a row that the
    restarted worker (or the next opening of the archive) applies;
(c) a document filed, or a dossier changed, while `reindex` rebuilds the index is in the new
    index after the swap (FTS5 generations; OpenSearch alias swap).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from ingest.jobs import IntakeWorker
from records.access.model import AccessScope
from records.db import make_engine
from records.model import DocumentAnalysis, DocumentInfo, DocumentKind, DossierState, FiledDocument, Registration
from records.outbox import REBUILD_MARK, IndexChange, record_change
from records.settings import Settings
from records.tables import DocumentRow, IndexOutboxRow
from records.vault import open_key_provider
from search.backends.fts5 import Fts5SearchIndex
from search.errors import SearchUnavailableError
from search.outbox import IndexOutbox
from tests.conftest import FrozenClock
from tests.servers.opensearch import OpenSearchNode
from web.bootstrap import CRASH_AT_ENV, Services, _search_key, build_services, init_archive
from web.cli import main

REPO = Path(__file__).resolve().parents[3]
EVERYTHING = AccessScope.everything()


# ------------------------------------------------------------------ helpers
def _dossier(svc: Services) -> str:
    return svc.records.register_complaint("clerk", Registration(
        matter="律师拖延办理", received_at=svc.clock() - timedelta(days=1), complainant="张三",
        respondent="某律师事务所")).archive_number


def _file(svc: Services, number: str, word: str) -> DocumentInfo:
    text = f"投诉书 {word} 承办律师三个月未联系 {uuid.uuid4().hex}"
    return svc.records.file_document("clerk", number, text.encode(), kind=DocumentKind.COMPLAINT_LETTER,
                                     filename=f"{word}.txt", media_type="text/plain",
                                     analysis=DocumentAnalysis(outcome="ok", text=text))


def _found(svc: Services, query: str) -> set[str]:
    return {h.item_number for h in svc.search.search("t", query, EVERYTHING, page_size=100).hits}


def _rows(svc: Services) -> list[IndexOutboxRow]:
    with svc.uow.read() as s:
        return list(s.scalars(select(IndexOutboxRow).where(IndexOutboxRow.kind != REBUILD_MARK)
                              .order_by(IndexOutboxRow.id)))


@contextmanager
def index_unavailable(index_dir: Path) -> Iterator[None]:
    """The embedded index's directory is gone (an unmounted or broken volume): every index call fails.

    Root ignores file modes, so the directory is moved aside and a plain file put in its place.
    """
    away = index_dir.with_name(index_dir.name + ".away")
    index_dir.rename(away)
    index_dir.write_text("not an index")
    try:
        yield
    finally:
        index_dir.unlink()
        away.rename(index_dir)


class RefusingIndex:
    """An index whose every write fails, as a full disk makes it (for the backoff arithmetic)."""

    def apply(self, filed: object, removed: object) -> None:
        raise SearchUnavailableError("fts5", "database or disk is full")


# ------------------------------------------------------------------ the in-process path
def test_a_change_is_applied_right_after_its_commit_and_leaves_no_row(services: Services) -> None:
    """Nothing changes for users: filed is searchable at once, a lifecycle step at once, no backlog."""
    number = _dossier(services)
    doc = _file(services, number, "zebracorn")
    assert _found(services, "zebracorn") == {doc.item_number}
    services.records.advance("clerk", number, DossierState.ACCEPTED)
    assert _found(services, "zebracorn state:accepted") == {doc.item_number}
    assert _rows(services) == [] and services.outbox.backlog().count == 0


def test_rows_are_written_in_the_same_transaction_as_the_change(services: Services) -> None:
    """A listener that never runs (the process died) still leaves the change's row committed."""
    number = _dossier(services)
    services.records.announcer._index_listeners.clear()  # as if the process died right after each commit
    doc = _file(services, number, "ocelotine")
    services.records.advance("clerk", number, DossierState.ACCEPTED)
    assert [(r.kind, r.ref, r.attempts) for r in _rows(services)] == [
        ("document_filed", doc.document_id, 0), ("dossier_changed", number, 0)]
    assert _found(services, "ocelotine") == set()
    report = services.outbox.drain()
    assert (report.applied, report.failed, report.backlog.count) == (2, 0, 0)
    assert _found(services, "ocelotine state:accepted") == {doc.item_number}


# ------------------------------------------------------------------ (a) the index fails
def test_a_document_filed_while_the_index_fails_is_searchable_after_the_next_drain(
        services: Services, clock: FrozenClock, settings: Settings) -> None:
    """GIVEN the index fails when a document is filed and its dossier advanced, THEN filing succeeds,
    the rows record the attempt and error, AND once the index is back the intake worker's loop
    applies them after the backoff — no one runs a command."""
    number = _dossier(services)
    first = _file(services, number, "kiwiberry")
    index_dir = settings.data_dir / "search"
    with index_unavailable(index_dir):
        second = _file(services, number, "kiwiberry")          # filed: the catalogue does not care
        services.records.advance("clerk", number, DossierState.ACCEPTED)
        backlog = services.outbox.backlog()
    assert services.records.get_document("clerk", second.item_number).sha256 == second.sha256
    assert backlog.count == 2 and backlog.failing == 2 and "unavailable" in (backlog.last_error or "")
    rows = _rows(services)
    assert [r.attempts for r in rows] == [1, 1]
    assert all(r.next_attempt_at == clock() + timedelta(seconds=5) for r in rows)
    assert _found(services, "kiwiberry") == {first.item_number}  # the index is back, but not told yet

    worker = IntakeWorker(services.intake, outbox=services.outbox)
    worker.run(until_idle=True)
    assert _found(services, "kiwiberry") == {first.item_number}  # the backoff holds
    clock.now += timedelta(seconds=6)
    worker.run(until_idle=True)
    assert _found(services, "kiwiberry") == {first.item_number, second.item_number}
    assert _found(services, "kiwiberry state:accepted") == {first.item_number, second.item_number}
    assert services.outbox.backlog().count == 0
    assert services.search.check(services.records.live_document_ids("t")).ok


def test_failed_attempts_back_off_exponentially_and_keep_the_error(services: Services, clock: FrozenClock) -> None:
    number = _dossier(services)
    doc = _file(services, number, "quince")
    with services.uow.write() as s:
        record_change(s, IndexChange.DOCUMENT_FILED, doc.document_id, clock())
    refusing = IndexOutbox(services.records.outbox, services.records, RefusingIndex(), clock=clock)
    waits = []
    for attempt in (1, 2, 3, 4, 5):
        report = refusing.drain()
        assert (report.applied, report.failed, report.ok) == (0, 1, False)
        assert report.errors == ("SearchUnavailableError: search backend fts5 is unavailable: database or disk is full",)
        (row,) = _rows(services)
        assert row.attempts == attempt and "disk is full" in (row.last_error or "")
        waits.append(row.next_attempt_at - clock())
        assert refusing.drain().failed == 0  # not due again before its time
        clock.now = row.next_attempt_at
    # The index itself failing (not the row) backs off only up to 30 s: rows follow soon after it returns.
    assert waits == [timedelta(seconds=s) for s in (5, 10, 20, 30, 30)]
    report = services.outbox.drain()       # the real index is fine
    assert (report.applied, report.failed, report.backlog.count) == (1, 0, 0)


def test_a_row_the_catalogue_cannot_resolve_waits_without_holding_up_the_others(
        services: Services, clock: FrozenClock) -> None:
    number = _dossier(services)
    good = _file(services, number, "persimmon")
    services.search.remove([good.document_id])
    broken = _file(services, number, "persimmon")
    with services.uow.write() as s:
        record_change(s, IndexChange.DOCUMENT_FILED, broken.document_id, clock())
        record_change(s, IndexChange.DOCUMENT_FILED, good.document_id, clock())
    real = services.records.filed_document

    def failing_read(actor: str, document_id: str) -> FiledDocument | None:
        if document_id == broken.document_id:
            raise OSError("vault unreachable")
        return real(actor, document_id)

    services.records.filed_document = failing_read  # type: ignore[method-assign]
    report = services.outbox.drain()
    assert (report.applied, report.failed) == (1, 1) and report.errors == ("OSError: vault unreachable",)
    assert good.item_number in _found(services, "persimmon")
    assert [(r.ref, r.attempts) for r in _rows(services)] == [(broken.document_id, 1)]


# ------------------------------------------------------------------ (b) killed between commit and index write
_CRASHING_UPLOAD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from records.settings import load_settings
    from web.bootstrap import build_services

    data_dir, number, how, word = sys.argv[1:]
    services = build_services(load_settings(data_dir=Path(data_dir)))
    body = f"投诉书 {word} 律师拖延办理法律援助案件".encode()
    if how == "intake":   # an upload filed by the background worker
        job = services.intake.accept("clerk", number, "投诉书.txt", [body])
        print("queued", job.job_id, flush=True)
        services.intake.process_next("doomed-worker")
    else:
        from records.model import DocumentAnalysis, DocumentKind
        services.records.file_document("clerk", number, body, kind=DocumentKind.EVIDENCE, filename="e.txt",
                                       media_type="text/plain",
                                       analysis=DocumentAnalysis(outcome="ok", text=body.decode()))
    print("survived", flush=True)
""")


def _killed_after_filing(settings: Settings, number: str, how: str, word: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_UPLOAD, str(settings.data_dir), number, how, word],
        cwd=REPO, env={**os.environ, CRASH_AT_ENV: "after_filing_commit"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        try:  # parser workers the killed process left behind
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == -signal.SIGKILL, out.decode() + err.decode()
    assert b"survived" not in out


def _indexed_ids(settings: Settings) -> set[str]:
    """What the FTS5 index holds, read without opening the archive (which would drain the outbox).

    The index files are encrypted (#12): the archive's search key is unwrapped from ``search.key``
    with the key provider alone, as ``build_services`` does.
    """
    key = _search_key(settings, SimpleNamespace(keys=open_key_provider(settings)))  # type: ignore[arg-type]
    index = Fts5SearchIndex(settings.data_dir / "search", key=key)
    try:
        return index.document_ids()
    finally:
        index.close()


def _catalogue(settings: Settings) -> tuple[list[str], int]:
    """Document ids and outbox rows, read straight from the catalogue."""
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            docs = list(conn.scalars(select(DocumentRow.id)))
            rows = conn.scalar(select(func.count()).select_from(IndexOutboxRow)) or 0
        return docs, rows
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("how, restart", [("intake", "worker"), ("direct", "open")])
def test_a_filing_killed_between_commit_and_index_write_is_searchable_after_restart(
        make_settings: Callable[..., Settings], how: str, restart: str) -> None:
    """GIVEN a process SIGKILLed right after a filing committed, before it touched the index,
    THEN the document is in the catalogue with its outbox row and not in the index, AND after a
    restart — `dossier worker --once`, or just opening the archive — it is searchable."""
    settings = make_settings()
    init_archive(settings)
    svc = build_services(settings)
    number = _dossier(svc)
    svc.close()

    _killed_after_filing(settings, number, how, "jabuticaba")
    (doc_id,), rows = _catalogue(settings)
    assert rows == 1
    assert doc_id not in _indexed_ids(settings)

    if restart == "worker":
        done = subprocess.run([sys.executable, "-m", "web.cli", "--data-dir", str(settings.data_dir), "worker",
                               "--once", "--json"], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert doc_id in _indexed_ids(settings)
    svc = build_services(settings)
    try:
        assert [h.archive_number for h in svc.search.search("t", "jabuticaba", EVERYTHING).hits] == [number]
        assert svc.outbox.backlog().count == 0
    finally:
        svc.close()
    assert _catalogue(settings)[1] == 0


# ------------------------------------------------------------------ (c) changes made during a rebuild
def _rebuild_with_changes_midway(svc: Services, other: Services, number: str) -> tuple[int, DocumentInfo]:
    """Rebuild ``svc``'s index; once it has read the first document, another process (``other``)
    files a document and advances the dossier."""
    filed: list[DocumentInfo] = []

    def documents() -> Iterator[FiledDocument]:
        for i, doc in enumerate(svc.records.filed_documents("t")):
            yield doc
            if i == 0:
                filed.append(_file(other, number, "durian"))
                other.records.advance("clerk", number, DossierState.ACCEPTED)

    count = svc.search.rebuild(documents())
    return count, filed[0]


def test_changes_made_during_a_rebuild_are_in_the_new_index(services: Services, settings: Settings,
                                                             clock: FrozenClock) -> None:
    number = _dossier(services)
    first = _file(services, number, "durian")
    _file(services, number, "rambutan")
    other = build_services(services_settings(services, settings), clock=clock)
    try:
        count, late = _rebuild_with_changes_midway(services, other, number)
        assert count == 2                                       # the rebuild read two documents …
        assert _found(services, "durian") == {first.item_number, late.item_number}   # … the third is there too
        assert _found(services, "durian state:accepted") == {first.item_number, late.item_number}
        assert _found(other, "durian") == {first.item_number, late.item_number}
        assert services.outbox.backlog().count == 0
        with services.uow.read() as s:                          # the mark is gone
            assert s.scalar(select(func.count()).where(IndexOutboxRow.kind == REBUILD_MARK)) == 0
        assert services.search.check(services.records.live_document_ids("t")).ok
    finally:
        other.close()


@pytest.mark.opensearch
def test_changes_made_during_a_rebuild_survive_the_alias_swap(
        make_settings: Callable[..., Settings], clock: FrozenClock, opensearch: OpenSearchNode) -> None:
    settings = make_settings(search={"url": opensearch.url, "index_prefix": opensearch.new_index_name("dossier")})
    init_archive(settings)
    svc, other = build_services(settings, clock=clock), build_services(settings, clock=clock)
    try:
        number = _dossier(svc)
        first = _file(svc, number, "durian")
        _file(svc, number, "rambutan")
        count, late = _rebuild_with_changes_midway(svc, other, number)
        assert count == 2
        assert _found(svc, "durian state:accepted") == {first.item_number, late.item_number}
        assert svc.outbox.backlog().count == 0
    finally:
        svc.search._index.drop()  # type: ignore[attr-defined]
        other.close()
        svc.close()


def test_a_failed_rebuild_keeps_the_old_index_and_the_rows(services: Services, settings: Settings,
                                                            clock: FrozenClock) -> None:
    number = _dossier(services)
    first = _file(services, number, "feijoa")
    other = build_services(services_settings(services, settings), clock=clock)

    def documents() -> Iterator[FiledDocument]:
        yield from services.records.filed_documents("t")
        _file(other, number, "feijoa")
        raise RuntimeError("the rebuild ran out of disk")

    try:
        with pytest.raises(RuntimeError):
            services.search.rebuild(documents())
        assert len(_found(services, "feijoa")) == 2 and first.item_number in _found(services, "feijoa")
        assert services.outbox.backlog().count == 0
    finally:
        other.close()


def test_a_rebuild_that_died_stops_holding_rows_once_its_lease_ends(services: Services, clock: FrozenClock) -> None:
    number = _dossier(services)
    services.records.outbox.begin_rebuild(timedelta(minutes=10))   # … and its process is killed
    doc = _file(services, number, "salak")
    assert doc.item_number in _found(services, "salak")          # applied to the live index at once
    (row,) = _rows(services)                                       # but kept for the rebuild
    assert row.next_attempt_at == clock() + timedelta(minutes=10) and row.last_error is None
    assert services.outbox.drain().applied == 0
    clock.now += timedelta(minutes=10, seconds=1)
    report = services.outbox.drain()
    assert (report.applied, report.held, report.backlog.count) == (1, 0, 0)
    with services.uow.read() as s:
        assert s.scalar(select(func.count()).select_from(IndexOutboxRow)) == 0   # the stale mark too


def services_settings(services: Services, settings: Settings) -> Settings:
    """The settings ``services`` was built from (the fixture's database: SQLite or PostgreSQL)."""
    url = services.uow._engine.url.render_as_string(hide_password=False)  # type: ignore[attr-defined]
    return settings if url.startswith("sqlite") else settings.model_copy(
        update={"database": settings.database.model_copy(update={"url": url})})


# ------------------------------------------------------------------ destruction
def _sealed(svc: Services, word: str) -> tuple[str, DocumentInfo]:
    number = _dossier(svc)
    doc = _file(svc, number, word)
    for state in (DossierState.ACCEPTED, DossierState.DECIDED, DossierState.REPLIED, DossierState.CLOSED,
                  DossierState.SEALED):
        svc.records.advance("clerk", number, state, override_reason="test fixture: no materials" if state is DossierState.CLOSED else None)
    return number, doc


def test_destroying_keys_removes_index_entries_through_the_outbox(services: Services, settings: Settings,
                                                                   clock: FrozenClock) -> None:
    number, doc = _sealed(services, "cherimoya")
    assert _found(services, "cherimoya") == {doc.item_number}
    with index_unavailable(settings.data_dir / "search"):
        assert services.records.destroy_data_keys("archivist", number) == 2
    assert [(r.kind, r.ref) for r in _rows(services)] == [("document_removed", doc.document_id)]
    clock.now += timedelta(seconds=6)
    assert services.outbox.drain().applied == 1
    assert _found(services, "cherimoya") == set()
    services.records.tombstone_dossier("archivist", number, note="destroyed under rule R-10Y")
    assert _rows(services) == [] and _found(services, "cherimoya") == set()


# ------------------------------------------------------------------ the table
def test_outbox_ids_are_never_reused_after_the_table_drained(services: Services, clock: FrozenClock) -> None:
    """A rebuild tells the rows it covers from later ones by id: an id must never come back."""
    number = _dossier(services)
    ids = []
    for word in ("a", "b"):
        services.records.announcer._index_listeners.clear()
        _file(services, number, f"lychee{word}")
        (row,) = _rows(services)
        ids.append(row.id)
        assert services.outbox.drain().applied == 1 and _rows(services) == []
    assert ids[1] > ids[0]


# ------------------------------------------------------------------ the command line
def _cli(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *args])
    return result.exit_code, result.stdout


def test_verify_reports_the_backlog_and_index_drain_applies_it(settings: Settings) -> None:
    init_archive(settings)
    svc = build_services(settings)
    now = svc.clock()
    try:
        doc = _file(svc, _dossier(svc), "mangosteen")
        with svc.uow.write() as s:
            row = record_change(s, IndexChange.DOCUMENT_FILED, doc.document_id, now - timedelta(hours=1))
            row.attempts, row.last_error = 3, "SearchUnavailableError: search server unreachable"
            row.next_attempt_at = now + timedelta(hours=1)
    finally:
        svc.close()

    code, out = _cli(settings, "verify", "--json")
    assert code == 0, out
    backlog = json.loads(out)["index_backlog"]
    assert backlog["count"] == 1 and backlog["failing"] == 1 and backlog["oldest_age_seconds"] >= 3600
    assert "unreachable" in backlog["last_error"]
    code, out = _cli(settings, "verify")
    assert "index backlog: 1 change(s), oldest 60 min old, 1 failing" in out

    code, out = _cli(settings, "index", "drain", "--json")       # not due yet
    assert code == 0 and json.loads(out)["applied"] == 0 and json.loads(out)["backlog"]["count"] == 1

    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(update(IndexOutboxRow).values(next_attempt_at=now - timedelta(seconds=1)))
    engine.dispose()
    code, out = _cli(settings, "index", "drain", "--json")
    assert code == 0, out
    report = json.loads(out)  # (opening the archive for the command may have applied it already)
    assert (report["ok"], report["failed"], report["backlog"]["count"]) == (True, 0, 0)
    code, out = _cli(settings, "index", "drain")
    assert code == 0 and "0 change(s) applied, 0 failed" in out and "index backlog: none" in out

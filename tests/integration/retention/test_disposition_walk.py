"""The whole walk on a frozen clock: seal → retention → hold → review → approval → destruction (RET, issue #6).

Afterwards the destroyed dossier's documents cannot be recovered from the store, the index or the
catalogue, its certificate verifies, and the held dossier was not touched.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from records.access.errors import AccessDeniedError
from records.access.model import AccessScope
from records.errors import DocumentNotFoundError
from records.model import DossierState
from records.tables import DocumentRow, DossierRow, StoredObjectRow
from records.vault import BlobKey, BlobNotFoundError
from retention.certificate import verify_certificate
from retention.errors import InvalidDispositionError, SameApproverError
from retention.model import DispositionState, HoldFilter
from tests.integration.retention.retention_world import (
    ARCHIVIST, HANDLER, MANAGER, OTHER_ARCHIVIST, ROOT, closed_dossier, people,
)
from web.bootstrap import Services

if TYPE_CHECKING:
    from tests.conftest import FrozenClock


def objects_of(svc: Services, number: str) -> list[StoredObjectRow]:
    with svc.uow.read() as s:
        return list(s.scalars(select(StoredObjectRow).join(DocumentRow).join(DossierRow)
                              .where(DossierRow.archive_number == number)))


def refusals(svc: Services, action: str) -> list[Any]:
    return [e.event for e in svc.access.read_audit_log(ROOT) if e.event.action == action and e.event.outcome == "refused"]


def test_seal_retention_hold_review_approval_destruction(services: Services, clock: FrozenClock) -> None:
    svc = services
    people(svc)
    doomed, doomed_items = closed_dossier(svc, "zebradisp")
    held, held_items = closed_dossier(svc, "okapiheld", respondent="另一律师事务所")
    important, _ = closed_dossier(svc, "ibexkept", collective_count=30)
    for n in (doomed, held, important):
        svc.retention.seal(ROOT, n)
    assert svc.search.search("t", "zebradisp", AccessScope.everything()).total == 5

    # Holds: by an authorised user on a saved filter; a handler is refused, and that is logged.
    with pytest.raises(AccessDeniedError):
        svc.retention.place_hold(svc.access.identity(HANDLER), reason="诉讼", number=held)
    hold = svc.retention.place_hold(svc.access.identity(ARCHIVIST), reason="行政复议进行中",
                                    filter=HoldFilter(respondents=frozenset({"另一律师事务所"})))
    assert refusals(svc, "hold")[0].actor == HANDLER

    # Retention: nothing is due before the year is out; then the ordinary dossiers are, the held one hidden.
    assert svc.retention.due(date(2027, 11, 2)) == []
    clock.now = datetime(2027, 11, 10, 2, tzinfo=timezone.utc)
    due = svc.retention.due()
    assert [(d.archive_number, d.rule, d.disposal_date, d.held) for d in due] == [(doomed, "default-1y", date(2027, 11, 3), False)]
    with_held = svc.retention.due(include_held=True)
    assert {d.archive_number: d.held for d in with_held} == {doomed: False, held: True}

    # Review: an archivist account only; the held dossier cannot be proposed.
    with pytest.raises(AccessDeniedError):
        svc.retention.review(HANDLER)
    with pytest.raises(InvalidDispositionError, match=held):
        svc.retention.review(ARCHIVIST, numbers=[held])
    disposition = svc.retention.review(ARCHIVIST)
    assert disposition.numbers == (doomed,) and disposition.state is DispositionState.REVIEWED
    assert svc.retention.due()[0].disposition_state == "reviewed"

    # Approval: a manager, and not the reviewer; each refusal is in the access log.
    with pytest.raises(SameApproverError):
        svc.retention.approve(ARCHIVIST, disposition.disposition_id)
    with pytest.raises(AccessDeniedError):
        svc.retention.approve(OTHER_ARCHIVIST, disposition.disposition_id)
    with pytest.raises(InvalidDispositionError, match="approval"):
        svc.retention.run(ROOT, disposition_id=disposition.disposition_id)
    assert {e.actor for e in refusals(svc, "dispose_approve")} == {ARCHIVIST, OTHER_ARCHIVIST}
    approved = svc.retention.approve(MANAGER, disposition.disposition_id)
    assert [(a.step, a.actor, a.role) for a in approved.approvals] == [
        ("review", ARCHIVIST, "archivist"), ("approve", MANAGER, "manager")]

    # Destruction.
    objects = objects_of(svc, doomed)
    [done] = svc.retention.run(ROOT)
    assert done.state is DispositionState.DONE and done.certificate is not None

    # Nothing recoverable: store, keys, index, catalogue.
    for o in objects:
        with pytest.raises(BlobNotFoundError):
            svc.vault.store.stat(BlobKey(o.blob_key))
    assert all(o.wrapped_key is None for o in objects_of(svc, doomed))
    assert svc.search.search("t", "zebradisp", AccessScope.everything()).total == 0
    for item in doomed_items:
        with pytest.raises(DocumentNotFoundError):
            svc.records.retrieve_document("t", item)
    info = svc.records.get_dossier("t", doomed)
    assert info.state is DossierState.DISPOSED and "zebradisp" not in info.registration.matter
    assert info.registration.complainant is None
    # The certificate verifies and names the rule and both signatures.
    cert = verify_certificate(done.certificate.json_path, svc.access.signing_public_key())  # type: ignore[arg-type]
    assert cert["dossiers"][0]["archive_number"] == doomed and cert["dossiers"][0]["rule"] == "default-1y"
    # The held and the important dossiers: untouched.
    for number, items, word in ((held, held_items, "okapiheld"),):
        assert svc.records.get_dossier("t", number).state is DossierState.SEALED
        for item in items:
            doc, stream = svc.records.retrieve_document("t", item)
            assert len(b"".join(stream)) == doc.size
        assert svc.search.search("t", word, AccessScope.everything()).total == 5
    assert svc.records.get_dossier("t", important).state is DossierState.SEALED
    # Queue and re-run: nothing left to do; lifting the hold makes the held dossier due again.
    assert svc.retention.due() == [] and svc.retention.run(ROOT) == []
    svc.retention.lift_hold(svc.access.identity(MANAGER), hold.hold_id, reason="复议结束")
    assert [d.archive_number for d in svc.retention.due()] == [held]


def test_a_hold_placed_after_approval_is_respected_at_run_time(services: Services, clock: FrozenClock) -> None:
    svc = services
    people(svc)
    first, _ = closed_dossier(svc, "alpacaone")
    second, second_items = closed_dossier(svc, "alpacatwo")
    for n in (first, second):
        svc.retention.seal(ROOT, n)
    clock.now = datetime(2027, 11, 10, 2, tzinfo=timezone.utc)
    d = svc.retention.review(ARCHIVIST)
    svc.retention.approve(MANAGER, d.disposition_id)
    svc.retention.place_hold(ROOT, reason="新的投诉涉及此卷", number=second)
    [done] = svc.retention.run(ROOT, disposition_id=d.disposition_id)
    assert done.numbers == (first,) and "legal hold" in done.excluded[second]
    assert svc.records.get_dossier("t", first).state is DossierState.DISPOSED
    assert svc.records.get_dossier("t", second).state is DossierState.SEALED
    assert all(o.wrapped_key is not None for o in objects_of(svc, second))
    assert svc.retention.due(include_held=True)[0].held


def _crash_after_first_blob(svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real vault, except that the process 'dies' after deleting the first blob.

    Patched on the vault itself: the disposition desk was handed this very vault in
    ``web/bootstrap.py`` and deletes through it.
    """
    real_delete = svc.vault.delete_object
    deleted: list[str] = []

    def delete_object(object_id: str) -> None:
        if deleted:
            raise KeyboardInterrupt("simulated crash")
        real_delete(object_id)
        deleted.append(object_id)

    monkeypatch.setattr(svc.vault, "delete_object", delete_object)


def test_a_crash_mid_destruction_leaves_it_executing_and_a_rerun_completes_it(services: Services, clock: FrozenClock,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    svc = services
    people(svc)
    number, _ = closed_dossier(svc, "tapircrash")
    svc.retention.seal(ROOT, number)
    clock.now = datetime(2027, 11, 10, 2, tzinfo=timezone.utc)
    d = svc.retention.review(ARCHIVIST)
    svc.retention.approve(MANAGER, d.disposition_id)
    with monkeypatch.context() as crashing:
        _crash_after_first_blob(svc, crashing)
        with pytest.raises(KeyboardInterrupt):
            svc.retention.run(ROOT)
    assert svc.retention.disposition(d.disposition_id).state is DispositionState.EXECUTING
    assert all(o.wrapped_key is None for o in objects_of(svc, number))  # keys went first: already unreadable
    [done] = svc.retention.run(ROOT)
    assert done.disposition_id == d.disposition_id and done.state is DispositionState.DONE
    assert done.certificate is not None and done.certificate.json_path.is_file()
    for o in objects_of(svc, number):
        with pytest.raises(BlobNotFoundError):
            svc.vault.store.stat(BlobKey(o.blob_key))
    assert svc.search.search("t", "tapircrash", AccessScope.everything()).total == 0

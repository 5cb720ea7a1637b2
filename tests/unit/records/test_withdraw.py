"""Withdrawing a junk filing (issue #11 item 5): a blank scan or the wrong file is voided with a reason.

It keeps its item number and bytes (numbers are never reused, ARC-3-06), leaves the search index,
no longer counts as one of the dossier's materials (ARC-2), is refused where the dossier takes no
changes (sealed, ARC-1-05), and the act is one access-log entry (FILE_DOCUMENT on the dossier).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from records.access.errors import AccessDeniedError
from records.access.identity import Identity, Role
from records.errors import IncompleteDossierError, InvalidRegistrationError, SealedDossierError
from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from web.bootstrap import Services

BEIJING = timezone(timedelta(hours=8))
CONSOLE = Identity.operator("cli:test")


@pytest.fixture
def handler(services: Services) -> Identity:
    services.access.add_user(CONSOLE, "handler_a", Role.HANDLER, departments=["法援科"], password="correct horse 1")
    services.access.add_user(CONSOLE, "handler_b", Role.HANDLER, departments=["其他科"], password="correct horse 1")
    return services.access.identity("handler_a")


def _dossier(services: Services) -> str:
    return services.gate.register(CONSOLE, Registration(
        matter="援助律师拖延", received_at=datetime(2026, 10, 20, 9, tzinfo=BEIJING), complainant="张三",
        respondent="某律所", department="法援科")).archive_number


def _file(services: Services, number: str, kind: DocumentKind, text: str = "材料") -> str:
    body = f"{text} {kind.value} {number}".encode()
    return services.records.file_document("clerk", number, body, kind=kind, filename=f"{kind.value}.txt",
                                          media_type="text/plain",
                                          analysis=DocumentAnalysis(outcome="ok", text=body.decode())).item_number


def _replied_with_all_materials(services: Services, handler: Identity) -> tuple[str, str]:
    """A replied dossier whose materials are complete; returns it and its reply letter's item number."""
    n = _dossier(services)
    _file(services, n, DocumentKind.COMPLAINT_LETTER)
    services.gate.advance(handler, n, DossierState.ACCEPTED, on=date(2026, 10, 21))
    _file(services, n, DocumentKind.ACCEPTANCE_NOTICE)
    _file(services, n, DocumentKind.INVESTIGATION_MINUTES)
    services.gate.advance(handler, n, DossierState.DECIDED, on=date(2026, 10, 30))
    _file(services, n, DocumentKind.DECISION)
    services.gate.advance(handler, n, DossierState.REPLIED, on=date(2026, 11, 2))
    return n, _file(services, n, DocumentKind.REPLY_LETTER)


def _entries(services: Services) -> int:
    return len([e for e in services.access.read_audit_log(CONSOLE) if e.event.actor != CONSOLE.name])


def test_a_withdrawn_document_leaves_search_but_keeps_its_number_and_reason(services: Services,
                                                                            handler: Identity) -> None:
    """GIVEN a junk upload that search finds WHEN the handler withdraws it with a reason THEN, the outbox drained,
    search no longer finds it, the dossier still lists it under the same number with who, when and why,
    and the act left exactly one access-log entry (file_document, allowed)."""
    n = _dossier(services)
    item = _file(services, n, DocumentKind.OTHER, text="误传的空白扫描件甲乙丙")
    services.outbox.drain()
    assert [h.item_number for h in services.gate.search(CONSOLE, "甲乙丙").hits] == [item]
    before = _entries(services)

    doc = services.gate.withdraw_document(handler, item, "空白扫描件，误传")

    entries = [e.event for e in services.access.read_audit_log(CONSOLE) if e.event.actor != CONSOLE.name][before:]
    assert [(e.actor, str(e.action), str(e.outcome), e.object_ref) for e in entries] == [
        ("handler_a", "file_document", "allowed", item)]
    assert (doc.item_number, doc.withdrawn_by, doc.withdrawn_reason) == (item, "handler_a", "空白扫描件，误传")
    assert doc.withdrawn_at is not None
    services.outbox.drain()
    assert list(services.gate.search(CONSOLE, "甲乙丙").hits) == []
    listed = {d.item_number: d for d in services.records.get_dossier("t", n).documents}
    assert listed[item].withdrawn_reason == "空白扫描件，误传"
    assert doc.document_id not in set(services.records.live_document_ids("t"))


def test_withdrawing_needs_a_reason_and_happens_once(services: Services, handler: Identity) -> None:
    """No reason, or a second withdrawal, is refused with a clear message; nothing changes."""
    n = _dossier(services)
    item = _file(services, n, DocumentKind.OTHER)
    with pytest.raises(InvalidRegistrationError, match="reason"):
        services.gate.withdraw_document(handler, item, "  ")
    assert services.records.get_document("t", item).withdrawn_at is None
    services.gate.withdraw_document(handler, item, "错传")
    with pytest.raises(InvalidRegistrationError, match="already"):
        services.gate.withdraw_document(handler, item, "再次")


def test_a_withdrawn_material_counts_as_missing_again(services: Services, handler: Identity) -> None:
    """GIVEN a dossier complete for closing WHEN its reply letter is withdrawn THEN closing is refused again,
    naming the reply letter (ARC-2): a withdrawn document is no material."""
    n, reply = _replied_with_all_materials(services, handler)
    assert services.records.missing_for_close(services.records.get_dossier("t", n)) == []
    services.gate.withdraw_document(handler, reply, "扫描件模糊，需重新上传")
    with pytest.raises(IncompleteDossierError) as refused:
        services.gate.advance(handler, n, DossierState.CLOSED)
    assert any(m.startswith("reply") for m in refused.value.missing)


def test_withdrawing_is_refused_in_a_sealed_dossier_and_to_other_departments(services: Services,
                                                                             handler: Identity) -> None:
    """Sealed means read-only (ARC-1-05): a withdrawal there is refused and logged once; a handler of another
    department is refused too; the document stays as it was."""
    n, reply = _replied_with_all_materials(services, handler)
    other = services.access.identity("handler_b")
    with pytest.raises(AccessDeniedError):
        services.gate.withdraw_document(other, reply, "不是本科室的")
    services.gate.advance(handler, n, DossierState.CLOSED)
    services.retention.seal(CONSOLE, n)
    before = _entries(services)
    with pytest.raises((SealedDossierError, AccessDeniedError)):
        services.gate.withdraw_document(handler, reply, "x")
    entries = [e.event for e in services.access.read_audit_log(CONSOLE) if e.event.actor != CONSOLE.name][before:]
    assert [(str(e.action), str(e.outcome)) for e in entries] == [("file_document", "refused")]
    # The records service refuses it too, for a caller that does not go through the policy.
    with pytest.raises(SealedDossierError):
        services.records.withdraw_document("clerk", reply, "x")
    assert services.records.get_document("t", reply).withdrawn_at is None

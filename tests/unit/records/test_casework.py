"""The lifecycle gaps found in acceptance testing (issue #10 item 2), through the gate every door uses.

Closing checks completeness (ARC-2) so a closed dossier can always be sealed; an archivist may
override with a recorded reason; a closed, unsealed dossier can be reopened; a wrong document
kind can be corrected; a withdrawn dossier is never overdue, and the overdue list says which
deadline and by how many days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from records.access.errors import AccessDeniedError
from records.access.identity import Identity, Role
from records.deadlines import ClockName, ClockState
from records.errors import IncompleteDossierError, InvalidRegistrationError, InvalidTransitionError, SealedDossierError
from records.model import DocumentAnalysis, DocumentKind, DossierState, Registration
from web.bootstrap import Services

BEIJING = timezone(timedelta(hours=8))
CONSOLE = Identity.operator("cli:test")
HANDLER = ARCHIVIST = MANAGER = CONSOLE  # the signed-in accounts, set up by ``_accounts`` for each test


@pytest.fixture(autouse=True)
def _accounts(services: Services) -> None:
    """A handler and a manager of 法援科 and an archivist, as their accounts say who they are."""
    global HANDLER, ARCHIVIST, MANAGER
    for name, role, depts in (("handler_a", Role.HANDLER, ["法援科"]), ("archivist", Role.ARCHIVIST, []),
                              ("manager", Role.MANAGER, ["法援科"])):
        services.access.add_user(CONSOLE, name, role, departments=depts, password="correct horse 1")
    HANDLER, ARCHIVIST, MANAGER = (services.access.identity(n) for n in ("handler_a", "archivist", "manager"))


def _dossier(services: Services, received: datetime = datetime(2026, 10, 20, 9, tzinfo=BEIJING)) -> str:
    return services.gate.register(CONSOLE, Registration(
        matter="援助律师拖延", received_at=received, complainant="张三", respondent="某律所",
        department="法援科")).archive_number


def _file(services: Services, number: str, kind: DocumentKind, text: str = "材料") -> str:
    body = f"{text} {kind.value} {number}".encode()
    return services.records.file_document("clerk", number, body, kind=kind, filename=f"{kind.value}.txt",
                                          media_type="text/plain",
                                          analysis=DocumentAnalysis(outcome="ok", text=body.decode())).item_number


def _replied_without_reply_letter(services: Services) -> str:
    n = _dossier(services)
    _file(services, n, DocumentKind.COMPLAINT_LETTER)
    services.gate.advance(HANDLER, n, DossierState.ACCEPTED, on=date(2026, 10, 21))
    _file(services, n, DocumentKind.ACCEPTANCE_NOTICE)
    _file(services, n, DocumentKind.INVESTIGATION_MINUTES)
    services.gate.advance(HANDLER, n, DossierState.DECIDED, on=date(2026, 10, 30))
    _file(services, n, DocumentKind.DECISION)
    services.gate.advance(HANDLER, n, DossierState.REPLIED, on=date(2026, 11, 2))
    return n


def test_closing_is_refused_while_the_reply_letter_is_missing(services: Services) -> None:
    """GIVEN a replied dossier without its reply letter WHEN the handler closes it THEN it is refused,
    naming the missing material, and the dossier stays replied; with the letter filed it closes."""
    n = _replied_without_reply_letter(services)
    with pytest.raises(IncompleteDossierError) as refused:
        services.gate.advance(HANDLER, n, DossierState.CLOSED)
    assert any(m.startswith("reply") for m in refused.value.missing)
    assert services.records.get_dossier("t", n).state is DossierState.REPLIED
    _file(services, n, DocumentKind.REPLY_LETTER)
    assert services.gate.advance(HANDLER, n, DossierState.CLOSED).state is DossierState.CLOSED
    assert services.retention.missing_for_seal(n) == []


def test_an_archivist_may_close_with_materials_missing_with_a_recorded_reason(services: Services) -> None:
    """GIVEN materials missing WHEN a handler tries the override THEN refused; an archivist's override closes
    it and the timeline keeps the reason and what was missing."""
    n = _replied_without_reply_letter(services)
    with pytest.raises(AccessDeniedError):
        services.gate.advance(HANDLER, n, DossierState.CLOSED, override_reason="答复函原件遗失")
    info = services.gate.advance(ARCHIVIST, n, DossierState.CLOSED, override_reason="答复函原件遗失")
    assert info.state is DossierState.CLOSED
    note = info.transitions[-1].note or ""
    assert "答复函原件遗失" in note and "reply" in note


def test_a_closed_dossier_is_reopened_with_a_reason_and_keeps_its_dates(services: Services) -> None:
    """GIVEN a dossier closed under an override WHEN a manager reopens it THEN it is back to replied, the
    reason is on the timeline, the reply date is still the first one; the letter filed, it closes properly."""
    n = _replied_without_reply_letter(services)
    services.gate.advance(ARCHIVIST, n, DossierState.CLOSED, override_reason="待补答复函")
    with pytest.raises(InvalidRegistrationError):
        services.gate.reopen(MANAGER, n, reason="  ")
    with pytest.raises(AccessDeniedError):
        services.gate.reopen(HANDLER, n, reason="补充答复函")
    info = services.gate.reopen(MANAGER, n, reason="补充答复函")
    assert info.state is DossierState.REPLIED
    assert info.transitions[-1].note == "reopened: 补充答复函"
    assert info.state_dates["replied"] == date(2026, 11, 2)
    _file(services, n, DocumentKind.REPLY_LETTER)
    assert services.gate.advance(HANDLER, n, DossierState.CLOSED).state is DossierState.CLOSED


def test_only_a_closed_dossier_can_be_reopened(services: Services) -> None:
    """A dossier still in handling, or sealed, is not reopened (a sealed one is amended instead)."""
    n = _replied_without_reply_letter(services)
    with pytest.raises(InvalidTransitionError):
        services.gate.reopen(MANAGER, n, reason="x")


def test_a_wrong_kind_is_corrected_and_the_rule_that_fired_is_kept(services: Services) -> None:
    """GIVEN a reply letter filed as a decision by a rule WHEN the handler corrects it THEN its kind is
    reply_letter, the rule is still recorded, with who corrected it and why; search facets follow."""
    n = _dossier(services)
    body = "法律援助投诉处理答复书\n经调查，本机关已作出处理决定。".encode()
    item = services.records.file_document(
        "clerk", n, body, kind=DocumentKind.DECISION, filename="答复书.txt", media_type="text/plain",
        analysis=DocumentAnalysis(outcome="ok", text=body.decode(), kind_rule="heading:处理决定")).item_number
    with pytest.raises(InvalidRegistrationError):
        services.gate.reclassify(HANDLER, item, DocumentKind.REPLY_LETTER, reason="")
    doc = services.gate.reclassify(HANDLER, item, DocumentKind.REPLY_LETTER, reason="标题为答复书")
    assert (doc.kind, doc.kind_rule, doc.kind_set_by, doc.kind_set_reason) == (
        DocumentKind.REPLY_LETTER, "heading:处理决定", "handler_a", "标题为答复书")
    assert services.records.get_document("t", item).kind is DocumentKind.REPLY_LETTER
    services.outbox.drain()
    hits = services.gate.search(CONSOLE, "kind:reply_letter").hits
    assert [h.item_number for h in hits] == [item]


def test_a_kind_is_not_corrected_in_a_sealed_dossier(services: Services) -> None:
    """Sealed means read-only (ARC-1-05): correcting a kind there is refused."""
    n = _replied_without_reply_letter(services)
    item = _file(services, n, DocumentKind.REPLY_LETTER)
    services.gate.advance(HANDLER, n, DossierState.CLOSED)
    services.retention.seal(CONSOLE, n)
    with pytest.raises((SealedDossierError, AccessDeniedError)):
        services.gate.reclassify(ARCHIVIST, item, DocumentKind.OTHER, reason="x")


def test_a_withdrawn_dossier_is_never_overdue(services: Services) -> None:
    """GIVEN a complaint received long ago and withdrawn before acceptance THEN show and list do not call
    it overdue, and the acceptance clock says stopped — the same answer as ``list --overdue``."""
    n = _dossier(services, received=datetime(2026, 9, 1, 9, tzinfo=BEIJING))
    services.gate.advance(HANDLER, n, DossierState.VOID, on=date(2026, 9, 20), note="投诉人撤回")
    info = services.records.get_dossier("t", n)
    acceptance = services.records.deadlines(info)[0]
    assert acceptance.clock is ClockName.ACCEPTANCE and acceptance.state is ClockState.STOPPED
    assert not acceptance.overdue
    row = next(r for r in services.records.list_dossiers("t") if r.archive_number == n)
    assert not row.overdue
    # Before the withdrawal it was overdue, and is shown so for that day.
    assert services.records.deadlines(info, date(2026, 9, 15))[0].state is ClockState.OVERDUE


def test_the_overdue_list_names_the_deadline_and_the_days(services: Services) -> None:
    """GIVEN a complaint received 20 Oct and not accepted by 3 Nov THEN the overdue listing names the acceptance
    deadline, its due date and how many days it is overdue."""
    n = _dossier(services)
    row = next(r for r in services.records.list_dossiers("t", overdue_on=date(2026, 11, 3)) if r.archive_number == n)
    (late,) = row.overdue_clocks
    assert late.clock is ClockName.ACCEPTANCE and late.due_on is not None
    assert late.days_late == (date(2026, 11, 3) - late.due_on).days > 0

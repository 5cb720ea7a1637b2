"""The notices the complaint rules require, generated and filed (issue #10 item 3; ACC-DOC-02..05, TL-03/04/36).

Each notice must open in python-docx and pypdfium2, carry the dossier number, the parties and the
dates the rules require, be filed into the dossier with its kind, and keep its text (shown and
searched). A notice that makes no sense for the dossier's state is refused with a clear error.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from docx import Document

from records.access.errors import AccessDeniedError
from records.access.identity import Identity, Role
from records.errors import DuplicateDocumentError, InvalidRegistrationError, InvalidTransitionError
from records.model import DocumentKind, DossierInfo, DossierState, Registration
from records.notices import NoticeKind, zh_date
from records.settings import Settings
from tests.conftest import FrozenClock
from web.bootstrap import Services, build_services, init_archive

OPERATOR = Identity.operator("test-setup")
HANDLER = Identity.operator("办案人")  # the console: allowed what the dossier's state permits
TZ = ZoneInfo("Asia/Shanghai")  # the archive's default zone


def pdf_text(data: bytes) -> str:
    """Every page's text, whitespace removed (a wrapped line may split a date)."""
    pdf = pypdfium2.PdfDocument(data)
    try:
        return re.sub(r"\s", "", "".join(page.get_textpage().get_text_range() for page in pdf))
    finally:
        pdf.close()


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    parts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return re.sub(r"\s", "", "".join(parts))


def _register(services: Services, clock: FrozenClock, *, days_ago: int = 1) -> DossierInfo:
    return services.records.register_complaint("test", Registration(
        matter="律师收费过高投诉", received_at=clock.now - timedelta(days=days_ago), complainant="张三",
        respondent="某律师事务所", department="A", request="退还多收的费用"))


def _received(info: DossierInfo) -> str:
    return zh_date(info.registration.received_at.astimezone(TZ).date())


def _assert_carries(text: str, info: DossierInfo, *dates: date) -> None:
    assert info.archive_number in text
    assert "张三" in text and "某律师事务所" in text
    assert _received(info) in text
    for d in dates:
        assert zh_date(d) in text, zh_date(d)


def test_acceptance_notice_opens_in_both_formats_and_is_filed_with_its_kind(services: Services, clock: FrozenClock) -> None:
    """GIVEN an accepted complaint
    WHEN its acceptance notice is rendered and issued
    THEN the DOCX and the PDF open and carry number, parties, received and accepted dates and the
    conclusion due date; the PDF is filed as acceptance_notice with its text stored."""
    info = _register(services, clock)
    info = services.gate.advance(HANDLER, info.archive_number, DossierState.ACCEPTED)
    conclusion = next(c for c in services.records.deadlines(info) if c.clock == "conclusion")
    assert conclusion.due_on is not None
    accepted = info.state_dates["accepted"]
    for fmt, read in (("docx", docx_text), ("pdf", pdf_text)):
        text = read(services.notices.render(info, NoticeKind.ACCEPTANCE, fmt))  # type: ignore[arg-type]
        _assert_carries(text, info, accepted, conclusion.due_on)
        assert "法律援助投诉受理通知书" in text and "××市司法局" in text

    doc = services.notices.issue(HANDLER, info.archive_number, NoticeKind.ACCEPTANCE)
    assert doc.kind is DocumentKind.ACCEPTANCE_NOTICE
    assert doc.media_type == "application/pdf" and doc.filename == f"受理通知书-{info.archive_number}.pdf"
    assert doc.kind_rule == "generated:notice" and doc.pages == 1
    _, stored, _ = services.records.document_text("test", doc.item_number)
    assert "法律援助投诉受理通知书" in stored and info.archive_number in stored and zh_date(accepted) in stored
    _, stream = services.records.retrieve_document("test", doc.item_number)
    _assert_carries(pdf_text(b"".join(stream)), info, accepted)


def test_the_same_notice_twice_on_one_day_is_a_duplicate(services: Services, clock: FrozenClock) -> None:
    """GIVEN an acceptance notice issued today
    WHEN it is issued again the same day
    THEN the identical PDF is refused as a duplicate naming the item already filed."""
    info = _register(services, clock)
    services.gate.advance(HANDLER, info.archive_number, DossierState.ACCEPTED)
    first = services.notices.issue(HANDLER, info.archive_number, NoticeKind.ACCEPTANCE)
    with pytest.raises(DuplicateDocumentError, match=first.item_number):
        services.notices.issue(HANDLER, info.archive_number, NoticeKind.ACCEPTANCE)


def test_non_acceptance_notice_states_the_recorded_ground_and_the_remedy(services: Services, clock: FrozenClock) -> None:
    """GIVEN a complaint refused with its ground recorded on the not-accepted step (ACC-NO)
    WHEN its non-acceptance notice is issued
    THEN the notice states that ground, the refusal date and the route of review (ACC-OK-09),
    and is filed as non_acceptance_notice."""
    info = _register(services, clock)
    ground = "投诉事项已经依法处理，且没有新的事实和证据"
    info = services.gate.advance(HANDLER, info.archive_number, DossierState.NOT_ACCEPTED, note=ground)
    refused = info.state_dates["not_accepted"]
    text = pdf_text(services.notices.render(info, NoticeKind.NON_ACCEPTANCE, "pdf"))
    _assert_carries(text, info, refused)
    assert "不予受理的理由：" + ground in text
    assert "行政复议" in text and "行政诉讼" in text
    doc = services.notices.issue(HANDLER, info.archive_number, NoticeKind.NON_ACCEPTANCE, ground="另行给出的理由")
    assert doc.kind is DocumentKind.NON_ACCEPTANCE_NOTICE
    assert "不予受理的理由：另行给出的理由" in services.records.document_text("test", doc.item_number)[1]


def test_non_acceptance_without_a_ground_is_refused(services: Services, clock: FrozenClock) -> None:
    """GIVEN a complaint refused with no note
    WHEN a non-acceptance notice is asked for without a ground
    THEN it is refused: the notice must state the ground (ACC-NO)."""
    info = _register(services, clock)
    services.gate.advance(HANDLER, info.archive_number, DossierState.NOT_ACCEPTED)
    with pytest.raises(InvalidRegistrationError, match="ground"):
        services.notices.issue(HANDLER, info.archive_number, NoticeKind.NON_ACCEPTANCE)


def test_extension_notice_names_old_and_new_due_dates_reason_and_approver(services: Services, clock: FrozenClock) -> None:
    """GIVEN an accepted complaint whose conclusion period was extended by 30 days (TL-03)
    WHEN the extension notice is issued
    THEN it names the old and the new conclusion due dates, the days, the reason and the approver,
    and is filed as extension_notice."""
    info = _register(services, clock)
    info = services.gate.advance(HANDLER, info.archive_number, DossierState.ACCEPTED)
    old_due = next(c for c in services.records.deadlines(info) if c.clock == "conclusion").due_on
    info = services.gate.extend(HANDLER, info.archive_number, days=30, reason="案情复杂需补充调查", approved_by="王主任")
    new_due = next(c for c in services.records.deadlines(info) if c.clock == "conclusion").due_on
    assert old_due and new_due and new_due > old_due
    text = docx_text(services.notices.render(info, NoticeKind.EXTENSION, "docx"))
    _assert_carries(text, info, old_due, new_due)
    assert "案情复杂需补充调查" in text and "王主任" in text and "30日" in text
    doc = services.notices.issue(HANDLER, info.archive_number, NoticeKind.EXTENSION)
    assert doc.kind is DocumentKind.EXTENSION_NOTICE


def test_reply_letter_uses_the_handlers_text_as_is(services: Services, clock: FrozenClock) -> None:
    """GIVEN a decided complaint and the prefilled draft of its reply (TL-04)
    WHEN the handler edits the draft and issues the reply letter
    THEN the draft named the matter and the decision date; the filed reply_letter carries the
    edited text word for word, the parties and the reply due date."""
    info = _register(services, clock)
    services.gate.advance(HANDLER, info.archive_number, DossierState.ACCEPTED)
    info = services.gate.advance(HANDLER, info.archive_number, DossierState.DECIDED)
    draft = services.notices.draft(info)
    assert "律师收费过高投诉" in draft and zh_date(info.state_dates["decided"]) in draft and "行政复议" in draft
    edited = draft.replace("四、处理决定：（请填写）", "四、处理决定：责令被投诉人退还多收费用800元。")
    doc = services.notices.issue(HANDLER, info.archive_number, NoticeKind.REPLY, body=edited)
    assert doc.kind is DocumentKind.REPLY_LETTER
    stored = services.records.document_text("test", doc.item_number)[1]
    assert "四、处理决定：责令被投诉人退还多收费用800元。" in stored
    reply_due = next(c for c in services.records.deadlines(info) if c.clock == "reply").due_on
    assert reply_due is not None
    _, stream = services.records.retrieve_document("test", doc.item_number)
    text = pdf_text(b"".join(stream))
    _assert_carries(text, info, info.state_dates["decided"], reply_due)
    assert "责令被投诉人退还多收费用800元" in text


def test_chaser_names_the_overdue_deadline_and_days(services: Services, clock: FrozenClock) -> None:
    """GIVEN a complaint received 20 days ago and still neither accepted nor refused (TL-01 overdue)
    WHEN a chaser is issued (TL-36)
    THEN it names the acceptance deadline, its due date and the days overdue, and is filed as a
    follow_up_record."""
    info = _register(services, clock, days_ago=20)
    [late] = [c for c in services.records.deadlines(info) if c.state == "overdue"]
    assert late.due_on is not None and late.days_late > 0
    doc = services.notices.issue(HANDLER, info.archive_number, NoticeKind.CHASER)
    assert doc.kind is DocumentKind.FOLLOW_UP_RECORD
    _, stream = services.records.retrieve_document("test", doc.item_number)
    text = pdf_text(b"".join(stream))
    _assert_carries(text, info, late.due_on)
    assert "受理期限" in text and f"已逾期{late.days_late}日" in text


@pytest.mark.parametrize("kind", [NoticeKind.ACCEPTANCE, NoticeKind.NON_ACCEPTANCE, NoticeKind.EXTENSION,
                                  NoticeKind.REPLY, NoticeKind.CHASER])
def test_a_notice_that_does_not_fit_the_state_is_refused(services: Services, clock: FrozenClock, kind: NoticeKind) -> None:
    """GIVEN a complaint registered yesterday: not accepted, refused, extended, decided, nor overdue
    WHEN any notice is asked for
    THEN it is refused with an error naming the dossier's state, and nothing is filed."""
    info = _register(services, clock)
    with pytest.raises(InvalidTransitionError, match="registered"):
        services.notices.issue(HANDLER, info.archive_number, kind)
    assert services.records.get_dossier("test", info.archive_number).documents == ()


def test_a_regulator_is_refused_and_the_refusal_logged_once(services: Services, clock: FrozenClock) -> None:
    """GIVEN a regulator with a grant on an accepted dossier
    WHEN they try to issue its acceptance notice
    THEN it is refused, exactly one refused file_document entry is logged, nothing is filed."""
    info = _register(services, clock)
    services.gate.advance(HANDLER, info.archive_number, DossierState.ACCEPTED)
    services.access.add_user(OPERATOR, "regulator", Role.REGULATOR, password="correct horse 1")
    services.access.grant_regulator_access(OPERATOR, "regulator", purpose="年度检查", dossiers=[info.archive_number],
                                           expires_at=clock.now + timedelta(days=30))
    regulator = services.access.session_identity("regulator", services.access.session_generation("regulator"))
    assert regulator is not None
    before = len(services.access.read_audit_log(OPERATOR))
    with pytest.raises(AccessDeniedError):
        services.notices.issue(regulator, info.archive_number, NoticeKind.ACCEPTANCE)
    fresh = services.access.read_audit_log(OPERATOR)[before:-1]  # the last entry is this read
    assert [(e.event.actor, str(e.event.action), str(e.event.outcome)) for e in fresh] == [
        ("regulator", "file_document", "refused")]
    assert services.records.get_dossier("test", info.archive_number).documents == ()


def test_office_name_and_seal_text_come_from_the_settings(make_settings: Callable[..., Settings],
                                                          clock: FrozenClock) -> None:
    """GIVEN an archive configured with its office's name and seal text
    WHEN a notice is rendered
    THEN both are printed on it."""
    settings = make_settings(office={"name": "杭州市司法局", "seal_text": "杭州市司法局投诉处理专用章"})
    init_archive(settings)
    services = build_services(settings, clock=clock)
    try:
        info = _register(services, clock)
        info = services.gate.advance(HANDLER, info.archive_number, DossierState.ACCEPTED)
        assert "杭州市司法局" in docx_text(services.notices.render(info, NoticeKind.ACCEPTANCE, "docx"))
        assert "杭州市司法局投诉处理专用章" in services.notices.compose(info, NoticeKind.ACCEPTANCE).text()
    finally:
        services.close()

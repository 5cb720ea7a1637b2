"""The written notices the complaint rules require, generated from the dossier and filed into it.

法律援助投诉处理办法 asks the office to send the complainant a notice of acceptance or of
non-acceptance within 5 working days (第十条, ACC-DOC-02/03, TL-01), to tell them in writing, with
reasons, when the 45-day period is extended (第十五条, ACC-DOC-04, TL-03), and to send the reply
letter within 5 working days of the decision (第十六条, ACC-DOC-05, TL-04). Overdue cases get a
chaser (催办单, TL-36). This module writes each of them (zh-CN, DOCX and PDF) from the dossier's
registration and timeline and the deadlines ``RecordsService.deadlines`` computes, with the
office's name and seal text from ``Settings.office``, and files the PDF into the dossier with its
kind, like any other item.

Composing is pure (:func:`compose`: dossier, clocks, office, date in; :class:`Notice` out), so a
page can preview exactly what will be filed. :class:`NoticeService` adds the two things that are
not: the gate (issuing is filing, decided and logged once as ``file_document``) and the archive
clock (the date of issue).
"""

from __future__ import annotations

import dataclasses
import html
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from records.access.gate import Gate
from records.access.identity import Action, Identity, RequestContext
from records.clock import Clock
from records.deadlines import ClockName, ClockState, ClockStatus
from records.errors import InvalidRegistrationError, InvalidTransitionError
from records.model import DocumentAnalysis, DocumentInfo, DocumentKind, DossierInfo, DossierState
from records.pdf_fonts import register_cjk_font
from records.service import RecordsService
from records.settings import OfficeSettings

__all__ = ["DOCX", "IssuedNotice", "KIND_NAMES", "Notice", "NoticeKind", "NoticeService", "PDF", "compose", "reply_draft"]

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
Format = Literal["docx", "pdf"]
_NO_CONTEXT = RequestContext()


class NoticeKind(StrEnum):
    ACCEPTANCE = "acceptance"            # 受理通知书 (ACC-DOC-02)
    NON_ACCEPTANCE = "non_acceptance"    # 不予受理通知书 (ACC-DOC-03, ACC-NO, ACC-OK-09)
    EXTENSION = "extension"              # 延期通知书 (ACC-DOC-04, TL-03)
    REPLY = "reply"                      # 答复书 (ACC-DOC-05, TL-04)
    CHASER = "chaser"                    # 催办单 (TL-36)


KIND_NAMES: tuple[str, ...] = tuple(k.value for k in NoticeKind)
"""The kinds as typed on the command line (``dossier notice NUMBER KIND``)."""


# Short name (file names, page titles) and the full title printed on the notice.
_NAMES: Mapping[NoticeKind, tuple[str, str]] = {
    NoticeKind.ACCEPTANCE: ("受理通知书", "法律援助投诉受理通知书"),
    NoticeKind.NON_ACCEPTANCE: ("不予受理通知书", "法律援助投诉不予受理通知书"),
    NoticeKind.EXTENSION: ("延期通知书", "法律援助投诉延期办理通知书"),
    NoticeKind.REPLY: ("答复书", "法律援助投诉处理答复书"),
    NoticeKind.CHASER: ("催办单", "投诉案件催办单"),
}

# The kind each notice is filed as. A chaser is an internal follow-up on an overdue case (督办),
# not a notice to the complainant and not a decision: FOLLOW_UP_RECORD is the kind the archive
# already has for "what was done to push the case along", so chasers are counted with them
# rather than lost among OTHER.
_FILED_AS: Mapping[NoticeKind, DocumentKind] = {
    NoticeKind.ACCEPTANCE: DocumentKind.ACCEPTANCE_NOTICE,
    NoticeKind.NON_ACCEPTANCE: DocumentKind.NON_ACCEPTANCE_NOTICE,
    NoticeKind.EXTENSION: DocumentKind.EXTENSION_NOTICE,
    NoticeKind.REPLY: DocumentKind.REPLY_LETTER,
    NoticeKind.CHASER: DocumentKind.FOLLOW_UP_RECORD,
}

_CLOCK_NAMES: Mapping[ClockName, str] = {
    ClockName.ACCEPTANCE: "受理期限（收到投诉后作出受理决定）",
    ClockName.CONCLUSION: "办结期限（受理后办结）",
    ClockName.REPLY: "答复期限（作出处理决定后发送答复书）",
}

# ACC-OK-09 / OUT-APL-01 (第十七条): a refusal and a reply each tell the complainant the remedy.
_REMEDY = "投诉人对本{what}不服的，可以依法申请行政复议或者提起行政诉讼。"


def short_name(kind: NoticeKind) -> str:
    """The notice's short name, e.g. 受理通知书 (file names and page titles)."""
    return _NAMES[kind][0]


def filed_kind(kind: NoticeKind) -> DocumentKind:
    """The document kind a notice is filed as."""
    return _FILED_AS[kind]


def filename(kind: NoticeKind, archive_number: str, fmt: Format = "pdf") -> str:
    """``受理通知书-2611-007.pdf``."""
    return f"{short_name(kind)}-{archive_number}.{fmt}"


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice as printed: the same content for DOCX, PDF and the stored text."""

    kind: NoticeKind
    archive_number: str
    title: str
    addressee: str
    paragraphs: tuple[str, ...]
    facts: tuple[tuple[str, str], ...]        # the table of parties and dates
    office_name: str
    seal_text: str
    issued_on: date

    @property
    def number_line(self) -> str:
        return f"案卷编号：{self.archive_number}"

    def text(self) -> str:
        """The notice as plain text: what is stored with the filed PDF, shown and searched."""
        lines = [self.title, self.number_line, "", self.addressee, *self.paragraphs, ""]
        lines += [f"{label}：{value}" for label, value in self.facts]
        lines += ["", self.office_name, zh_date(self.issued_on), f"（印章：{self.seal_text}）"]
        return "\n".join(lines) + "\n"


def zh_date(day: date) -> str:
    """``2026年11月3日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def _or_blank(value: str | None, blank: str = "（未填写）") -> str:
    return value.strip() if value and value.strip() else blank


def _complainant(info: DossierInfo) -> str:
    reg = info.registration
    return _or_blank(reg.complainant, "匿名投诉人" if reg.anonymous else "（未填写）")


def _clock(clocks: Sequence[ClockStatus], name: ClockName) -> ClockStatus | None:
    return next((c for c in clocks if c.clock is name), None)


def _due(clocks: Sequence[ClockStatus], name: ClockName) -> str:
    c = _clock(clocks, name)
    return zh_date(c.due_on) if c is not None and c.due_on is not None else "—"


def _on(info: DossierInfo, state: DossierState) -> date | None:
    return info.state_dates.get(str(state))


def _received(info: DossierInfo, tz: ZoneInfo) -> date:
    return info.registration.received_at.astimezone(tz).date()


def _parties(info: DossierInfo, tz: ZoneInfo) -> list[tuple[str, str]]:
    reg = info.registration
    return [("案卷编号", info.archive_number), ("投诉人", _complainant(info)), ("被投诉人", _or_blank(reg.respondent)),
            ("投诉事项", reg.matter), ("收到投诉日期", zh_date(_received(info, tz)))]


def refusal_ground(info: DossierInfo) -> str | None:
    """The ground recorded on the not_accepted step of the timeline (ACC-NO), if any."""
    note = next((t.note for t in reversed(info.transitions) if t.state is DossierState.NOT_ACCEPTED), None)
    return note.strip() if note and note.strip() else None


def reply_draft(info: DossierInfo, *, tz: ZoneInfo) -> str:
    """A prefilled reply (答复书) body from the registration and timeline, for the handler to edit (TL-04).

    Raises:
        InvalidTransitionError: no decision has been recorded yet.
    """
    decided = _on(info, DossierState.DECIDED)
    if decided is None:
        raise InvalidTransitionError(info.archive_number, info.state, "write a reply letter before the decision")
    reg = info.registration
    accepted = _on(info, DossierState.ACCEPTED)
    opening = (f"你于{zh_date(_received(info, tz))}向本机关提出的关于“{reg.matter}”的投诉"
               + (f"，本机关已于{zh_date(accepted)}依法受理" if accepted else "")
               + f"。经调查核实，本机关于{zh_date(decided)}作出处理决定，现答复如下：")
    lines = [opening, f"一、投诉事项：{reg.matter}" + (f"；投诉请求：{reg.request.strip()}" if reg.request and reg.request.strip() else "") + "。"]
    if reg.facts_and_reasons and reg.facts_and_reasons.strip():
        lines.append(f"二、投诉人反映的事实和理由：{reg.facts_and_reasons.strip()}")
    else:
        lines.append("二、投诉人反映的事实和理由：（请填写）")
    lines += ["三、经调查查明的事实：（请填写）", "四、处理决定：（请填写）", _REMEDY.format(what="答复"), "特此答复。"]
    return "\n".join(lines)


def compose(kind: NoticeKind, info: DossierInfo, clocks: Sequence[ClockStatus], office: OfficeSettings, *,
            issued_on: date, tz: ZoneInfo, body: str | None = None, ground: str | None = None,
            clocks_before_extension: Sequence[ClockStatus] = ()) -> Notice:
    """The notice ``kind`` for dossier ``info`` as of ``issued_on`` (pure).

    ``clocks`` are the dossier's deadlines as of ``issued_on`` (``RecordsService.deadlines``);
    an extension notice also needs them as they stood before its latest extension. ``body`` is
    the reply letter's text, used as is (default: :func:`reply_draft`); ``ground`` the refusal
    ground (default: the note on the not_accepted step).

    Raises:
        InvalidTransitionError: the notice does not fit the dossier's state (an acceptance notice
            of a dossier never accepted, a reply before the decision, a chaser with nothing overdue, …).
        InvalidRegistrationError: what the notice must say is missing (a refusal without a ground,
            an empty reply).
    """
    reg = info.registration
    received = zh_date(_received(info, tz))
    complainant = _complainant(info)
    facts = _parties(info, tz)
    paragraphs: list[str]
    addressee = f"{complainant}："

    def refuse(what: str) -> InvalidTransitionError:
        return InvalidTransitionError(info.archive_number, info.state, f"issue {what}")

    if kind is NoticeKind.ACCEPTANCE:
        accepted = _on(info, DossierState.ACCEPTED)
        if accepted is None:
            raise refuse("an acceptance notice: the complaint has not been accepted")
        paragraphs = [
            f"你于{received}向本机关提出的关于“{reg.matter}”的投诉，经审查，符合《法律援助投诉处理办法》规定的受理条件，"
            f"本机关已于{zh_date(accepted)}决定受理。",
            f"本机关将依法调查处理，并于{_due(clocks, ClockName.CONCLUSION)}前办结；投诉事项复杂的，经本机关负责人批准，"
            "可以适当延长办理期限，并书面告知你延期理由。处理决定作出后，本机关将在规定期限内向你发送《法律援助投诉处理答复书》。",
            "特此通知。",
        ]
        facts += [("受理日期", zh_date(accepted)), ("受理期限届满日", _due(clocks, ClockName.ACCEPTANCE)),
                  ("办结期限届满日", _due(clocks, ClockName.CONCLUSION))]
    elif kind is NoticeKind.NON_ACCEPTANCE:
        refused = _on(info, DossierState.NOT_ACCEPTED)
        if refused is None:
            raise refuse("a non-acceptance notice: the complaint has not been refused")
        why = (ground or "").strip() or refusal_ground(info)
        if not why:
            raise InvalidRegistrationError(
                "ground", "a non-acceptance notice states the ground of refusal (ACC-NO); record it on the "
                "not-accepted step or give it")
        paragraphs = [
            f"你于{received}向本机关提出的关于“{reg.matter}”的投诉，经审查，不符合《法律援助投诉处理办法》规定的受理条件"
            f"（第九条），本机关于{zh_date(refused)}决定不予受理。",
            f"不予受理的理由：{why}",
            _REMEDY.format(what="决定"),
            "特此通知。",
        ]
        facts += [("不予受理日期", zh_date(refused)), ("受理期限届满日", _due(clocks, ClockName.ACCEPTANCE)),
                  ("不予受理理由", why)]
    elif kind is NoticeKind.EXTENSION:
        if not info.extensions:
            raise refuse("an extension notice: no extension of the conclusion period has been recorded")
        latest = info.extensions[-1]
        accepted = _on(info, DossierState.ACCEPTED)
        old_due = _due(clocks_before_extension, ClockName.CONCLUSION)
        new_due = _due(clocks, ClockName.CONCLUSION)
        paragraphs = [
            f"你于{received}向本机关提出的关于“{reg.matter}”的投诉"
            + (f"，本机关已于{zh_date(accepted)}受理" if accepted else "") + "。",
            f"因{latest.reason}，经本机关负责人（{latest.approved_by}）批准，根据《法律援助投诉处理办法》第十五条的规定，"
            f"本案办理期限延长{latest.days}日，办结期限由{old_due}延长至{new_due}。",
            "特此书面告知。",
        ]
        facts += [("受理日期", zh_date(accepted) if accepted else "—"), ("原办结期限届满日", old_due),
                  ("延长天数", f"{latest.days}日"), ("延长后办结期限届满日", new_due), ("延期理由", latest.reason),
                  ("批准人", latest.approved_by)]
    elif kind is NoticeKind.REPLY:
        decided = _on(info, DossierState.DECIDED)
        if decided is None:
            raise refuse("a reply letter: no decision has been recorded")
        text = reply_draft(info, tz=tz) if body is None else body
        paragraphs = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
        if not paragraphs:
            raise InvalidRegistrationError("body", "the reply letter has no text")
        accepted = _on(info, DossierState.ACCEPTED)
        facts += [("受理日期", zh_date(accepted) if accepted else "—"), ("处理决定日期", zh_date(decided)),
                  ("答复期限届满日", _due(clocks, ClockName.REPLY))]
    elif kind is NoticeKind.CHASER:
        late = [c for c in clocks if c.state is ClockState.OVERDUE]
        if not late:
            raise refuse("a chaser: no deadline of the dossier is overdue")
        addressee = f"{_or_blank(reg.department, '承办部门')}："
        paragraphs = ["下列投诉案件已超过规定的办理期限，请抓紧办理，并将办理情况及逾期原因及时反馈。"]
        for c in late:
            assert c.due_on is not None  # an overdue clock has a due date
            paragraphs.append(f"{_CLOCK_NAMES[c.clock]}已于{zh_date(c.due_on)}届满，截至{zh_date(issued_on)}已逾期{c.days_late}日。")
        facts += [("承办部门", _or_blank(reg.department))]
        facts += [(f"逾期：{_CLOCK_NAMES[c.clock].split('（')[0]}", f"{zh_date(c.due_on)}届满，已逾期{c.days_late}日")
                  for c in late if c.due_on is not None]
    else:  # pragma: no cover - NoticeKind is closed
        raise ValueError(kind)
    return Notice(kind=kind, archive_number=info.archive_number, title=_NAMES[kind][1], addressee=addressee,
                  paragraphs=tuple(paragraphs), facts=tuple(facts), office_name=office.name,
                  seal_text=office.seal_text, issued_on=issued_on)


# ---------------------------------------------------------------------- rendering
def render_pdf(notice: Notice) -> tuple[bytes, int]:
    """The notice as an A4 PDF (reportlab, the archive's CJK font) and its page count.

    ``invariant`` keeps reportlab from stamping the wall-clock time and a random id into the
    file: the same notice gives the same bytes, so filing it twice is caught as a duplicate.
    """
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=12, leading=20, wordWrap="CJK")
    indented = ParagraphStyle("indented", parent=body, firstLineIndent=24)
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=28, alignment=TA_CENTER, spaceAfter=4)
    centred = ParagraphStyle("centred", parent=body, alignment=TA_CENTER, spaceAfter=10)
    right = ParagraphStyle("right", parent=body, alignment=TA_RIGHT)
    cell = ParagraphStyle("cell", parent=body, fontSize=10.5, leading=15)

    class Seal(Flowable):
        """A round red seal: the seal text along the upper arc, a star in the middle."""

        def __init__(self, text: str, size: float) -> None:
            super().__init__()
            self.text, self.size = text, size
            self.hAlign = "RIGHT"

        def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
            return self.size, self.size

        def draw(self) -> None:
            c, r = self.canv, self.size / 2
            c.saveState()
            c.setStrokeColor(colors.red)
            c.setFillColor(colors.red)
            c.setLineWidth(1.5)
            c.circle(r, r, r - 1)
            chars = list(self.text)
            sweep = min(270.0, 18.0 * len(chars))
            step = sweep / max(len(chars) - 1, 1)
            # A long seal text gets smaller characters rather than overlapping ones.
            c.setFont(font, min(10.0, 0.85 * (r - 10) * math.radians(step)))
            for i, ch in enumerate(chars):
                angle = math.radians(90 + sweep / 2 - i * step)
                c.saveState()
                c.translate(r + (r - 10) * math.cos(angle), r + (r - 10) * math.sin(angle))
                c.rotate(math.degrees(angle) - 90)
                c.drawCentredString(0, -3, ch)
                c.restoreState()
            c.setFont(font, 16)
            c.drawCentredString(r, r - 6, "★")
            c.restoreState()

    def p(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(html.escape(text), style)

    story: list[Flowable] = [p(notice.title, title), p(notice.number_line, centred), p(notice.addressee, body)]
    story += [p(text, indented) for text in notice.paragraphs]
    story.append(Spacer(1, 4 * mm))
    table = Table([[p(label, cell), p(value, cell)] for label, value in notice.facts], colWidths=[45 * mm, 120 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 10 * mm), p(notice.office_name, right), p(zh_date(notice.issued_on), right),
              Seal(notice.seal_text, 38 * mm)]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=25 * mm,
                            bottomMargin=22 * mm, title=notice.title, author=notice.office_name,
                            subject=notice.archive_number, creator="Dossier", invariant=True)
    doc.build(story)
    return out.getvalue(), doc.page


def render_docx(notice: Notice) -> bytes:
    """The notice as a Word document (python-docx), for printing or editing outside the archive."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "宋体"
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    props = doc.core_properties
    props.title, props.author, props.subject = notice.title, notice.office_name, notice.archive_number

    def para(text: str, *, align: WD_ALIGN_PARAGRAPH | None = None, size: float | None = None, bold: bool = False,
             indent: bool = False, color: RGBColor | None = None) -> None:
        par = doc.add_paragraph()
        run = par.add_run(text)
        run.bold = bold
        if size:
            run.font.size = Pt(size)
        if color is not None:
            run.font.color.rgb = color
        if align is not None:
            par.alignment = align
        if indent:
            par.paragraph_format.first_line_indent = Pt(24)

    para(notice.title, align=WD_ALIGN_PARAGRAPH.CENTER, size=18, bold=True)
    para(notice.number_line, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(notice.addressee)
    for text in notice.paragraphs:
        para(text, indent=True)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in notice.facts:
        row = table.add_row().cells
        row[0].text, row[1].text = label, value
    para("")
    para(notice.office_name, align=WD_ALIGN_PARAGRAPH.RIGHT)
    para(zh_date(notice.issued_on), align=WD_ALIGN_PARAGRAPH.RIGHT)
    para(f"（印章：{notice.seal_text}）", align=WD_ALIGN_PARAGRAPH.RIGHT, color=RGBColor(0xC0, 0x00, 0x00))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------- the service
@dataclass(frozen=True, slots=True)
class IssuedNotice:
    """A notice just filed: its document, the notice as composed, and the PDF that was filed."""

    document: DocumentInfo
    notice: Notice
    pdf: bytes

    def copy(self, fmt: Format) -> bytes:
        """The filed notice as PDF (the very bytes filed) or DOCX (the same notice)."""
        return self.pdf if fmt == "pdf" else render_docx(self.notice)


class NoticeService:
    """Compose, render and issue the notices of a dossier (ACC-DOC-02..05, TL-03, TL-04, TL-36).

    Args:
        gate: issuing is filing: decided and logged once (``file_document``) by the gate.
        records: the dossier's deadlines, and the filing itself once the gate allowed.
        office: the issuing office's name and seal text (``Settings.office``).
        tz: the archive's zone (receipt dates, the date of issue).
        clock: the archive's clock (the date of issue, how many days a deadline is overdue).
    """

    def __init__(self, gate: Gate, records: RecordsService, office: OfficeSettings, *, tz: ZoneInfo,
                 clock: Clock) -> None:
        self._gate, self._records, self._office = gate, records, office
        self._tz, self._clock = tz, clock

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    def compose(self, info: DossierInfo, kind: NoticeKind, *, body: str | None = None, ground: str | None = None,
                issued_on: date | None = None) -> Notice:
        """The notice ``kind`` of ``info``, dated ``issued_on`` (default: today, archive time). See :func:`compose`."""
        day = issued_on or self.today()
        before: Sequence[ClockStatus] = ()
        if kind is NoticeKind.EXTENSION and info.extensions:
            before = self._records.deadlines(dataclasses.replace(info, extensions=info.extensions[:-1]), day)
        return compose(kind, info, self._records.deadlines(info, day), self._office, issued_on=day, tz=self._tz,
                       body=body, ground=ground, clocks_before_extension=before)

    def draft(self, info: DossierInfo) -> str:
        """The reply letter's prefilled body (registration and timeline), for the handler to edit (TL-04)."""
        return reply_draft(info, tz=self._tz)

    def render(self, info: DossierInfo, kind: NoticeKind, fmt: Format, *, body: str | None = None,
               ground: str | None = None, issued_on: date | None = None) -> bytes:
        """The notice as DOCX or PDF bytes; the same inputs (and ``issued_on``) give the same notice."""
        notice = self.compose(info, kind, body=body, ground=ground, issued_on=issued_on)
        if fmt == "pdf":
            return render_pdf(notice)[0]
        if fmt == "docx":
            return render_docx(notice)
        raise InvalidRegistrationError("format", f"{fmt!r} is not docx or pdf")

    def draft_copy(self, who: Identity, number: str, kind: NoticeKind, fmt: Format = "docx", *,
                   context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None,
                   body: str | None = None, ground: str | None = None) -> tuple[str, bytes]:
        """A not-yet-filed copy of the notice, for a caller who may issue it to edit or print it.

        Preparing a notice is part of filing it, so it is decided as ``file_document`` on the
        dossier (as the upload form is) and logged once with ``details.draft`` naming the format;
        a regulator, who files nothing, gets no draft.

        Returns:
            the file name and the bytes.
        """
        info = self._gate.dossier(who, number, action=Action.FILE_DOCUMENT, context=context,
                                  details={**(details or {}), "notice": str(kind), "draft": fmt})
        return filename(kind, info.archive_number, fmt), self.render(info, kind, fmt, body=body, ground=ground)

    def issue(self, who: Identity, number: str, kind: NoticeKind, *, context: RequestContext = _NO_CONTEXT,
              details: Mapping[str, str] | None = None, body: str | None = None,
              ground: str | None = None) -> DocumentInfo:
        """Generate the notice as a PDF and file it into dossier ``number`` with its kind; see :meth:`issue_notice`."""
        return self.issue_notice(who, number, kind, context=context, details=details, body=body,
                                 ground=ground).document

    def issue_notice(self, who: Identity, number: str, kind: NoticeKind, *, context: RequestContext = _NO_CONTEXT,
                     details: Mapping[str, str] | None = None, body: str | None = None,
                     ground: str | None = None) -> IssuedNotice:
        """Generate the notice as a PDF and file it into dossier ``number`` with its kind.

        The gate decides and logs the filing once (``file_document``, ``details.notice`` naming the
        kind) before anything is composed, so a caller who may not file learns nothing of the
        dossier's state. The notice's text is stored with it (shown and searched like extracted
        text). The result keeps the notice itself, so the caller can hand out a copy of exactly
        what was filed (``dossier notice -o``) without a second read.

        Raises:
            AccessDeniedError: the caller may not file into the dossier (logged).
            InvalidTransitionError: the notice does not fit the dossier's state.
            InvalidRegistrationError: a refusal without a ground, an empty reply.
            DuplicateDocumentError: the very same notice was already filed today.
            DossierClosedError: the dossier no longer takes material.
        """
        info = self._gate.authorize_filing(who, number, context=context,
                                           details={**(details or {}), "notice": str(kind)})
        notice = self.compose(info, kind, body=body, ground=ground)
        pdf, pages = render_pdf(notice)
        doc = self._records.file_document(
            who.name, info.archive_number, pdf, kind=filed_kind(kind), filename=filename(kind, info.archive_number),
            media_type=PDF, analysis=DocumentAnalysis(outcome="ok", text=notice.text(), pages=pages,
                                                      languages=("zh-Hans",), kind_rule="generated:notice"))
        return IssuedNotice(doc, notice, pdf)

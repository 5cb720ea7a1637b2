"""Per-person monthly complaint counts with the rules' threshold flags (STA-10, STA-14; TL-29, CAT-GR).

The rules count complaints *per person per month* and attach consequences to the counts:

- **Respondents** (STA-10, 篇十三): the staff member or institution complained about.
  「當月被投訴超過3次〔含〕者公開批評并負鼓勵200元」: 3 or more in a month — public criticism and a
  200 fine; 4 or more — 300; more than 5 「并情節嚴重者予以辭退」 — dismissal if serious. Every
  respondent received in the month is listed with its count and its respondent type
  (法律援助人员 is a person; a law firm or office an institution), the highest threshold it
  reached flagged. The report *flags*; deciding a sanction and judging "serious" stays with
  people (OTH-06/07: no payroll integration).
- **Repeat complainants** (STA-14, ACC-NO-01): the same complainant with 2 or more complaints
  received in the month, and whether two of them name the same respondent (a possible repeat of
  the same matter, "no new facts", ground for non-acceptance after review).
- **Repeated identical complaints** (STA-14, TL-29): the same complaint — same respondent and
  same category — from 3 or more *different* complainants within the month becomes grade B
  (「一个月内累计三次以上不同投诉人的相同投诉」).
- **Complaints with an earlier related one** (STA-14, ACC-NO-01; ``repeats``): received in the
  month, and an earlier dossier the caller may see — received at most
  :data:`REPEAT_LOOKBACK_MONTHS` before the month, neither disposed nor void — has the same
  complainant *and* respondent, or a registration text (matter, request, facts) similar at
  ``search.related.TEXT_THRESHOLD`` or above (Jaccard of 3-character shingles, blocked by
  MinHash with LSH banding so the month is not compared with every earlier dossier). The
  dossier page's panel (``search.related``) also reads the complaint letters; this count reads
  only the registrations. The count and the numbers are in the CSV (section ``repeats``) and
  the XLSX's About sheet.
- **Collective complaints** (CAT-GR, TL-30): complaints with a recorded headcount of 3 or more
  (grade B; 3+ people); 10 or more is grade A (「10人以上的集体投诉」).

Who is "the same person" is decided on the recorded name, compared as the access policy
compares names (:func:`records.access.policy.fold_keyword`: NFKC, case, spaces), so
「甲律师事务所」 and 「甲律师事务所 」 are one respondent. Unnamed parties (anonymous complaints,
no respondent recorded) are not persons and are not counted. A complaint counts in the month
it was received (archive time zone); withdrawn (void) complaints do not count, as in the
monthly report. Disposed dossiers still count: their tombstone keeps the respondent
(``records.tombstone``); the complainant's name does not survive disposal, so a disposed
complaint no longer shows among repeat complainants.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from records.access.policy import fold_keyword
from records.model import DossierInfo, DossierState
from retention.statistics import month_bounds, parse_month

if TYPE_CHECKING:
    from records.service import RecordsService

__all__ = [
    "COLLECTIVE_GRADE_A", "COLLECTIVE_GRADE_B", "CollectiveComplaint", "IdenticalComplaints", "PersonCount",
    "PERSON_FORMATS", "PersonsReport", "RESPONDENT_THRESHOLDS", "REPEAT_COMPLAINANT", "REPEAT_LOOKBACK_MONTHS",
    "IDENTICAL_FROM",
    "person_labels", "persons_report", "persons_tables", "persons_scope", "persons_title", "render_persons", "respondent_flag",
]

# STA-10: (at least this many complaints in a month, flag), highest first.
RESPONDENT_THRESHOLDS: tuple[tuple[int, str], ...] = (
    (6, "dismissal_if_serious"),   # 「投訴超過5次,并情節嚴重者予以辭退」: more than 5
    (4, "fine_300"),               # ≥4: 300
    (3, "criticism_fine_200"),     # 「超過3次〔含〕」: 3 or more, public criticism and 200
)
REPEAT_COMPLAINANT = 2      # STA-14: a complainant with this many complaints in the month is listed
# ACC-NO-01 ("repeats without new facts") is about recent matters: an earlier related dossier counts
# only if received within this many months before the month's first day. The bound also keeps the
# report from re-reading and shingling every dossier ever received as the archive grows.
REPEAT_LOOKBACK_MONTHS = 12
IDENTICAL_FROM = 3          # TL-29: the same complaint from this many different complainants → grade B
COLLECTIVE_GRADE_B = 3      # TL-30 / CAT-GR B: a collective complaint of 3 or more people
COLLECTIVE_GRADE_A = 10     # CAT-GR A: 10 or more people


@dataclass(frozen=True, slots=True)
class PersonCount:
    """One respondent or complainant over the month."""

    name: str                       # as first recorded in the month
    count: int
    numbers: tuple[str, ...]        # the dossiers counted, by archive number
    respondent_type: str = ""       # respondents: the recorded type ("" = not recorded)
    flag: str = ""                  # the highest threshold reached ("" = none)
    same_respondent: bool = False   # complainants: two complaints name the same respondent


@dataclass(frozen=True, slots=True)
class IdenticalComplaints:
    """The same respondent and category from several different complainants (TL-29)."""

    respondent: str
    category: str
    complainants: int
    numbers: tuple[str, ...]
    grade_b: bool


@dataclass(frozen=True, slots=True)
class CollectiveComplaint:
    number: str
    respondent: str
    headcount: int
    grade: str                      # "A" (10+) or "B" (3-9)


@dataclass(frozen=True, slots=True)
class PersonsReport:
    month: str
    timezone: str
    as_of: date
    generated_at: datetime
    departments: frozenset[str] | None
    limited: bool
    received: int                   # complaints counted (received in the month, not withdrawn)
    respondents: tuple[PersonCount, ...]
    complainants: tuple[PersonCount, ...]
    identical: tuple[IdenticalComplaints, ...]
    collective: tuple[CollectiveComplaint, ...]
    repeats: tuple[str, ...] = ()   # STA-14: received in the month with an earlier related dossier (numbers)

    @property
    def flagged_respondents(self) -> tuple[PersonCount, ...]:
        return tuple(r for r in self.respondents if r.flag)


def respondent_flag(count: int) -> str:
    """The highest STA-10 threshold ``count`` complaints in a month reach ("" if none)."""
    return next((flag for least, flag in RESPONDENT_THRESHOLDS if count >= least), "")


def persons_report(
    source: RecordsService, month: str, *, actor: str, tz: ZoneInfo, now: datetime,
    departments: frozenset[str] | None = None, visible: Callable[[DossierInfo], bool] | None = None,
) -> PersonsReport:
    """Count the complaints received in ``month`` per respondent and complainant, with the rules' flags.

    Args:
        source: the records layer (``dossier_timelines``).
        month: ``YYYY-MM``, checked against ``now`` (:func:`retention.statistics.parse_month`).
        departments / visible: the caller's scope, as for the monthly report.

    Raises:
        InvalidPeriodError: ``month`` is malformed or in the future.
    """
    today = now.astimezone(tz).date()
    month = parse_month(month, today=today)
    first, last = month_bounds(month)
    as_of = min(last, today)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz)
    start = first.replace(year=first.year - REPEAT_LOOKBACK_MONTHS // 12)  # whole years: the 1st exists
    infos = source.dossier_timelines(actor, received_before=end,  # issue #12: only the fields counted
                                     opened=("complainant", "matter", "request", "facts_and_reasons"),
                                     received_from=datetime.combine(start, datetime.min.time(), tz))
    if departments is not None:
        infos = [i for i in infos if i.registration.department in departments]
    if visible is not None:
        infos = [i for i in infos if visible(i)]

    def withdrawn(info: DossierInfo) -> bool:
        return any(t.state is DossierState.VOID and t.on <= as_of for t in info.transitions)

    counted = [i for i in infos if first <= i.registration.received_at.astimezone(tz).date() <= as_of
               and not withdrawn(i)]

    respondents: dict[str, list[DossierInfo]] = defaultdict(list)
    complainants: dict[str, list[DossierInfo]] = defaultdict(list)
    identical: dict[tuple[str, str], list[DossierInfo]] = defaultdict(list)
    collective: list[CollectiveComplaint] = []
    for info in counted:
        reg = info.registration
        if (r := _name(reg.respondent)) is not None:
            respondents[r].append(info)
            if (c := _name(reg.category)) is not None:
                identical[(r, c)].append(info)
        if not reg.anonymous and (c := _name(reg.complainant)) is not None:
            complainants[c].append(info)
        if reg.collective_count is not None and reg.collective_count >= COLLECTIVE_GRADE_B:
            collective.append(CollectiveComplaint(
                info.archive_number, (reg.respondent or "").strip(), reg.collective_count,
                "A" if reg.collective_count >= COLLECTIVE_GRADE_A else "B"))

    def ranked(rows: list[PersonCount]) -> tuple[PersonCount, ...]:
        return tuple(sorted(rows, key=lambda p: (-p.count, p.name)))

    resp_rows = [PersonCount(
        name=(group[0].registration.respondent or "").strip(), count=len(group),
        numbers=tuple(i.archive_number for i in group),
        respondent_type=next((str(i.registration.respondent_type) for i in group if i.registration.respondent_type), ""),
        flag=respondent_flag(len(group))) for group in respondents.values()]
    comp_rows = [PersonCount(
        name=(group[0].registration.complainant or "").strip(), count=len(group),
        numbers=tuple(i.archive_number for i in group), flag="repeat",
        same_respondent=_repeats_respondent(group))
        for group in complainants.values() if len(group) >= REPEAT_COMPLAINANT]
    same = []
    for (_r, _c), group in identical.items():
        people = {_name(i.registration.complainant) for i in group if not i.registration.anonymous} - {None}
        # Anonymous complaints are different complainants as far as anyone can tell: each counts once.
        who = len(people) + sum(1 for i in group if i.registration.anonymous or _name(i.registration.complainant) is None)
        if len(group) >= 2:
            same.append(IdenticalComplaints(
                (group[0].registration.respondent or "").strip(), (group[0].registration.category or "").strip(),
                who, tuple(i.archive_number for i in group), who >= IDENTICAL_FROM))
    return PersonsReport(
        month=month, timezone=str(tz), as_of=as_of, generated_at=now, departments=departments,
        limited=visible is not None, received=len(counted),
        respondents=ranked(resp_rows), complainants=ranked(comp_rows),
        identical=tuple(sorted(same, key=lambda x: (-x.complainants, -len(x.numbers), x.respondent, x.category))),
        collective=tuple(sorted(collective, key=lambda c: (-c.headcount, c.number))),
        repeats=_with_earlier_related(infos, {i.dossier_id for i in counted}),
    )


def _name(value: str | None) -> str | None:
    """The comparison key of a recorded name; None for no name."""
    if value is None or not value.strip():
        return None
    return fold_keyword(value)


def _with_earlier_related(infos: list[DossierInfo], counted: set[str]) -> tuple[str, ...]:
    """The numbers of the ``counted`` dossiers that have an earlier related one among ``infos``.

    ``infos`` come in the catalogue's order of receipt (received, then serial:
    ``search.related.earlier_key``), so "earlier" is "before in the list". The definition is the
    dossier panel's (``search.related``): an earlier dossier counts only if neither disposed nor
    void (``counts_as_earlier``), and texts are similar at ``TEXT_THRESHOLD`` on 3-character
    shingles, with at least ``MIN_SHINGLES`` of them (a bare matter such as 「投诉律师」 says nothing
    about the matter being the same). Two differences, for cost: the text is the registration's
    (matter, request, facts; the panel also reads the letters), and "same parties" means the
    complainant AND the respondent (the panel lists either, for a handler to judge).

    Blocking: MinHash signatures with LSH banding (``search.related.lsh_keys``); only pairs
    sharing a band are compared by exact Jaccard, and boilerplate shared by many registrations
    cannot make every pair a candidate (a band needs all its rows to agree).
    """
    from search.related import (
        MIN_SHINGLES, PART_CAP, TEXT_THRESHOLD, counts_as_earlier, jaccard, lsh_keys, minhash, shingles,
    )

    parties: set[tuple[str, str]] = set()
    earlier: list[frozenset[int]] = []
    blocks: dict[tuple[int, tuple[int, ...]], list[int]] = defaultdict(list)
    found: list[str] = []
    for info in infos:
        reg = info.registration
        pair = None
        if not reg.anonymous and (c := _name(reg.complainant)) and (r := _name(reg.respondent)):
            pair = (c, r)
        text = shingles("\n".join(x[:PART_CAP] for x in (reg.matter, reg.request, reg.facts_and_reasons) if x))
        keys = lsh_keys(minhash(text)) if len(text) >= MIN_SHINGLES else []
        if info.dossier_id in counted:
            near = {j for k in keys for j in blocks.get(k, ())}
            if (pair is not None and pair in parties) or any(jaccard(text, earlier[j]) >= TEXT_THRESHOLD for j in near):
                found.append(info.archive_number)
        if not counts_as_earlier(info):  # disposed or void: never someone's earlier related complaint
            continue
        if pair is not None:
            parties.add(pair)
        for k in keys:
            blocks[k].append(len(earlier))
        earlier.append(text)
    return tuple(found)


def _repeats_respondent(group: list[DossierInfo]) -> bool:
    seen = [_name(i.registration.respondent) for i in group]
    named = [s for s in seen if s is not None]
    return len(named) != len(set(named))


# ---------------------------------------------------------------------- rendering (XLSX, CSV)
PERSON_FORMATS = ("csv", "xlsx")
_L: dict[str, dict[str, str]] = {
    "zh": {"title": "{y}年{m}月被投诉人及重复投诉统计", "respondents": "被投诉人", "complainants": "重复投诉人",
           "identical": "相同投诉", "collective": "集体投诉", "about": "说明", "seq": "序号", "name": "名称",
           "respondent": "被投诉人", "complainant": "投诉人", "type": "类型", "category": "类别", "count": "件数",
           "flag": "提示", "numbers": "卷号", "same_respondent": "含同一被投诉人", "people": "不同投诉人数",
           "grade_b": "B级（TL-29）", "headcount": "人数", "grade": "等级", "section": "分组", "detail": "类型/类别",
           "yes": "是", "no": "否", "month": "月份", "received": "计入件数", "scope": "统计范围", "as_of": "统计截至",
           "whole": "全部档案", "repeats": "有在先相关投诉的件数", "departments": "部门：", "limited": "限于查阅授权范围",
           "criticism_fine_200": "当月3次以上：公开批评，罚款200元", "fine_300": "当月4次以上：罚款300元",
           "dismissal_if_serious": "当月超过5次：情节严重者辞退", "repeat": "重复投诉",
           "legal_aid_institution": "法律援助机构", "law_firm": "律师事务所", "grassroots_legal_service": "基层法律服务所",
           "other_organisation": "其他社会组织", "legal_aid_personnel": "法律援助人员", "other": "其他", "": ""},
    "en": {"title": "Complaints per person, {y}-{m}", "respondents": "Respondents", "complainants": "Repeat complainants",
           "identical": "Identical complaints", "collective": "Collective complaints", "about": "About", "seq": "No.",
           "name": "Name", "respondent": "Respondent", "complainant": "Complainant", "type": "Type",
           "category": "Category", "count": "Count", "flag": "Flag", "numbers": "Dossiers",
           "same_respondent": "Same respondent again", "people": "Different complainants", "grade_b": "Grade B (TL-29)",
           "headcount": "Headcount", "grade": "Grade", "section": "Section", "detail": "Type / category", "yes": "yes",
           "no": "no", "month": "Month", "received": "Complaints counted", "scope": "Scope", "as_of": "Figures as of",
           "whole": "whole archive", "repeats": "With an earlier related complaint", "departments": "departments: ", "limited": "limited to the caller's grant",
           "criticism_fine_200": "3+ this month: public criticism, fine 200", "fine_300": "4+ this month: fine 300",
           "dismissal_if_serious": "more than 5: dismissal if serious", "repeat": "repeat complaints",
           "legal_aid_institution": "Legal aid institution", "law_firm": "Law firm",
           "grassroots_legal_service": "Grassroots legal service", "other_organisation": "Other organisation",
           "legal_aid_personnel": "Legal aid personnel", "other": "Other", "": ""},
}


def person_labels(lang: str) -> Callable[[str], str]:
    table = _L[lang if lang in _L else "zh"]
    return lambda key: table.get(key, key)


def persons_title(report: PersonsReport, lang: str) -> str:
    return person_labels(lang)("title").format(y=report.month[:4], m=report.month[5:7])


def persons_tables(report: PersonsReport, lang: str) -> list[tuple[str, list[str], list[list[object]]]]:
    """(section key, headers, rows) of each table, labelled in ``lang``."""
    t = person_labels(lang)

    def yes(flag: bool) -> str:
        return t("yes") if flag else t("no")

    return [
        ("respondents", [t("seq"), t("respondent"), t("type"), t("count"), t("flag"), t("numbers")],
         [[n, r.name, t(r.respondent_type), r.count, t(r.flag), "、".join(r.numbers)]
          for n, r in enumerate(report.respondents, 1)]),
        ("complainants", [t("seq"), t("complainant"), t("count"), t("same_respondent"), t("numbers")],
         [[n, c.name, c.count, yes(c.same_respondent), "、".join(c.numbers)] for n, c in enumerate(report.complainants, 1)]),
        ("identical", [t("seq"), t("respondent"), t("category"), t("people"), t("count"), t("grade_b"), t("numbers")],
         [[n, x.respondent, x.category, x.complainants, len(x.numbers), yes(x.grade_b), "、".join(x.numbers)]
          for n, x in enumerate(report.identical, 1)]),
        ("collective", [t("seq"), t("numbers"), t("respondent"), t("headcount"), t("grade")],
         [[n, c.number, c.respondent, c.headcount, c.grade] for n, c in enumerate(report.collective, 1)]),
    ]


def persons_scope(report: PersonsReport, lang: str) -> str:
    t = person_labels(lang)
    if report.limited:
        return t("limited")
    return t("whole") if report.departments is None else t("departments") + "、".join(sorted(report.departments))


def render_persons_xlsx(report: PersonsReport, lang: str = "zh") -> bytes:
    """A sheet per table (frozen header, widths) and a sheet naming the month, scope and counts."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from retention.cells import safe_row

    t = person_labels(lang)
    wb = Workbook()
    wb.remove(wb.active)
    widths = {"respondents": (6, 24, 16, 8, 34, 40), "complainants": (6, 16, 8, 14, 40),
              "identical": (6, 24, 12, 12, 8, 14, 40), "collective": (6, 14, 24, 8, 8)}
    for key, headers, rows in persons_tables(report, lang):
        ws = wb.create_sheet(t(key)[:31])
        ws.append(safe_row(headers))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(safe_row(row))
        for i, w in enumerate(widths[key], start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.freeze_panes = "A2"
    about = wb.create_sheet(t("about"))
    for label, value in ((persons_title(report, lang), ""), (t("month"), report.month), (t("scope"), persons_scope(report, lang)),
                         (t("as_of"), report.as_of.isoformat()), (t("received"), report.received),
                         (t("repeats"), len(report.repeats))):
        about.append(safe_row([label, value]))
    about["A1"].font = Font(bold=True, size=14)
    about.column_dimensions["A"].width = 20
    about.column_dimensions["B"].width = 30
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render_persons_csv(report: PersonsReport, lang: str = "zh", *, labelled: bool = False) -> bytes:
    """One table ``section,name,detail,count,flag,numbers`` (raw keys), or the same with ``lang``'s labels.

    ``detail`` is the respondent type (respondents), the category (identical complaints), whether a
    respondent repeats (complainants, ``same_respondent``) or the grade (collective). UTF-8 with a BOM.
    """
    from retention.cells import safe_row

    t = person_labels(lang)
    shown = (lambda key: t(key)) if labelled else (lambda key: key)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(safe_row([shown("section"), shown("name"), shown("detail"), shown("count"), shown("flag"),
                         shown("numbers")]))
    for r in report.respondents:
        w.writerow(safe_row([shown("respondents"), r.name, shown(r.respondent_type), r.count, shown(r.flag),
                             " ".join(r.numbers)]))
    for c in report.complainants:
        w.writerow(safe_row([shown("complainants"), c.name, shown("same_respondent") if c.same_respondent else "",
                             c.count, shown(c.flag), " ".join(c.numbers)]))
    for x in report.identical:
        w.writerow(safe_row([shown("identical"), x.respondent, x.category, x.complainants,
                             shown("grade_b") if x.grade_b else "", " ".join(x.numbers)]))
    for k in report.collective:
        w.writerow(safe_row([shown("collective"), k.respondent, k.grade, k.headcount, shown("grade") + k.grade
                             if labelled else f"grade_{k.grade}", k.number]))
    # STA-14: the complaints with an earlier related one, counted and numbered (as the XLSX's About sheet).
    w.writerow(safe_row([shown("repeats"), "", "", len(report.repeats), "", " ".join(report.repeats)]))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def render_persons(report: PersonsReport, fmt: str, lang: str = "zh", *, labelled: bool = False) -> bytes:
    if fmt == "xlsx":
        return render_persons_xlsx(report, lang)
    return render_persons_csv(report, lang, labelled=labelled)

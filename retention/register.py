"""The complaint register 登记簿/台账 of a period (INV-, STA-09; issue #10 item 4): rows, XLSX and CSV.

One row per complaint *received* in the period (archive time zone), in order of receipt, with
the columns an office keeps in its paper 台账: 序号, 卷号, 收件日期, 渠道, 投诉人, 被投诉人,
投诉事项, 类别, 承办部门, 状态, 受理日期 (the acceptance decision, either way), 决定日期,
答复日期, 办结日期, 是否逾期 and which deadline ran late by how many days (TL-01..04, STA-09),
as of today — the same clocks the dossier page shows (``RecordsService.deadlines``).

Unlike the statistics, the register names complainants and matters: it is the archive's rows
taken out, so producing it is an export (``Action.EXPORT``, decided by
:class:`retention.report_desk.ReportDesk`). Withdrawn complaints keep their row (state 已撤销):
the register accounts for every number given (ARC-3). Disposed ones show what their tombstone
kept (``records.tombstone``): no complainant, no matter.

XLSX (openpyxl): a frozen header row, column widths, an autofilter, real dates formatted
``yyyy-mm-dd``, and a second sheet 说明 naming the period, the scope and when it was made.
CSV: UTF-8 with a BOM (Excel opens Chinese names correctly); raw column keys for scripts, or
Chinese column names (``labelled``). Every text cell passes :func:`retention.cells.safe_cell`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from records.deadlines import ClockState
from records.model import DossierInfo, DossierState
from retention.cells import safe_row
from retention.statistics import InvalidPeriodError

if TYPE_CHECKING:
    from records.service import RecordsService

__all__ = ["COLUMNS", "Register", "RegisterRow", "complaint_register", "render_register_csv", "render_register_xlsx"]

# (key, Chinese column name, width in characters)
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("seq", "序号", 6), ("archive_number", "卷号", 12), ("received_on", "收件日期", 12), ("channel", "渠道", 10),
    ("complainant", "投诉人", 14), ("respondent", "被投诉人", 20), ("matter", "投诉事项", 40), ("category", "类别", 12),
    ("department", "承办部门", 12), ("state", "状态", 10), ("accepted_on", "受理日期", 12),
    ("decided_on", "决定日期", 12), ("replied_on", "答复日期", 12), ("closed_on", "办结日期", 12),
    ("overdue", "是否逾期", 9), ("overdue_detail", "逾期情况", 28),
)
_DATES = frozenset({"received_on", "accepted_on", "decided_on", "replied_on", "closed_on"})
_CLOCKS_ZH = {"acceptance": "受理期限", "conclusion": "办结期限", "reply": "答复期限"}
MAX_DAYS = 366 * 10   # a register of more than ten years is a mistake, not a request


@dataclass(frozen=True, slots=True)
class RegisterRow:
    seq: int
    archive_number: str
    received_on: date
    channel: str
    complainant: str
    respondent: str
    matter: str
    category: str
    department: str
    state: str
    accepted_on: date | None
    decided_on: date | None
    replied_on: date | None
    closed_on: date | None
    overdue: bool
    overdue_detail: str       # e.g. "acceptance +3" (raw) — rendered 「受理期限逾期3日」


@dataclass(frozen=True, slots=True)
class Register:
    first: date
    last: date
    timezone: str
    as_of: date
    generated_at: datetime
    departments: frozenset[str] | None
    limited: bool
    rows: tuple[RegisterRow, ...]


def check_range(first: date, last: date) -> None:
    """Refuse a range that ends before it starts, or spans more than ten years."""
    if last < first:
        raise InvalidPeriodError(f"{first}..{last}", "ends before it starts", field="to")
    if (last - first).days > MAX_DAYS:
        raise InvalidPeriodError(f"{first}..{last}", "spans more than ten years", field="to")


def complaint_register(
    source: RecordsService, first: date, last: date, *, actor: str, tz: ZoneInfo, now: datetime,
    departments: frozenset[str] | None = None, visible: Callable[[DossierInfo], bool] | None = None,
) -> Register:
    """The register of complaints received from ``first`` to ``last`` (inclusive, archive time).

    Raises:
        InvalidPeriodError: ``last`` before ``first``, or more than ten years.
    """
    check_range(first, last)
    today = now.astimezone(tz).date()
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz)
    # The register shows two sealed fields; only those are opened (issue #12).
    infos = source.dossier_timelines(actor, received_before=end, opened=("matter", "complainant"))
    if departments is not None:
        infos = [i for i in infos if i.registration.department in departments]
    if visible is not None:
        infos = [i for i in infos if visible(i)]
    rows: list[RegisterRow] = []
    for info in infos:
        reg = info.registration
        received = reg.received_at.astimezone(tz).date()
        if received < first:
            continue
        d = info.state_dates
        late: list[str] = []
        if info.state not in (DossierState.VOID,):
            for c in source.deadlines(info, today):
                if c.state in (ClockState.OVERDUE, ClockState.MISSED):
                    late.append(f"{c.clock} +{c.days_late}" + (" open" if c.state is ClockState.OVERDUE else ""))
        rows.append(RegisterRow(
            seq=len(rows) + 1, archive_number=info.archive_number, received_on=received, channel=str(reg.channel),
            complainant="" if reg.anonymous else (reg.complainant or ""), respondent=reg.respondent or "",
            matter=reg.matter or "", category=reg.category or "", department=reg.department or "",
            state=str(info.state),
            accepted_on=d.get(str(DossierState.ACCEPTED)) or d.get(str(DossierState.NOT_ACCEPTED)),
            decided_on=d.get(str(DossierState.DECIDED)), replied_on=d.get(str(DossierState.REPLIED)),
            closed_on=d.get(str(DossierState.CLOSED)), overdue=bool(late), overdue_detail="; ".join(late),
        ))
    return Register(first, last, str(tz), today, now, departments, visible is not None, tuple(rows))


# ---------------------------------------------------------------------- rendering
def _labelled(row: RegisterRow) -> list[object]:
    """A row as people read it: channel and state in Chinese, 是/否, 「受理期限逾期3日（未办结）」."""
    from retention.reports import _key_label, labels

    t = labels("zh")
    detail = []
    for part in filter(None, row.overdue_detail.split("; ")):
        clock, days, *still = part.split(" ")
        detail.append(f"{_CLOCKS_ZH.get(clock, clock)}逾期{days.lstrip('+')}日" + ("（尚未完成）" if still else ""))
    return [row.seq, row.archive_number, row.received_on, t(row.channel),
            row.complainant, row.respondent, row.matter, row.category, row.department,
            _key_label("outcome", row.state, "zh"), row.accepted_on, row.decided_on, row.replied_on, row.closed_on,
            "是" if row.overdue else "否", "；".join(detail)]


def _raw(row: RegisterRow) -> list[object]:
    return [getattr(row, key) for key, _, _ in COLUMNS]


def render_register_xlsx(register: Register) -> bytes:
    """The register as one sheet 登记簿 (Chinese headers, frozen, filtered) and a sheet 说明."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "登记簿"
    ws.append([name for _, name, _ in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF2F7")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for row in register.rows:
        ws.append(safe_row(_labelled(row)))
    for i, (key, _, width) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = width
        if key in _DATES:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = "yyyy-mm-dd"
        if key in ("matter", "overdue_detail"):
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, ws.max_row)}"
    ws.print_title_rows = "1:1"
    about = wb.create_sheet("说明")
    scope = "全部档案" if register.departments is None else "部门：" + "、".join(sorted(register.departments))
    if register.limited:
        scope = "限于查阅授权范围"
    for label, value in (("投诉登记簿", ""), ("收件日期自", register.first), ("收件日期至", register.last),
                         ("件数", len(register.rows)), ("统计范围", scope), ("逾期情况截至", register.as_of),
                         ("时区", register.timezone),
                         ("生成时间", register.generated_at.astimezone(ZoneInfo(register.timezone)).replace(tzinfo=None))):
        about.append(safe_row([label, value]))
    about["A1"].font = Font(bold=True, size=14)
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 24
    for (cell,) in about.iter_rows(min_row=2, min_col=2, max_col=2):
        if isinstance(cell.value, datetime):
            cell.number_format = "yyyy-mm-dd hh:mm:ss"
        elif isinstance(cell.value, date):
            cell.number_format = "yyyy-mm-dd"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render_register_csv(register: Register, *, labelled: bool = False) -> bytes:
    """One row per complaint; raw keys (``labelled=False``) or Chinese column names and labels."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([name if labelled else key for key, name, _ in COLUMNS])
    for row in register.rows:
        values = _labelled(row) if labelled else _raw(row)
        w.writerow(safe_row("" if v is None else v.isoformat() if isinstance(v, date) else v for v in values))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")

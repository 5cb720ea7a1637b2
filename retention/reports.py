"""Renderers of the monthly and weekly statistics reports (STA-01, STA-03, STA-04): HTML, PDF, CSV and XLSX.

Each takes a :class:`~retention.statistics.PeriodReport` (a month or an ISO week) and a language (``zh`` default, or
``en``) and returns the file's bytes; nothing is written to disk here. Reports hold counts,
shares, durations and the names the catalogue records (categories, respondents, departments),
never document content.

- HTML: one self-contained page (inline CSS, bar charts as inline SVG, no script).
- PDF: reportlab with the archive's CJK font (:func:`records.pdf_fonts.register_cjk_font`) and
  ``reportlab.graphics.charts`` bar charts.
- CSV: one long table ``section,key,measure,value`` with raw keys (stable for scripts, whatever
  the language); UTF-8 with a BOM so that Excel opens Chinese names correctly. With
  ``labelled=True`` the column names and keys are the report language's labels instead
  (「分组,项目,指标,数值」), for a person opening it in Excel.
- XLSX: openpyxl, one sheet per section, a native Excel bar chart on the category sheet.

Names in CSV and XLSX cells pass :func:`retention.cells.safe_cell`: a category or respondent
typed as ``=HYPERLINK(…)`` is written as text, never as a formula.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from retention.cells import safe_row
from retention.statistics import NONE_KEY, OTHER_KEY, Count, PeriodReport

MonthlyReport = PeriodReport  # the renderers take either kind of period

__all__ = ["FORMATS", "HTML_CSP", "LANGS", "ReportFormat", "Section", "chart_rows", "filename", "labels", "meta_lines",
           "render", "sections", "svg_bar_chart", "title"]

LANGS = ("zh", "en")

_T: dict[str, dict[str, str]] = {
    "zh": {
        "title": "{y}年{m}月投诉统计月报", "generated": "生成时间", "as_of": "统计截至", "timezone": "时区",
        "running": "本月尚未结束，数据截至当日", "scope": "统计范围", "whole": "全部档案", "departments": "部门：",
        "summary": "概况", "category": "按类别", "channel": "按投诉渠道", "respondent": "按被投诉人",
        "department": "按承办部门", "outcome": "办理结果（月末状态）", "handling": "办理用时（自收件起，日）",
        "compliance": "办理期限执行情况",
        "key": "项目", "count": "件数", "share": "占比", "this_month": "本月", "previous": "上月", "change": "增减",
        "received": "收到投诉", "withdrawn": "撤销", "decided": "作出处理决定", "not_accepted": "不予受理",
        "replied": "已答复", "closed": "办结", "open_at_end": "月末在办", "overdue_at_end": "月末逾期",
        "median_days_to_closure": "办结用时中位数（日）", "compliance_rate": "期限按时完成率",
        "step": "环节", "median": "中位数", "mean": "平均", "p90": "90%分位", "decision": "作出决定", "reply": "答复",
        "closure": "办结", "clock": "期限", "met": "按期完成", "missed": "逾期完成", "open_overdue": "在办已逾期",
        "open_in_time": "在办未逾期", "rate": "按时率", "acceptance": "受理期限", "conclusion": "办结期限",
        NONE_KEY: "（未填写）", OTHER_KEY: "其他",
        "registered": "已登记", "accepted": "已受理", "investigating": "调查中", "sealed": "已归档封存",
        "disposed": "已处置", "void": "已撤销",
        "letter": "信函", "fax": "传真", "email": "电子邮件", "oral": "当面口头", "phone": "电话", "online": "网上",
        "chat": "在线咨询", "comment_book": "意见簿", "visit": "来访", "media": "媒体", "referral": "转办",
        "ticket": "工单", "internal": "内部", "other": "其他", "none": "无",
        "section": "分组", "measure": "指标", "value": "数值", "report": "报表", "month": "期间",
        "period": "期间", "as_of_day": "统计截至", "timezone_name": "时区", "scope_name": "统计范围",
        "limited": "限于查阅授权范围",
    },
    "en": {
        "title": "Monthly complaint statistics, {y}-{m}", "generated": "Generated", "as_of": "Figures as of",
        "timezone": "Time zone", "running": "The month is still running: figures as of today", "scope": "Scope",
        "whole": "whole archive", "departments": "departments: ",
        "summary": "Summary", "category": "By category", "channel": "By channel", "respondent": "By respondent",
        "department": "By department", "outcome": "Outcome (state at month end)",
        "handling": "Handling time (days from receipt)", "compliance": "Deadline compliance",
        "key": "Item", "count": "Count", "share": "Share", "this_month": "This month", "previous": "Previous month",
        "change": "Change", "received": "Received", "withdrawn": "Withdrawn", "decided": "Decided",
        "not_accepted": "Not accepted", "replied": "Replied", "closed": "Closed", "open_at_end": "Open at month end",
        "overdue_at_end": "Overdue at month end", "median_days_to_closure": "Median days to closure",
        "compliance_rate": "Deadlines met", "step": "Step", "median": "Median", "mean": "Mean", "p90": "90th percentile",
        "decision": "Decision", "reply": "Reply", "closure": "Closure", "clock": "Time limit", "met": "Met",
        "missed": "Missed", "open_overdue": "Open, overdue", "open_in_time": "Open, in time", "rate": "Met rate",
        "acceptance": "Acceptance", "conclusion": "Conclusion", NONE_KEY: "(not recorded)", OTHER_KEY: "Other",
        "comment_book": "Comment book", "oral": "In person (oral)", "chat": "Online chat", "none": "none",
        "section": "Section", "measure": "Measure", "value": "Value", "report": "Report", "month": "Period",
        "period": "Period", "limited": "limited to the caller's grant",
    },
}
# A week's labels where they differ from a month's (STA-03, TL-26).
_WEEK: dict[str, dict[str, str]] = {
    "zh": {"title": "{y}年第{w}周投诉统计周报", "running": "本周尚未结束，数据截至当日", "this_month": "本周",
           "previous": "上周", "open_at_end": "周末在办", "overdue_at_end": "周末逾期",
           "outcome": "办理结果（周末状态）"},
    "en": {"title": "Weekly complaint statistics, {y} week {w}", "running": "The week is still running: figures as of today",
           "this_month": "This week", "previous": "Previous week", "open_at_end": "Open at week end",
           "overdue_at_end": "Overdue at week end", "outcome": "Outcome (state at week end)"},
}
_STATES: dict[str, dict[str, str]] = {
    "zh": {"decided": "已作出决定", "replied": "已答复", "closed": "已办结", "not_accepted": "不予受理"},
    "en": {"decided": "Decided", "replied": "Replied", "closed": "Closed", "not_accepted": "Not accepted"},
}
_SUMMARY_FIELDS = ("received", "withdrawn", "decided", "not_accepted", "replied", "closed", "open_at_end",
                   "overdue_at_end", "median_days_to_closure", "compliance_rate")
_BREAKDOWNS = ("category", "channel", "respondent", "department", "outcome")


def labels(lang: str, kind: str = "month") -> Callable[[str], str]:
    """A function giving the display label of a key in ``lang`` (unknown keys show as they are)."""
    lang = lang if lang in _T else "zh"
    table = {**_T[lang], **(_WEEK[lang] if kind == "week" else {})}
    return lambda key: table.get(key, key.replace("_", " ").capitalize() if lang == "en" and key.islower() else key)


def _key_label(section: str, key: str, lang: str) -> str:
    """A breakdown key's label: states in the outcome section read as states (「已办结」, not 「办结」)."""
    t = labels(lang)
    if section == "outcome" and (state := _STATES[lang if lang in _STATES else "zh"].get(key)):
        return state
    return t(key)


def title(report: MonthlyReport, lang: str) -> str:
    if report.kind == "week":
        head = labels(lang, "week")("title").format(y=report.period[:4], w=int(report.period[6:8]))
        return f"{head}（{report.first}—{report.last}）" if lang == "zh" else f"{head} ({report.first} – {report.last})"
    return labels(lang)("title").format(y=report.month[:4], m=report.month[5:7])


def filename(report: MonthlyReport, fmt: str) -> str:
    """``monthly-2026-10.pdf`` or ``weekly-2026-W44.pdf``."""
    return f"{'weekly' if report.kind == 'week' else 'monthly'}-{report.period}.{fmt}"


def _breakdown(report: MonthlyReport, section: str) -> tuple[Count, ...]:
    rows: tuple[Count, ...] = getattr(report, f"by_{section}")
    return rows


def _num(value: float | int | None, *, pct: bool = False) -> str:
    if value is None:
        return "—"
    if pct:
        return f"{value * 100:.1f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value))


def _change(cur: float | int | None, prev: float | int | None, *, pct: bool = False) -> str:
    if cur is None or prev is None:
        return "—"
    diff = cur - prev
    if pct:
        return f"{diff * 100:+.1f}"
    return f"{diff:+.1f}" if isinstance(diff, float) and not diff.is_integer() else f"{int(diff):+d}"


def _summary_rows(report: MonthlyReport, lang: str) -> list[list[str]]:
    t = labels(lang, report.kind)
    rows = []
    for name in _SUMMARY_FIELDS:
        pct = name == "compliance_rate"
        cur, prev = getattr(report.summary, name), getattr(report.previous, name)
        rows.append([t(name), _num(cur, pct=pct), _num(prev, pct=pct), _change(cur, prev, pct=pct)])
    return rows


def _scope(report: MonthlyReport, lang: str) -> str:
    t = labels(lang)
    if report.limited:
        return t("limited")
    return t("whole") if report.departments is None else t("departments") + "、".join(sorted(report.departments))


def _meta_lines(report: MonthlyReport, lang: str) -> list[str]:
    t = labels(lang, report.kind)
    lines = [f"{t('scope')}: {_scope(report, lang)}", f"{t('as_of')}: {report.as_of.isoformat()}",
             f"{t('timezone')}: {report.timezone}",
             f"{t('generated')}: {_local(report).isoformat(timespec='seconds')}"]
    if not report.complete:
        lines.append(t("running"))
    return lines


def _local(report: MonthlyReport) -> datetime:
    return report.generated_at.astimezone(ZoneInfo(report.timezone))


def _handling_rows(report: MonthlyReport, lang: str) -> list[list[str]]:
    t = labels(lang)
    return [[t(h.step), str(h.count), _num(h.median), _num(h.mean), _num(h.p90)] for h in report.handling]


def _compliance_rows(report: MonthlyReport, lang: str) -> list[list[str]]:
    t = labels(lang)
    return [[t(str(c.clock)), str(c.met), str(c.missed), str(c.open_overdue), str(c.open_in_time),
             _num(c.rate, pct=True)] for c in report.compliance]


def _headers(section: str, lang: str, kind: str = "month") -> list[str]:
    t = labels(lang, kind)
    if section == "summary":
        return [t("key"), t("this_month"), t("previous"), t("change")]
    if section == "handling":
        return [t("step"), t("count"), t("median"), t("mean"), t("p90")]
    if section == "compliance":
        return [t("clock"), t("met"), t("missed"), t("open_overdue"), t("open_in_time"), t("rate")]
    return [t("key"), t("count"), t("share")]


def _table(report: MonthlyReport, section: str, lang: str) -> list[list[str]]:
    """Display rows (labels and formatted numbers) of one section."""
    if section == "summary":
        return _summary_rows(report, lang)
    if section == "handling":
        return _handling_rows(report, lang)
    if section == "compliance":
        return _compliance_rows(report, lang)
    return [[_key_label(section, c.key, lang), str(c.count), _num(c.share, pct=True)]
            for c in _breakdown(report, section)]


def _section_title(report: MonthlyReport, section: str, lang: str) -> str:
    return labels(lang, report.kind)(section)


@dataclass(frozen=True, slots=True)
class Section:
    """One section as a page shows it: its key, title, headers, display rows and (breakdowns) a bar chart."""

    key: str
    title: str
    headers: list[str]
    rows: list[list[str]]
    chart_svg: str            # inline SVG (labels escaped), "" when none


def sections(report: MonthlyReport, lang: str) -> list[Section]:
    """Every section of the report, labelled in ``lang``, for a web page (the HTML file's content)."""
    return [Section(key, _section_title(report, key, lang), _headers(key, lang, report.kind), _table(report, key, lang),
                    svg_bar_chart(chart_rows(_breakdown(report, key), lang, key)) if key in _BREAKDOWNS else "")
            for key in _SECTIONS]


def meta_lines(report: MonthlyReport, lang: str) -> list[str]:
    """Scope, as-of day, time zone, generation time (and "still running") in ``lang``."""
    return _meta_lines(report, lang)


_SECTIONS = ("summary", *_BREAKDOWNS, "handling", "compliance")


# ---------------------------------------------------------------------- HTML
def svg_bar_chart(rows: Sequence[tuple[str, int]], *, width: int = 560, bar: int = 18, label_width: int = 160) -> str:
    """Horizontal bars as an inline SVG string (labels escaped); empty rows give an empty string."""
    if not rows:
        return ""
    top = max(n for _, n in rows) or 1
    room = width - label_width - 40
    gap = 6
    height = len(rows) * (bar + gap) + gap
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" font-size="12">',
             # The text alternative of the whole chart (WCAG 1.1.1, axe svg-img-alt): every bar and its count.
             f'<title>{html.escape("; ".join(f"{name}: {n}" for name, n in rows))}</title>']
    for i, (name, n) in enumerate(rows):
        y = gap + i * (bar + gap)
        w = round(room * n / top)
        shown = name if len(name) <= 14 else name[:13] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar - 5}" text-anchor="end">{html.escape(shown)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{w}" height="{bar}" fill="#3b6ea5"><title>'
            f'{html.escape(name)}: {n}</title></rect>'
            f'<text x="{label_width + w + 4}" y="{y + bar - 5}">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def chart_rows(counts: Sequence[Count], lang: str, section: str = "") -> list[tuple[str, int]]:
    """(label, count) pairs of a breakdown, for a chart."""
    return [(_key_label(section, c.key, lang), c.count) for c in counts]


_CSS = """body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #bbb;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#eef2f7}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.5em}
.meta{color:#555}.chart text{fill:#222}"""


# The report page's Content-Security-Policy: its one inline stylesheet (by hash), nothing else.
HTML_CSP = ("default-src 'none'; style-src 'sha256-" + base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
            + "'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")


def render_html(report: MonthlyReport, lang: str = "zh") -> bytes:
    t = labels(lang)
    esc = html.escape
    out = [f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
           f"<title>{esc(title(report, lang))}</title><style>{_CSS}</style></head><body>",
           f"<h1>{esc(title(report, lang))}</h1>",
           '<p class="meta">' + "<br>".join(esc(x) for x in _meta_lines(report, lang)) + "</p>"]
    for section in _SECTIONS:
        out.append(f'<section id="{section}"><h2>{esc(_section_title(report, section, lang))}</h2>')
        if section in _BREAKDOWNS:
            out.append(svg_bar_chart(chart_rows(_breakdown(report, section), lang, section)))
        out.append("<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in _headers(section, lang, report.kind))
                   + "</tr></thead><tbody>")
        for row in _table(report, section, lang):
            out.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
        out.append("</tbody></table></section>")
    out.append("</body></html>")
    return "\n".join(out).encode("utf-8")


# ---------------------------------------------------------------------- CSV
def render_csv(report: MonthlyReport, lang: str = "zh", *, labelled: bool = False) -> bytes:
    """Raw keys and numbers (shares 0..1, days), one measure a row; ``lang`` is not used.

    ``labelled``: column names, sections, keys and measures as ``lang``'s labels (Chinese by
    default) instead of raw keys — for people, not scripts. The numbers stay the same.
    """
    buf = io.StringIO()
    w: Any = _SafeWriter(csv.writer(buf, lineterminator="\n"))
    if labelled:
        w = _LabelledWriter(w, report, lang)
    w.writerow(["section", "key", "measure", "value"])
    for name in ("month", "timezone", "as_of"):
        w.writerow(["report", name, "value", str(getattr(report, name))])
    w.writerow(["report", "scope", "value",
                "" if report.departments is None else ";".join(sorted(report.departments))])
    for label, summary in (("summary", report.summary), ("previous", report.previous)):
        for name in ("month", *_SUMMARY_FIELDS):
            value = getattr(summary, name)
            w.writerow([label, name, "value", _raw(value)])
    for section in _BREAKDOWNS:
        for c in _breakdown(report, section):
            w.writerow([section, c.key, "count", c.count])
            w.writerow([section, c.key, "share", round(c.share, 4)])
    for h in report.handling:
        for m in ("count", "median", "mean", "p90"):
            v = getattr(h, m)
            w.writerow(["handling", h.step, m, _raw(v)])
    for c in report.compliance:
        for m in ("met", "missed", "open_overdue", "open_in_time"):
            w.writerow(["compliance", str(c.clock), m, getattr(c, m)])
        w.writerow(["compliance", str(c.clock), "rate", _raw(c.rate)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


class _LabelledWriter:
    """Writes the long table with labels: the header row's names, and each row's section, key and measure."""

    def __init__(self, writer: _SafeWriter, report: MonthlyReport, lang: str) -> None:
        self._writer, self._report, self._lang = writer, report, lang
        self._t = labels(lang, report.kind)
        self._header = True

    def writerow(self, row: Sequence[object]) -> None:
        t = self._t
        if self._header:
            self._header = False
            self._writer.writerow([t(str(c)) for c in row])
            return
        section, key, measure, value = (str(row[0]), str(row[1]), str(row[2]), row[3])
        if section in _BREAKDOWNS:
            shown_key = _key_label(section, key, self._lang)
        elif section == "report":
            shown_key = t({"as_of": "as_of_day", "timezone": "timezone_name", "scope": "scope_name"}.get(key, key))
        else:
            shown_key = t(key)
        self._writer.writerow([t(section) if section != "summary" else t("this_month"), shown_key, t(measure), value])


class _SafeWriter:
    """A csv writer whose every text cell is defused (names come from registrations)."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: Sequence[object]) -> None:
        self._writer.writerow(safe_row(row))


def _raw(value: float | int | str | None) -> float | int | str:
    return "" if value is None else round(value, 4) if isinstance(value, float) else value


# ---------------------------------------------------------------------- XLSX
def render_xlsx(report: MonthlyReport, lang: str = "zh") -> bytes:
    """One sheet per section with real numbers (shares as percentages), a bar chart on the category sheet."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font
    from openpyxl.worksheet.worksheet import Worksheet

    t = labels(lang, report.kind)
    wb = Workbook()
    ws = wb.active
    ws.title = t("summary")[:31]
    ws.append(safe_row([title(report, lang)]))
    ws["A1"].font = Font(bold=True, size=14)
    for line in _meta_lines(report, lang):
        ws.append(safe_row([line]))
    ws.append(safe_row([]))
    ws.append(safe_row(_headers("summary", lang, report.kind)))
    for name in _SUMMARY_FIELDS:
        cur, prev = getattr(report.summary, name), getattr(report.previous, name)
        diff = None if cur is None or prev is None else cur - prev
        ws.append(safe_row([t(name), cur, prev, diff]))
        if name == "compliance_rate":
            for cell in ws[ws.max_row][1:]:
                cell.number_format = "0.0%"
    ws.column_dimensions["A"].width = 28

    def sheet(section: str) -> Worksheet:
        s = wb.create_sheet(t(section)[:31])
        s.append(safe_row(_headers(section, lang, report.kind)))
        for cell in s[1]:
            cell.font = Font(bold=True)
        s.column_dimensions["A"].width = 28
        return s

    for section in _BREAKDOWNS:
        s = sheet(section)
        counts = _breakdown(report, section)
        for c in counts:
            s.append(safe_row([_key_label(section, c.key, lang), c.count, c.share]))
            s.cell(row=s.max_row, column=3).number_format = "0.0%"
        if section == "category" and counts:
            chart = BarChart()
            chart.type = "bar"
            chart.title = t("category")
            chart.legend = None
            n = len(counts) + 1
            chart.add_data(Reference(s, min_col=2, min_row=1, max_row=n), titles_from_data=True)
            chart.set_categories(Reference(s, min_col=1, min_row=2, max_row=n))
            s.add_chart(chart, "E2")
    s = sheet("handling")
    for h in report.handling:
        s.append(safe_row([t(h.step), h.count, h.median, h.mean, h.p90]))
    s = sheet("compliance")
    for c in report.compliance:
        s.append(safe_row([t(str(c.clock)), c.met, c.missed, c.open_overdue, c.open_in_time, c.rate]))
        s.cell(row=s.max_row, column=6).number_format = "0.0%"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------- PDF
def render_pdf(report: MonthlyReport, lang: str = "zh") -> bytes:
    """A4 pages: title, scope, the summary, each breakdown with its bar chart, handling and compliance."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from records.pdf_fonts import register_cjk_font

    font = register_cjk_font()
    t = labels(lang, report.kind)
    h1 = ParagraphStyle("h1", fontName=font, fontSize=18, leading=24, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13, textColor=colors.HexColor("#555555"))
    esc = html.escape

    def table(section: str) -> Table:
        tbl = Table([_headers(section, lang, report.kind), *_table(report, section, lang)], hAlign="LEFT")
        tbl.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ]))
        return tbl

    def chart(section: str) -> Drawing:
        # The chart draws bottom-up: reversed, the largest bar is on top.
        rows = chart_rows(_breakdown(report, section)[:12], lang, section)[::-1]
        height = 16 * len(rows) + 20
        d = Drawing(160 * mm, height)
        c = HorizontalBarChart()
        c.x, c.y, c.width, c.height = 40 * mm, 10, 100 * mm, height - 20
        c.data = [[n for _, n in rows]]
        c.categoryAxis.categoryNames = [name if len(name) <= 14 else name[:13] + "…" for name, _ in rows]
        c.categoryAxis.labels.fontName = font
        c.categoryAxis.labels.fontSize = 8
        c.valueAxis.labels.fontName = font
        c.valueAxis.valueMin = 0
        c.valueAxis.valueStep = max(1, -(-max(n for _, n in rows) // 5))
        c.bars[0].fillColor = colors.HexColor("#3b6ea5")
        d.add(c)
        return d

    story: list[object] = [Paragraph(esc(title(report, lang)), h1)]
    story += [Paragraph(esc(line), body) for line in _meta_lines(report, lang)]
    for section in _SECTIONS:
        block: list[object] = [Paragraph(esc(t(section)), h2)]
        if section in _BREAKDOWNS and _breakdown(report, section):
            block += [chart(section), Spacer(1, 4)]
        story.append(KeepTogether([*block, table(section)]))  # a heading never ends a page alone
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=title(report, lang), author="Dossier",
                            leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm)
    doc.build(story)  # type: ignore[arg-type]
    return buf.getvalue()


# ---------------------------------------------------------------------- dispatch
@dataclass(frozen=True, slots=True)
class ReportFormat:
    name: str
    media_type: str
    render: Callable[[MonthlyReport, str], bytes]


FORMATS: dict[str, ReportFormat] = {
    "html": ReportFormat("html", "text/html; charset=utf-8", render_html),
    "pdf": ReportFormat("pdf", "application/pdf", render_pdf),
    "csv": ReportFormat("csv", "text/csv; charset=utf-8", render_csv),
    "xlsx": ReportFormat("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", render_xlsx),
}


def render(report: MonthlyReport, fmt: str, lang: str = "zh", *, labelled: bool = False) -> bytes:
    """The report as ``fmt`` (html, pdf, csv, xlsx) in ``lang`` (zh, en); ``labelled``: a CSV with labelled columns."""
    lang = lang if lang in LANGS else "zh"
    if fmt == "csv" and labelled:
        return render_csv(report, lang, labelled=True)
    return FORMATS[fmt].render(report, lang)


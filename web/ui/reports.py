"""Statistics in the browser: the dashboard's figures, the reports page and every download (STA-01..04, STA-10, STA-14).

- The **dashboard** shows the current month's key figures to callers with export rights (ACS-12:
  archivists over the whole archive, managers over their departments), as before.
- The **reports page** ``/reports`` shows any month or ISO week chosen — the monthly and weekly
  statistics and the per-person counts with their threshold flags — to anyone who may list
  dossiers, counting only the dossiers they may list (handlers and department managers: their
  departments; a regulator: its grant). The nav link is offered when the policy allows
  LIST_DOSSIERS (``may('list_dossiers')``: :func:`records.access.policy.decide`, pure, no entry).
- **Downloads** (``/reports/monthly|weekly/<period>.<fmt>``, ``/reports/persons/<month>.<fmt>``,
  ``/reports/register?from=&to=&format=``) take the archive's rows out: they need EXPORT rights
  too, and count what the caller may export. CSV comes with raw keys, or with Chinese column
  names (``?labels=1``), UTF-8 with a BOM so that Excel opens it.

Every request leaves one access-log entry, decided by :class:`retention.report_desk.ReportDesk`
(the rule lives there, the same for the ``dossier report`` commands): LIST_DOSSIERS allowed,
or the refusal, 403.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, abort, render_template, request
from flask_babel import get_locale

from records.access.identity import Action
from records.access.model import AccessScope
from retention.persons import PERSON_FORMATS, persons_scope, persons_tables, persons_title, render_persons
from retention.register import render_register_csv, render_register_xlsx
from retention.report_desk import ReportDesk
from retention.reports import FORMATS, HTML_CSP, chart_rows, filename, meta_lines, render, sections, svg_bar_chart, title
from retention.statistics import MonthlyReport, monthly_report
from web.auth import auth_details, identity, request_context, services, zone
from web.params import InvalidParameterError, date_param
from web.ui import bp

__all__ = ["dashboard_report", "report_scope", "desk"]

_KINDS = ("monthly", "weekly", "persons")
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def desk() -> ReportDesk:
    """The report use cases (composed once, in ``web/bootstrap.py``)."""
    return services().reports


def report_scope() -> tuple[bool, frozenset[str] | None]:
    """Whether the caller may see the dashboard's statistics, and over which departments (``None``: all)."""
    scope = services().access.scope(identity(), Action.EXPORT)
    if scope == AccessScope.everything():
        return True, None
    if scope.departments and scope == AccessScope(departments=scope.departments):
        return True, scope.departments
    return False, None


def _lang() -> str:
    return "zh" if str(get_locale() or "zh").startswith("zh") else "en"


def _file_lang() -> str:
    lang = request.args.get("lang")
    return lang if lang in ("zh", "en") else _lang()


def _labelled() -> bool:
    return request.args.get("labels") in ("1", "zh", "yes", "true")


def dashboard_report() -> dict[str, Any] | None:
    """The current month's key figures and category chart for the dashboard, or None if not allowed."""
    allowed, departments = report_scope()
    if not allowed:
        return None
    month = f"{services().clock().astimezone(zone()):%Y-%m}"
    report: MonthlyReport = monthly_report(services().records, month, actor=identity().name, tz=zone(),
                                           now=services().clock(), departments=departments)
    return {"report": report, "chart": svg_bar_chart(chart_rows(report.by_category, _lang(), "category"), width=480),
            "formats": sorted(FORMATS)}


# ---------------------------------------------------------------------- the page
@bp.route("/reports")
def reports() -> str:
    """Any month or ISO week: ``?kind=monthly|weekly|persons&month=YYYY-MM&week=YYYY-Www`` (default: now)."""
    today = services().today(zone())
    kind = request.args.get("kind") or "monthly"
    if kind not in _KINDS:
        raise InvalidParameterError("kind", kind, "one of monthly, weekly, persons")
    month = (request.args.get("month") or "").strip() or f"{today:%Y-%m}"
    iso = today.isocalendar()
    week = (request.args.get("week") or "").strip() or f"{iso.year:04d}-W{iso.week:02d}"
    lang, who, ctx, details = _lang(), identity(), request_context(), {**auth_details(), "view": "page"}
    page: dict[str, Any] = {"kind": kind, "month": month, "week": week, "may_export": False}
    if kind == "persons":
        rep = desk().persons(who, month, context=ctx, details=details)
        page.update(persons=rep, title=persons_title(rep, lang), scope=persons_scope(rep, lang),
                    tables=persons_tables(rep, lang), formats=PERSON_FORMATS, period=rep.month)
    else:
        stats = (desk().weekly(who, week, context=ctx, details=details) if kind == "weekly"
                 else desk().monthly(who, month, context=ctx, details=details))
        page.update(report=stats, title=title(stats, lang), meta=meta_lines(stats, lang),
                    sections=sections(stats, lang), formats=sorted(FORMATS), period=stats.period)
        if kind == "weekly":
            page["week"] = stats.period
    page["may_export"] = desk().may_export(who)
    first = today.replace(day=1)
    page["register_from"] = (first - timedelta(days=1)).replace(day=1).isoformat()
    page["register_to"] = (first - timedelta(days=1)).isoformat()
    return render_template("reports.html", **page)


# ---------------------------------------------------------------------- downloads
def _attachment(data: bytes, media_type: str, name: str, *, inline: bool = False) -> Response:
    resp = Response(data, mimetype=media_type)
    resp.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{name}"'
    return resp


def _period_file(rep: MonthlyReport, fmt: str) -> Response:
    data = render(rep, fmt, _file_lang(), labelled=_labelled())
    resp = _attachment(data, FORMATS[fmt].media_type, filename(rep, fmt), inline=fmt == "html")
    if fmt == "html":
        resp.headers["Content-Security-Policy"] = HTML_CSP  # its own inline stylesheet, by hash; no script
    return resp


@bp.route("/reports/monthly/<month>.<fmt>")
def monthly_report_file(month: str, fmt: str) -> Response:
    """``/reports/monthly/2026-10.pdf`` (html, pdf, csv, xlsx; ``?lang=zh|en``; CSV ``?labels=1``)."""
    if fmt not in FORMATS:
        abort(404)
    rep = desk().monthly(identity(), month, export=True, fmt=fmt, context=request_context(), details=auth_details())
    return _period_file(rep, fmt)


@bp.route("/reports/weekly/<week>.<fmt>")
def weekly_report_file(week: str, fmt: str) -> Response:
    """``/reports/weekly/2026-W44.xlsx`` (html, pdf, csv, xlsx; ``?lang=zh|en``; CSV ``?labels=1``)."""
    if fmt not in FORMATS:
        abort(404)
    rep = desk().weekly(identity(), week, export=True, fmt=fmt, context=request_context(), details=auth_details())
    return _period_file(rep, fmt)


@bp.route("/reports/persons/<month>.<fmt>")
def persons_report_file(month: str, fmt: str) -> Response:
    """``/reports/persons/2026-10.xlsx`` (xlsx, csv; ``?lang=zh|en``; CSV ``?labels=1``)."""
    if fmt not in PERSON_FORMATS:
        abort(404)
    rep = desk().persons(identity(), month, export=True, fmt=fmt, context=request_context(), details=auth_details())
    data = render_persons(rep, fmt, _file_lang(), labelled=_labelled())
    return _attachment(data, _XLSX if fmt == "xlsx" else "text/csv; charset=utf-8", f"persons-{rep.month}.{fmt}")


@bp.route("/reports/register")
def register_file() -> Response:
    """``/reports/register?from=2026-10-01&to=2026-10-31&format=xlsx|csv`` (CSV ``?labels=1``): the register 登记簿."""
    fmt = request.args.get("format") or "xlsx"
    if fmt not in ("xlsx", "csv"):
        raise InvalidParameterError("format", fmt, "xlsx or csv")
    first, last = date_param("from"), date_param("to")
    if first is None or last is None:
        raise InvalidParameterError("from" if first is None else "to", "", "a date YYYY-MM-DD (both from and to)")
    reg = desk().register(identity(), first, last, fmt=fmt, context=request_context(), details=auth_details())
    data = render_register_xlsx(reg) if fmt == "xlsx" else render_register_csv(reg, labelled=_labelled())
    return _attachment(data, _XLSX if fmt == "xlsx" else "text/csv; charset=utf-8",
                       f"register-{reg.first}-{reg.last}.{fmt}")

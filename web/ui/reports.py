"""The monthly statistics on the dashboard and as downloads (STA-01, STA-04; ACS-12).

Who sees them is the policy's answer for EXPORT (ACS-12: taking the archive's data out needs
rank): archivists over the whole archive, managers over their departments (a manager with no
department recorded is a general manager: the whole archive). Handlers, regulators, auditors and
administrators see no statistics: a regulator's grant covers named dossiers, not the archive's
profile, and the report names respondents and departments.

A download is logged as the listing it is made of (LIST_DOSSIERS, one entry naming the report);
a caller without export scope gets 403 and one refused EXPORT entry.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Response, abort, request
from flask_babel import get_locale

from records.access.errors import AccessDeniedError
from records.access.identity import Action
from records.access.model import AccessScope
from retention.reports import FORMATS, HTML_CSP, chart_rows, render, svg_bar_chart
from retention.statistics import MonthlyReport, monthly_report, parse_month
from web.auth import gate, identity, services, zone
from web.ui import bp

__all__ = ["dashboard_report", "report_scope"]

def report_scope() -> tuple[bool, frozenset[str] | None]:
    """Whether the caller may see statistics, and over which departments (``None``: the whole archive)."""
    scope = services().access.scope(identity(), Action.EXPORT)
    if scope == AccessScope.everything():
        return True, None
    if scope.departments and scope == AccessScope(departments=scope.departments):
        return True, scope.departments
    return False, None


def _lang() -> str:
    return "zh" if str(get_locale() or "zh").startswith("zh") else "en"


def _report(month: str, departments: frozenset[str] | None) -> MonthlyReport:
    return monthly_report(services().records, month, actor=identity().name, tz=zone(),
                          now=services().clock(), departments=departments)


def dashboard_report() -> dict[str, Any] | None:
    """The current month's key figures and category chart for the dashboard, or None if not allowed."""
    allowed, departments = report_scope()
    if not allowed:
        return None
    month = f"{services().clock().astimezone(zone()):%Y-%m}"
    report = _report(month, departments)
    return {"report": report, "chart": svg_bar_chart(chart_rows(report.by_category, _lang(), "category"), width=480),
            "formats": sorted(FORMATS)}


@bp.route("/reports/monthly/<month>.<fmt>")
def monthly_report_file(month: str, fmt: str) -> Response:
    """``/reports/monthly/2026-10.pdf`` (html, pdf, csv, xlsx; ``?lang=zh|en``, default the page language)."""
    if fmt not in FORMATS:
        abort(404)
    month = parse_month(month, today=services().today(zone()))
    details = {"report": f"monthly/{month}", "format": fmt}
    allowed, departments = report_scope()
    # One entry either way, with the outcome the caller gets. No object_ref: a refusal names no
    # object, so it answers 403, not the 404 that hides dossiers.
    if not allowed:
        gate(Action.EXPORT, details=details)  # the policy refuses (and logs) archive-wide export
        raise AccessDeniedError(identity().name, "export", None,  # defensive: never reached while it does
                                f"the statistics of {month} need export rights (ACS-12)")
    gate(Action.LIST_DOSSIERS, details=details)
    lang = request.args.get("lang")
    data = render(_report(month, departments), fmt, lang if lang in ("zh", "en") else _lang())
    resp = Response(data, mimetype=FORMATS[fmt].media_type)
    resp.headers["Content-Disposition"] = f'attachment; filename="monthly-{month}.{fmt}"' if fmt != "html" else \
        f'inline; filename="monthly-{month}.html"'
    if fmt == "html":
        resp.headers["Content-Security-Policy"] = HTML_CSP  # its own inline stylesheet, by hash; no script
    return resp


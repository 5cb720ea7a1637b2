"""The access log for auditors (ROL-04, ACC-NO): filter, page through and export who did what.

``/audit`` (endpoint ``ui.audit``, linked from base.html) lists the entries newest first, 100 a
page, filtered by part of a user's name (any case), action, outcome, the start of a dossier or
item number and a date range in archive time. ``/audit.csv`` (``ui.audit_export``) takes the
same filtered entries away as CSV (UTF-8 with a BOM for Excel, translated headings and labels,
formula-safe cells like the report exports).

Each request is one :meth:`records.access.service.AccessService.search_audit_log` call: the
policy decides it and writes one READ_AUDIT_LOG entry holding the filter (``export=csv`` for a
download). Auditors see everyone's entries; a regulator only its own (Reach.OWN_ENTRIES): the
service forces that, so no filter here can widen it. The filtering runs in SQL.

A filter that cannot be read (a bad date, an unknown action) is named above the list and the
list is shown without it; a name nobody has is simply an empty list — never an error page.

Entries' details and purposes are stored sealed (issue #12, :mod:`records.access.log`); the log
opens them as it reads. One whose key was destroyed with its dossier, or expired with its log
period, shows a translated "(sealed: …)" marker instead, never an error. The CSV carries the
opened details in its last column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from flask import Response, render_template, request
from flask_babel import gettext as _

from records.access.identity import Action, Outcome
from records.access.log import SEALED_DOSSIER_GONE, SEALED_PERIOD_GONE, LogEntry, LogFilter
from retention.cells import safe_row
from web.auth import identity, request_context, services, zone
from web.ui import bp
from web.ui.labels import label

__all__ = ["PAGE_SIZE", "details_text", "reason_label", "sealed_label"]

PAGE_SIZE = 100
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FILTER_ARGS = ("user", "action", "outcome", "ref", "from", "to")


def _day(name: str, problems: list[str]) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
        if not 1 < day.year < 9999:  # midnight there has no UTC counterpart
            raise ValueError(raw)
        return day
    except ValueError:
        problems.append(_("%(field)s: %(value)s is not a date YYYY-MM-DD; the list is shown without it.",
                          field=_("Date from") if name == "from" else _("Date to"), value=raw[:40]))
        return None


def _filter() -> tuple[LogFilter, dict[str, str], list[str]]:
    """The filter the query string asks for, the values to show back in the form, and what could not be read."""
    args = {k: (request.args.get(k) or "").strip() for k in _FILTER_ARGS}
    problems: list[str] = []
    action = args["action"] if args["action"] in Action.__members__.values() else None
    if args["action"] and action is None:
        problems.append(_("Unknown action %(value)s; the list is shown without it.", value=args["action"][:40]))
    outcome = args["outcome"] if args["outcome"] in Outcome.__members__.values() else None
    if args["outcome"] and outcome is None:
        problems.append(_("Unknown outcome %(value)s; the list is shown without it.", value=args["outcome"][:40]))
    tz = zone()
    first, last = _day("from", problems), _day("to", problems)
    if first is None and last is None and request.args.get("days"):
        # The old "last N days" links still work: they become a from-date.
        days = min(max(request.args.get("days", 30, type=int) or 30, 1), 3660)
        first = services().today(tz) - timedelta(days=days - 1)
        args["from"] = first.isoformat()
    if first and last and last < first:
        problems.append(_("The end date is before the start date; nothing can match."))
    where = LogFilter(
        actor_like=args["user"] or None, action=action, outcome=outcome, ref_prefix=args["ref"] or None,
        since=datetime.combine(first, time(), tz) if first else None,
        until=datetime.combine(last + timedelta(days=1), time(), tz) if last else None)
    return where, args, problems


def _query(args: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {**{k: v for k, v in args.items() if v}, **extra}


@bp.route("/audit")
def audit() -> str:
    """The filtered log, newest first, one page of 100 (``?page=N``)."""
    where, args, problems = _filter()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    result = services().access.search_audit_log(identity(), where, page=page, page_size=PAGE_SIZE,
                                                context=request_context())
    # A page past the end (the filter narrowed since) shows no rows and a link back: asking again for
    # the last page would write a second log entry for one request.
    return render_template("audit.html", entries=[_shown(e) for e in result.entries], result=result, args=args, problems=problems,
                           actions=sorted(Action, key=lambda a: label(a.value)), outcomes=list(Outcome),
                           query=lambda **extra: _query(args, **extra), tz=zone(), reason_label=reason_label,
                           details_text=details_text)


@bp.route("/audit.csv")
def audit_export() -> Response:
    """Every entry the filter selects, newest first, as CSV (one READ_AUDIT_LOG entry, ``export=csv``)."""
    where, _args, _problems = _filter()
    result = services().access.search_audit_log(identity(), where, export="csv", context=request_context())
    tz = zone()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([_("No."), _("When"), _("Who"), _("Role"), _("Action"), _("Object type"), _("Object"),
                _("Outcome"), _("Reason"), _("Purpose"), _("From IP"), _("Details")])
    for e in result.entries:
        w.writerow(safe_row(_row(_shown(e), tz)))
    data = ("\ufeff" + buf.getvalue()).encode("utf-8")
    name = f"access-log-{services().today(tz).isoformat()}.csv"
    resp = Response(data, mimetype="text/csv")
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    return resp


def _row(e: LogEntry, tz: Any) -> list[object]:
    ev = e.event
    return [e.seq, ev.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), ev.actor, label(ev.role), label(ev.action),
            label(ev.object_type), ev.object_ref or "", label(str(ev.outcome)), reason_label(ev.reason),
            ev.purpose or "", ev.ip or "", details_text(ev.details)]


def sealed_label(value: str | None) -> str | None:
    """A sealed entry's "key gone" marker in the reader's language; any other value as it is."""
    if value == SEALED_DOSSIER_GONE:
        return str(_("(sealed: dossier destroyed)"))
    if value == SEALED_PERIOD_GONE:
        return str(_("(sealed: log period expired)"))
    return value


def _shown(e: LogEntry) -> LogEntry:
    """``e`` with its sealed markers translated (the log's own words are never altered in the log)."""
    ev = e.event
    purpose = sealed_label(ev.purpose)
    details = {k: sealed_label(v) or "" for k, v in ev.details.items()}
    if purpose == ev.purpose and details == dict(ev.details):
        return e
    return replace(e, event=replace(ev, purpose=purpose, details=details))


def details_text(details: Any) -> str:
    """An entry's details on one line: ``key=value`` pairs in key order, ``; ``-separated."""
    return "; ".join(f"{k}={v}" for k, v in sorted((details or {}).items()))


# The policy's reasons (records/access/policy.py) are English sentences with names and enum values
# inside; each known shape is translated here, its enum parts through ``label``. An unknown reason
# is shown as recorded (the log's words are evidence and are never altered in the log itself).
_REASONS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"role (?P<role>\w+) may not (?P<action>\w+)"),
     lambda m: _("role %(role)s may not %(action)s", role=label(m["role"]), action=label(m["action"]))),
    (re.compile(r"role (?P<role>\w+)"), lambda m: _("role %(role)s", role=label(m["role"]))),
    (re.compile(r"(?P<action>\w+) needs a dossier"), lambda m: _("%(action)s needs a dossier", action=label(m["action"]))),
    (re.compile(r"own access-log entries only"), lambda m: _("own access-log entries only")),
    (re.compile(r"not signed in"), lambda m: _("not signed in")),
    (re.compile(r"every department"), lambda m: _("every department")),
    (re.compile(r"departments (?P<d>.+)"), lambda m: _("departments %(names)s", names=m["d"])),
    (re.compile(r"department (?P<d>.+)"), lambda m: _("department %(name)s", name=m["d"])),
    (re.compile(r"account (?P<n>.+) is disabled"), lambda m: _("account %(name)s is disabled", name=m["n"])),
    (re.compile(r"(?P<n>.+) belongs to no department"), lambda m: _("%(name)s belongs to no department", name=m["n"])),
    (re.compile(r"(?P<r>\S+) belongs to department (?P<d>.+)"),
     lambda m: _("%(ref)s belongs to department %(name)s", ref=m["r"], name=m["d"])),
    (re.compile(r"console operator \(holds the data directory and keys\)"),
     lambda m: _("console operator (holds the data directory and keys)")),
    (re.compile(r"no active grant covers (?P<w>.+)"), lambda m: _("no active grant covers %(what)s", what=m["w"])),
    (re.compile(r"grant (?P<g>\S+) was revoked"), lambda m: _("grant %(grant)s was revoked", grant=m["g"])),
    (re.compile(r"grant (?P<g>\S+) expired at (?P<t>\S+)"),
     lambda m: _("grant %(grant)s expired at %(time)s", grant=m["g"], time=m["t"])),
    (re.compile(r"grant (?P<g>[^\s:]+): (?P<p>.+)"), lambda m: _("grant %(grant)s: %(purpose)s", grant=m["g"], purpose=m["p"])),
    (re.compile(r"retrieval failed: (?P<e>\w+)"), lambda m: _("retrieval failed: %(error)s", error=m["e"])),
]


def reason_label(reason: str | None) -> str:
    """A recorded reason in the reader's language, where its shape is known; else as recorded."""
    if not reason:
        return ""
    for pattern, render in _REASONS:
        m = pattern.fullmatch(reason)
        if m:
            return str(render(m))
    return reason

"""ReportDesk: every statistics report and the register, decided and logged once, limited to the caller's scope.

The policy says (``records/access/policy.py``): *statistics reports are listings
(``list_dossiers``), limited to the caller's scope; exporting a report's rows is ``export``*.
So, for every door (the ``dossier report …`` commands, the ``/reports`` pages and downloads):

- **viewing** a report (the monthly or weekly statistics, the per-person counts, STA-01/03/10/14)
  needs LIST_DOSSIERS, and counts only the dossiers the caller may list: the whole archive for
  archivists and auditors, their departments for handlers and department managers, a
  regulator's granted dossiers (``policy.matches``, the rule saved filters obey);
- **downloading** one (a file: XLSX, CSV, PDF, HTML) and the **register** 登记簿, which names
  complainants and matters, take the archive's rows out: they need EXPORT rights too (ACS-12:
  archivists everything, managers their departments) and count only the dossiers the caller may
  export.

Each call leaves exactly one access-log entry: LIST_DOSSIERS allowed (``details.report``
``<kind>/<period>``, ``details.format``, ``details.export`` for a download), or the
refusal — LIST_DOSSIERS refused when the caller may not list at all, else EXPORT refused when
they may list but not take rows out. The policy cannot allow EXPORT without a dossier (it is a
per-dossier action), which is why an allowed download is logged as the listing it is made of,
naming the export in its details; the existing monthly download did the same.

A period is checked before anything is decided: a malformed month is the caller's mistake
(400 / exit 4), not an access question.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from records.access.identity import Action, Identity, RequestContext
from records.access.model import AccessScope
from records.access.policy import decide, matches, target_of
from records.access.service import AccessService
from records.clock import Clock
from records.model import DossierInfo
from records.service import RecordsService
from retention.persons import PersonsReport, persons_report
from retention.register import Register, check_range, complaint_register
from retention.statistics import PeriodReport, monthly_report, parse_month, parse_week, weekly_report

__all__ = ["ReportDesk", "ReportScope"]

_NO_CONTEXT = RequestContext()


@dataclass(frozen=True, slots=True)
class ReportScope:
    """Which dossiers a report counts: ``departments`` (None: all) and, for a grant, a ``visible`` test."""

    departments: frozenset[str] | None
    visible: Callable[[DossierInfo], bool] | None


class ReportDesk:
    """Report use cases over the records core, through the access policy.

    Args:
        access: decides (``records.access.policy``) and logs.
        records: dossier timelines and clocks.
        tz: the archive's zone (months, weeks and dates are local to it).
        clock: the archive's clock ("now": the running period, future periods refused).
    """

    def __init__(self, access: AccessService, records: RecordsService, *, tz: ZoneInfo, clock: Clock) -> None:
        self._access, self._records, self._tz, self._clock = access, records, tz, clock

    # ------------------------------------------------------------------ who may
    def may_view(self, who: Identity) -> bool:
        """Whether ``who`` may see reports at all (pure: no entry)."""
        return decide(who, Action.LIST_DOSSIERS, None, now=self._clock()).allowed

    def may_export(self, who: Identity) -> bool:
        """Whether ``who`` may download report files and the register (reads the account; no entry)."""
        return self.may_view(who) and not self._access.scope(who, Action.EXPORT).is_empty

    # ------------------------------------------------------------------ reports
    def monthly(self, who: Identity, month: str, *, export: bool = False, fmt: str | None = None, top: int = 10,
                context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None) -> PeriodReport:
        """The monthly statistics (STA-01, STA-04) of ``month`` over what ``who`` may see (or export)."""
        month = parse_month(month, today=self._today())
        scope = self._admit(who, f"monthly/{month}", export=export, fmt=fmt, context=context, details=details)
        return monthly_report(self._records, month, actor=who.name, tz=self._tz, now=self._clock(), top=top,
                              departments=scope.departments, visible=scope.visible)

    def weekly(self, who: Identity, week: str, *, export: bool = False, fmt: str | None = None, top: int = 10,
               context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None) -> PeriodReport:
        """The weekly statistics (STA-03, TL-26) of ISO week ``week`` (``YYYY-Www``)."""
        week = parse_week(week, today=self._today())
        scope = self._admit(who, f"weekly/{week}", export=export, fmt=fmt, context=context, details=details)
        return weekly_report(self._records, week, actor=who.name, tz=self._tz, now=self._clock(), top=top,
                             departments=scope.departments, visible=scope.visible)

    def persons(self, who: Identity, month: str, *, export: bool = False, fmt: str | None = None,
                context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None) -> PersonsReport:
        """Per-person counts of ``month`` with the threshold flags (STA-10, STA-14)."""
        month = parse_month(month, today=self._today())
        scope = self._admit(who, f"persons/{month}", export=export, fmt=fmt, context=context, details=details)
        return persons_report(self._records, month, actor=who.name, tz=self._tz, now=self._clock(),
                              departments=scope.departments, visible=scope.visible)

    def register(self, who: Identity, first: date, last: date, *, fmt: str | None = None,
                 context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None) -> Register:
        """The register 登记簿 of complaints received ``first``..``last``: always an export (it names people)."""
        check_range(first, last)
        scope = self._admit(who, f"register/{first}..{last}", export=True, fmt=fmt, context=context,
                            details=details)
        return complaint_register(self._records, first, last, actor=who.name, tz=self._tz, now=self._clock(),
                                  departments=scope.departments, visible=scope.visible)

    # ------------------------------------------------------------------ the one decision
    def _today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    def _admit(self, who: Identity, report: str, *, export: bool, fmt: str | None, context: RequestContext,
               details: Mapping[str, str] | None) -> ReportScope:
        """Decide and log one entry (see the module docstring); return what the report may count."""
        shown = {**(details or {}), "report": report, **({"format": fmt} if fmt else {})}
        # No object_ref: a report names no dossier, and a refusal naming an object would answer
        # 404 (web.errors hides objects); the report is named in the details.
        if export:
            shown["export"] = "yes"
            if self.may_view(who) and self._access.scope(who, Action.EXPORT).is_empty:
                # May list, may not take rows out: the refusal is the export's (raises after logging).
                self._access.enforce(who, Action.EXPORT, None, context=context, details=shown)
        self._access.enforce(who, Action.LIST_DOSSIERS, None, context=context, details=shown)
        scope = self._access.scope(who, Action.EXPORT if export else Action.LIST_DOSSIERS)
        return self._limits(scope)

    def _limits(self, scope: AccessScope) -> ReportScope:
        if scope == AccessScope.everything():
            return ReportScope(None, None)
        if scope == AccessScope(departments=scope.departments):
            return ReportScope(scope.departments, None)
        tz = self._tz
        return ReportScope(None, lambda info: matches(scope, target_of(info, tz)))

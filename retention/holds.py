"""Legal holds (RET): placed and lifted with a reason by archivists and managers; a held dossier
is never disposed of.

A hold names one dossier or a saved filter — the regulator-grant filter language of ACS-04
(``respondent:… category:… received:FROM..TO``). A filter is evaluated whenever holds are checked,
so a dossier that comes to match later is held too. Holds are never deleted; lifting stamps them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.access.identity import Action, DossierTarget, GrantFilter, Identity
from records.access.model import AccessScope
from records.access.policy import fold_keyword, matches
from records.clock import system_clock
from records.db import UnitOfWork
from records.errors import DossierNotFoundError
from records.tables import DossierRow
from retention.base import RetentionDecisions
from retention.errors import HoldNotFoundError, InvalidHoldError
from retention.model import Hold, HoldFilter
from retention.tables import HoldRow

__all__ = ["HoldDesk", "hold_of"]


def hold_of(row: HoldRow) -> Hold:
    is_filter = row.archive_number is None
    return Hold(
        hold_id=row.id, reason=row.reason, placed_by=row.placed_by, placed_at=row.placed_at,
        archive_number=row.archive_number,
        filter=HoldFilter(frozenset(row.respondents) if row.respondents else None,
                          frozenset(row.categories) if row.categories else None,
                          row.received_from, row.received_until) if is_filter else None,
        lifted_at=row.lifted_at, lifted_by=row.lifted_by, lift_reason=row.lift_reason,
    )


class HoldDesk:
    """Legal holds: placing, lifting, and which dossiers they cover now.

    A small service of its own, not a part of RetentionService's inheritance: the due queue,
    disposition and the dossier view ask it what is held (:meth:`holding`), so all of them
    evaluate filter holds by the one rule.

    Args:
        decisions: the policy check and the access-log entries of placing and lifting.
        tz: the archive's time zone (a filter's received dates are dates there).
        fold: how a filter's names are compared with a dossier's (pass the index's normaliser).
    """

    def __init__(self, uow: UnitOfWork, decisions: RetentionDecisions, *, tz: ZoneInfo,
                 clock: Callable[[], datetime] = system_clock,
                 fold: Callable[[str], str] = fold_keyword) -> None:
        self._uow = uow
        self._decisions = decisions
        self._tz = tz
        self._clock = clock
        self._fold = fold

    def place_hold(self, who: Identity, *, reason: str, number: str | None = None,
                   filter: HoldFilter | None = None, details: Mapping[str, str] | None = None) -> Hold:
        """Hold one dossier (``number``) or every dossier matching ``filter``, for ``reason``.

        Raises:
            InvalidHoldError: no reason, or not exactly one of number and filter.
            DossierNotFoundError: no such dossier.
            AccessDeniedError: ``who`` is neither an archivist, a manager nor the console (logged).
        """
        if not reason.strip():
            raise InvalidHoldError("a hold needs a reason")
        if (number is None) == (filter is None):
            raise InvalidHoldError("name either one dossier or a filter")
        if filter is not None and filter == HoldFilter():
            raise InvalidHoldError("a filter must limit at least one of respondent, category, received")
        target = number or _render(filter)
        who = self._decisions.decide(who, Action.PLACE_HOLD, target, object_type="dossier" if number else "filter")
        with self._uow.write() as s:
            if number is not None and s.scalars(select(DossierRow.id).where(DossierRow.archive_number == number)).first() is None:
                raise DossierNotFoundError(number)
            f = filter or HoldFilter()
            row = HoldRow(id=uuid.uuid4().hex[:12], archive_number=number, reason=reason.strip(), placed_by=who.name,
                          placed_at=self._clock(), respondents=sorted(f.respondents) if f.respondents else None,
                          categories=sorted(f.categories) if f.categories else None,
                          received_from=f.received_from, received_until=f.received_until)
            s.add(row)
            self._decisions.record(s, who, "hold", target, allowed=True, reason=reason.strip(),
                                   details={**(details or {}), "hold": row.id},
                                   object_type="dossier" if number else "filter")
            s.flush()
            return hold_of(row)

    def lift_hold(self, who: Identity, ref: str, *, reason: str, details: Mapping[str, str] | None = None) -> list[Hold]:
        """Lift the hold with id ``ref``, or every active hold placed on dossier ``ref`` itself.

        A dossier covered by a filter hold stays held until that filter hold is lifted by its id.

        Raises:
            HoldNotFoundError: no active hold matches ``ref``.
        """
        if not reason.strip():
            raise InvalidHoldError("lifting a hold needs a reason")
        who = self._decisions.decide(who, Action.LIFT_HOLD, ref, object_type="hold")
        with self._uow.write() as s:
            rows = list(s.scalars(select(HoldRow).where(
                ((HoldRow.id == ref) | (HoldRow.archive_number == ref)), HoldRow.lifted_at.is_(None))))
            if not rows:
                raise HoldNotFoundError(ref)
            for row in rows:
                row.lifted_at, row.lifted_by, row.lift_reason = self._clock(), who.name, reason.strip()
                self._decisions.record(s, who, "hold_lift", row.archive_number or ref, allowed=True,
                                       reason=reason.strip(), details={**(details or {}), "hold": row.id},
                                       object_type="dossier" if row.archive_number else "filter")
            s.flush()
            return [hold_of(r) for r in rows]

    def holds(self, *, include_lifted: bool = False) -> list[Hold]:
        with self._uow.read() as s:
            q = select(HoldRow).order_by(HoldRow.placed_at, HoldRow.id)
            if not include_lifted:
                q = q.where(HoldRow.lifted_at.is_(None))
            return [hold_of(r) for r in s.scalars(q)]

    def holds_on(self, number: str) -> list[Hold]:
        """The active holds covering one dossier (its own, and filters it matches)."""
        with self._uow.read() as s:
            return self.holding(s, [number]).get(number, [])

    def holding(self, s: Session, numbers: Iterable[str]) -> dict[str, list[Hold]]:
        """Archive number → active holds covering it, for the given dossiers (absent: not held).

        Read in the caller's transaction ``s``, so a review, a run or a dossier view sees the holds
        as they stand in the same snapshot as the rest of what it reads.
        """
        active = [hold_of(r) for r in s.scalars(select(HoldRow).where(HoldRow.lifted_at.is_(None)))]
        if not active:
            return {}
        wanted = list(numbers)
        rows = s.execute(select(DossierRow.archive_number, DossierRow.respondent, DossierRow.category,
                                DossierRow.received_at).where(DossierRow.archive_number.in_(wanted))).all()
        out: dict[str, list[Hold]] = {}
        for number, respondent, category, received_at in rows:
            covering = [h for h in active if h.archive_number == number or (
                h.filter is not None and self._matches(h.filter, respondent, category, received_at.astimezone(self._tz).date()))]
            if covering:
                out[number] = covering
        return out

    def _matches(self, f: HoldFilter, respondent: str | None, category: str | None, received_on: date) -> bool:
        """The policy's one filter rule (``records.access.policy.matches``), as grants use it."""
        scope = AccessScope(respondents=f.respondents, categories=f.categories,
                            received_from=f.received_from, received_until=f.received_until)
        target = DossierTarget(dossier_id=None, state="", respondent=respondent, category=category,
                               received_on=received_on)
        return matches(scope, target, self._fold)


def _render(f: HoldFilter | None) -> str:
    """The filter in the grant-filter syntax it was given in."""
    f = f or HoldFilter()
    return GrantFilter(f.respondents, f.categories, f.received_from, f.received_until).render()

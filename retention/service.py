"""RetentionService: sealing (ARC-1-05, ARC-2), retention plans (RET), the due queue, legal holds
and disposition — one service for the CLI, the web app and tests.

Sealing checks the required materials, moves the dossier to ``sealed`` and plans it. Plans are
stored per dossier; ``plan`` recomputes them under the schedule in effect and records every
change with its reason; those use cases live here. Holds (``retention.holds.HoldDesk``) and
review/approval/execution (``retention.dispositions.DispositionDesk``) are small services of
their own, each built with only the collaborators it uses; RetentionService is composed of them
and hands their use cases on, so callers keep one entry point. They share one
``retention.base.ScheduleFacts`` (the rules, the facts, today) and one
``retention.base.RetentionDecisions`` (who acts, the log). The one place that builds and wires
all of them is ``web/bootstrap.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from records.access.identity import Action, Identity, RequestContext
from records.access.policy import target_of
from records.access.service import AccessService
from records.clock import system_clock
from records.db import UnitOfWork
from records.errors import DossierNotFoundError, InvalidTransitionError
from records.model import DocumentInfo, DocumentKind, DossierInfo, DossierState
from records.service import RecordsService
from records.tables import DossierRow
from retention.base import ScheduleFacts
from retention.dispositions import DispositionDesk, DueItem
from retention.errors import ReasonRequiredError, SealIncompleteError
from retention.holds import HoldDesk
from retention.model import Disposition, DispositionState, Hold, HoldFilter, Plan, PlanChange, RetentionRule, Trigger
from retention.schedule import plan_for
from retention.sealing import Material, missing_materials, required_for
from retention.tables import PlanChangeRow, PlanRow

__all__ = ["DueItem", "RetentionService", "RetentionView"]  # DueItem is re-exported for callers

_NO_CONTEXT = RequestContext()


@dataclass(frozen=True, slots=True)
class RetentionView:
    """A dossier's retention as shown to people: its stored plan, what the schedule in effect
    would plan now (they differ until someone re-plans), holds, and the plan's history."""

    archive_number: str
    plan: Plan | None
    current: Plan
    holds: tuple[Hold, ...]
    changes: tuple[PlanChange, ...]
    disposition_state: str | None


def _plan_of(row: PlanRow) -> Plan:
    return Plan(archive_number=row.archive_number, rule_id=row.rule_id, trigger=Trigger(row.trigger),
                trigger_date=row.trigger_date, disposal_date=row.disposal_date, permanent=row.permanent,
                action=row.action)  # type: ignore[arg-type]


def _change_of(row: PlanChangeRow) -> PlanChange:
    return PlanChange(row.archive_number, row.old_rule, row.new_rule, row.old_date, row.new_date, row.reason,
                      row.actor, row.at)


class RetentionService:
    """Use cases of the archive's life after closure: sealing and plans here; holds and
    disposition handed on to the services it is composed of (``hold_desk``, ``disposition_desk``).
    Holds no state besides its collaborators.

    Args:
        records: reads dossiers, seals them (a lifecycle step) and files amendments.
        access: decides and logs the doors below, the seal and amendments.
        facts: the schedule in effect and what it is applied to (shared with the desks).
        materials: what a dossier needs before it is sealed, per SLA profile
            (``retention.sealing.materials_from_settings``, validated when the archive opens).
        tz: the archive's time zone (the dossiers' policy targets).
    """

    def __init__(self, uow: UnitOfWork, records: RecordsService, access: AccessService, facts: ScheduleFacts, *,
                 hold_desk: HoldDesk, disposition_desk: DispositionDesk,
                 materials: Mapping[str, tuple[Material, ...]], tz: ZoneInfo,
                 clock: Callable[[], datetime] = system_clock) -> None:
        self._uow = uow
        self._records = records
        self._access = access
        #: The schedule in effect and the facts it is applied to.
        self.facts = facts
        self.hold_desk = hold_desk
        self.disposition_desk = disposition_desk
        self._materials = materials
        self._tz = tz
        self._clock = clock

    # ------------------------------------------------------------------ the schedule
    def rules(self) -> tuple[RetentionRule, ...]:
        """See :meth:`ScheduleFacts.rules`."""
        return self.facts.rules()

    # ------------------------------------------------------------------ sealing (ARC-1-05, ARC-2)
    def missing_for_seal(self, number: str) -> list[str]:
        """What keeps dossier ``number`` from being sealed (empty: it can be)."""
        return self._missing(self._records.get_dossier("system", number))

    def unsealable(self) -> list[tuple[str, list[str]]]:
        """Closed dossiers that cannot be sealed, each with what it lacks (for the inventory, ARC-6).

        Closing refuses while materials are missing unless an archivist overrides; those dossiers
        must not drop out of sight, since sealing and retention never reach them.
        """
        closed = self._records.list_dossiers("system", state=DossierState.CLOSED)
        found = [(row.archive_number, self._missing(self._records.get_dossier("system", row.archive_number)))
                 for row in closed]
        return [(number, missing) for number, missing in found if missing]

    def _missing(self, info: DossierInfo) -> list[str]:
        return missing_materials(info, required_for(self._materials, info.registration.sla_profile))

    def seal(self, who: Identity, number: str, *, on: date | None = None) -> tuple[DossierInfo, Plan]:
        """Seal a closed dossier whose required materials are all present, and plan its retention.

        Raises:
            InvalidTransitionError: the dossier is not closed.
            SealIncompleteError: materials are missing; the error names each one (ARC-2).
            AccessDeniedError: the policy refuses ``who`` the seal (logged).
        """
        info = self._records.get_dossier(who.name, number)
        if info.state is not DossierState.CLOSED:
            raise InvalidTransitionError(info.archive_number, info.state, "seal it: only closed dossiers are sealed")
        missing = self._missing(info)
        if missing:
            raise SealIncompleteError(info.archive_number, missing)
        self._access.enforce(who, Action.SEAL, target_of(info, self._tz))
        sealed = self._records.advance(who.name, info.archive_number, DossierState.SEALED, on=on)
        self.plan(who.name, reason="sealed", numbers=[info.archive_number])
        return sealed, self.show(info.archive_number).current

    def amend(self, who: Identity, number: str, source: Path | bytes, *, kind: DocumentKind, reason: str,
              filename: str | None = None, media_type: str = "application/octet-stream") -> DocumentInfo:
        """File material into a sealed dossier: archivists only, with the reason kept on its timeline (ARC-1-05).

        Raises:
            AccessDeniedError: ``who`` is not an archivist (or the console) (logged).
            SealedDossierError: no reason given.
        """
        dossier = self._records.get_dossier(who.name, number)
        # Decided and logged before the filing, like every change through the gate; the entry
        # carries the reason, and the timeline keeps it with the new document.
        self._access.enforce(who, Action.AMEND, target_of(dossier, self._tz), details={"reason": reason.strip()})
        return self._records.file_document(who.name, dossier.archive_number, source, kind=kind, filename=filename,
                                           media_type=media_type, amendment_reason=reason)

    # ------------------------------------------------------------------ plans (RET)
    def plan(self, actor: str, *, reason: str, numbers: Sequence[str] | None = None) -> list[PlanChange]:
        """Recompute the plans of every dossier (or of ``numbers``) under the schedule in effect.

        Each plan that changes — and each first plan — is stored with its old and new rule and
        date, the reason, the actor and the time. Disposed dossiers keep the plan they went under.

        Raises:
            DossierNotFoundError: a named dossier does not exist.
        """
        if not reason.strip():
            raise ReasonRequiredError("re-planning")
        rules = self.rules()
        now = self._clock()
        changes: list[PlanChange] = []
        with self._uow.write() as s:
            facts = self.facts.dossier_facts(s, numbers)
            for n in numbers or ():
                if n not in facts:
                    raise DossierNotFoundError(n)
            stored = {r.archive_number: r for r in s.scalars(select(PlanRow).where(PlanRow.archive_number.in_(list(facts))))}
            for number, f in sorted(facts.items()):
                old = stored.get(number)
                if old is not None and f.state == DossierState.DISPOSED:
                    continue
                new = plan_for(rules, f)
                if old is not None and _plan_of(old) == new:
                    continue
                change = PlanChange(number, old.rule_id if old else None, new.rule_id, old.disposal_date if old else None,
                                    new.disposal_date, reason.strip(), actor, now)
                if old is None:
                    old = PlanRow(dossier_id=f.dossier_id, archive_number=number)
                    s.add(old)
                old.rule_id, old.trigger, old.trigger_date = new.rule_id, new.trigger, new.trigger_date
                old.disposal_date, old.permanent, old.action = new.disposal_date, new.permanent, new.action
                old.planned_at, old.planned_by = now, actor
                s.add(PlanChangeRow(dossier_id=f.dossier_id, archive_number=number, old_rule=change.old_rule,
                                    new_rule=change.new_rule, old_date=change.old_date, new_date=change.new_date,
                                    reason=change.reason, actor=actor, at=now))
                changes.append(change)
        return changes

    # ------------------------------------------------------------------ the doors: decided and logged
    # The CLI (and any page or API that shows retention) calls these; each asks the policy and
    # leaves one access-log entry, reads included. The undecorated methods above (``due``,
    # ``show``, ``plan``, ``holds``, ``dispositions``, ``rules``) serve the services that have
    # decided already: a review reads the due queue, sealing re-plans, the dossier page shows the
    # plan under its own view_dossier entry.
    def due_queue(self, who: Identity, as_of: date | None = None, *, include_held: bool = False,
                  context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None) -> list[DueItem]:
        """:meth:`due`, for ``who`` (VIEW_RETENTION)."""
        self._viewing(who, "due", context, {**(details or {}), "as_of": str(as_of or self.facts.today())})
        return self.due(as_of, include_held=include_held)

    def plan_view(self, who: Identity, number: str, *, context: RequestContext = _NO_CONTEXT,
                  details: Mapping[str, str] | None = None) -> RetentionView:
        """:meth:`show`, for ``who`` (VIEW_RETENTION on that dossier)."""
        self._viewing(who, number, context, details)
        return self.show(number)

    def hold_list(self, who: Identity, *, include_lifted: bool = False, context: RequestContext = _NO_CONTEXT,
                  details: Mapping[str, str] | None = None) -> list[Hold]:
        """:meth:`holds`, for ``who`` (VIEW_RETENTION)."""
        self._viewing(who, "holds", context, details)
        return self.holds(include_lifted=include_lifted)

    def disposition_list(self, who: Identity, *, context: RequestContext = _NO_CONTEXT,
                         details: Mapping[str, str] | None = None) -> list[Disposition]:
        """:meth:`dispositions`, for ``who`` (VIEW_RETENTION)."""
        self._viewing(who, "dispositions", context, details)
        return self.dispositions()

    def schedule(self, who: Identity, *, context: RequestContext = _NO_CONTEXT,
                 details: Mapping[str, str] | None = None) -> tuple[RetentionRule, ...]:
        """:meth:`rules`, for ``who`` (VIEW_RETENTION)."""
        self._viewing(who, "rules", context, details)
        return self.rules()

    def replan(self, who: Identity, *, reason: str, numbers: Sequence[str] | None = None,
               context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None) -> list[PlanChange]:
        """:meth:`plan`, for ``who`` (PLAN_RETENTION); each changed plan also records who and why."""
        if not reason.strip():
            raise ReasonRequiredError("re-planning")
        self._access.enforce(who, Action.PLAN_RETENTION, None, context=context,
                             object_ref=",".join(numbers) if numbers else "all",
                             details={**(details or {}), "reason": reason.strip()})
        return self.plan(who.name, reason=reason, numbers=numbers)

    def _viewing(self, who: Identity, ref: str, context: RequestContext, details: Mapping[str, str] | None) -> None:
        """Decide and log one look at the retention records (VIEW_RETENTION); raises once a refusal is logged."""
        self._access.enforce(who, Action.VIEW_RETENTION, None, context=context, object_ref=ref, details=details)

    def show(self, number: str) -> RetentionView:
        """Rule, disposal date, holds and plan history of one dossier (RET: every dossier shows them)."""
        rules = self.rules()
        with self._uow.read() as s:
            row = s.scalars(select(DossierRow).where((DossierRow.archive_number == number) | (DossierRow.id == number))).first()
            if row is None:
                raise DossierNotFoundError(number)
            number = row.archive_number
            facts = self.facts.dossier_facts(s, [number])[number]
            stored = s.scalars(select(PlanRow).where(PlanRow.archive_number == number)).first()
            changes = tuple(_change_of(c) for c in s.scalars(select(PlanChangeRow).where(
                PlanChangeRow.archive_number == number).order_by(PlanChangeRow.id)))
            state = self.disposition_desk.open_dispositions(s).get(number)
            return RetentionView(number, _plan_of(stored) if stored else None, plan_for(rules, facts),
                                 tuple(self.hold_desk.holding(s, [number]).get(number, [])), changes,
                                 str(state) if state else None)

    # ------------------------------------------------------------------ legal holds (retention.holds)
    def place_hold(self, who: Identity, *, reason: str, number: str | None = None,
                   filter: HoldFilter | None = None, details: Mapping[str, str] | None = None) -> Hold:
        """See :meth:`HoldDesk.place_hold`."""
        return self.hold_desk.place_hold(who, reason=reason, number=number, filter=filter, details=details)

    def lift_hold(self, who: Identity, ref: str, *, reason: str, details: Mapping[str, str] | None = None) -> list[Hold]:
        """See :meth:`HoldDesk.lift_hold`."""
        return self.hold_desk.lift_hold(who, ref, reason=reason, details=details)

    def holds(self, *, include_lifted: bool = False) -> list[Hold]:
        """See :meth:`HoldDesk.holds`."""
        return self.hold_desk.holds(include_lifted=include_lifted)

    def holds_on(self, number: str) -> list[Hold]:
        """See :meth:`HoldDesk.holds_on`."""
        return self.hold_desk.holds_on(number)

    # ------------------------------------------------------------------ disposition (retention.dispositions)
    def due(self, as_of: date | None = None, *, include_held: bool = False) -> list[DueItem]:
        """See :meth:`DispositionDesk.due`."""
        return self.disposition_desk.due(as_of, include_held=include_held)

    def review(self, name: str, *, as_of: date | None = None, numbers: Sequence[str] | None = None,
               action: Literal["destroy", "transfer"] = "destroy") -> Disposition:
        """See :meth:`DispositionDesk.review`."""
        return self.disposition_desk.review(name, as_of=as_of, numbers=numbers, action=action)

    def approve(self, name: str, disposition_id: str) -> Disposition:
        """See :meth:`DispositionDesk.approve`."""
        return self.disposition_desk.approve(name, disposition_id)

    def run(self, who: Identity, *, disposition_id: str | None = None) -> list[Disposition]:
        """See :meth:`DispositionDesk.run`."""
        return self.disposition_desk.run(who, disposition_id=disposition_id)

    def dispositions(self, *, state: DispositionState | None = None) -> list[Disposition]:
        """See :meth:`DispositionDesk.dispositions`."""
        return self.disposition_desk.dispositions(state=state)

    def disposition(self, disposition_id: str) -> Disposition:
        """See :meth:`DispositionDesk.disposition`."""
        return self.disposition_desk.disposition(disposition_id)

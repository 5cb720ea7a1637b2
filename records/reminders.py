"""Deadline reminders: per person, what falls due today, soon, and what is overdue (TL-01..04, TL-36).

One computation serves three doors, so they can never disagree: the dashboard shows the
signed-in user their own lists, and the daily digest (``dossier remind``, run by cron) mails each
handler and manager theirs. For every open dossier, each running clock — acceptance (TL-01),
conclusion (TL-02, extended under TL-03) and reply (TL-04), from ``RecordsService.deadlines`` —
lands in one of three lists as of a date from the archive clock:

- **overdue**: past its due date with its step still not taken (TL-36: chase it), with the
  number of calendar days late;
- **due today**: the due date is today;
- **due soon**: due within ``days_ahead`` days after today (``reminders.days_ahead``, 3).

Whose lists hold which dossier is the policy's answer, never a role check here
(``records.access.policy``): on the dashboard, what the caller may list (``scope_for``
LIST_DOSSIERS: a handler's or manager's departments, everything for an archivist); in the
digest, the people who take the steps that stop the clocks — the accounts the policy lets
ADVANCE a dossier, i.e. the handlers and managers of its department — each for the dossiers
their scope covers (``matches``). Each call is decided and logged once: LIST_DOSSIERS for the
dashboard, SEND_REMINDERS (administrators, archivists, the console) for the digest run.

Accounts carry no e-mail address (``access_users`` has no such column), so the digest is
addressed through ``reminders.addresses`` (account → address) or ``reminders.address_template``
(``{name}@example.org``). A recipient with nothing due gets nothing; a recipient whose message
fails does not stop the others, and every failure is reported (:class:`DeliveryReport`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select

from records.access.identity import Action, DossierTarget, Identity, RequestContext
from records.access.model import AccessScope
from records.access.policy import fold_keyword, matches, scope_for, target_of
from records.access.service import AccessService
from records.access.tables import UserRow, identity_of
from records.clock import Clock, system_clock
from records.db import UnitOfWork
from records.deadlines import ClockName, ClockState
from records.model import OPEN_STATES, DossierInfo, DossierState
from records.service import RecordsService
from records.settings import ReminderSettings
from records.smtp import MailDeliveryError, SmtpMailer

__all__ = ["DeadlineReminders", "DeliveryReport", "DueItem", "Mailer", "Reminders", "Urgency"]

_NO_CONTEXT = RequestContext()
# The running states of a clock; met, missed, not started and not applicable remind nobody.
_RUNNING = frozenset({ClockState.RUNNING, ClockState.DUE_TODAY, ClockState.OVERDUE})
# The digest is read by the office in Chinese; the names are those of the web catalogue.
_CLOCK_ZH = {ClockName.ACCEPTANCE: "受理期限", ClockName.CONCLUSION: "办结期限", ClockName.REPLY: "答复期限"}


class Urgency(StrEnum):
    OVERDUE = "overdue"
    DUE_TODAY = "due_today"
    DUE_SOON = "due_soon"


@dataclass(frozen=True, slots=True)
class DueItem:
    """One running clock of one dossier that someone must be reminded of."""

    archive_number: str
    matter: str
    department: str | None
    state: DossierState
    clock: ClockName
    due_on: date
    days_overdue: int
    urgency: Urgency


@dataclass(frozen=True, slots=True)
class Reminders:
    """One person's three lists as of ``as_of``; ``address`` only in a digest (where it is sent)."""

    person: str
    as_of: date
    days_ahead: int
    overdue: tuple[DueItem, ...] = ()
    due_today: tuple[DueItem, ...] = ()
    due_soon: tuple[DueItem, ...] = ()
    address: str | None = None

    @property
    def count(self) -> int:
        return len(self.overdue) + len(self.due_today) + len(self.due_soon)

    @property
    def is_empty(self) -> bool:
        return self.count == 0


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What a digest run sent: the people reached, and each failure with its reason."""

    sent: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()

    def error(self) -> MailDeliveryError | None:
        """The error to raise once everything was tried: it names each person who missed their digest."""
        if not self.failed:
            return None
        return MailDeliveryError(", ".join(p for p, _ in self.failed), "; ".join(f"{p}: {why}" for p, why in self.failed))


class Mailer(Protocol):
    """What sends the digest (:class:`records.smtp.SmtpMailer`): one message at a time, then closed."""

    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class DeadlineReminders:
    """Per-person deadline lists and the daily digest, decided by the policy and logged once per call.

    Args:
        uow: the catalogue (the accounts the digest goes to).
        records: the dossiers and their clocks (``deadlines``).
        access: decides and logs each call; gives a caller's listing scope.
        settings: ``reminders`` (days ahead, addresses, the SMTP server).
        tz: the archive's zone: "today" and receipt dates are dates there.
        clock: the archive clock.
        fold: how department names are compared (pass the search index's normaliser, as the
            access service does).
        mailer: builds the sender for one run (default: SMTP per ``settings``).
    """

    def __init__(self, uow: UnitOfWork, records: RecordsService, access: AccessService, settings: ReminderSettings, *,
                 tz: ZoneInfo, clock: Clock = system_clock, fold: Callable[[str], str] = fold_keyword,
                 mailer: Callable[[ReminderSettings], Mailer] = SmtpMailer) -> None:
        self._uow, self._records, self._access, self._settings = uow, records, access, settings
        self._tz, self._clock, self._fold, self._mailer = tz, clock, fold, mailer

    @property
    def days_ahead(self) -> int:
        return self._settings.days_ahead

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    # ------------------------------------------------------------------ the doors
    def mine(self, who: Identity, *, as_of: date | None = None, context: RequestContext = _NO_CONTEXT,
             details: Mapping[str, str] | None = None) -> Reminders:
        """``who``'s own lists (the dashboard): the dossiers they may list (LIST_DOSSIERS, logged once)."""
        day = as_of or self.today()
        self._access.enforce(who, Action.LIST_DOSSIERS, None, context=context,
                             details={**(details or {}), "view": "reminders", "as_of": day.isoformat()})
        scope = self._access.scope(who, Action.LIST_DOSSIERS)
        return self._lists(who.name, scope, self._due(day), day)

    def digest(self, who: Identity, *, as_of: date | None = None, context: RequestContext = _NO_CONTEXT,
               details: Mapping[str, str] | None = None) -> list[Reminders]:
        """Every handler's and manager's lists with something due, addressed (SEND_REMINDERS, logged once).

        The recipients are the active accounts the policy lets advance dossiers (ADVANCE), each
        for the dossiers its scope covers; an account with nothing due is left out.
        """
        day = as_of or self.today()
        self._access.enforce(who, Action.SEND_REMINDERS, None, context=context,
                             details={**(details or {}), "as_of": day.isoformat()})
        due = self._due(day)
        out = []
        for person in self._accounts():
            scope = scope_for(person, Action.ADVANCE, self._clock())
            if scope.is_empty:
                continue  # takes no handling step: the clocks wait for someone else
            mine = self._lists(person.name, scope, due, day)
            if not mine.is_empty:
                out.append(Reminders(mine.person, day, mine.days_ahead, mine.overdue, mine.due_today, mine.due_soon,
                                     address=self.address_of(person.name)))
        return out

    def send(self, digest: Iterable[Reminders]) -> DeliveryReport:
        """Mail each digest :meth:`digest` returned; one failure never stops the others.

        Raises:
            ConfigurationError: no SMTP server or sender configured (nothing is sent).
        """
        items = [r for r in digest if not r.is_empty]
        if not items:
            return DeliveryReport()
        sent: list[str] = []
        failed: list[tuple[str, str]] = []
        mailer = self._mailer(self._settings)
        try:
            for r in items:
                if r.address is None:
                    failed.append((r.person, "no e-mail address (set reminders.addresses or reminders.address_template)"))
                    continue
                try:
                    mailer.send(self.message(r))
                except MailDeliveryError as exc:
                    failed.append((r.person, exc.cause))
                else:
                    sent.append(r.person)
        finally:
            mailer.close()
        return DeliveryReport(tuple(sent), tuple(failed))

    # ------------------------------------------------------------------ the one computation
    def address_of(self, name: str) -> str | None:
        """The account's address: ``reminders.addresses``, else the template, else None."""
        if name in self._settings.addresses:
            return self._settings.addresses[name]
        template = self._settings.address_template
        return template.replace("{name}", name) if template else None

    def message(self, r: Reminders) -> EmailMessage:
        """The digest for one recipient, as plain text in Chinese (the office's language)."""
        assert r.address is not None
        sender = self._settings.sender or "dossier@localhost"
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = formataddr((r.person, r.address))
        msg["Date"] = format_datetime(self._clock().astimezone(self._tz))
        msg["Message-ID"] = make_msgid("remind", domain=sender.rpartition("@")[2] or None)
        msg["Subject"] = (f"[Dossier] 期限提醒 {r.as_of.isoformat()}：已逾期 {len(r.overdue)}，今日到期 "
                          f"{len(r.due_today)}，{r.days_ahead}日内到期 {len(r.due_soon)}")
        lines = [f"{r.person}，您好：", "", f"截至 {r.as_of.isoformat()}，您负责的投诉档案有以下期限需要办理。", ""]
        for title, items in ((f"已逾期（{len(r.overdue)}）", r.overdue), (f"今日到期（{len(r.due_today)}）", r.due_today),
                             (f"{r.days_ahead}日内到期（{len(r.due_soon)}）", r.due_soon)):
            if not items:
                continue
            lines.append(title)
            lines += [self._line(item, r.as_of) for item in items]
            lines.append("")
        lines.append("本邮件由 Dossier 档案系统每日自动发送（dossier remind），请勿回复。")
        msg.set_content("\n".join(lines))
        return msg

    def _line(self, item: DueItem, as_of: date) -> str:
        if item.urgency is Urgency.OVERDUE:
            when = f"应于 {item.due_on.isoformat()} 前办结，已逾期 {item.days_overdue} 天"
        elif item.urgency is Urgency.DUE_TODAY:
            when = f"今日（{item.due_on.isoformat()}）到期"
        else:
            when = f"{item.due_on.isoformat()} 到期，还剩 {(item.due_on - as_of).days} 天"
        line = f"  {item.archive_number}  {item.matter}  {_CLOCK_ZH[item.clock]}（{item.clock.value}）  {when}"
        if self._settings.link_base:
            line += f"\n      {self._settings.link_base.rstrip('/')}/dossiers/{item.archive_number}"
        return line

    def _due(self, as_of: date) -> list[tuple[DossierTarget, DueItem]]:
        """Every running clock of every open dossier that is overdue or due by ``as_of + days_ahead``."""
        horizon = as_of + timedelta(days=self.days_ahead)
        out = []
        for info in self._records.dossier_timelines("reminders", opened=("matter",)):  # the one sealed field shown
            if info.state not in OPEN_STATES:
                continue
            target = target_of(info, self._tz)
            for c in self._records.deadlines(info, as_of):
                if c.state in _RUNNING and c.due_on is not None and c.due_on <= horizon:
                    out.append((target, _item(info, c.clock, c.due_on, c.days_late, as_of)))
        return out

    def _lists(self, person: str, scope: AccessScope, due: Sequence[tuple[DossierTarget, DueItem]],
               as_of: date) -> Reminders:
        everything = scope == AccessScope.everything()
        mine = [item for target, item in due if everything or matches(scope, target, self._fold)]

        def of(urgency: Urgency) -> tuple[DueItem, ...]:
            return tuple(sorted((i for i in mine if i.urgency is urgency),
                                key=lambda i: (-i.days_overdue, i.due_on, i.archive_number, i.clock)))

        return Reminders(person, as_of, self.days_ahead, overdue=of(Urgency.OVERDUE),
                         due_today=of(Urgency.DUE_TODAY), due_soon=of(Urgency.DUE_SOON))

    def _accounts(self) -> list[Identity]:
        """The active accounts as the policy sees them now, by name."""
        with self._uow.read() as s:
            rows = s.scalars(select(UserRow).where(UserRow.active.is_(True)).order_by(UserRow.name)).all()
            return [identity_of(s, row) for row in rows]


def _item(info: DossierInfo, clock: ClockName, due_on: date, days_late: int, as_of: date) -> DueItem:
    urgency = Urgency.OVERDUE if days_late else (Urgency.DUE_TODAY if due_on == as_of else Urgency.DUE_SOON)
    return DueItem(archive_number=info.archive_number, matter=info.registration.matter,
                   department=info.registration.department, state=info.state, clock=clock, due_on=due_on,
                   days_overdue=days_late, urgency=urgency)

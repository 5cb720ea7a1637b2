"""RecordsService: the archive core's use cases, shared by the CLI, the web app and ingest.

Register a complaint (INT-F) under a new archive number (ARC-3), move it through its lifecycle,
file documents into it (sealed in the vault before the catalogue commits), read them back, and
keep the vault honest (verify, key rotation). Every method takes the acting user first.

Registration, lifecycle and the dossier queries live here. Documents (``records.filing``), vault
upkeep (``records.upkeep``) and disposal (``records.tombstone``) are small services of their own,
each built with only the collaborators it uses; RecordsService is composed of them and hands
their use cases on, so callers keep one entry point. They share the row lookups
(``records.lookup.CatalogueLookup``) and one ``records.events.ChangeAnnouncer``, so a listener
registered here hears of changes whichever service made them. The one place that builds and
wires all of them is ``web/bootstrap.py``.

Personal and free-text fields are written sealed under the dossier's own key (issue #12, ACS-10):
registration makes that key before its commit, and every note or reason goes through
``CatalogueLookup.seal``. There is no blind index of names in the catalogue (docs/security.md says why).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
import logging
from pathlib import Path
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from records.clock import Clock
from records.db import UnitOfWork
from records.deadlines import ClockState, ClockStatus, DossierDates, SlaProfile, WorkingCalendar, clocks, stopped
from records.errors import DuplicateDocumentError, IncompleteDossierError, InvalidRegistrationError, InvalidTransitionError
from records.events import ChangeAnnouncer
from records.filing import DocumentFiling, Filing
from records.lookup import CatalogueLookup
from records.mapping import registration_columns
from records.model import (
    OPEN_STATES, TRANSITIONS, Channel, DocumentAnalysis, DocumentInfo, DocumentKind, DocumentSource, DossierInfo,
    DossierState, FiledDocument, Registration,
)
from records.numbering import NumberingScheme
from records.outbox import CommittedChanges, IndexChange, IndexOutboxStore, entry_of
from records.tables import DocumentRow, DossierRow, ExtensionRow, TransitionRow, allocate_serial
from records.tombstone import DisposalManifest, DossierTombstones
from records.upkeep import RotationReport, VaultUpkeep, VerifyProblem, VerifyReport

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class DossierSummary:
    archive_number: str
    state: DossierState
    matter: str
    complainant: str | None
    respondent: str | None
    channel: Channel
    received_at: datetime
    documents: int
    overdue: bool
    #: The time limits that are overdue (which deadline, due when, how many days late).
    overdue_clocks: tuple[ClockStatus, ...] = ()


#: The sealed fields a listing shows (``DossierSummary``); the others stay sealed while listing.
_SUMMARY_FIELDS = frozenset({"matter", "complainant"})


class RecordsService:
    """Use cases of the archive core: registration and lifecycle here; documents, vault upkeep and
    disposal handed on to the services it is composed of (``filing``, ``upkeep``, ``tombstones``)."""

    def __init__(
        self,
        uow: UnitOfWork,
        lookup: CatalogueLookup,
        announcer: ChangeAnnouncer,
        *,
        filing: DocumentFiling,
        upkeep: VaultUpkeep,
        tombstones: DossierTombstones,
        outbox: IndexOutboxStore,
        numbering: NumberingScheme,
        profiles: dict[str, SlaProfile],
        default_profile: str,
        calendar: WorkingCalendar,
        tz: ZoneInfo,
        clock: Clock,
        closing_check: Callable[[DossierInfo], list[str]] | None = None,
    ) -> None:
        self._uow = uow
        self._lookup = lookup
        self._numbering = numbering
        self._profiles = profiles
        self._default_profile = default_profile
        self._calendar = calendar
        self._tz = tz
        self._clock = clock
        # What a dossier still lacks before it may be closed (ARC-2); the completeness rule is the
        # archive department's (retention.sealing), handed in by the composition root.
        self._closing_check = closing_check or (lambda info: [])
        #: The after-commit listeners every part of the records core announces to.
        self.announcer = announcer
        self.filing = filing
        self.upkeep = upkeep
        self.tombstones = tombstones
        #: The index outbox's rows, for its drainer (``search.outbox.IndexOutbox``).
        self.outbox = outbox

    @property
    def lookup(self) -> CatalogueLookup:
        """The row lookups and field sealing every records service shares (bag import writes history with it)."""
        return self._lookup

    # ------------------------------------------------------------------ listeners
    def on_index_changes(self, listener: Callable[[CommittedChanges], None]) -> None:
        """See :meth:`ChangeAnnouncer.on_index_changes`: called after each commit that wrote outbox rows."""
        self.announcer.on_index_changes(listener)

    def on_document_filed(self, listener: Callable[[FiledDocument], None], *,
                          many: Callable[[list[FiledDocument]], None] | None = None) -> None:
        """See :meth:`ChangeAnnouncer.on_document_filed`: called after each document (or group) is committed."""
        self.announcer.on_document_filed(listener, many=many)

    # ------------------------------------------------------------------ registration (INT-F)
    def register_complaint(self, actor: str, registration: Registration) -> DossierInfo:
        """Open a new dossier for one complaint and give it the next archive number (ARC-1, ARC-3)."""
        reg = self._validated(registration)
        now = self._clock()
        local_day = now.astimezone(self._tz).date()
        series = self._numbering.series(local_day)
        dossier_id = uuid.uuid4().hex
        # The dossier's own key first (issue #12): its personal fields are sealed under it in the
        # commit below. The key ring commits on its own, so a registration that then rolls back
        # leaves an orphan key that seals nothing — harmless, and never a field without its key.
        self._lookup.sealer.keyring.create(dossier_id, now=now)
        with self._uow.write() as s:
            serial = allocate_serial(s, series)
            row = DossierRow(
                id=dossier_id,
                archive_number=self._numbering.format(local_day, serial),
                series=series,
                serial=serial,
                state=DossierState.REGISTERED,
                **registration_columns(dossier_id, reg, self._lookup.sealer),
                sla_profile=reg.sla_profile or self._default_profile,
                registered_at=now,
                registered_by=actor,
                last_item=0,
            )
            row.transitions.append(TransitionRow(
                state=DossierState.REGISTERED, on=reg.received_at.astimezone(self._tz).date(), at=now, actor=actor,
            ))
            s.add(row)
            s.flush()
            log.info("registered dossier %s by %s", row.archive_number, actor)
            return self._lookup.info(row)

    def _validated(self, reg: Registration) -> Registration:
        if not reg.matter or not reg.matter.strip():
            raise InvalidRegistrationError("matter", "the complaint matter (投诉事项) is required")
        if reg.received_at.tzinfo is None:
            raise InvalidRegistrationError("received_at", "must carry a time zone")
        if reg.received_at > self._clock():
            raise InvalidRegistrationError("received_at", "lies in the future")
        if not reg.anonymous and not (reg.complainant and reg.complainant.strip()):
            raise InvalidRegistrationError("complainant", "required unless the complaint is anonymous (INT-F-01, INT-F-20)")
        if reg.collective_count is not None and reg.collective_count < 1:
            raise InvalidRegistrationError("collective_count", "must be at least 1")
        if reg.event_on is not None and reg.event_on > reg.received_at.astimezone(self._tz).date():
            raise InvalidRegistrationError("event_on", "the events cannot be later than the receipt")
        profile = reg.sla_profile or self._default_profile
        if profile not in self._profiles:
            raise InvalidRegistrationError("sla_profile", f"unknown profile {profile!r} (known: {', '.join(sorted(self._profiles))})")
        return replace(reg, matter=reg.matter.strip())

    # ------------------------------------------------------------------ lifecycle
    def advance(self, actor: str, ref: str, to: DossierState, *, on: date | None = None, note: str | None = None,
                override_reason: str | None = None) -> DossierInfo:
        """Move a dossier one lifecycle step, effective on ``on`` (default: today, archive time).

        Closing checks completeness first (ARC-2): a dossier closed without its required materials
        could never be sealed. ``override_reason`` closes it anyway (the gate lets only archivists
        give one); the reason and what was missing are kept on the timeline.

        Raises:
            InvalidTransitionError: the lifecycle does not allow the step from the current state.
            IncompleteDossierError: closing while materials are missing, without an override reason.
            InvalidRegistrationError: a date in the future or before the previous step; a withdrawal
                without a reason.
        """
        now = self._clock()
        effective = on or now.astimezone(self._tz).date()
        with self._uow.write() as s:
            row = self._lookup.dossier_row(s, ref)
            current = DossierState(row.state)
            if to not in TRANSITIONS[current]:
                raise InvalidTransitionError(row.archive_number, current, f"move to {to}")
            if effective > now.astimezone(self._tz).date():
                raise InvalidRegistrationError("on", "a lifecycle date cannot lie in the future")
            previous_on = row.transitions[-1].on if row.transitions else None
            if previous_on is not None and effective < previous_on:
                raise InvalidRegistrationError("on", f"{effective} is before the previous step ({previous_on})")
            if to is DossierState.VOID:
                if not note:
                    raise InvalidRegistrationError("reason", "withdrawing a dossier needs a reason")
                row.void_reason = self._lookup.seal(row.id, "void_reason", note)
            if to is DossierState.CLOSED:
                note = self._closing_note(self._lookup.info(row), note, override_reason)
            row.state = to
            row.transitions.append(TransitionRow(state=to, on=effective, at=now, actor=actor,
                                                 note=self._lookup.seal(row.id, "transition.note", note)))
            # The index holds each document's dossier state: it must follow, whatever happens next.
            change = self.announcer.record(s, IndexChange.DOSSIER_CHANGED, row.archive_number, now)
            s.flush()
            entries = [entry_of(change)]
            info = self._lookup.info(row)
        self.announcer.announce(entries)
        return info

    def _closing_note(self, info: DossierInfo, note: str | None, override_reason: str | None) -> str | None:
        missing = self._closing_check(info)
        if not missing:
            return note
        if not (override_reason and override_reason.strip()):
            raise IncompleteDossierError(info.archive_number, missing)
        kept = f"closed with materials missing ({'; '.join(missing)}): {override_reason.strip()}"
        return f"{note} — {kept}" if note else kept

    def missing_for_close(self, info: DossierInfo) -> list[str]:
        """What keeps ``info`` from being closed, one line per missing material (ARC-2; empty: complete)."""
        return self._closing_check(info)

    def reopen(self, actor: str, ref: str, *, reason: str) -> DossierInfo:
        """Take a closed, unsealed dossier back to the handling step it was closed from, with a reason.

        The timeline keeps both the closing and the reopening; the clocks keep the dates of the
        first time each step was taken (``state_dates``), so reopening never restarts a deadline.

        Raises:
            InvalidTransitionError: the dossier is not closed (sealed ones are amended, not reopened).
            InvalidRegistrationError: no reason.
        """
        if not reason or not reason.strip():
            raise InvalidRegistrationError("reason", "reopening a dossier needs a reason")
        now = self._clock()
        with self._uow.write() as s:
            row = self._lookup.dossier_row(s, ref)
            if DossierState(row.state) is not DossierState.CLOSED:
                raise InvalidTransitionError(row.archive_number, row.state, "reopen it: only a closed, unsealed dossier can be reopened")
            before = [t for t in row.transitions if DossierState(t.state) is not DossierState.CLOSED]
            back_to = DossierState(before[-1].state) if before else DossierState.REGISTERED
            today = now.astimezone(self._tz).date()
            row.state = back_to
            row.transitions.append(TransitionRow(state=back_to, on=max(today, row.transitions[-1].on), at=now,
                                                 actor=actor, note=self._lookup.seal(row.id, "transition.note",
                                                                                     f"reopened: {reason.strip()}")))
            change = self.announcer.record(s, IndexChange.DOSSIER_CHANGED, row.archive_number, now)
            s.flush()
            entries = [entry_of(change)]
            info = self._lookup.info(row)
        self.announcer.announce(entries)
        log.info("reopened dossier %s by %s", info.archive_number, actor)
        return info

    def extend_conclusion(self, actor: str, ref: str, *, days: int, reason: str, approved_by: str) -> DossierInfo:
        """Record an approved extension of the conclusion period with its written notice (TL-03)."""
        if days < 1:
            raise InvalidRegistrationError("days", "an extension adds at least one day")
        if not reason.strip():
            raise InvalidRegistrationError("reason", "an extension needs the reasons given to the complainant (TL-03)")
        with self._uow.write() as s:
            row = self._lookup.dossier_row(s, ref)
            if DossierState(row.state) not in (DossierState.ACCEPTED, DossierState.INVESTIGATING):
                raise InvalidTransitionError(row.archive_number, row.state, "extend the conclusion period")
            row.extensions.append(ExtensionRow(days=days, reason=self._lookup.seal(row.id, "extension.reason", reason.strip()),
                                               approved_by=approved_by, recorded_at=self._clock()))
            s.flush()
            return self._lookup.info(row)

    # ------------------------------------------------------------------ queries
    def get_dossier(self, actor: str, ref: str) -> DossierInfo:
        with self._uow.read() as s:
            return self._lookup.info(self._lookup.dossier_row(s, ref, load_all=True))

    def deadlines(self, info: DossierInfo, as_of: date | None = None) -> tuple[ClockStatus, ...]:
        """The statutory clocks of a dossier as of a date (TL-01..04); overdue is computable for any date."""
        day = as_of or self._clock().astimezone(self._tz).date()
        profile = self._profiles[info.registration.sla_profile or self._default_profile]
        statuses = clocks(profile, self._dates(info), self._calendar, day)
        # Withdrawn or closed here: the clocks stop on that day (a void dossier is never "overdue").
        left = info.state_dates.get(DossierState.VOID) or info.state_dates.get(DossierState.CLOSED)
        if info.state not in OPEN_STATES and left is not None:
            statuses = stopped(statuses, left, day)
        return statuses

    def deadlines_if(self, info: DossierInfo, to: DossierState, on: date) -> tuple[ClockStatus, ...]:
        """The clocks as they would stand on ``on`` had ``info`` moved to ``to`` that day: the effect of a
        step shown before it is taken (an acceptance starts the conclusion clock, a decision the reply's)."""
        dates = dict(info.state_dates)
        dates.setdefault(str(to), on)
        return self.deadlines(replace(info, state=to, state_dates=dates), on)

    def list_dossiers(
        self, actor: str, *, state: DossierState | None = None, month: str | None = None,
        overdue_on: date | None = None, limit: int | None = None,
        visible: Callable[[DossierInfo], bool] | None = None,
    ) -> list[DossierSummary]:
        """Dossiers, newest first; ``month`` (YYYY-MM) filters by receipt month in archive time.

        ``visible`` keeps only the dossiers a caller's scope covers (the gate passes the policy's
        ``matches``). It is asked here, on the rows already loaded, so a scoped listing costs one
        query rather than one per dossier, and ``limit`` counts only what the caller may see.
        """
        with self._uow.read() as s:
            q = select(DossierRow).options(
                selectinload(DossierRow.transitions), selectinload(DossierRow.extensions)
            ).order_by(DossierRow.received_at.desc(), DossierRow.serial.desc())
            if state is not None:
                q = q.where(DossierRow.state == state)
            if month is not None:
                start, end = _month_bounds(month, self._tz)
                q = q.where(DossierRow.received_at >= start, DossierRow.received_at < end)
            if overdue_on is not None:
                q = q.where(DossierRow.state.in_([str(x) for x in OPEN_STATES]))
            counts = dict(s.execute(select(DocumentRow.dossier_id, func.count()).group_by(DocumentRow.dossier_id)).all())
            out: list[DossierSummary] = []
            for row in s.scalars(q):
                # Only the two sealed fields a summary shows are opened (issue #12): the scope check and
                # the clocks read clear fields only, and each opened field is an AES-GCM open per row.
                info = self._lookup.info(row, with_documents=False, opened=_SUMMARY_FIELDS)
                if visible is not None and not visible(info):
                    continue
                # Overdue = a time limit that has passed with its step still not taken (TL-36 催办).
                late_clocks = tuple(c for c in self.deadlines(info, overdue_on or self._clock().astimezone(self._tz).date())
                                    if c.state is ClockState.OVERDUE)
                late = bool(late_clocks)
                if overdue_on is not None and not late:
                    continue
                # Matter and complainant as opened by ``info`` (sealed in the row, issue #12).
                out.append(DossierSummary(
                    archive_number=row.archive_number, state=DossierState(row.state), matter=info.registration.matter,
                    complainant=info.registration.complainant, respondent=row.respondent, channel=Channel(row.channel),
                    received_at=row.received_at, documents=counts.get(row.id, 0), overdue=late,
                    overdue_clocks=late_clocks,
                ))
                if limit is not None and len(out) >= limit:
                    break
            return out

    def dossier_timelines(self, actor: str, *, received_before: datetime | None = None,
                          opened: Collection[str] | None = None,
                          received_from: datetime | None = None) -> list[DossierInfo]:
        """Every dossier with its timeline and extensions but no documents, oldest first (read-only).

        For statistics (STA-01, STA-09): one query instead of a ``get_dossier`` per dossier.
        ``opened`` names the only sealed registration fields a report needs (issue #12; ``None``:
        all, with notes and reasons); the rest read as blank, which spares an AES-GCM open per field
        and row (``CatalogueLookup.info``).
        """
        with self._uow.read() as s:
            q = select(DossierRow).options(
                selectinload(DossierRow.transitions), selectinload(DossierRow.extensions)
            ).order_by(DossierRow.received_at, DossierRow.serial)
            if received_before is not None:
                q = q.where(DossierRow.received_at < received_before)
            if received_from is not None:  # a bounded look-back (retention.persons' repeats)
                q = q.where(DossierRow.received_at >= received_from)
            return [self._lookup.info(row, with_documents=False, opened=opened) for row in s.scalars(q)]

    def _dates(self, info: DossierInfo) -> DossierDates:
        d = info.state_dates
        accepted_on = d.get(DossierState.ACCEPTED)
        refused_on = d.get(DossierState.NOT_ACCEPTED)
        return DossierDates(
            received_on=info.registration.received_at.astimezone(self._tz).date(),
            accepted_on=accepted_on or refused_on,
            accepted=True if accepted_on else (False if refused_on else None),
            decided_on=d.get(DossierState.DECIDED),
            replied_on=d.get(DossierState.REPLIED),
            extension_days=sum(e.days for e in info.extensions),
        )


    # ------------------------------------------------------------------ documents (records.filing)
    def file_document(
        self,
        actor: str,
        ref: str,
        source_path: Path | bytes,
        *,
        kind: DocumentKind,
        filename: str | None = None,
        media_type: str = "application/octet-stream",
        received_at: datetime | None = None,
        channel: Channel | None = None,
        source: DocumentSource = DocumentSource.UPLOAD,
        parent_item: str | None = None,
        supersedes_item: str | None = None,
        analysis: DocumentAnalysis | None = None,
        sha256: str | None = None,
        amendment_reason: str | None = None,
    ) -> DocumentInfo:
        """See :meth:`DocumentFiling.file_document`."""
        return self.filing.file_document(
            actor, ref, source_path, kind=kind, filename=filename, media_type=media_type, received_at=received_at,
            channel=channel, source=source, parent_item=parent_item, supersedes_item=supersedes_item,
            analysis=analysis, sha256=sha256, amendment_reason=amendment_reason)

    def file_documents(self, actor: str, ref: str, filings: Sequence[Filing]) -> list[DocumentInfo | DuplicateDocumentError]:
        """See :meth:`DocumentFiling.file_documents`."""
        return self.filing.file_documents(actor, ref, filings)

    def filed_documents(self, actor: str, *, dossier: str | None = None) -> Iterator[FiledDocument]:
        """See :meth:`DocumentFiling.filed_documents`."""
        return self.filing.filed_documents(actor, dossier=dossier)

    def filed_document(self, actor: str, document_id: str) -> FiledDocument | None:
        """See :meth:`DocumentFiling.filed_document`."""
        return self.filing.filed_document(actor, document_id)

    def dossier_document_ids(self, actor: str, ref: str) -> list[str]:
        """See :meth:`DocumentFiling.dossier_document_ids`."""
        return self.filing.dossier_document_ids(actor, ref)

    def live_document_ids(self, actor: str) -> Iterator[str]:
        """See :meth:`DocumentFiling.live_document_ids`."""
        return self.filing.live_document_ids(actor)

    def existing_item(self, actor: str, ref: str, sha256: str) -> str | None:
        """See :meth:`DocumentFiling.existing_item`."""
        return self.filing.existing_item(actor, ref, sha256)

    def document_hashes(self, actor: str, ref: str) -> dict[str, str]:
        """See :meth:`DocumentFiling.document_hashes`."""
        return self.filing.document_hashes(actor, ref)

    def find_documents_by_sha256(self, actor: str, sha256: str) -> list[tuple[str, str]]:
        """See :meth:`DocumentFiling.find_documents_by_sha256`."""
        return self.filing.find_documents_by_sha256(actor, sha256)

    def retrieve_document(self, actor: str, item: str) -> tuple[DocumentInfo, Iterator[bytes]]:
        """See :meth:`DocumentFiling.retrieve_document`."""
        return self.filing.retrieve_document(actor, item)

    def document_text(self, actor: str, item: str) -> tuple[DocumentInfo, str, dict[str, str]]:
        """See :meth:`DocumentFiling.document_text`."""
        return self.filing.document_text(actor, item)

    def get_document(self, actor: str, item: str) -> DocumentInfo:
        """See :meth:`DocumentFiling.get_document`."""
        return self.filing.get_document(actor, item)

    def reclassify(self, actor: str, item: str, kind: DocumentKind, *, reason: str) -> DocumentInfo:
        """See :meth:`DocumentFiling.reclassify`."""
        return self.filing.reclassify(actor, item, kind, reason=reason)

    def withdraw_document(self, actor: str, item: str, reason: str) -> DocumentInfo:
        """See :meth:`DocumentFiling.withdraw`."""
        return self.filing.withdraw(actor, item, reason)

    def replace_analysis(self, actor: str, item: str, analysis: DocumentAnalysis, *, kind: DocumentKind | None = None,
                         only_if_outcome: str | None = "encrypted") -> DocumentInfo:
        """See :meth:`DocumentFiling.replace_analysis`."""
        return self.filing.replace_analysis(actor, item, analysis, kind=kind, only_if_outcome=only_if_outcome)

    # ------------------------------------------------------------------ vault (records.upkeep)
    def verify_vault(self, actor: str, *, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
        """See :meth:`VaultUpkeep.verify_vault`."""
        return self.upkeep.verify_vault(actor, progress=progress)

    def rotate_master_key(self, actor: str, *, batch: int = 500) -> RotationReport:
        """See :meth:`VaultUpkeep.rotate_master_key`."""
        return self.upkeep.rotate_master_key(actor, batch=batch)

    # ------------------------------------------------------------------ disposal (records.tombstone)
    def disposal_manifest(self, actor: str, ref: str) -> DisposalManifest:
        """See :meth:`DossierTombstones.disposal_manifest`."""
        return self.tombstones.disposal_manifest(actor, ref)

    def destroy_data_keys(self, actor: str, ref: str) -> int:
        """See :meth:`DossierTombstones.destroy_data_keys`."""
        return self.tombstones.destroy_data_keys(actor, ref)

    def tombstone_dossier(self, actor: str, ref: str, *, note: str) -> DossierInfo:
        """See :meth:`DossierTombstones.tombstone_dossier`."""
        return self.tombstones.tombstone_dossier(actor, ref, note=note)

    def replay_destruction(self, actor: str, ref: str, *, note: str) -> DossierInfo:
        """See :meth:`DossierTombstones.replay_destruction` (after a restore, as the destruction ledger says)."""
        return self.tombstones.replay_destruction(actor, ref, note=note)


def _month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    try:
        year, mon = (int(x) for x in month.split("-"))
        start = datetime(year, mon, 1, tzinfo=tz)
        end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=tz)
        start.astimezone(timezone.utc), end.astimezone(timezone.utc)  # the catalogue compares in UTC
    except (ValueError, OverflowError) as exc:
        raise InvalidRegistrationError("month", f"{month[:20]!r} is not a month YYYY-MM") from exc
    return start, end


__all__: Sequence[str] = ["RecordsService", "DossierSummary", "VerifyReport", "VerifyProblem", "RotationReport"]

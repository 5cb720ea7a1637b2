"""Composition root: Settings → backends → the Services bundle the CLI (and later web) share."""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from records.workdays import ChinaWorkingCalendar, profiles_from_settings
from records.office_calendar import CalendarDesk
from migrations import migrate, schema_is_current
from records.db import UnitOfWork, make_engine
from records.durable import fsync_dir, write_atomic
from records.clock import Clock, system_clock
from records.errors import ConfigurationError, NotAllowedInStateError
from records.health import CatalogueProbe, Health, KeysProbe, StoreProbe
from records.numbering import NumberingScheme
from records.events import ChangeAnnouncer
from records.filing import DocumentFiling
from records.lookup import CatalogueLookup
from records.sealing import FieldSealer
from records.outbox import CommittedChanges, IndexChange, IndexOutboxStore
from records.service import RecordsService
from records.compile import DossierCompiler
from records.notices import NoticeService
from records.reminders import DeadlineReminders
from records.tombstone import DossierTombstones
from records.upkeep import VaultUpkeep
from records.settings import Settings
from records.vault import Vault, WrappedKey, open_blob_store, open_key_provider, prepare_blob_store
from records.vault.dossier_keys import DossierKeyring
from records.access.log import AccessLog, ensure_signing_key
from records.access.gate import Gate
from records.access.service import AccessService
from retention.base import RetentionDecisions, ScheduleFacts
from retention.dispositions import DisposalTools, DispositionDesk
from retention.ledger import DestructionLedger
from retention.holds import HoldDesk
from retention.report_desk import ReportDesk
from search.saved import SavedSearches
from retention.sealing import materials_from_settings, missing_materials, required_for
from retention.service import RetentionService
from search.analysis import normalize_keyword
from search.backends import open_index, uses_server
from search.health import SearchProbe
from search.outbox import IndexOutbox
from search.related import RelatedComplaints
from search.service import SearchService
from records.vault.errors import KeyAlreadyPinnedError
from records.vault.keys import create_master_key
from records.vault.keys.pin import PinnedKeyProvider, open_pinned
from records.keypins import CatalogueKeyPins

if TYPE_CHECKING:  # built on first use (Services.ingest / .intake / .inventory): a read never loads them
    from ingest.desk import IntakeDesk
    from ingest.jobs import IntakeQueue
    from ingest.service import IngestService
    from records.settings import IngestSettings, NumberingSettings
    from retention.inventory import InventoryService
    from retention.inventory_desk import InventoryDesk
    from retention.transfer import BagDesk


log = logging.getLogger(__name__)

CRASH_AT_ENV = "DOSSIER_CRASH_AT"
"""Test hook: ``after_filing_commit`` makes the process SIGKILL itself right after a filing commits."""
_OPEN_DRAIN_LIMIT = 1000   # outbox rows applied when the services open; intake workers and `serve` do the rest


class ArchiveNotInitialisedError(ConfigurationError):
    def __init__(self, where: str) -> None:
        super().__init__(f"no archive at {where}; run `dossier init` first (or pass --data-dir)")
        self.where = where


class RestoreUnfinishedError(NotAllowedInStateError):
    """``dossier restore`` stopped before the end: until it finishes, destroyed dossiers may be back."""

    code = "restore_unfinished"

    def __init__(self, where: str) -> None:
        super().__init__(f"a restore into {where} is unfinished (restore-state.json): run the same `dossier restore SRC` "
                         "again to finish it; until then the archive is not opened, because the destruction ledger "
                         "has not been replayed yet")
        self.where = where


@dataclass(slots=True)
class Services:
    records: RecordsService
    search: SearchService
    access: AccessService
    retention: RetentionService
    uow: UnitOfWork
    vault: Vault
    gate: Gate
    outbox: IndexOutbox
    ingest_settings: IngestSettings
    numbering: NumberingSettings  # how the inventory prints numbers, as the archive does
    inventory_dir: Path           # where inventory runs and their reports live (<data_dir>/reports/inventory)
    health: Health                # which back ends answer now (/healthz, the dashboard banner)
    calendar: CalendarDesk        # the office's official working-day calendars (TL-01/04): import, show, warn
    notices: NoticeService        # the written notices the complaint rules require (ACC-DOC, TL-03/04/36)
    reminders: DeadlineReminders  # due today / soon / overdue per person: dashboard, e-mail digest, `dossier remind`
    compiler: DossierCompiler     # the contents 卷内目录 and the whole dossier as one paginated PDF (ARC-1-02, ACS-12)
    reports: ReportDesk           # statistics and the register (STA): who may see them, and export them
    saved_searches: SavedSearches # each user's named searches (the search page)
    related: RelatedComplaints    # earlier dossiers that look like the same matter (ACC-NO-01, STA-14)
    clock: Clock = system_clock   # the archive's "now": every door asks this, never the wall clock
    # ``ingest``, ``intake`` and ``inventory`` (properties below) are built on first use, once per
    # bundle, so a read (`dossier show`, a page) never imports the ingest pipeline (parsers, OCR,
    # the pool) nor the inventory's report renderers.
    _ingest: IngestService | None = field(default=None, repr=False)
    _intake: IntakeQueue | None = field(default=None, repr=False)
    _inventory: InventoryService | None = field(default=None, repr=False)
    _inventory_desk: InventoryDesk | None = field(default=None, repr=False)
    _lazy_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def ingest(self) -> IngestService:
        """The ingest pipeline (``IngestService(records, settings.ingest)``), built on first use."""
        if self._ingest is None:
            with self._lazy_lock:
                if self._ingest is None:
                    from ingest.service import IngestService

                    self._ingest = IngestService(self.records, self.ingest_settings)
        return self._ingest

    @property
    def intake(self) -> IntakeQueue:
        """The intake-job queue over :attr:`ingest`, built on first use (one per bundle: its wakeup event is shared)."""
        if self._intake is None:
            ingest = self.ingest
            with self._lazy_lock:
                if self._intake is None:
                    from ingest.jobs import IntakeQueue

                    s = self.ingest_settings
                    self._intake = IntakeQueue(self.uow, self.vault, self.records, ingest, clock=self.clock,
                                               large_job_bytes=s.large_job_mb * 1024 * 1024,
                                               large_job_wait_seconds=s.large_job_wait_minutes * 60)
        return self._intake

    @property
    def inventory(self) -> InventoryService:
        """The inventory (ARC-6), built on first use: it loads the report renderers (reportlab),
        which no other command needs. Staging copies of queued uploads belong to :attr:`intake`,
        so they are not reported as orphans."""
        if self._inventory is None:
            intake = self.intake
            with self._lazy_lock:
                if self._inventory is None:
                    from retention.inventory import InventoryService
                    from retention.inventory_report import write_reports

                    self._inventory = InventoryService(
                        self.uow, self.vault, self.search, access=self.access, reports_dir=self.inventory_dir,
                        item_width=self.numbering.item_width, serial_width=self.numbering.serial_width,
                        write_reports=write_reports, owned_elsewhere=intake.staging_blob_keys, clock=self.clock,
                        unsealable=self.retention.unsealable)
        return self._inventory

    @property
    def intake_desk(self) -> IntakeDesk:
        """The operator's side of the intake queue (list, retry), each call decided by the policy and logged once."""
        from ingest.desk import IntakeDesk

        return IntakeDesk(self.intake, self.access, clock=self.clock)

    @property
    def inventory_desk(self) -> InventoryDesk:
        """The inventory as a background job with progress (one at a time in this process), and its
        reports; the inventory itself is built when a run starts. One per bundle: it holds the job."""
        if self._inventory_desk is None:
            with self._lazy_lock:
                if self._inventory_desk is None:
                    from retention.inventory_desk import InventoryDesk

                    self._inventory_desk = InventoryDesk(lambda: self.inventory, self.access,
                                                         reports_dir=self.inventory_dir, clock=self.clock)
        return self._inventory_desk

    @property
    def bags(self) -> BagDesk:
        """BagIt export and import (ACS-12, #10), each call decided and logged; the ingest pipeline is
        built only when a package's first document is filed. A sealed import is planned like our own."""
        from retention.transfer import BagDesk

        return BagDesk(self.uow, self.records, self.access, ingest=lambda: self.ingest,
                       plan=lambda actor, reason, numbers: self.retention.plan(actor, reason=reason, numbers=numbers),
                       clock=self.clock)

    def calendar_years_without_data(self, years: Iterable[int] | None = None) -> list[int]:
        """Years without official working-day data (neither the office's nor the package's), sorted.

        With ``years``: those among them. Without: the years that a running deadline of any open
        dossier counts days in (the dashboard's warning; names years only, so not logged).
        """
        if years is None:
            return self.calendar.open_deadline_years_without_data()
        return self.calendar.years_without_data(years)

    def today(self, tz: ZoneInfo) -> date:
        """The archive's current date in ``tz``."""
        return self.clock().astimezone(tz).date()

    def close(self) -> None:
        if self._inventory_desk is not None:  # a background inventory reads the catalogue: let it reach its end
            self._inventory_desk.wait(timeout=60)
        if self._ingest is not None:  # never built: nothing to close
            self._ingest.close()
        self.search.close()
        self.vault.close()
        self.uow.close()


def _zone(settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(f"unknown time zone {settings.timezone!r}") from exc


def init_archive(settings: Settings) -> dict[str, str]:
    """Create (or upgrade) the archive: data directory, master key file, catalogue schema.

    Idempotent: an existing key file is kept, never overwritten.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    done: dict[str, str] = {"data_dir": str(settings.data_dir)}
    done["vault"] = prepare_blob_store(settings)
    engine = make_engine(settings.database_url, echo=settings.database.echo)
    try:
        migrate(engine)
        done["catalogue"] = _masked_url(settings.database_url)
        done.update(pin_master_key(settings, UnitOfWork(engine), how="init"))
    finally:
        engine.dispose()
    key_id, created = ensure_signing_key(settings.audit_signing_key)
    done["audit_key"] = f"{settings.audit_signing_key} ({'created' if created else 'kept'}, {key_id})"
    return done


def pin_master_key(settings: Settings, uow: UnitOfWork, *, how: str) -> dict[str, str]:
    """Create the master key if the archive is brand-new, then check (or record) the archive's pin.

    "Brand-new" is: no pin and no wrapped data key in the catalogue. Any other archive never gets
    a key created for it here (issue #17: a wiped key service must be refused, not re-keyed).

    Raises:
        KeyMismatchError: the key service holds another key than the pinned one.
    """
    pins = CatalogueKeyPins(uow)
    created = create_master_key(settings) if pins.load() is None and pins.sample() is None else None
    keys = open_pinned(lambda: open_key_provider(settings), pins, clock=system_clock, recheck_seconds=0, how=how)
    keys.close()
    done: dict[str, str] = {}
    if settings.keys.provider == "file":
        done["key_file"] = f"{settings.key_file} ({'created' if created else 'kept'}, key {keys.pin.probe.key_id})"
    elif created:
        done["master_key"] = f"{created} (created)"
    done["key_pin"] = keys.pin.describe()
    return done


def create_archive_key(settings: Settings) -> dict[str, str]:
    """`dossier keys create`: make the master key of a new archive (and pin it if the catalogue exists).

    Raises:
        KeyAlreadyPinnedError: the archive has a pin, or sealed data keys, already.
    """
    engine = make_engine(settings.database_url, echo=settings.database.echo)
    try:
        uow = UnitOfWork(engine) if schema_is_current(engine) else None
        if uow is not None:
            pins = CatalogueKeyPins(uow)
            pin = pins.load()
            if pin is not None:
                raise KeyAlreadyPinnedError(pin.describe())
            if (sample := pins.sample()) is not None:
                raise KeyAlreadyPinnedError(f"its data keys are wrapped under {sample.wrapped.key_id}")
        created = create_master_key(settings)
        done = {"master_key": f"{created} (created)" if created else "exists already (kept)"}
        if uow is not None:
            done.update(pin_master_key(settings, uow, how="keys create"))
        return done
    finally:
        engine.dispose()


def _open_keys(settings: Settings, uow: UnitOfWork, clock: Callable[[], datetime]) -> PinnedKeyProvider:
    """The key provider, refused unless it holds the archive's pinned key; never creates a key."""
    return open_pinned(lambda: open_key_provider(settings), CatalogueKeyPins(uow), clock=clock,
                       recheck_seconds=settings.keys.pin_check_seconds)


def build_services(settings: Settings, *, clock: Callable[[], datetime] | None = None,
                   restoring: bool = False) -> Services:
    """Open the configured archive. Raises ArchiveNotInitialisedError if `dossier init` never ran.

    ``clock`` (aware UTC "now") is for tests that freeze time. ``restoring`` is for
    ``dossier restore`` only: every other door is refused while a restore is unfinished
    (RestoreUnfinishedError), since destroyed dossiers are back until its ledger replay has run.
    """
    from retention.backup import STATE_FILE  # a constant; the module is loaded only here and by the restore

    if not restoring and (settings.data_dir / STATE_FILE).exists():
        raise RestoreUnfinishedError(str(settings.data_dir))
    engine = make_engine(settings.database_url, echo=settings.database.echo)
    if not schema_is_current(engine):
        engine.dispose()
        raise ArchiveNotInitialisedError(_masked_url(settings.database_url))
    if settings.keys.provider == "file" and not settings.key_file.exists():
        engine.dispose()
        raise ArchiveNotInitialisedError(str(settings.key_file))
    tz = _zone(settings)
    clock = clock or system_clock
    uow = UnitOfWork(engine)
    try:
        keys = _open_keys(settings, uow, clock)  # the pin is checked here, at every start (issue #17)
    except BaseException:
        engine.dispose()
        raise
    # Each dossier's own key (issue #12) seals its personal fields and wraps its objects' data keys;
    # the ring lives with the key material, outside the catalogue, so destroying a key reaches every copy.
    vault = Vault(open_blob_store(settings), keys, segment_size=settings.vault.segment_size,
                  dossier_keys=DossierKeyring(settings.dossier_keyring, keys))
    # One working calendar for every clock; the office's years (``dossier calendar import``) are
    # loaded into it below, and again after an import, so no clock reads the catalogue per day.
    working_calendar = ChinaWorkingCalendar.from_settings(settings.deadlines)
    records = _records_service(settings, uow, vault, tz=tz, clock=clock, calendar=working_calendar)
    index = open_index(settings.search, data_dir=settings.data_dir, key=_search_key(settings, vault))
    search = SearchService(index, tz)
    # The index follows the catalogue through the outbox: each change (documents filed, dossiers
    # changed, documents destroyed) is a row committed with it, applied here right after the
    # commit, and by the next drain if this process dies first or the index is down.
    outbox = IndexOutbox(records.outbox, records, search, clock=clock)
    records.on_index_changes(_after_commit(outbox))
    search.keep_changes_during_rebuilds(outbox)
    log = AccessLog(signing_key=settings.audit_signing_key, checkpoint_file=settings.audit_checkpoint_file,
                    checkpoint_every=settings.access.checkpoint_every,
                    checkpoint_seconds=settings.access.checkpoint_seconds, clock=clock,
                    keyring=vault.dossier_keys,  # entries' details sealed per dossier / per month (issue #12)
                    details_keep_months=settings.access.details_keep_months)
    access = AccessService(uow, log, fold=normalize_keyword, clock=clock)
    # The ingest pipeline and intake queue: built on first use of services.ingest / services.intake.
    # Every destruction is first written to the signed ledger kept with the key material (issue #12),
    # which every restore replays: destroyed stays destroyed, whatever backup comes back.
    ledger = DestructionLedger(settings.destruction_ledger, signer=access.sign_statement,
                               public_key=access.signing_public_key, clock=clock)
    retention = _retention_service(settings, uow, records, access, log,
                                   DisposalTools(records, vault, search, access, ledger=ledger, clock=clock,
                                                 scrubbers=(_intake_scrubber(uow),)),
                                   tz=tz, clock=clock)
    # Every door (pages, API, console, workers) reads and changes dossiers through this one gate.
    gate = Gate(access, records, search, tz=tz, clock=clock)
    # Each part needs only its own back ends (issue #17 item 3): the catalogue is needed by every
    # request; the store, the keys and the index only by what uses them, so the archive runs
    # degraded without them. Opening never contacts a search server (it connects on first use),
    # so the catch-up drain runs here only for the embedded index; on a server, `serve`'s intake
    # workers or drainer (and `dossier worker`, `dossier index drain`) catch up instead.
    health = Health({"catalogue": CatalogueProbe(uow), "store": StoreProbe(vault.store), "keys": KeysProbe(vault.keys),
                     "search": SearchProbe(search, outbox)}, required=frozenset({"catalogue"}), clock=clock)
    if not uses_server(settings.search):
        _catch_up(outbox)
    calendar_desk = CalendarDesk(uow, access, working_calendar, records, tz=tz, clock=clock)
    calendar_desk.load()  # the office's years into memory: a clock asks about each day
    return Services(records=records, search=search, access=access, retention=retention, uow=uow, vault=vault,
                    gate=gate, outbox=outbox, ingest_settings=settings.ingest, numbering=settings.numbering,
                    inventory_dir=settings.data_dir / "reports" / "inventory", health=health, clock=clock,
                    calendar=calendar_desk,
                    notices=NoticeService(gate, records, settings.office, tz=tz, clock=clock),
                    reminders=DeadlineReminders(uow, records, access, settings.reminders, tz=tz, clock=clock,
                                                fold=normalize_keyword),
                    compiler=DossierCompiler(gate, records, tz=tz, clock=clock),
                    reports=ReportDesk(access, records, tz=tz, clock=clock),
                    saved_searches=SavedSearches(uow, clock=clock, keyring=vault.dossier_keys),
                    related=RelatedComplaints(gate, records, index, tz, numbering=NumberingScheme(
                        settings.numbering.template, settings.numbering.serial_width)))


def _records_service(settings: Settings, uow: UnitOfWork, vault: Vault, *, tz: ZoneInfo, clock: Clock,
                     calendar: ChinaWorkingCalendar | None = None) -> RecordsService:
    """The records core, wired here and only here (issue #9): small services, each handed what it uses.

    They share one ``CatalogueLookup`` (row lookups over a caller's session) and one
    ``ChangeAnnouncer`` (the after-commit listeners), so a listener registered on the
    RecordsService hears of every change, whether filing, the lifecycle or disposal made it.
    """
    # One field sealer for the whole records core (issue #12): each dossier's personal fields are
    # sealed under its own key in the vault's key ring; the lookup seals and opens them for every service.
    assert vault.dossier_keys is not None  # built with the vault above
    lookup = CatalogueLookup(settings.numbering.item_width, FieldSealer(vault.dossier_keys), clock=clock)
    announcer = ChangeAnnouncer()
    # Closing asks the same completeness rule as sealing (ARC-2): closed must mean sealable.
    materials = materials_from_settings(settings.retention.required_materials, settings.retention.material_kinds)
    return RecordsService(
        uow,
        lookup,
        announcer,
        filing=DocumentFiling(uow, vault, lookup, announcer, tz=tz, clock=clock),
        upkeep=VaultUpkeep(uow, vault, lookup, clock=clock,
                           also_rewrap=[lambda: _rewrap_staging_keys(uow, vault)]),
        tombstones=DossierTombstones(uow, lookup, announcer, tz=tz, clock=clock),
        outbox=IndexOutboxStore(uow, clock=clock),
        numbering=NumberingScheme(settings.numbering.template, settings.numbering.serial_width),
        profiles=profiles_from_settings(settings.deadlines),
        default_profile=settings.deadlines.default_profile,
        calendar=calendar or ChinaWorkingCalendar.from_settings(settings.deadlines),
        tz=tz,
        clock=clock,
        closing_check=lambda info: missing_materials(info, required_for(materials, info.registration.sla_profile)),
    )


def _retention_service(settings: Settings, uow: UnitOfWork, records: RecordsService, access: AccessService,
                       access_log: AccessLog, tools: DisposalTools, *, tz: ZoneInfo, clock: Clock) -> RetentionService:
    """Retention, wired here and only here (issue #9): small services, each handed what it uses.

    The holds and disposition desks and the RetentionService share one ``ScheduleFacts`` (the
    rules file, the facts, today) and one ``RetentionDecisions`` (the policy check and the log
    entries of retention's own steps); the disposition desk asks the hold desk what is held, and
    gets the executor's collaborators (``tools``) here, so running a disposition needs nothing
    from its caller. The sealing materials are validated now: a bad setting should stop the
    archive opening, not a seal.
    """
    facts = ScheduleFacts(settings.retention, settings.retention_rules_file, tz=tz, clock=clock)
    decisions = RetentionDecisions(uow, access, access_log, clock=clock, fold=normalize_keyword)
    holds = HoldDesk(uow, decisions, tz=tz, clock=clock, fold=normalize_keyword)
    dispositions = DispositionDesk(uow, facts, decisions, holds, access, tools,
                                   disposition_dir=settings.disposition_dir, tz=tz, clock=clock)
    return RetentionService(
        uow, records, access, facts, hold_desk=holds, disposition_desk=dispositions,
        materials=materials_from_settings(settings.retention.required_materials, settings.retention.material_kinds),
        tz=tz, clock=clock)


def _after_commit(outbox: IndexOutbox) -> Callable[[CommittedChanges], None]:
    """The records after-commit listener: apply the rows a commit just wrote (see ``search.outbox``).

    The one place that honours ``DOSSIER_CRASH_AT=after_filing_commit``: the process SIGKILLs
    itself between a filing's commit and its index write, so tests can show that the outbox,
    not this listener, is what makes a filed document searchable.
    """
    crash_after_filing = os.environ.get(CRASH_AT_ENV) == "after_filing_commit"

    def follow(changes: CommittedChanges) -> None:
        if crash_after_filing and any(e.kind is IndexChange.DOCUMENT_FILED for e in changes.entries):
            os.kill(os.getpid(), signal.SIGKILL)
        outbox.apply_committed(changes)

    return follow


def _intake_scrubber(uow: UnitOfWork) -> Callable[[str], object]:
    """A destruction's by-product scrub (issue #12 item 3): the dossier's intake job rows blanked,
    their staging keys shredded, in a transaction of its own (``ingest.tables.scrub_intake_jobs``;
    the staging sweep deletes the blobs). Imported on use: opening the archive loads no ingest code."""

    def scrub(archive_number: str) -> int:
        from ingest.tables import scrub_intake_jobs

        with uow.write() as s:
            count, _ = scrub_intake_jobs(s, archive_number)
        return count

    return scrub


def _catch_up(outbox: IndexOutbox) -> None:
    """Apply what earlier processes left in the outbox (one died after a commit, or the index was down).

    Best effort: an index that is still down keeps its rows for the next drain, and opening the
    archive goes on.
    """
    try:
        report = outbox.drain(limit=_OPEN_DRAIN_LIMIT)
    except Exception:  # noqa: BLE001 - the catalogue itself failing shows up in the command that follows
        log.exception("index outbox: drain on opening failed")
        return
    if report.applied or report.failed:
        log.info("index outbox: %d change(s) applied on opening, %d failed, %d waiting",
                 report.applied, report.failed, report.backlog.count)


_SEARCH_KEY_CONTEXT = {"purpose": "search-index"}


def _rewrap_staging_keys(uow: UnitOfWork, vault: Vault) -> int:
    # Imported here: a read never loads the ingest package.
    from ingest.staging_keys import rewrap_staging_keys

    return rewrap_staging_keys(uow, vault)


def _search_key(settings: Settings, vault: Vault) -> bytes:
    """The secret sealing the embedded index's stored text, kept wrapped by the master key.

    Created on first use (``<data_dir>/search.key``, 0600); re-wrapped by `dossier keys rotate`.
    """
    path = settings.data_dir / "search.key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f"search.key.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        _write_wrapped_key(tmp, vault.keys.wrap(os.urandom(32), context=_SEARCH_KEY_CONTEXT))
        try:
            # link() publishes a complete file or fails: when several processes open a new archive
            # at once, exactly one key wins and every process reads that one.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        fsync_dir(path.parent)  # the published name survives a crash
    data = json.loads(path.read_text())
    return vault.keys.unwrap(WrappedKey(data["key_id"], base64.b64decode(data["ciphertext"])), context=_SEARCH_KEY_CONTEXT)


def rewrap_search_key(settings: Settings, vault: Vault) -> None:
    """Re-wrap the search key under the current master key (after `dossier keys rotate`)."""
    path = settings.data_dir / "search.key"
    if not path.exists():
        return
    key = _search_key(settings, vault)
    write_atomic(path, _wrapped_key_json(vault.keys.wrap(key, context=_SEARCH_KEY_CONTEXT)), mode=0o600)


def _wrapped_key_json(wrapped: WrappedKey) -> bytes:
    return json.dumps({"key_id": wrapped.key_id, "ciphertext": base64.b64encode(wrapped.ciphertext).decode()}).encode()


def _write_wrapped_key(path: Path, wrapped: WrappedKey) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(_wrapped_key_json(wrapped))
        f.flush()
        os.fsync(f.fileno())


def _masked_url(url: str) -> str:
    from records.redact import masked_url  # the one masking rule (config show, command errors)

    return masked_url(url)

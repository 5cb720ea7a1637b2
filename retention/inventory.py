"""Inventory (清查盘点, ARC-6): every stored object checked against the catalogue, and back.

For each catalogued object, in a stable order (object id): the blob is in its store, it
decrypts and authenticates (AES-256-GCM, segment by segment), and its plaintext matches the
recorded SHA-256. Then, over the whole archive: every live document is in the search index
(and the index holds nothing else), every blob in the store is named by a catalogue row
(orphans), every document has its original, and every serial handed out in a number series
has its dossier row — void and disposed dossiers keep their rows, so any gap is unexplained.
Crypto-shredded objects (``shredded_at`` set) are expected to be unreadable or absent and are
not reported.

Findings carry the archive or item number wherever one exists (``2611-007-03``), and the store
key for orphans. They hold numbers, ids, hashes and reasons, never document content.

Resumable: progress is appended to ``<reports>/<run>/progress.jsonl`` and fsynced after every
batch of objects, with that batch's findings, so a run killed at any point continues after its
last checkpoint (:meth:`InventoryService.run`, ``resume=True``) and ends with the same findings
as an uninterrupted run. A file, not a table: the inventory must still run when the catalogue
is the thing in doubt, and it leaves the catalogue untouched.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select

from records.access.identity import Action, Identity, RequestContext
from records.access.service import AccessService
from records.db import UnitOfWork
from records.model import ObjectKind, item_number
from records.tables import DocumentRow, DossierRow, NumberSeriesRow, StoredObjectRow
from records.vault.errors import DossierKeyGoneError, DossierKeyMissingError
from records.vault import (
    BlobNotFoundError, IntegrityError, KeyNotFoundError, Vault, WrappedKey, WrongKeyError,
)
from search.service import IndexCheck
from records.clock import system_clock

__all__ = [
    "Finding", "FindingKind", "IndexChecker", "InventoryReport", "InventoryService", "PROGRESS_FILE",
]

log = logging.getLogger(__name__)
_NO_CONTEXT = RequestContext()

PROGRESS_FILE = "progress.jsonl"
DEFAULT_BATCH = 500
_LOOKUP_CHUNK = 500  # ids per IN (...) list, well below SQLite's variable limit


class FindingKind(StrEnum):
    """What the inventory can find wrong (each is reported with a number or a store key)."""

    MISSING_BLOB = "missing_blob"      # catalogue row, no blob in the store
    CORRUPT = "corrupt"                # fails authentication, truncated, not a sealed object
    HASH_MISMATCH = "hash_mismatch"    # decrypts, but not to the bytes that were filed
    KEY_UNUSABLE = "key_unusable"      # wrapped data key absent (not shredded) or does not unwrap
    NO_ORIGINAL = "no_original"        # document row without its original object row
    NOT_INDEXED = "not_indexed"        # live document missing from the search index
    INDEX_EXTRA = "index_extra"        # index entry for a document the catalogue does not hold
    ORPHAN_BLOB = "orphan_blob"        # blob in the store that no catalogue row names
    NUMBER_GAP = "number_gap"          # serial handed out with no dossier row
    UNSEALABLE = "unsealable"          # closed dossier that lacks required materials, so cannot be sealed (ARC-2)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem. ``number`` is the dossier or item number when one exists; ``ref`` the object
    id, document id or store key it concerns; ``detail`` a reason (never content)."""

    kind: FindingKind
    number: str | None
    ref: str
    object_kind: str | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind.value, "number": self.number, "ref": self.ref,
                "object_kind": self.object_kind, "detail": self.detail}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        return cls(FindingKind(d["kind"]), d.get("number"), d["ref"], d.get("object_kind"), d.get("detail", ""))

    def sort_key(self) -> tuple[str, str, str, str]:
        # Numbered findings first, in archive order; store keys after them.
        return (self.number or "\uffff", self.kind.value, self.object_kind or "", self.ref)


@dataclass(frozen=True, slots=True)
class InventoryReport:
    """The outcome of one inventory run (possibly completed over several invocations)."""

    run_id: str
    run_dir: Path
    actor: str
    backend: str
    started_at: datetime
    finished_at: datetime
    objects_checked: int
    shredded_skipped: int
    documents: int
    store_keys: int
    series: int
    resumed_from: int
    findings: tuple[Finding, ...]
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {k.value: 0 for k in FindingKind}
        for f in self.findings:
            out[f.kind.value] += 1
        return out

    def summary(self) -> dict[str, Any]:
        """Numbers only: what the report files and ``--json`` show above the findings."""
        return {
            "run": self.run_id, "actor": self.actor, "backend": self.backend,
            "started_at": self.started_at.isoformat(), "finished_at": self.finished_at.isoformat(),
            "objects_checked": self.objects_checked, "shredded_skipped": self.shredded_skipped,
            "documents": self.documents, "store_keys": self.store_keys, "series": self.series,
            "resumed_from": self.resumed_from, "finding_count": len(self.findings), "counts": self.counts(),
        }


class IndexChecker(Protocol):
    """The search side of the inventory; :class:`search.service.SearchService` is one.

    ``check`` MUST return the given ids the index lacks (``missing``) and the ids it holds
    beyond them (``extra``).
    """

    def check(self, catalogue_ids: Iterator[str]) -> IndexCheck: ...


ReportWriter = Callable[[InventoryReport, Path], dict[str, Path]]
Progress = Callable[[int, int], None]


@dataclass(slots=True)
class _State:
    """What a run has established so far; rebuilt from its progress file on resume."""

    run_id: str
    started_at: datetime
    last_id: str = ""
    checked: int = 0
    shredded: int = 0
    findings: list[Finding] = field(default_factory=list)
    complete: bool = False


class InventoryService:
    """Runs the inventory of one archive (ARC-6) and keeps its dated reports.

    Args:
        uow: the catalogue.
        vault: the blob store and keys the objects are sealed with.
        index: the search index check (``SearchService``).
        reports_dir: where runs live, ``<data_dir>/reports/inventory``.
        item_width, serial_width: the numbering settings, to print numbers as the archive does.
        write_reports: renders a finished run (HTML, CSV, PDF); see ``retention.inventory_report``.
        clock: aware UTC now.
        access: decides and logs who may run it (RUN_INVENTORY; ``AccessService``).
    """

    def __init__(self, uow: UnitOfWork, vault: Vault, index: IndexChecker, *, access: AccessService, reports_dir: Path,
                 item_width: int, serial_width: int, write_reports: ReportWriter | None = None,
                 clock: Callable[[], datetime] = system_clock,
                 owned_elsewhere: Callable[[], Iterable[str]] = lambda: (),
                 unsealable: Callable[[], Iterable[tuple[str, list[str]]]] = lambda: ()) -> None:
        """``owned_elsewhere`` names store keys other parts of the catalogue own (queued uploads'
        staging copies), so they are not reported as orphans. ``unsealable`` lists the closed
        dossiers that lack required materials, with what they lack: closed under an override, they
        wait for the archive department (reopen and complete them, or amend once sealed)."""
        self._unsealable = unsealable
        self._access = access
        self._owned_elsewhere = owned_elsewhere
        self._uow = uow
        self._vault = vault
        self._index = index
        self._reports_dir = Path(reports_dir)
        self._item_width = item_width
        self._serial_width = serial_width
        self._write_reports = write_reports
        self._clock = clock

    # ------------------------------------------------------------------ the use case
    def run(self, who: Identity, *, resume: bool = True, batch: int = DEFAULT_BATCH,
            progress: Progress | None = None, context: RequestContext = _NO_CONTEXT,
            details: Mapping[str, str] | None = None) -> InventoryReport:
        """Check every stored object and the archive around it; write the dated report.

        Args:
            who: who runs it: decided by the policy and logged (RUN_INVENTORY), named in the report.
            resume: continue the newest run if it is unfinished; otherwise start a new run.
            batch: objects between checkpoints.
            progress: called with (objects done, objects in the catalogue).

        Raises:
            StorageUnavailableError, KeyUnavailableError: a backend cannot be used; the run
                stops at its last checkpoint and a re-run continues from there.
        """
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self._access.enforce(who, Action.RUN_INVENTORY, None, context=context,
                             details={**(details or {}), "resume": str(resume).lower()})
        actor = who.name
        state, path = (self._load_unfinished() if resume else None) or self._start(actor)
        resumed_from = state.checked
        if resumed_from:
            log.info("inventory %s resumed after %d objects by %s", state.run_id, resumed_from, actor)
            _append(path, {"type": "resume", "at": self._clock().isoformat(), "actor": actor, "from": resumed_from})
        self._check_objects(state, path, batch, progress)
        extra, documents, store_keys, series = self._check_archive()
        findings = tuple(sorted(state.findings + extra, key=Finding.sort_key))
        report = InventoryReport(
            run_id=state.run_id, run_dir=path.parent, actor=actor, backend=self._vault.store.name,
            started_at=state.started_at, finished_at=self._clock(), objects_checked=state.checked,
            shredded_skipped=state.shredded, documents=documents, store_keys=store_keys, series=series,
            resumed_from=resumed_from, findings=findings,
        )
        files = self._write_reports(report, path.parent) if self._write_reports else {}
        report = replace(report, files=files)
        _append(path, {"type": "complete", "summary": report.summary(),
                       "findings": [f.as_dict() for f in findings]})
        log.info("inventory %s by %s: %d objects, %d findings", report.run_id, actor,
                 report.objects_checked, len(findings))
        return report

    # ------------------------------------------------------------------ objects, one batch at a time
    def _check_objects(self, state: _State, path: Path, batch: int, progress: Progress | None) -> None:
        with self._uow.read() as s:
            total = s.scalar(select(func.count()).select_from(StoredObjectRow)) or 0
        if progress:
            progress(state.checked, max(total, state.checked))
        # One object at a time: measured with a thread pool, small objects got slower (the
        # per-object work is Python, under the GIL), see benchmarks/inventory.py.
        while True:
            with self._uow.read() as s:
                # Core rows of one table: joins and ORM rows tripled the time per object (measured);
                # item numbers are looked up for the few objects with a finding.
                rows = s.connection().execute(
                    select(StoredObjectRow.id, StoredObjectRow.kind, StoredObjectRow.key_id,
                           StoredObjectRow.wrapped_key, StoredObjectRow.sha256, StoredObjectRow.document_id,
                           StoredObjectRow.shredded_at.is_not(None).label("shredded"))
                    .where(StoredObjectRow.id > state.last_id)
                    .order_by(StoredObjectRow.id).limit(batch)
                ).all()
            if not rows:
                return
            live = [r for r in rows if not r.shredded]  # shredded: absence is the expected state
            shredded = len(rows) - len(live)
            found = [(r.document_id, f) for r in live
                     if (f := self._check_object(r.id, r.kind, r.key_id, r.wrapped_key, r.sha256)) is not None]
            numbers = self._item_numbers(tuple({doc for doc, _ in found}))
            new = [replace(f, number=numbers.get(doc)) for doc, f in found]
            state.last_id = rows[-1].id
            state.checked += len(rows)
            state.shredded += shredded
            state.findings.extend(new)
            _append(path, {"type": "batch", "last_id": state.last_id, "checked": state.checked,
                           "shredded": state.shredded, "findings": [f.as_dict() for f in new]})
            if progress:
                progress(state.checked, max(total, state.checked))

    def _check_object(self, object_id: str, kind: str, key_id: str | None, wrapped: bytes | None,
                      sha256: str) -> Finding | None:
        def found(what: FindingKind, detail: str) -> Finding:
            return Finding(what, None, object_id, kind, detail)

        if key_id is None or wrapped is None:
            return found(FindingKind.KEY_UNUSABLE, "wrapped data key missing, but the object is not shredded")
        try:
            self._vault.verify_object(object_id, kind, WrappedKey(key_id, wrapped), sha256)
        except BlobNotFoundError as exc:
            return found(FindingKind.MISSING_BLOB, f"no blob under {exc.key} in the store")
        except IntegrityError as exc:
            what = FindingKind.HASH_MISMATCH if exc.reason == "hash mismatch" else FindingKind.CORRUPT
            return found(what, exc.reason)
        except (WrongKeyError, KeyNotFoundError, DossierKeyGoneError, DossierKeyMissingError) as exc:
            return found(FindingKind.KEY_UNUSABLE, str(exc))  # incl. a dossier key the key ring lacks (issue #12)
        # StorageUnavailableError and KeyUnavailableError propagate: a store or key service that
        # is down says nothing about the objects, and the run resumes once it is back.
        return None

    # ------------------------------------------------------------------ archive-wide checks
    def _check_archive(self) -> tuple[list[Finding], int, int, int]:
        """Orphans, documents without originals, the index and the number series."""
        # Listed before the catalogue is read, so a blob filed meanwhile is matched by its row.
        store_keys = list(self._vault.store.keys())
        findings: list[Finding] = []
        with self._uow.read() as s:
            named = set(s.scalars(select(StoredObjectRow.blob_key)))
        named.update(self._owned_elsewhere())
        findings += [Finding(FindingKind.ORPHAN_BLOB, None, key, None, "no catalogue row names this blob")
                     for key in store_keys if key not in named]
        del named
        with self._uow.read() as s:
            has_original = select(StoredObjectRow.document_id).where(StoredObjectRow.kind == ObjectKind.ORIGINAL)
            for doc_id, number, seq, version in s.execute(self._numbered_documents().where(
                    DocumentRow.id.not_in(has_original))):
                findings.append(Finding(FindingKind.NO_ORIGINAL, item_number(number, seq, self._item_width, version),
                                        doc_id, ObjectKind.ORIGINAL.value, "document has no stored original"))
            shredded = select(StoredObjectRow.document_id).where(StoredObjectRow.shredded_at.is_not(None))
            live = list(s.scalars(select(DocumentRow.id).where(DocumentRow.id.not_in(shredded))))
            documents = s.scalar(select(func.count()).select_from(DocumentRow)) or 0
        check = self._index.check(iter(live))
        del live
        numbers = self._item_numbers(check.missing)
        findings += [Finding(FindingKind.NOT_INDEXED, numbers.get(d), d, None, "document not in the search index")
                     for d in check.missing]
        findings += [Finding(FindingKind.INDEX_EXTRA, None, d, None, "index entry for a document not in the catalogue")
                     for d in check.extra]
        gaps, series = self._number_gaps()
        findings += [Finding(FindingKind.UNSEALABLE, number, number, None, "closed but cannot be sealed; missing: "
                             + "; ".join(missing)) for number, missing in self._unsealable()]
        return findings + gaps, documents, len(store_keys), series

    def _numbered_documents(self) -> Any:
        return (select(DocumentRow.id, DossierRow.archive_number, DocumentRow.item_seq, DocumentRow.version)
                .join(DossierRow, DocumentRow.dossier_id == DossierRow.id))

    def _item_numbers(self, document_ids: tuple[str, ...]) -> dict[str, str]:
        out: dict[str, str] = {}
        if not document_ids:
            return out
        with self._uow.read() as s:
            for i in range(0, len(document_ids), _LOOKUP_CHUNK):
                chunk = document_ids[i:i + _LOOKUP_CHUNK]
                for doc_id, number, seq, version in s.execute(
                        self._numbered_documents().where(DocumentRow.id.in_(chunk))):
                    out[doc_id] = item_number(number, seq, self._item_width, version)
        return out

    def _number_gaps(self) -> tuple[list[Finding], int]:
        """Serials 1..last of each series without a dossier row (ARC-3: numbers are never skipped)."""
        with self._uow.read() as s:
            last = dict(s.execute(select(NumberSeriesRow.series, NumberSeriesRow.last_serial)).all())
            used: dict[str, set[int]] = defaultdict(set)
            for series, serial in s.execute(select(DossierRow.series, DossierRow.serial)):
                used[series].add(serial)
        gaps = [
            Finding(FindingKind.NUMBER_GAP, series.replace("#", f"{serial:0{self._serial_width}d}"), series, None,
                    f"serial {serial} of {last_serial} was handed out but has no dossier row")
            for series, last_serial in sorted(last.items())
            for serial in range(1, last_serial + 1) if serial not in used[series]
        ]
        return gaps, len(last)

    # ------------------------------------------------------------------ runs and checkpoints
    def _start(self, actor: str) -> tuple[_State, Path]:
        now = self._clock()
        base = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self._reports_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for n in range(1, 100):
            run_id = base if n == 1 else f"{base}-{n:02d}"
            try:
                (self._reports_dir / run_id).mkdir(mode=0o700)
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - a hundred runs in one second
            raise FileExistsError(self._reports_dir / base)
        path = self._reports_dir / run_id / PROGRESS_FILE
        _append(path, {"type": "start", "run": run_id, "started_at": now.isoformat(), "actor": actor,
                       "backend": self._vault.store.name})
        return _State(run_id=run_id, started_at=now), path

    def _load_unfinished(self) -> tuple[_State, Path] | None:
        """The newest run, if it never completed; older unfinished runs were superseded."""
        runs = self.runs()
        if not runs:
            return None
        path = runs[-1] / PROGRESS_FILE
        state = _replay(path)
        return None if state is None or state.complete else (state, path)

    def runs(self) -> list[Path]:
        """Every run directory kept in the archive, oldest first."""
        if not self._reports_dir.is_dir():
            return []
        return sorted(p for p in self._reports_dir.iterdir() if (p / PROGRESS_FILE).is_file())


def _replay(path: Path) -> _State | None:
    """Rebuild a run's state from its progress file; a torn last line (a crash mid-write) is cut off."""
    state: _State | None = None
    good = 0
    with open(path, "rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break
            try:
                rec = json.loads(raw)
            except ValueError:
                break
            good += len(raw)
            kind = rec.get("type")
            if kind == "start":
                state = _State(run_id=rec["run"], started_at=datetime.fromisoformat(rec["started_at"]))
            elif state is None:
                return None
            elif kind == "batch":
                state.last_id, state.checked, state.shredded = rec["last_id"], rec["checked"], rec["shredded"]
                state.findings.extend(Finding.from_dict(d) for d in rec["findings"])
            elif kind == "complete":
                state.complete = True
    if state is not None and not state.complete and good < path.stat().st_size:
        os.truncate(path, good)
    return state


def _append(path: Path, record: dict[str, Any]) -> None:
    # One line per record, fsynced: after a crash the file ends at a checkpoint (or a torn line
    # that _replay cuts off), never in a state that claims work which was not done.
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)

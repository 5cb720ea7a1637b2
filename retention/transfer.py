"""BagIt packages of dossiers: transfer out on disposition, export for regulators, import (issue #6 parts 4, 7).

A package is a BagIt bag (RFC 8493, library ``bagit``) with SHA-256 manifests::

    bag-info.txt                      archive, action, disposition/export id, counts, recipient
    data/<number>/metadata.json       registration fields, timeline, documents (kind, sizes, hashes)
    data/<number>/originals/<item>.*  each document's original, decrypted (or a stamped PDF copy)
    data/<number>/text/<item>.txt     extracted text, when there is some (not in regulator copies)

The package is the deliverable of a transfer, so it holds plaintext by design; it is built in a
hidden ``.<name>.partial`` directory next to the target, validated, and only then renamed into
place, so a package under its final name is always complete. Every document of an export is
authorised and access-logged as ``Action.EXPORT`` before its bytes are read (ACS-12); a
regulator recipient must hold a grant covering each dossier and receives watermarked PDF copies
only (ACS-04, ``records.access.watermark``).

``import_bag`` validates a package (any missing, extra or altered file refuses the whole
package) and files it through the ingest pipeline: one new dossier per ``metadata.json``, which
keeps the source archive's number (``source_reference``) and its history — timeline, extensions,
state, sealed or not (issue #10). A package without a timeline is filed as a closed transfer
that runs no clocks. ``BagDesk`` offers both directions to the CLI and the pages.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, tzinfo
from enum import Enum
from pathlib import Path
from typing import IO, Any, Protocol

import bagit
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from records.access.identity import Action, Identity, RequestContext, Role
from records.access.policy import target_of
from records.access.service import AccessService
from records.mapping import parse_registration
from records.db import UnitOfWork
from records.lookup import CatalogueLookup
from records.model import DocumentInfo, DocumentKind, DossierInfo, DossierState, Extension, Registration, Transition
from records.outbox import IndexChange, entry_of
from records.service import RecordsService
from records.tables import DossierRow, ExtensionRow, TransitionRow
from records.errors import DataIntegrityError, InvalidRegistrationError, NotAllowedInStateError
from retention.errors import RetentionError
from records.durable import fsync_dir

log = logging.getLogger(__name__)

__all__ = [
    "BagDesk", "BagExistsError", "BagIngest", "BagInvalidError", "BagReport", "ImportReport", "ImportedDocument",
    "ImportedDossier", "export_bag", "import_bag", "validate_bag", "write_bag",
]

ARCHIVE_NAME = "Dossier complaint archive"
_NO_CONTEXT = RequestContext()
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BagExistsError(RetentionError, NotAllowedInStateError):
    """The package directory exists already; packages are never overwritten."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} exists already; choose a new directory for the package")
        self.path = str(path)


class BagInvalidError(RetentionError, DataIntegrityError, ValueError):
    """A BagIt package is not a bag, or a file is missing, extra or altered; nothing was imported.

    An integrity failure (exit 6), not invalid input: the package's own manifests are what it fails.
    """

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"package {path} is not valid: {problem}")
        self.path = str(path)
        self.problem = problem


# ---------------------------------------------------------------------- seams
# The records core and access are typed as what they are (``RecordsService``, ``AccessService``);
# ingest stays a seam: importing its service here would load the whole pipeline with retention.
class _IngestResult(Protocol):
    @property
    def outcome(self) -> Any: ...
    @property
    def item_number(self) -> str | None: ...
    @property
    def message(self) -> str | None: ...


class BagIngest(Protocol):
    """What an import files the package's originals through (``ingest.service.IngestService`` is one)."""

    def ingest_paths(self, actor: str, paths: Sequence[Path], *, dossier: str,
                     kind: DocumentKind | None = None) -> Sequence[_IngestResult]: ...


# ---------------------------------------------------------------------- writing
Admit = Callable[[DossierInfo, DocumentInfo], "list[str] | None"]
"""Called before a document's bytes are read: raises to refuse, returns stamp lines to watermark."""


@dataclass(frozen=True, slots=True)
class BagReport:
    path: Path
    dossiers: int
    documents: int
    payload_oxum: str
    tagmanifest_sha256: str


def _safe(name: str) -> str:
    return _SAFE.sub("_", name).strip("._") or "item"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _registration_json(reg: Registration) -> dict[str, Any]:
    return {f.name: _jsonable(getattr(reg, f.name)) for f in fields(reg)}


def write_bag(records: RecordsService, dossiers: Sequence[DossierInfo], bag_dir: Path, *, actor: str,
              bag_info: Mapping[str, str], admit: Admit | None = None, with_text: bool = True,
              watermark: Callable[[bytes, str, list[str], str | None], tuple[bytes, str]] | None = None) -> BagReport:
    """Write a validated BagIt package of ``dossiers`` to ``bag_dir`` (which must not exist).

    Raises:
        BagExistsError: ``bag_dir`` exists.
        IntegrityError: a stored original failed authentication (nothing is left behind).
    """
    if bag_dir.exists():
        raise BagExistsError(bag_dir)
    bag_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = bag_dir.with_name(f".{bag_dir.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)  # a crashed earlier attempt
    staging.mkdir(mode=0o700)
    try:
        documents = 0
        for info in dossiers:
            documents += _write_dossier(records, info, staging / _safe(info.archive_number), actor=actor,
                                        admit=admit, with_text=with_text, watermark=watermark)
        info_fields = {"Source-Organization": ARCHIVE_NAME, **bag_info,
                       "Dossier-Count": str(len(dossiers)), "Document-Count": str(documents)}
        bagit.make_bag(str(staging), bag_info=info_fields, checksums=["sha256"])
        report = validate_bag(staging)
        _fsync_tree(staging)
        os.replace(staging, bag_dir)
        fsync_dir(bag_dir.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("package %s written: %d dossier(s), %d document(s)", bag_dir, len(dossiers), documents)
    return BagReport(bag_dir, len(dossiers), documents, report.payload_oxum, report.tagmanifest_sha256)


def _write_dossier(records: RecordsService, info: DossierInfo, folder: Path, *, actor: str, admit: Admit | None,
                   with_text: bool, watermark: Callable[[bytes, str, list[str], str | None], tuple[bytes, str]] | None,
                   ) -> int:
    (folder / "originals").mkdir(parents=True)
    docs: list[dict[str, Any]] = []
    for doc in info.documents:
        lines = admit(info, doc) if admit is not None else None
        text: str | None = None
        if with_text or lines is not None:
            text = _text_of(records, actor, doc.item_number)
        _, stream = records.retrieve_document(actor, doc.item_number)
        stamped = lines is not None and watermark is not None
        if stamped:
            assert watermark is not None and lines is not None
            data, media_type = watermark(b"".join(stream), doc.media_type, lines, text)
            rel = f"originals/{_safe(doc.item_number)}.pdf"
            file_sha, file_size = _write_file(folder / rel, [data])
        else:
            media_type = doc.media_type
            rel = f"originals/{_safe(doc.item_number)}{_extension(doc)}"
            file_sha, file_size = _write_file(folder / rel, stream)
            if file_sha != doc.sha256:  # retrieve_document checks this too; a package must never lie
                raise BagInvalidError(folder, f"{doc.item_number} did not match its recorded SHA-256")
        text_rel = None
        if with_text and text:
            (folder / "text").mkdir(exist_ok=True)
            text_rel = f"text/{_safe(doc.item_number)}.txt"
            _write_file(folder / text_rel, [text.encode("utf-8")])
        docs.append({
            "item_number": doc.item_number, "version": doc.version, "kind": doc.kind.value,
            "filename": doc.filename, "media_type": doc.media_type, "size": doc.size, "sha256": doc.sha256,
            "received_at": _jsonable(doc.received_at), "channel": _jsonable(doc.channel), "source": doc.source.value,
            "parent_item": doc.parent_item, "supersedes_item": doc.supersedes_item,
            "filed_at": _jsonable(doc.filed_at), "filed_by": doc.filed_by, "outcome": doc.outcome,
            "pages": doc.pages, "languages": list(doc.languages),
            "file": rel, "file_media_type": media_type, "file_size": file_size, "file_sha256": file_sha,
            "watermarked": stamped, "text_file": text_rel,
        })
    metadata = {
        "format": "dossier-package", "version": 1, "archive_number": info.archive_number, "state": info.state.value,
        "registration": _registration_json(info.registration),
        "registered_at": _jsonable(info.registered_at), "registered_by": info.registered_by,
        "timeline": [{"state": t.state.value, "on": t.on.isoformat(), "at": t.at.isoformat(), "actor": t.actor,
                      "note": t.note} for t in info.transitions],
        "extensions": [{"days": e.days, "reason": e.reason, "approved_by": e.approved_by,
                        "recorded_at": e.recorded_at.isoformat()} for e in info.extensions],
        "void_reason": info.void_reason, "source_reference": info.source_reference, "documents": docs,
    }
    _write_file(folder / "metadata.json",
                [json.dumps(metadata, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")])
    return len(docs)


def _text_of(records: RecordsService, actor: str, item: str) -> str | None:
    from records.errors import DocumentNotFoundError

    try:
        return records.document_text(actor, item)[1]
    except DocumentNotFoundError:  # nothing was extracted from it
        return None


def _extension(doc: DocumentInfo) -> str:
    suffix = Path(doc.filename).suffix.lower()
    if suffix and _SAFE.sub("", suffix[1:]) == suffix[1:] and len(suffix) <= 10:
        return suffix
    return mimetypes.guess_extension(doc.media_type.split(";")[0].strip()) or ".bin"


def _write_file(path: Path, chunks: Iterable[bytes]) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        for chunk in chunks:
            h.update(chunk)
            size += len(chunk)
            f.write(chunk)
    return h.hexdigest(), size




def _fsync_tree(root: Path) -> None:
    # A disposition destroys the keys right after the package is written: it must be on disk first.
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            fd = os.open(Path(dirpath) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


# ---------------------------------------------------------------------- validating
@dataclass(frozen=True, slots=True)
class _Validated:
    bag: bagit.Bag
    payload_oxum: str
    tagmanifest_sha256: str


def validate_bag(path: Path) -> _Validated:
    """Open and fully validate a package (every payload file against its SHA-256).

    Raises:
        BagInvalidError: not a bag, or anything missing, extra, or altered.
    """
    try:
        bag = bagit.Bag(str(path))
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        details = "; ".join(str(d) for d in exc.details[:5]) if exc.details else str(exc)
        raise BagInvalidError(path, details) from exc
    except bagit.BagError as exc:
        raise BagInvalidError(path, str(exc)) from exc
    if "sha256" not in bag.algorithms:
        raise BagInvalidError(path, "no SHA-256 manifest")
    tagmanifest = Path(path) / "tagmanifest-sha256.txt"
    digest = hashlib.sha256(tagmanifest.read_bytes()).hexdigest() if tagmanifest.exists() else ""
    return _Validated(bag, str(bag.info.get("Payload-Oxum", "")), digest)


# ---------------------------------------------------------------------- export for regulators (part 7)
def export_bag(records: RecordsService, access: AccessService, numbers: Sequence[str], bag_dir: Path, *,
               operator: Identity, recipient: str | None, tz: tzinfo, now: datetime,
               purpose: str | None = None, context: RequestContext = _NO_CONTEXT) -> BagReport:
    """Export dossiers as a package for ``recipient`` (ACS-12): every document authorised and logged.

    The operator's ``Action.EXPORT`` is decided and logged per document before its bytes are
    read. A regulator recipient must also hold an active grant covering each dossier (decided and
    logged as their ``DOWNLOAD_DOCUMENT``), and gets watermarked PDF copies only, without the
    extracted text (which would carry the content unstamped).

    Raises:
        DossierNotFoundError, UserNotFoundError: an unknown number or recipient.
        AccessDeniedError, GrantExpiredError: a refusal (already logged; the package is discarded).
        WatermarkError: a document cannot be stamped; a regulator is never sent an original.
        BagExistsError: ``bag_dir`` exists.
    """
    dossiers = [records.get_dossier(operator.name, n) for n in dict.fromkeys(numbers)]
    who = access.identity(recipient) if recipient else None
    regulator = who is not None and who.role is Role.REGULATOR
    package = bag_dir.name
    details = {"package": package, "recipient": recipient or "-", **({"purpose": purpose} if purpose else {})}
    grants: dict[str, Any] = {}
    if regulator:
        assert who is not None
        for info in dossiers:
            decision = access.enforce(who, Action.DOWNLOAD_DOCUMENT, target_of(info, tz), context=context,
                                      details={**details, "exported_by": operator.name})
            grants[info.archive_number] = next((g for g in who.grants if g.grant_id == decision.grant_id), None)

    def admit(info: DossierInfo, doc: DocumentInfo) -> list[str] | None:
        access.enforce(operator, Action.EXPORT, target_of(info, tz, item_number=doc.item_number),
                       context=context, details=details)
        if not regulator:
            return None
        from records.access.watermark import stamp_lines

        assert who is not None
        return [*stamp_lines(who, grants.get(info.archive_number), now, tz), f"{doc.item_number} · {package}"]

    def stamp(data: bytes, media_type: str, lines: list[str], text: str | None) -> tuple[bytes, str]:
        from records.access.watermark import watermark_document

        return watermark_document(data, media_type, lines, text=text)

    info_fields = {"External-Identifier": package, "Dossier-Action": "export",
                   "Dossier-Recipient": recipient or "-", "Dossier-Watermarked": "yes" if regulator else "no"}
    if purpose:
        info_fields["External-Description"] = purpose
    return write_bag(records, dossiers, bag_dir, actor=operator.name, bag_info=info_fields, admit=admit,
                     with_text=not regulator, watermark=stamp if regulator else None)


# ---------------------------------------------------------------------- import
@dataclass(frozen=True, slots=True)
class ImportedDocument:
    source_item: str
    outcome: str
    item_number: str | None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class ImportedDossier:
    """One dossier of a package as filed here.

    ``source_number`` is its number in the archive it came from, kept on the dossier as
    ``source_reference``; ``state`` the state it has here. ``closed_transfer``: the package carried
    no timeline, so it was filed closed (no clocks run). ``already``: an earlier import of the
    same package filed it; nothing was changed.
    """

    source_number: str
    archive_number: str
    documents: tuple[ImportedDocument, ...]
    state: str = ""
    closed_transfer: bool = False
    already: bool = False


@dataclass(frozen=True, slots=True)
class ImportReport:
    path: Path
    dossiers: tuple[ImportedDossier, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class _History:
    """What a package says of a dossier's life: the timeline to keep, its extensions, its state."""

    state: DossierState
    steps: tuple[Transition, ...]
    extensions: tuple[Extension, ...]
    void_reason: str | None
    closed_transfer: bool


Replan = Callable[[str, str, Sequence[str]], object]
"""Re-plans the retention of dossiers: (actor, reason, numbers); ``RetentionService.plan`` is one."""

_PENDING = "importing from "   # the note of an import's registration step until its history is filed


def import_bag(records: RecordsService, access: AccessService, ingest: BagIngest, bag_dir: Path, *,
               uow: UnitOfWork, operator: Identity, tz: tzinfo, now: datetime,
               details: Mapping[str, str] | None = None, context: RequestContext = _NO_CONTEXT,
               plan: Replan | None = None) -> ImportReport:
    """Validate a package, then file each dossier in it with its originals and its history.

    The operator's ``Action.IMPORT`` is decided and logged first. Nothing is filed unless the
    whole package validates. Each dossier gets a new number here and keeps the source archive's
    number as its ``source_reference``; each original goes through the ingest pipeline (detection,
    extraction/OCR, encryption) with the kind the package records, under its original file name.
    Then the dossier takes the source's history: its timeline (steps with their dates, actors and
    notes), extensions (TL-03), withdrawal reason and state — a sealed dossier stays sealed
    (ARC-1-05) and is planned under the retention schedule like our own sealed ones (RET). A
    package without a timeline (an older or a foreign format) is filed as a closed transfer: the
    receipt, then one ``closed`` step noting where it came from; it runs no clocks.

    Importing the same package again changes nothing: a dossier already filed from it (same
    source number and receipt time) is reported as ``already``; one whose import was cut short
    is completed.

    Raises:
        AccessDeniedError: the policy refuses ``operator`` the import (logged).
        BagInvalidError: not a valid package, or a timeline that does not hold together (nothing imported).
        InvalidRegistrationError: a dossier's registration fields are not acceptable here.
    """
    access.enforce(operator, Action.IMPORT, None, context=context, object_ref=Path(bag_dir).name, details=details)
    return _import_decided(records, ingest, bag_dir, uow=uow, operator=operator, tz=tz, now=now, plan=plan)


def _import_decided(records: RecordsService, ingest: BagIngest, bag_dir: Path, *, uow: UnitOfWork,
                    operator: Identity, tz: tzinfo, now: datetime, plan: Replan | None) -> ImportReport:
    """:func:`import_bag` once the policy has allowed it (and the decision is logged)."""
    actor = operator.name
    validated = validate_bag(bag_dir)
    data = Path(validated.bag.path) / "data"
    metas = sorted(data.glob("*/metadata.json"))
    if not metas:
        raise BagInvalidError(bag_dir, "no data/<number>/metadata.json in the package")
    organisation = str(validated.bag.info.get("Source-Organization") or "").strip() or "another archive"
    today = now.astimezone(tz).date()
    plans = []
    for meta_path in metas:  # everything is read and checked before the first dossier is opened
        meta = _read_metadata(bag_dir, meta_path)
        registration = parse_registration(
            {k: v for k, v in meta["registration"].items() if v not in (None, "", [])}, tz, now=now)
        source = str(meta.get("archive_number") or meta_path.parent.name)
        history = _history_of(bag_dir, meta, registration, source=source, organisation=organisation, actor=actor,
                              now=now, today=today, tz=tz)
        plans.append((meta_path, meta, registration, source, history))
    out: list[ImportedDossier] = []
    for meta_path, meta, registration, source, history in plans:
        existing = _already_imported(uow, records.lookup, source, registration.received_at)
        if existing is not None and not existing[1]:
            out.append(ImportedDossier(source, existing[0], (), existing[2], history.closed_transfer, already=True))
            log.info("dossier %s of %s was imported before as %s; unchanged", source, bag_dir, existing[0])
            continue
        number = existing[0] if existing is not None else _register(records, uow, actor, registration, source, tz)
        results = _file_documents(ingest, actor, bag_dir, meta_path, meta, number)
        _file_history(records, uow, number, source, history, now)
        if plan is not None and history.state is DossierState.SEALED:
            plan(actor, f"imported sealed from {organisation} ({source})", [number])
        out.append(ImportedDossier(source, number, tuple(results), history.state.value, history.closed_transfer))
        log.info("imported dossier %s from %s as %s (%s, %d document(s))", source, bag_dir, number,
                 history.state.value, len(results))
    return ImportReport(bag_dir, tuple(out))


def _history_of(bag_dir: Path, meta: Mapping[str, Any], registration: Registration, *, source: str,
                organisation: str, actor: str, now: datetime, today: date, tz: tzinfo) -> _History:
    """The history a package gives a dossier (see :func:`import_bag`); a broken one refuses the package."""
    where = f"{source}/metadata.json"
    raw = meta.get("timeline")
    if not raw:  # no timeline: a closed transfer that runs no clocks
        received = registration.received_at
        transfer = (Transition(DossierState.REGISTERED, received.astimezone(tz).date(), received,
                       str(meta.get("registered_by") or organisation)),
                 Transition(DossierState.CLOSED, today, now, actor,
                       f"transferred from {organisation} ({source}) on {today.isoformat()}"))
        return _History(DossierState.CLOSED, transfer, (), None, closed_transfer=True)
    try:
        steps = tuple(Transition(DossierState(t["state"]), date.fromisoformat(str(t["on"])), _aware(t["at"], tz),
                            str(t["actor"]), str(t["note"]) if t.get("note") else None) for t in raw)
        extensions = tuple(Extension(int(e["days"]), str(e["reason"]), str(e["approved_by"]),
                                     _aware(e["recorded_at"], tz)) for e in meta.get("extensions") or ())
        state = DossierState(meta.get("state") or steps[-1].state)
    except (TypeError, KeyError, ValueError) as exc:
        raise BagInvalidError(bag_dir, f"{where}: the timeline cannot be read ({exc})") from exc
    if state is not steps[-1].state:
        raise BagInvalidError(bag_dir, f"{where}: state {state} is not the timeline's last step ({steps[-1].state})")
    if state is DossierState.DISPOSED:
        raise BagInvalidError(bag_dir, f"{where}: a disposed dossier has no documents left to import")
    if any(b.on < a.on for a, b in zip(steps, steps[1:])):
        raise BagInvalidError(bag_dir, f"{where}: the timeline's dates are not in order")
    void_reason = meta.get("void_reason")
    return _History(state, steps, extensions, str(void_reason) if void_reason else None, closed_transfer=False)


def _aware(value: object, tz: tzinfo) -> datetime:
    moment = datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def _already_imported(uow: UnitOfWork, lookup: CatalogueLookup, source: str,
                      received_at: datetime) -> tuple[str, bool, str] | None:
    """(number, import unfinished, state) of the dossier an earlier import filed from ``source``, if any."""
    with uow.read() as s:
        for row in s.scalars(select(DossierRow).where(DossierRow.source_reference == source)
                             .options(selectinload(DossierRow.transitions))):
            if row.received_at == received_at:
                steps = row.transitions
                # The note is sealed (issue #12): opened here, compared in Python.
                pending = len(steps) == 1 and (lookup.open(row.id, "transition.note", steps[0].note) or "").startswith(_PENDING)
                return row.archive_number, pending, row.state
    return None


def _register(records: RecordsService, uow: UnitOfWork, actor: str, registration: Registration, source: str,
              tz: tzinfo) -> str:
    """Open the dossier under a new number, marked as an import of ``source`` still under way.

    ``register_complaint`` makes the dossier's own key before its commit (issue #12); the marker
    note and, later, the source's history are sealed under it.
    """
    try:
        number = records.register_complaint(actor, registration).archive_number
    except InvalidRegistrationError as exc:
        if exc.field != "sla_profile":
            raise
        # A time-limit profile this archive does not know: its default applies (the clocks of a
        # finished dossier do not run here anyway).
        number = records.register_complaint(actor, replace(registration, sla_profile=None)).archive_number
    with uow.write() as s:
        row = CatalogueLookup.dossier_row(s, number, load_all=True)
        row.source_reference = source
        row.transitions[0].note = records.lookup.seal(row.id, "transition.note", f"{_PENDING}{source}")
    return number


def _file_documents(ingest: BagIngest, actor: str, bag_dir: Path, meta_path: Path, meta: Mapping[str, Any],
                    number: str) -> list[ImportedDocument]:
    results: list[ImportedDocument] = []
    with tempfile.TemporaryDirectory(prefix="dossier-import-") as links:
        for n, doc in enumerate(meta.get("documents", [])):
            source = _inside(bag_dir, meta_path.parent, str(doc["file"]))
            # A link named like the original keeps its file name in the catalogue; no bytes are copied.
            name = Path(str(doc.get("filename") or source.name)).name or source.name
            link = Path(links) / str(n) / name
            link.parent.mkdir()
            link.symlink_to(source.resolve())
            kind = DocumentKind(doc["kind"]) if doc.get("kind") in DocumentKind.__members__.values() else None
            for r in ingest.ingest_paths(actor, [link], dossier=number, kind=kind):
                outcome = str(getattr(r.outcome, "value", r.outcome))
                results.append(ImportedDocument(str(doc.get("item_number")), outcome, r.item_number, r.message))
    return results


def _file_history(records: RecordsService, uow: UnitOfWork, number: str, source: str, history: _History,
                  now: datetime) -> None:
    """Give the dossier the source's timeline, extensions and state, in one transaction.

    Notes, extension reasons and the withdrawal reason are sealed under the dossier's key (issue
    #12); ``lookup.seal`` makes the key first if an interrupted import left the dossier without one,
    so the key is durable before this commit writes anything sealed under it.
    """
    lookup = records.lookup
    with uow.write() as s:
        row = CatalogueLookup.dossier_row(s, number, load_all=True)
        row.transitions.clear()
        s.flush()  # the import's own registration step goes before the source's steps come in
        for step in history.steps:
            row.transitions.append(TransitionRow(state=step.state, on=step.on, at=step.at, actor=step.actor,
                                                 note=lookup.seal(row.id, "transition.note", step.note)))
        row.extensions.clear()
        for e in history.extensions:
            row.extensions.append(ExtensionRow(days=e.days, reason=lookup.seal(row.id, "extension.reason", e.reason),
                                               approved_by=e.approved_by, recorded_at=e.recorded_at))
        row.state = history.state
        row.void_reason = lookup.seal(row.id, "void_reason", history.void_reason)
        row.source_reference = source
        # The index holds each document's dossier state: it must follow.
        change = records.announcer.record(s, IndexChange.DOSSIER_CHANGED, row.archive_number, now)
        s.flush()
        entries = [entry_of(change)]
    records.announcer.announce(entries)


MAX_UNPACKED_BYTES = 20 * 1024**3   # an uploaded package may unpack to at most this much
_ZIP_READ = 1024 * 1024


def unpack_zip(archive: IO[bytes], into: Path) -> Path:
    """Unpack a zipped package into the empty directory ``into``; returns the bag's top directory.

    The zip is outside input: no member may leave ``into`` (absolute or ``..`` paths), links are
    refused, and the whole may not unpack to more than :data:`MAX_UNPACKED_BYTES`. The bag is
    ``into`` itself or the one directory in it that holds ``bagit.txt``.

    Raises:
        BagInvalidError: not a zip, an unsafe member, too large, or no bag inside.
    """
    name = getattr(archive, "filename", None) or "package.zip"
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                raise BagInvalidError(name, f"it unpacks to more than {MAX_UNPACKED_BYTES // 1024**3} GiB")
            root = into.resolve()
            for m in members:
                target = (root / m.filename).resolve()
                if m.filename.startswith(("/", "\\")) or not target.is_relative_to(root) \
                        or stat.S_ISLNK(m.external_attr >> 16):
                    raise BagInvalidError(name, f"{m.filename!r} is not a plain file inside the package")
                if m.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(m) as src, open(target, "xb") as dst:
                    shutil.copyfileobj(src, dst, _ZIP_READ)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise BagInvalidError(name, f"not a readable zip file ({exc})") from exc
    except FileExistsError as exc:
        raise BagInvalidError(name, f"{exc.filename} appears twice in the zip") from exc
    if (into / "bagit.txt").is_file():
        return into
    bags = [d for d in into.iterdir() if d.is_dir() and (d / "bagit.txt").is_file()]
    if len(bags) != 1:
        raise BagInvalidError(name, "the zip holds no BagIt package (no bagit.txt at its top or in one folder)")
    return bags[0]


def zip_bag(bag_dir: Path, target: Path) -> Path:
    """Zip a package directory as ``<bag name>/…`` into ``target`` (which must not exist)."""
    with zipfile.ZipFile(target, "x", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(bag_dir.rglob("*")):
            if path.is_file():
                zf.write(path, Path(bag_dir.name) / path.relative_to(bag_dir))
    return target


class _LazyIngest:
    """The ingest pipeline, built at the first document: a refused or invalid import never builds it."""

    def __init__(self, build: Callable[[], BagIngest]) -> None:
        self._build = build

    def ingest_paths(self, actor: str, paths: Sequence[Path], *, dossier: str,
                     kind: DocumentKind | None = None) -> Sequence[_IngestResult]:
        return self._build().ingest_paths(actor, paths, dossier=dossier, kind=kind)


class BagDesk:
    """BagIt export and import as one service for every door (CLI, pages); each call decided and logged.

    Args:
        uow: the catalogue (an import files the source's history).
        records, access: the records core and the access service.
        ingest: the ingest pipeline, asked for only when a package is imported (it is heavy to build).
        plan: re-plans retention (``RetentionService.plan``): a sealed import is planned like our own.
        clock: the archive's now.
    """

    def __init__(self, uow: UnitOfWork, records: RecordsService, access: AccessService, *,
                 ingest: Callable[[], BagIngest], plan: Replan | None, clock: Callable[[], datetime]) -> None:
        self._uow = uow
        self._records = records
        self._access = access
        self._ingest = ingest
        self._plan = plan
        self._clock = clock

    def export(self, who: Identity, numbers: Sequence[str], bag_dir: Path, *, tz: tzinfo,
               recipient: str | None = None, purpose: str | None = None,
               context: RequestContext = _NO_CONTEXT) -> BagReport:
        """See :func:`export_bag` (EXPORT per document, logged)."""
        return export_bag(self._records, self._access, numbers, bag_dir, operator=who, recipient=recipient, tz=tz,
                          now=self._clock(), purpose=purpose, context=context)

    def export_zip(self, who: Identity, numbers: Sequence[str], workdir: Path, name: str, *, tz: tzinfo,
                   recipient: str | None = None, purpose: str | None = None,
                   context: RequestContext = _NO_CONTEXT) -> tuple[Path, BagReport]:
        """:meth:`export` into ``workdir/name``, zipped as ``workdir/name.zip`` for a download."""
        report = self.export(who, numbers, workdir / name, tz=tz, recipient=recipient, purpose=purpose,
                             context=context)
        return zip_bag(report.path, workdir / f"{name}.zip"), report

    def import_zip(self, who: Identity, archive: IO[bytes], name: str, *, tz: tzinfo, workdir: Path,
                   context: RequestContext = _NO_CONTEXT, details: Mapping[str, str] | None = None) -> ImportReport:
        """Import a zipped package (an upload named ``name``), unpacked into the empty ``workdir``.

        IMPORT is decided and logged before a byte of the zip is read.

        Raises:
            AccessDeniedError: refused (logged). BagInvalidError: not a safe zip of a valid package.
        """
        self._access.enforce(who, Action.IMPORT, None, context=context, object_ref=name[:200] or "upload",
                             details=details)
        bag_dir = unpack_zip(archive, workdir)
        return _import_decided(self._records, _LazyIngest(self._ingest), bag_dir, uow=self._uow, operator=who,
                               tz=tz, now=self._clock(), plan=self._plan)

    def import_bag(self, who: Identity, bag_dir: Path, *, tz: tzinfo, context: RequestContext = _NO_CONTEXT,
                   details: Mapping[str, str] | None = None) -> ImportReport:
        """See :func:`import_bag` (IMPORT, logged)."""
        return import_bag(self._records, self._access, _LazyIngest(self._ingest), bag_dir, uow=self._uow, operator=who, tz=tz,
                          now=self._clock(), details=details, context=context, plan=self._plan)


def _read_metadata(bag_dir: Path, path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BagInvalidError(bag_dir, f"{path.parent.name}/metadata.json unreadable: {exc}") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("registration"), dict) \
            or not isinstance(meta.get("documents", []), list):
        raise BagInvalidError(bag_dir, f"{path.parent.name}/metadata.json is not a dossier description")
    for doc in meta.get("documents", []):
        if not isinstance(doc, dict) or "file" not in doc:
            raise BagInvalidError(bag_dir, f"{path.parent.name}/metadata.json names a document without a file")
        _inside(bag_dir, path.parent, str(doc["file"]))
    return meta


def _inside(bag_dir: Path, folder: Path, rel: str) -> Path:
    target = (folder / rel).resolve()
    if not target.is_relative_to((Path(bag_dir) / "data").resolve()) or not target.is_file():
        raise BagInvalidError(bag_dir, f"{folder.name}: {rel!r} is not a file of the package")
    return target

"""Backup and restore of a whole archive, and the replay that keeps destroyed dossiers destroyed (RET, ARC-6; issue #12 item 4).

``dossier backup DEST`` takes a consistent **online** backup while the app runs:

1. the access log's checkpoint file (first: the file may lag the catalogue, never lead it, or a
   restored log would read as truncated);
2. the catalogue — SQLite through its online backup API (a consistent copy while writers go on),
   PostgreSQL through ``pg_dump -Fc`` on an exported snapshot, the same snapshot the object list
   is read from;
3. the vault's objects that snapshot references with a live key (documents, and queued uploads'
   staging copies), copied through the
   ``BlobStore`` API into ``DEST/vault`` laid out like a local store (so a restore reads it with
   ``LocalBlobStore``, whatever the source store was);
4. ``retention.toml`` and ``dossier.toml`` if present;
5. ``manifest.json`` LAST and atomically: every file with its size and SHA-256, the catalogue
   kind and schema revision, the archive clock's time, and where the source archive keeps its
   key material. A backup without a manifest is unfinished: running the same command again
   completes it, reusing every object already copied (write-once, size checked) and dropping
   any copied object the new snapshot no longer references (destroyed in between).

NOT in a backup: the master key, the dossier key ring, the audit signing key, ``search.key``
and the destruction ledger. They are key material, backed up by their own path (docs/backup.md):
a backup that carried the key ring would carry the keys of dossiers destroyed after it.

``dossier restore SRC`` restores into an empty data directory (:class:`Restore`): key material
from where the settings point (else from the source archive's recorded paths, the same-machine
case), the catalogue, ``alembic upgrade head`` (the backup may be older), the objects; then,
with the archive open, it **replays the destruction ledger** (``retention.ledger``): every
dossier the ledger — or the key ring's own record of destroyed keys — names is destroyed again,
whatever state the old backup had it in; then the search index is rebuilt from the live
documents, and the inventory and ``audit verify`` run. A state file in the data directory says
which steps finished, so a restore killed at any point is completed by running it again.

Crash points for tests: ``DOSSIER_CRASH_AT=backup:catalogue|backup:objects|backup:manifest|
restore:catalogue|restore:objects|restore:replay`` makes the process SIGKILL itself there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from migrations import head_revision, migrate
from records.access.identity import Action, Identity, RequestContext
from records.access.tables import dossier_target
from records.clock import Clock
from records.db import make_engine
from records.durable import fsync_dir, write_atomic
from records.model import DossierState
from records.redact import masked_url
from records.sealing import is_sealed
from records.settings import Settings
from records.tables import DocumentRow, DossierRow, StoredObjectRow
from records.vault import BlobKey, BlobNotFoundError, BlobStore, blob_key_for, open_blob_store, prepare_blob_store
from records.vault.backends.local import LocalBlobStore
from retention.errors import (
    BackupExistsError, BackupInvalidError, BackupToolMissingError, KeyMaterialMissingError, RestoreTargetNotEmptyError,
)
from retention.ledger import DestructionLedger, LedgerEntry

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from records.access.gate import Gate
    from records.access.service import AccessService
    from records.db import UnitOfWork
    from records.service import RecordsService
    from records.vault import Vault
    from retention.dispositions import DisposalIndex
    from retention.inventory import InventoryService

__all__ = ["BackupReport", "Restore", "RestoreReport", "key_material", "take_backup"]

log = logging.getLogger(__name__)

FORMAT = "dossier-backup"
VERSION = 1
MANIFEST = "manifest.json"
STATE_FILE = "restore-state.json"
CRASH_AT_ENV = "DOSSIER_CRASH_AT"
_SQLITE_FILE = "catalogue.sqlite3"
_PG_FILE = "catalogue.pgdump"
_CHECKPOINTS = "files/audit-checkpoints.jsonl"
_CERTIFICATES = "files/dispositions"
_CHUNK = 1024 * 1024
_REQUIRED_KEYS = ("master_key", "dossier_keyring", "audit_signing_key")


def _crash_point(name: str) -> None:
    """Test hook: SIGKILL this process at ``name`` when DOSSIER_CRASH_AT says so (see the module docstring)."""
    if os.environ.get(CRASH_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def key_material(settings: Settings) -> dict[str, Path]:
    """Where this archive keeps its key material (never in a backup): name → path.

    The master key is a file only with ``keys.provider = 'file'``; with OpenBao or a KMS it lives
    in the key service and is backed up there.
    """
    out: dict[str, Path] = {}
    if settings.keys.provider == "file":
        out["master_key"] = settings.key_file
    out["dossier_keyring"] = settings.dossier_keyring
    out["audit_signing_key"] = settings.audit_signing_key
    out["audit_signing_key_pub"] = settings.audit_signing_key.with_suffix(".pub")
    out["search_key"] = settings.data_dir / "search.key"
    out["destruction_ledger"] = settings.destruction_ledger
    return out


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _hashing(chunks: Iterable[bytes], h: Any) -> Iterator[bytes]:
    for chunk in chunks:
        h.update(chunk)
        yield chunk


def _copy_file(src: Path, dst: Path, *, mode: int = 0o600) -> None:
    """``src`` to ``dst`` durably and atomically (temp, fsync, rename, fsync dir)."""
    dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.partial")
    with src.open("rb") as fin, open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as fout:
        shutil.copyfileobj(fin, fout, _CHUNK)
        fout.flush()
        os.fsync(fout.fileno())
    os.replace(tmp, dst)
    fsync_dir(dst.parent)


def _sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    return Path(u.database) if u.get_backend_name() == "sqlite" and u.database else None


def _pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore``: on PATH, else the newest under /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise BackupToolMissingError(name)


def _pg_command_env(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the PostgreSQL tools, the password in the environment (not in ps)."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    plain = u.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


# ====================================================================== backup
@dataclass(frozen=True, slots=True)
class BackupReport:
    """What ``dossier backup`` did (``--json``)."""

    dest: Path
    catalogue: str              # "sqlite" | "postgresql"
    schema_revision: str
    created_at: datetime
    objects: int                # objects in the backup
    objects_copied: int         # copied by this run (the rest were there from an interrupted run)
    objects_missing: tuple[str, ...]  # referenced with a key, but gone from the store (see the log)
    files: int
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {"ok": not self.objects_missing, "dest": str(self.dest), "catalogue": self.catalogue,
                "schema_revision": self.schema_revision, "created_at": self.created_at.isoformat(),
                "objects": self.objects, "objects_copied": self.objects_copied,
                "objects_missing": list(self.objects_missing), "files": self.files, "bytes": self.bytes,
                "manifest": str(self.dest / MANIFEST)}


def take_backup(settings: Settings, store: BlobStore, dest: Path, *, access: AccessService, who: Identity,
                clock: Clock, context: RequestContext | None = None, details: Mapping[str, str] | None = None,
                progress: Callable[[int, int], None] | None = None) -> BackupReport:
    """Back the running archive up into ``dest`` (see the module docstring).

    Decided and logged as MANAGE_KEYS (a backup is the whole archive, sealed: the key holders' business).

    Raises:
        BackupExistsError: ``dest`` already holds a finished backup.
        BackupToolMissingError: a PostgreSQL catalogue and no ``pg_dump``.
        AccessDeniedError: the caller may not.
    """
    dest = Path(dest)
    if (dest / MANIFEST).exists():
        raise BackupExistsError(str(dest))
    access.enforce(who, Action.MANAGE_KEYS, None, context=context or RequestContext(),
                   details={**(details or {}), "operation": "backup", "dest": str(dest)})
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    files: dict[str, dict[str, Any]] = {}

    # 1. The checkpoint file before the catalogue: it may lag the snapshot, never lead it.
    if settings.audit_checkpoint_file.exists():
        _copy_file(settings.audit_checkpoint_file, dest / _CHECKPOINTS)
        files[_CHECKPOINTS] = {}

    # 2. The catalogue, and the objects its snapshot references with a live key.
    sqlite_src = _sqlite_path(settings.database_url)
    if sqlite_src is not None:
        kind, catalogue_file = "sqlite", _SQLITE_FILE
        revision, wanted = _sqlite_snapshot(sqlite_src, dest / _SQLITE_FILE)
    else:
        kind, catalogue_file = "postgresql", _PG_FILE
        revision, wanted = _pg_snapshot(settings.database_url, dest / _PG_FILE)
    files[catalogue_file] = {}
    _crash_point("backup:catalogue")

    # 3. The objects, through the BlobStore API, into a local-store layout.
    vault_dir = dest / "vault"
    vault_dir.mkdir(exist_ok=True, mode=0o700)
    copy = LocalBlobStore(vault_dir)
    copied = 0
    missing: list[str] = []
    for stale in list(copy.keys()):
        if stale not in wanted:  # copied by an interrupted run, destroyed since: not kept
            copy.delete(stale)
    for n, key in enumerate(sorted(wanted), 1):
        try:
            size = store.stat(BlobKey(key)).size
        except BlobNotFoundError:
            missing.append(key)
            log.warning("backup: object %s is referenced by the catalogue but not in the store", key)
            continue
        try:
            have = copy.stat(BlobKey(key)).size
        except BlobNotFoundError:
            have = None
        if have != size:
            if have is not None:
                copy.delete(BlobKey(key))  # not what the store holds now: copy it again
            copy.put(BlobKey(key), store.get(BlobKey(key)))
            copied += 1
            if copied == 1:
                _crash_point("backup:objects")
        files[f"vault/{key}"] = {}
        if progress is not None:
            progress(n, len(wanted))

    # 4. The schedule and the settings file, if the archive has them; the signed disposition
    # certificates (numbers, hashes and rules, never content) the catalogue's dispositions point at.
    # Transfer packages are not taken: they hold transferred dossiers in clear and left the archive.
    for name, path in (("files/retention.toml", settings.retention_rules_file),
                       ("files/dossier.toml", settings.config or settings.data_dir / "dossier.toml")):
        if path.is_file():
            _copy_file(path, dest / name)
            files[name] = {}
    if settings.disposition_dir.is_dir():
        for cert in sorted(settings.disposition_dir.iterdir()):
            if cert.is_file() and cert.suffix in (".json", ".pdf"):
                _copy_file(cert, dest / _CERTIFICATES / cert.name)
                files[f"{_CERTIFICATES}/{cert.name}"] = {}

    # 5. The manifest, last and atomically: its presence is what makes the backup finished.
    listed = []
    total = 0
    for rel in sorted(files):
        p = dest / rel
        size = p.stat().st_size
        total += size
        listed.append({"path": rel, "size": size, "sha256": _sha256_file(p)})
    created_at = clock()
    in_backup = len(wanted) - len(missing)
    manifest = {
        "format": FORMAT, "version": VERSION, "created_at": created_at.astimezone(timezone.utc).isoformat(),
        "catalogue": {"kind": kind, "file": catalogue_file, "schema_revision": revision},
        "source": {"data_dir": str(settings.data_dir), "database": masked_url(settings.database_url),
                   "vault_backend": settings.vault.backend},
        "key_material": {name: {"path": str(p), "present": p.exists()} for name, p in key_material(settings).items()},
        "objects": in_backup, "objects_missing": missing, "files": listed,
    }
    _crash_point("backup:manifest")
    write_atomic(dest / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"),
                 mode=0o600)
    log.info("backup %s: %s catalogue at %s, %d objects (%d copied now), %d files, %d bytes",
             dest, kind, revision, in_backup, copied, len(listed), total)
    return BackupReport(dest, kind, revision, created_at, in_backup, copied, tuple(missing),
                        len(listed), total)


_LIVE_OBJECTS_SQL = "SELECT blob_key FROM stored_objects WHERE wrapped_key IS NOT NULL"
# Queued uploads' sealed staging copies (``ingest.jobs``): a restored queue must find its files.
_STAGING_SQL = "SELECT object_id FROM intake_jobs WHERE wrapped_key IS NOT NULL"


def _sqlite_snapshot(src: Path, dst: Path) -> tuple[str, set[str]]:
    """The online backup API into ``dst`` (atomically), then what that copy references."""
    tmp = dst.with_name(f".{dst.name}.partial")
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=60)
    try:
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)  # a consistent snapshot while writers go on (it restarts if they write)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            target.close()
    finally:
        source.close()
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dst)
    fsync_dir(dst.parent)
    copy = sqlite3.connect(f"file:{dst}?mode=ro", uri=True)
    try:
        revision = copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        wanted = {r[0] for r in copy.execute(_LIVE_OBJECTS_SQL)}
        wanted |= {str(blob_key_for(r[0])) for r in copy.execute(_STAGING_SQL)}
    finally:
        copy.close()
    return str(revision), wanted


def _pg_snapshot(url: str, dst: Path) -> tuple[str, set[str]]:
    """``pg_dump -Fc`` on a snapshot exported by a REPEATABLE READ transaction that also lists the objects."""
    pg_dump = _pg_tool("pg_dump")
    conninfo, env = _pg_command_env(url)
    engine = make_engine(url)
    tmp = dst.with_name(f".{dst.name}.partial")
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            wanted = set(conn.execute(text(_LIVE_OBJECTS_SQL)).scalars())
            wanted |= {str(blob_key_for(o)) for o in conn.execute(text(_STAGING_SQL)).scalars()}
            proc = subprocess.run([pg_dump, "-Fc", f"--snapshot={snapshot}", "--no-owner", "-f", str(tmp),
                                   "-d", conninfo], env=env, capture_output=True, text=True, timeout=3600)
            if proc.returncode != 0:
                tmp.unlink(missing_ok=True)
                raise BackupToolMissingError(f"pg_dump (it failed: {proc.stderr.strip()[:300]})")
    finally:
        engine.dispose()
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dst)
    fsync_dir(dst.parent)
    return str(revision), wanted


# ====================================================================== restore
@dataclass(slots=True)
class RestoreReport:
    """What ``dossier restore`` did (``--json``): the steps, the replay, and the two closing checks."""

    source: Path
    backup_created_at: str
    catalogue: str
    schema_from: str
    schema_to: str
    key_material: dict[str, str] = field(default_factory=dict)   # name → "kept" | "copied from <path>"
    objects_copied: int = 0
    objects_skipped: int = 0
    replayed: list[str] = field(default_factory=list)            # archive numbers destroyed again
    indexed: int = 0
    inventory: dict[str, Any] = field(default_factory=dict)
    audit: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.inventory.get("ok")) and bool(self.audit.get("ok"))

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "source": str(self.source), "backup_created_at": self.backup_created_at,
                "catalogue": self.catalogue, "schema_from": self.schema_from, "schema_to": self.schema_to,
                "key_material": self.key_material, "objects_copied": self.objects_copied,
                "objects_skipped": self.objects_skipped, "replayed": self.replayed, "indexed": self.indexed,
                "inventory": self.inventory, "audit": self.audit, "notes": self.notes}


class Restore:
    """One restore of ``src`` into the archive ``settings`` describe (see the module docstring).

    Two halves, because the second needs the archive open: :meth:`prepare` (target empty, key
    material, catalogue, schema upgrade, objects) before the services are built, and
    :meth:`finish` (ledger replay, index, inventory, audit verify) with them. Each step is
    recorded in ``<data_dir>/restore-state.json`` once done; a re-run skips those.
    """

    def __init__(self, settings: Settings, src: Path, *, clock: Clock) -> None:
        self._settings = settings
        self._src = Path(src)
        self._clock = clock
        self._state_path = settings.data_dir / STATE_FILE
        manifest_path = self._src / MANIFEST
        if not manifest_path.is_file():
            raise BackupInvalidError(str(self._src), "no manifest.json: not a backup, or an unfinished one "
                                     "(run `dossier backup` into it again to finish it)")
        raw = manifest_path.read_bytes()
        try:
            self._manifest: dict[str, Any] = json.loads(raw)
        except ValueError as exc:
            raise BackupInvalidError(str(manifest_path), "not JSON") from exc
        if self._manifest.get("format") != FORMAT or self._manifest.get("version") != VERSION:
            raise BackupInvalidError(str(manifest_path), "not a dossier backup of a version this program reads")
        self._manifest_sha = hashlib.sha256(raw).hexdigest()
        self._files = {f["path"]: f for f in self._manifest["files"]}
        cat = self._manifest["catalogue"]
        self.report = RestoreReport(self._src, self._manifest["created_at"], cat["kind"], cat["schema_revision"],
                                    head_revision())
        self._state: dict[str, Any] = {}

    # ------------------------------------------------------------------ state
    def _done(self, step: str) -> bool:
        return step in self._state.get("done", [])

    def _mark(self, step: str) -> None:
        self._state.setdefault("done", []).append(step)
        self._state["report"] = self.report.as_dict()
        write_atomic(self._state_path, json.dumps(self._state, ensure_ascii=False).encode("utf-8"), mode=0o600)

    # ------------------------------------------------------------------ before the archive opens
    def prepare(self) -> None:
        """Target check, key material, catalogue, schema upgrade, objects (each once).

        Raises:
            RestoreTargetNotEmptyError, KeyMaterialMissingError, BackupInvalidError,
            BackupToolMissingError, LedgerInvalidError: see each; nothing of the target is lost.
        """
        s = self._settings
        s.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self._state_path.exists():
            self._state = json.loads(self._state_path.read_text(encoding="utf-8"))
            if self._state.get("manifest_sha256") != self._manifest_sha:
                raise RestoreTargetNotEmptyError(str(s.data_dir), f"an unfinished restore of another backup "
                                                 f"({self._state.get('source')})")
            prior = self._state.get("report", {})
            self.report.key_material = dict(prior.get("key_material", {}))
            self.report.objects_copied = int(prior.get("objects_copied", 0))
            self.report.objects_skipped = int(prior.get("objects_skipped", 0))
            self.report.replayed = list(prior.get("replayed", []))
        else:
            self._refuse_unless_empty()
            self._state = {"source": str(self._src), "manifest_sha256": self._manifest_sha, "done": []}
            self._mark("started")
        if not self._done("key_material"):
            self._key_material()
            self._mark("key_material")
        if not self._done("catalogue"):
            self._catalogue()
            self._mark("catalogue")
            _crash_point("restore:catalogue")
        if not self._done("migrate"):
            engine = make_engine(s.database_url)
            try:
                migrate(engine)  # the backup may be older than this program's schema
            finally:
                engine.dispose()
            self._mark("migrate")
        if not self._done("objects"):
            self._objects()
            self._mark("objects")

    def _refuse_unless_empty(self) -> None:
        s = self._settings
        path = _sqlite_path(s.database_url)
        if path is not None:
            if path.exists() and path.stat().st_size > 0:
                raise RestoreTargetNotEmptyError(str(s.data_dir), f"a catalogue ({path})")
        else:
            engine = make_engine(s.database_url)
            try:
                with engine.connect() as conn:
                    tables = conn.execute(text("SELECT count(*) FROM information_schema.tables "
                                               "WHERE table_schema = current_schema()")).scalar_one()
            finally:
                engine.dispose()
            if tables:
                raise RestoreTargetNotEmptyError(masked_url(s.database_url), f"a catalogue ({tables} tables)")
        prepare_blob_store(s)
        store = open_blob_store(s)
        try:
            if next(iter(store.keys()), None) is not None:
                raise RestoreTargetNotEmptyError(str(s.data_dir), "vault objects")
        finally:
            store.close()

    def _key_material(self) -> None:
        """What the target settings point at, else the source archive's copy (same machine), else a clear error."""
        recorded: dict[str, dict[str, Any]] = self._manifest.get("key_material", {})
        for name, target in key_material(self._settings).items():
            source_info = recorded.get(name, {})
            if target.exists():
                self.report.key_material[name] = "kept"
                continue
            source = Path(source_info["path"]) if source_info.get("path") else None
            if source is not None and source.exists() and source.resolve() != target.resolve():
                _copy_file(source, target, mode=0o600 if name != "audit_signing_key_pub" else 0o644)
                self.report.key_material[name] = f"copied from {source}"
                continue
            if name in _REQUIRED_KEYS and source_info.get("present", True):
                raise KeyMaterialMissingError(name.replace("_", " "), str(target), str(source) if source else None)
            if name == "destruction_ledger" and source_info.get("present"):
                raise KeyMaterialMissingError("destruction ledger", str(target), str(source) if source else None)
            self.report.key_material[name] = "absent"
            if name == "search_key":
                self.report.notes.append("search.key absent: a new one is made and the index rebuilt")

    def _catalogue(self) -> None:
        s = self._settings
        kind = self._manifest["catalogue"]["kind"]
        file = self._src / self._manifest["catalogue"]["file"]
        self._check(self._manifest["catalogue"]["file"])
        target = _sqlite_path(s.database_url)
        if kind == "sqlite":
            if target is None:
                raise BackupInvalidError(str(self._src), "its catalogue is SQLite, the target's is PostgreSQL: "
                                         "restore into an archive with a SQLite catalogue")
            _copy_file(file, target)
        else:
            if target is not None:
                raise BackupInvalidError(str(self._src), "its catalogue is PostgreSQL, the target's is SQLite: set "
                                         "database.url to an empty PostgreSQL database")
            if not self._pg_has_schema():
                pg_restore = _pg_tool("pg_restore")
                conninfo, env = _pg_command_env(s.database_url)
                # One transaction: killed half-way, nothing is left and a re-run starts over.
                proc = subprocess.run([pg_restore, "--single-transaction", "--no-owner", "--no-privileges",
                                       "-d", conninfo, str(file)], env=env, capture_output=True, text=True,
                                      timeout=3600)
                if proc.returncode != 0:
                    raise BackupInvalidError(str(file), f"pg_restore failed: {proc.stderr.strip()[:300]}")
        for rel, target_path in ((_CHECKPOINTS, s.audit_checkpoint_file), ("files/retention.toml", s.retention_rules_file)):
            if rel in self._files and not target_path.exists():
                self._check(rel)
                _copy_file(self._src / rel, target_path)
        for rel in sorted(r for r in self._files if r.startswith(_CERTIFICATES + "/")):
            target_path = s.disposition_dir / rel.rsplit("/", 1)[1]
            if not target_path.exists():
                self._check(rel)
                target_path.parent.mkdir(parents=True, exist_ok=True)
                _copy_file(self._src / rel, target_path)
        if "files/dossier.toml" in self._files:
            # Never put in force unread: it may point at the source archive's database or store.
            _copy_file(self._src / "files/dossier.toml", s.data_dir / "dossier.toml.from-backup")
            self.report.notes.append("the source's dossier.toml is at dossier.toml.from-backup: review it; "
                                     "it is not in force")

    def _pg_has_schema(self) -> bool:
        engine = make_engine(self._settings.database_url)
        try:
            with engine.connect() as conn:
                return bool(conn.execute(text("SELECT count(*) FROM information_schema.tables WHERE "
                                              "table_schema = current_schema() AND table_name = 'alembic_version'"))
                            .scalar_one())
        finally:
            engine.dispose()

    def _check(self, rel: str) -> None:
        entry = self._files.get(rel)
        path = self._src / rel
        if entry is None or not path.is_file():
            raise BackupInvalidError(str(self._src), f"{rel} is missing")
        if path.stat().st_size != entry["size"] or _sha256_file(path) != entry["sha256"]:
            raise BackupInvalidError(str(self._src), f"{rel} does not match its manifest (size or SHA-256)")

    def _objects(self) -> None:
        """Every live object of the restored catalogue (and queued uploads' staging copies) into the
        configured store, except those of dossiers the ledger names (destroyed again next: their
        bytes never land here)."""
        s = self._settings
        ledger = self._ledger(_file_public_key(s.audit_signing_key)).destroyed()
        destroyed = set(ledger) | {e.archive_number for e in ledger.values()}
        engine = make_engine(s.database_url)
        try:
            with engine.connect() as conn:
                rows = [(str(k), d) for k, d in conn.execute(
                    select(StoredObjectRow.blob_key, DocumentRow.dossier_id)
                    .join(DocumentRow, StoredObjectRow.document_id == DocumentRow.id)
                    .where(StoredObjectRow.wrapped_key.is_not(None)).order_by(StoredObjectRow.blob_key))]
                rows += [(str(blob_key_for(o)), n) for o, n in conn.execute(
                    text("SELECT object_id, archive_number FROM intake_jobs WHERE wrapped_key IS NOT NULL"))]
        finally:
            engine.dispose()
        source = LocalBlobStore(self._src / "vault")
        prepare_blob_store(s)
        target = open_blob_store(s)
        try:
            for blob_key, owner in rows:
                if owner in destroyed:
                    continue
                rel = f"vault/{blob_key}"
                entry = self._files.get(rel)
                if entry is None:
                    # Gone from the store when the backup ran (see its manifest): the inventory reports it.
                    self.report.notes.append(f"object {blob_key} is catalogued but not in the backup")
                    continue
                try:
                    if target.stat(BlobKey(blob_key)).size == entry["size"]:
                        self.report.objects_skipped += 1  # copied before an interruption (puts are atomic)
                        continue
                    target.delete(BlobKey(blob_key))
                except BlobNotFoundError:
                    pass
                h = hashlib.sha256()
                target.put(BlobKey(blob_key), _hashing(source.get(BlobKey(blob_key)), h))
                if h.hexdigest() != entry["sha256"]:
                    target.delete(BlobKey(blob_key))
                    raise BackupInvalidError(str(self._src), f"{rel} does not match its manifest (SHA-256)")
                self.report.objects_copied += 1
                if self.report.objects_copied == 1:
                    _crash_point("restore:objects")
        finally:
            target.close()

    def _ledger(self, public_key: Callable[[], Ed25519PublicKey | None]) -> DestructionLedger:
        def no_signing(message: bytes) -> tuple[str, str]:
            raise RuntimeError("a restore never appends to the destruction ledger")

        return DestructionLedger(self._settings.destruction_ledger, signer=no_signing, public_key=public_key,
                                 clock=self._clock)

    # ------------------------------------------------------------------ with the archive open
    def finish(self, *, who: Identity, context: RequestContext, records: RecordsService, vault: Vault,
               search: DisposalIndex, gate: Gate, access: AccessService, uow: UnitOfWork,
               inventory: InventoryService, tz: ZoneInfo, details: Mapping[str, str] | None = None,
               scrubbers: Sequence[Callable[[str], object]] = ()) -> RestoreReport:
        """Replay the destruction ledger, rebuild the index, run the inventory and ``audit verify``.

        ``scrubbers``: as for a destruction (``DisposalTools.scrubbers``), called for every dossier
        the ledger names: the old backup's intake job rows of it are blanked too.

        Raises:
            LedgerInvalidError: the ledger was altered (nothing is replayed; restore a good copy, re-run).
        """
        if not self._done("replay"):
            self._replay(who, context, records, vault, access, uow, tz, dict(details or {}), scrubbers)
            self._mark("replay")
        self._check_dossier_keys(vault, uow)
        if not self._done("index"):
            self.report.indexed = search.rebuild(gate.reindex_source(who, context=context,
                                                                     details={**(details or {}), "operation": "restore"}))
            self._mark("index")
        inv = inventory.run(who, resume=False, context=context, details={**(details or {}), "operation": "restore"})
        self.report.inventory = {"ok": inv.ok, **inv.summary(), "findings": [f.as_dict() for f in inv.findings]}
        audit = access.verify_access_log(who, context=context)
        self.report.audit = {"ok": audit.ok, "checked": audit.checked, "checkpoints": audit.checkpoints,
                             "first_broken_seq": audit.first_broken_seq, "reason": audit.reason,
                             "warnings": list(audit.warnings)}
        self._state_path.unlink(missing_ok=True)  # finished: the data directory is an archive now
        fsync_dir(self._state_path.parent)
        return self.report

    def _check_dossier_keys(self, vault: Vault, uow: UnitOfWork) -> None:
        """Every dossier still held must find its key in the key ring, or what it sealed is lost.

        A key ring older than the backup (or another archive's) would otherwise show blank fields
        and fail every download; stop instead and name what is missing (the restore goes on from
        here once the right key ring is in place).

        Raises:
            KeyMaterialMissingError: some held dossier has sealed data but no key in the ring.
        """
        keyring = vault.dossier_keys
        if keyring is None:
            return
        with uow.read() as s:
            rows = s.execute(select(DossierRow.id, DossierRow.archive_number, DossierRow.matter).where(
                DossierRow.state != DossierState.DISPOSED)).all()
            wrapped = set(s.scalars(select(DocumentRow.dossier_id).join(
                StoredObjectRow, StoredObjectRow.document_id == DocumentRow.id).where(
                StoredObjectRow.key_id.like("dossier:%"))))
        missing = [number for dossier_id, number, matter in rows
                   if (dossier_id in wrapped or is_sealed(matter)) and not keyring.has(dossier_id)]
        if missing:
            shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            raise KeyMaterialMissingError(f"dossier key ring entry of {shown}", str(keyring.path), None)

    def _replay(self, who: Identity, context: RequestContext, records: RecordsService, vault: Vault,
                access: AccessService, uow: UnitOfWork, tz: ZoneInfo, details: dict[str, str],
                scrubbers: Sequence[Callable[[str], object]]) -> None:
        """Every dossier the ledger (or the key ring's record of destroyed keys) names is destroyed again."""
        ledger = self._ledger(access.signing_public_key).destroyed()
        keyring = vault.dossier_keys
        with uow.read() as s:
            rows = s.scalars(select(DossierRow)).all()
            named: list[tuple[str, str, str, LedgerEntry | None, Any]] = []
            for row in rows:
                entry = ledger.get(row.id)
                if entry is None and not (keyring is not None and keyring.destroyed(row.id)):
                    continue
                named.append((row.id, row.archive_number, row.state, entry, dossier_target(row, tz)))
        for dossier_id, number, state, entry, target in named:
            if DossierState(state) is not DossierState.DISPOSED:
                why = (f"ledger line {entry.seq}: {entry.note}" if entry is not None
                       else "its key is recorded as destroyed in the key ring")
                access.enforce(who, Action.DISPOSE, target, context=context,
                               details={**details, "operation": "restore replay",
                                        "ledger": str(entry.seq) if entry else "-"})
                records.replay_destruction(who.name, dossier_id, note=f"destroyed again after a restore ({why})")
                self.report.replayed.append(number)
                _crash_point("restore:replay")
            # Whatever an earlier run or the old backup left: no by-product, no blob, no key of it stays.
            for scrub in scrubbers:
                scrub(number)
            for item in records.disposal_manifest(who.name, dossier_id).items:
                for obj in item.objects:
                    vault.delete_object(obj.object_id)
            if keyring is not None and keyring.has(dossier_id):
                keyring.destroy(dossier_id, now=self._clock())
                self.report.notes.append(f"{number}: its key was still in the key ring (a key backup older than "
                                         "its destruction?) and is destroyed now")
        if named:
            log.info("restore: %d dossier(s) named by the destruction ledger, %d destroyed again",
                     len(named), len(self.report.replayed))


def _file_public_key(path: Path) -> Callable[[], Ed25519PublicKey | None]:
    """The archive's public key from its key files (before the archive is open)."""
    def load() -> Ed25519PublicKey | None:
        from retention.certificate import load_public_key

        for candidate in (path.with_suffix(".pub"), path):
            if candidate.exists():
                return load_public_key(candidate)
        return None

    return load


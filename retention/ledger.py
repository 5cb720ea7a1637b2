"""The destruction ledger: a signed, append-only line per destroyed dossier (RET, ARC-2; issue #12 item 4).

Why it exists: a backup taken before a destruction still holds the destroyed dossier's catalogue
rows, and restoring it would bring the dossier back. The ledger is what a restore replays
(``retention.backup``) so that *destroyed stays destroyed*: every dossier it names is destroyed
again in the restored catalogue, whatever state the old backup had it in.

Where it lives: beside the dossier key ring (``settings.destruction_ledger``), with the key
material and NOT in the backup set, so a restore always sees the newest ledger, never the one
the old backup would have carried.

Format: JSON lines, each the canonical serialisation (sorted keys, no whitespace, UTF-8) of::

    {"v": 1, "seq": n, "dossier_id": …, "archive_number": …, "at": <archive clock, UTC>,
     "note": <rule and disposition, never content>, "prev_hash": <SHA-256 of line n-1>,
     "signature": {"algorithm": "Ed25519", "key_id": …, "value": <hex>}}

The signature (the archive's audit signing key, through ``AccessService.sign_statement``, as
disposition certificates are signed) covers a domain prefix and the line without its signature;
``prev_hash`` chains the lines, so removing, reordering or editing any line is detected by
:meth:`DestructionLedger.entries`. Appending is durable when it returns (fsync of the file, and of
its directory when the file is new), idempotent per dossier, and a line torn by a crash is cut off
by the next append: it was never acknowledged, so its destruction had not begun.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from records.clock import Clock
from records.durable import fsync_dir
from retention.errors import LedgerInvalidError

__all__ = ["DestructionLedger", "LedgerEntry"]

_DOMAIN = b"dossier destruction ledger v1\n"
_GENESIS = "0" * 64
_VERSION = 1

Signer = Callable[[bytes], tuple[str, str]]
"""Signs a domain-prefixed message with the archive's key: returns (key id, hex signature)."""


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One destroyed dossier, as the ledger vouches for it."""

    seq: int
    dossier_id: str
    archive_number: str
    at: datetime
    note: str
    prev_hash: str
    key_id: str
    signature: str
    hash: str  # SHA-256 of this line: the next line's prev_hash


class DestructionLedger:
    """The ledger file (see the module docstring).

    Args:
        path: ``settings.destruction_ledger``.
        signer: ``AccessService.sign_statement`` (the archive's Ed25519 key).
        public_key: returns the archive's public key (``AccessService.signing_public_key``) for verifying.
        clock: the archive clock (aware UTC "now") stamped on each line.
    """

    def __init__(self, path: Path, *, signer: Signer, public_key: Callable[[], Ed25519PublicKey | None],
                 clock: Clock) -> None:
        self._path = Path(path)
        self._signer = signer
        self._public_key = public_key
        self._clock = clock
        # The prefix of the file this process verified last (its bytes' SHA-256 and its entries): an
        # append verifies only lines added since, so a destruction costs the same with 10 or 100,000
        # lines before it. A prefix that changed under us is verified whole again.
        self._verified: tuple[int, bytes, list[LedgerEntry]] = (0, hashlib.sha256(b"").digest(), [])

    @property
    def path(self) -> Path:
        return self._path

    def append(self, *, dossier_id: str, archive_number: str, note: str) -> LedgerEntry:
        """Record the destruction of ``dossier_id``; durable when this returns.

        Idempotent: a dossier already in the ledger gets its existing line back, nothing is written.

        Raises:
            LedgerInvalidError: the ledger as it stands fails verification (nothing is appended to it).
            AuditKeyError: the archive's signing key is missing (nothing is appended; nothing destroyed).
        """
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        created = not self._path.exists()
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # one appender at a time (serve's workers, the CLI)
            with os.fdopen(os.dup(fd), "r+b") as f:
                raw = f.read()
                if raw and not raw.endswith(b"\n"):
                    # A line torn by a crash was never acknowledged: cut it off before appending.
                    raw = raw[: raw.rfind(b"\n") + 1]
                    f.truncate(len(raw))
                entries = self._parse_cached(raw)
                for e in entries:
                    if e.dossier_id == dossier_id:
                        return e
                body = {"v": _VERSION, "seq": len(entries) + 1, "dossier_id": dossier_id,
                        "archive_number": archive_number, "at": _iso(self._clock()), "note": note,
                        "prev_hash": entries[-1].hash if entries else _GENESIS}
                key_id, signature = self._signer(_DOMAIN + _canonical(body))
                line = _canonical({**body, "signature": {"algorithm": "Ed25519", "key_id": key_id, "value": signature}})
                f.seek(len(raw))
                f.write(line + b"\n")
                f.flush()
                os.fsync(f.fileno())
            if created:
                fsync_dir(self._path.parent)
            entry = self._entry(line, len(entries) + 1)
            raw += line + b"\n"
            self._verified = (len(raw), hashlib.sha256(raw).digest(), [*entries, entry])
            return entry
        finally:
            os.close(fd)  # releases the lock

    def entries(self) -> list[LedgerEntry]:
        """Every line, verified: canonical, in sequence, on the chain, signed by the archive's key.

        An absent ledger is an empty one (no dossier was ever destroyed here).

        Raises:
            LedgerInvalidError: the first line that fails, and why.
        """
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return []
        if raw and not raw.endswith(b"\n"):
            raw = raw[: raw.rfind(b"\n") + 1]  # a torn last line: never acknowledged, see append()
        return self._parse(raw)

    def destroyed(self) -> dict[str, LedgerEntry]:
        """Dossier id → its verified ledger line."""
        return {e.dossier_id: e for e in self.entries()}

    # ------------------------------------------------------------------ parsing and verifying
    def _parse_cached(self, raw: bytes) -> list[LedgerEntry]:
        """Like :meth:`_parse`, verifying only what follows the prefix this process verified before."""
        size, digest, known = self._verified
        if size and len(raw) >= size and hashlib.sha256(raw[:size]).digest() == digest:
            entries = known + self._parse(raw[size:], first=len(known) + 1, prev=known[-1].hash if known else _GENESIS)
        else:
            entries = self._parse(raw)
        self._verified = (len(raw), hashlib.sha256(raw).digest(), entries)
        return list(entries)

    def _parse(self, raw: bytes, *, first: int = 1, prev: str | None = None) -> list[LedgerEntry]:
        if not raw:
            return []
        public = self._public_key()
        if public is None:
            raise LedgerInvalidError(str(self._path), None, "the archive's public signing key is missing, so the "
                                     "ledger cannot be verified (restore audit-signing.key or its .pub)")
        out: list[LedgerEntry] = []
        prev = prev or _GENESIS
        for n, line in enumerate(raw.split(b"\n")[:-1], first):
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                raise LedgerInvalidError(str(self._path), n, "not a JSON line") from exc
            if _canonical(data) != line:
                raise LedgerInvalidError(str(self._path), n, "not canonical (altered)")
            sig = data.pop("signature", None)
            if not isinstance(sig, dict) or sig.get("algorithm") != "Ed25519":
                raise LedgerInvalidError(str(self._path), n, "no Ed25519 signature")
            if data.get("v") != _VERSION or data.get("seq") != n:
                raise LedgerInvalidError(str(self._path), n, f"out of sequence (expected line {n})")
            if data.get("prev_hash") != prev:
                raise LedgerInvalidError(str(self._path), n, "off the hash chain (a line before it was removed "
                                         "or changed)")
            try:
                public.verify(bytes.fromhex(str(sig.get("value", ""))), _DOMAIN + _canonical(data))
            except (InvalidSignature, ValueError) as exc:
                raise LedgerInvalidError(str(self._path), n, "the signature does not verify (altered, or signed "
                                         "by another key)") from exc
            entry = self._entry(line, n)
            out.append(entry)
            prev = entry.hash
        return out

    @staticmethod
    def _entry(line: bytes, seq: int) -> LedgerEntry:
        d = json.loads(line)
        return LedgerEntry(seq=seq, dossier_id=d["dossier_id"], archive_number=d["archive_number"],
                           at=datetime.fromisoformat(d["at"]), note=d["note"], prev_hash=d["prev_hash"],
                           key_id=d["signature"]["key_id"], signature=d["signature"]["value"],
                           hash=hashlib.sha256(line).hexdigest())


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")

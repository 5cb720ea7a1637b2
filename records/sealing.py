"""Sealed catalogue fields (issue #12): what a complaint says about people, stored under its dossier's key.

Every personal or free-text field of a dossier (:data:`SEALED_DOSSIER_FIELDS`, notes, reasons,
file names) is stored as ``§1:`` + base64 of ``nonce ‖ AES-256-GCM(value)`` with the dossier's
own key (:class:`records.vault.dossier_keys.DossierKeyring`); the associated data binds the
dossier id and the field name, so a sealed value copied onto another dossier or field fails
authentication instead of showing. Destroying the dossier's key makes every copy unreadable —
the live row, PostgreSQL's old row versions and WAL, replicas, backups.

What stays in clear, because lists, filters, deadlines and statistics need it without a key, is
listed in ``docs/security.md``: number, series, state, dates, channel, department, category, SLA
profile, complainant/respondent *types*, anonymous and collective flags, counts, and the respondent
(the institution or officer complained about, a statistics field kept even in the tombstone).
There is deliberately no blind index (keyed digest) of names in the catalogue: it would sit in every
backup under a key no destruction removes, and a Chinese name has few enough likely values to be
found by trying them. Equality on names is answered by the search index's digests, which are not
backed up and are deleted in place with the document (``search/backends/fts5.py``).

A value without the ``§1:`` marker is read as it is: rows written before issue #12 stay readable
until ``dossier keys rotate`` seals them.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from records.vault.dossier_keys import DossierKeyring
from records.vault.errors import DossierKeyGoneError, WrongKeyError

__all__ = ["FieldSealer", "SEALED_DOSSIER_FIELDS", "MARK", "is_sealed"]

MARK = "§1:"

#: Registration fields (``dossiers`` columns) stored sealed.
SEALED_DOSSIER_FIELDS = ("matter", "complainant", "complainant_contact", "request", "facts_and_reasons",
                         "expected_remedy", "receiving_officer", "referring_body", "void_reason")


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(MARK)


def _aad(dossier_id: str, field: str) -> bytes:
    return f"dossier-field\x00{dossier_id}\x00{field}".encode()


class FieldSealer:
    """Seals and opens one dossier's fields with that dossier's key."""

    def __init__(self, keyring: DossierKeyring) -> None:
        self._keyring = keyring

    @property
    def keyring(self) -> DossierKeyring:
        return self._keyring

    def seal(self, dossier_id: str, field: str, value: str | None) -> str | None:
        """``value`` sealed for ``field`` of ``dossier_id`` (None stays None, so "not given" stays visible)."""
        if value is None:
            return None
        nonce = os.urandom(12)
        ct = AESGCM(self._keyring.key(dossier_id)).encrypt(nonce, value.encode("utf-8"), _aad(dossier_id, field))
        return MARK + base64.b64encode(nonce + ct).decode("ascii")

    def open(self, dossier_id: str, field: str, stored: str | None) -> str | None:
        """The clear value; a legacy clear value as it is; ``None`` once the dossier's key is destroyed.

        Raises:
            WrongKeyError: the value fails authentication (moved from another dossier or field, or altered).
        """
        if stored is None or not stored.startswith(MARK):
            return stored
        try:
            key = self._keyring.key(dossier_id)
        except DossierKeyGoneError:
            return None
        raw = base64.b64decode(stored[len(MARK):])
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], _aad(dossier_id, field)).decode("utf-8")
        except InvalidTag as exc:
            raise WrongKeyError(f"dossier:{dossier_id}/{field}", "dossier-keyring") from exc

    def seal_list(self, dossier_id: str, field: str, values: Sequence[str]) -> list[str]:
        """A list field (evidence) as one sealed element (the column stays a JSON list)."""
        if not values:
            return []
        sealed = self.seal(dossier_id, field, json.dumps(list(values), ensure_ascii=False))
        return [sealed] if sealed is not None else []

    def open_list(self, dossier_id: str, field: str, stored: Sequence[str] | None) -> tuple[str, ...]:
        if not stored:
            return ()
        if len(stored) == 1 and is_sealed(stored[0]):
            opened = self.open(dossier_id, field, stored[0])
            return tuple(json.loads(opened)) if opened is not None else ()
        return tuple(stored)

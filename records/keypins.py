"""The catalogue's side of key pinning: the one ``key_pins`` row, and a data key to test a key against.

:class:`CatalogueKeyPins` is the :class:`~records.vault.keys.pin.KeyPinStore` the composition
root hands to ``open_pinned``; the vault itself never touches the catalogue.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from records.db import UnitOfWork
from records.tables import KeyPinRow, StoredObjectRow
from records.vault.interfaces import KeyIdentity, WrappedKey
from records.vault.keys.pin import KeyPin, KeyPinStore, WrappedSample

__all__ = ["CatalogueKeyPins"]

_ROW = 1  # one pin per archive


class CatalogueKeyPins:
    """Reads and records the archive's pin in the catalogue."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def load(self) -> KeyPin | None:
        with self._uow.read() as s:
            row = s.get(KeyPinRow, _ROW)
            if row is None:
                return None
            return KeyPin(identity=KeyIdentity(row.provider, row.key_name, row.fingerprint),
                          probe=WrappedKey(row.probe_key_id, row.probe), pinned_at=row.pinned_at, how=row.pinned_how)

    def record(self, pin: KeyPin) -> KeyPin:
        try:
            with self._uow.write() as s:
                if s.get(KeyPinRow, _ROW) is None:
                    s.add(KeyPinRow(id=_ROW, provider=pin.identity.provider, key_name=pin.identity.name[:512],
                                    fingerprint=pin.identity.fingerprint, probe_key_id=pin.probe.key_id,
                                    probe=pin.probe.ciphertext, pinned_at=pin.pinned_at, pinned_how=pin.how))
        except SqlIntegrityError:
            pass  # another host pinned first: its pin is the archive's, and is checked next
        found = self.load()
        assert found is not None  # just written, by us or by the host that won
        return found

    def sample(self) -> WrappedSample | None:
        # The newest live data key: the one most likely wrapped under the key in use now. Keys wrapped
        # under a dossier key (issue #12) say nothing about the master key; archives that hold them
        # were pinned when they were made (pins came first, migration 0008).
        with self._uow.read() as s:
            row = s.execute(
                select(StoredObjectRow.id, StoredObjectRow.kind, StoredObjectRow.key_id, StoredObjectRow.wrapped_key)
                .where(StoredObjectRow.wrapped_key.is_not(None), StoredObjectRow.key_id.is_not(None),
                       StoredObjectRow.key_id.not_like("dossier:%"))
                .order_by(StoredObjectRow.created_at.desc()).limit(1)
            ).first()
        if row is None or row.key_id is None or row.wrapped_key is None:
            return None
        # The vault binds a data key to {"object_id", "kind"} (records.vault.vault._context).
        return WrappedSample(WrappedKey(row.key_id, row.wrapped_key), {"object_id": row.id, "kind": row.kind})


_: type[KeyPinStore] = CatalogueKeyPins

"""Per-dossier keys (issue #12): kept outside the catalogue, destroyed for good, re-wrapped on rotation."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from records.sealing import FieldSealer
from records.vault import Vault, WrappedKey, WrongKeyError
from records.vault.backends.local import LocalBlobStore
from records.vault.dossier_keys import DossierKeyring
from records.vault.errors import DossierKeyGoneError
from records.vault.keys import FileKeyProvider, create_key_file

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
SECRET = "投诉人王秀英的联系电话13800138000"


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[FileKeyProvider]:
    create_key_file(tmp_path / "master.key")
    provider = FileKeyProvider(tmp_path / "master.key")
    yield provider
    provider.close()


@pytest.fixture
def ring(tmp_path: Path, keys: FileKeyProvider) -> Iterator[DossierKeyring]:
    r = DossierKeyring(tmp_path / "dossier-keys.sqlite3", keys)
    yield r
    r.close()


def _raw(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_a_dossier_key_is_stored_wrapped_and_survives_a_reopen(tmp_path: Path, keys: FileKeyProvider,
                                                               ring: DossierKeyring) -> None:
    """GIVEN a key made for a dossier WHEN the ring is reopened THEN the same key comes back, and the file
    holds it only wrapped (the raw bytes never contain the key)."""
    ring.create("d1", now=NOW)
    key = ring.key("d1")
    ring.create("d1", now=NOW)  # idempotent
    assert ring.key("d1") == key
    assert key not in _raw(ring.path)
    again = DossierKeyring(ring.path, keys)
    assert again.key("d1") == key
    again.close()


def test_a_destroyed_key_is_gone_from_the_file_and_never_made_again(ring: DossierKeyring) -> None:
    """GIVEN a destroyed dossier key WHEN anyone asks for it or tries to re-create it THEN DossierKeyGoneError;
    the wrapped bytes are overwritten in the file (secure_delete) and the WAL is truncated."""
    ring.create("d1", now=NOW)
    ring.create("d2", now=NOW)
    wrapped = sqlite3.connect(ring.path).execute("SELECT wrapped FROM dossier_keys WHERE owner='d1'").fetchone()[0]
    assert ring.destroy("d1", now=NOW) is True
    assert ring.destroy("d1", now=NOW) is False
    with pytest.raises(DossierKeyGoneError):
        ring.key("d1")
    with pytest.raises(DossierKeyGoneError):
        ring.create("d1", now=NOW)
    assert bytes(wrapped) not in _raw(ring.path)
    assert ring.destroyed("d1") and not ring.has("d1") and ring.has("d2")


def test_fields_are_sealed_per_dossier_and_field(ring: DossierKeyring) -> None:
    """GIVEN a field sealed for one dossier WHEN it is opened as another dossier's, or another field THEN it
    fails authentication instead of showing; after the key is destroyed it opens as None."""
    sealer = FieldSealer(ring)
    ring.create("d1", now=NOW)
    ring.create("d2", now=NOW)
    stored = sealer.seal("d1", "complainant", SECRET)
    assert stored is not None and SECRET not in stored
    assert sealer.open("d1", "complainant", stored) == SECRET
    with pytest.raises(WrongKeyError):
        sealer.open("d2", "complainant", stored)
    with pytest.raises(WrongKeyError):
        sealer.open("d1", "matter", stored)
    assert sealer.open("d1", "matter", "legacy clear text") == "legacy clear text"
    assert sealer.open_list("d1", "evidence", sealer.seal_list("d1", "evidence", ["收据", "合同"])) == ("收据", "合同")
    ring.destroy("d1", now=NOW)
    assert sealer.open("d1", "complainant", stored) is None


def test_objects_of_a_dossier_die_with_its_key_even_with_the_master_key(tmp_path: Path, keys: FileKeyProvider,
                                                                        ring: DossierKeyring) -> None:
    """GIVEN an object stored for a dossier WHEN the dossier's key is destroyed THEN its wrapped data key (as any
    old catalogue copy holds it) no longer opens, although the master key is still there."""
    (tmp_path / "vault").mkdir()
    vault = Vault(LocalBlobStore(tmp_path / "vault"), keys, dossier_keys=ring)
    ring.create("d1", now=NOW)
    oid = uuid.uuid4().hex
    sealed = vault.store_object(oid, "original", [SECRET.encode()], dossier_id="d1")
    assert sealed.wrapped_key.key_id == "dossier:d1"
    assert b"".join(vault.open_object(oid, "original", sealed.wrapped_key)) == SECRET.encode()
    with pytest.raises(WrongKeyError):  # a wrapped key copied onto another object does not open
        vault.open_object(uuid.uuid4().hex, "original", sealed.wrapped_key)
    ring.destroy("d1", now=NOW)
    with pytest.raises(DossierKeyGoneError):
        vault.open_object(oid, "original", WrappedKey(sealed.wrapped_key.key_id, sealed.wrapped_key.ciphertext))


def test_rotation_rewraps_the_ring_under_the_new_master_key(tmp_path: Path, keys: FileKeyProvider,
                                                            ring: DossierKeyring) -> None:
    """GIVEN dossier keys under the old master key WHEN the master key rotates and the ring re-wraps THEN every
    key is under the new master key and unchanged."""
    ring.create("d1", now=NOW)
    before = ring.key("d1")
    new = keys.rotate()
    assert ring.rewrap() == 1
    assert ring.rewrap() == 0
    row = sqlite3.connect(ring.path).execute("SELECT key_id FROM dossier_keys WHERE owner='d1'").fetchone()
    assert row[0] == new
    assert DossierKeyring(ring.path, keys).key("d1") == before


def test_two_processes_making_the_same_key_agree_on_one(ring: DossierKeyring, keys: FileKeyProvider) -> None:
    """GIVEN two handles on one key ring (two processes) WHEN both create the same owner's key THEN both use
    the key that was stored — never a key of their own that no one else can open."""
    other = DossierKeyring(ring.path, keys)
    other.create("period:2026-03", now=NOW)
    ring.create("period:2026-03", now=NOW)
    assert ring.key("period:2026-03") == other.key("period:2026-03")
    other.close()


def test_a_key_destroyed_by_another_process_is_not_served_from_the_cache(ring: DossierKeyring,
                                                                         keys: FileKeyProvider) -> None:
    """GIVEN a key this process has cached WHEN another process destroys it THEN the next use here is refused."""
    ring.create("d1", now=NOW)
    assert ring.key("d1")
    other = DossierKeyring(ring.path, keys)
    other.destroy("d1", now=NOW)
    other.close()
    with pytest.raises(DossierKeyGoneError):
        ring.key("d1")


def test_a_key_never_in_the_ring_is_told_apart_from_a_destroyed_one(ring: DossierKeyring) -> None:
    """GIVEN an owner this ring never held (the wrong or an older key ring) WHEN its key is asked for THEN the
    error says the ring lacks it, not that it was destroyed; and sealed values of it do not read as blank."""
    from records.vault.errors import DossierKeyMissingError

    with pytest.raises(DossierKeyMissingError):
        ring.key("never")
    sealer = FieldSealer(ring)
    ring.create("d9", now=NOW)
    stored = sealer.seal("d9", "matter", "x")
    with pytest.raises(DossierKeyMissingError):
        FieldSealer(DossierKeyring(ring.path.with_name("other.sqlite3"), ring._keys)).open("d9", "matter", stored)

"""The KeyProvider contract, run against every provider: key file, OpenBao transit, AWS KMS (moto)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from records.vault import Vault
from records.vault.backends.local import LocalBlobStore
from records.vault.errors import KeyNotFoundError, WrongKeyError
from records.vault.interfaces import KeyProvider, WrappedKey
from records.vault.keys import FileKeyProvider, create_key_file

CONTEXT = {"object_id": "0123abcd", "kind": "original"}


@dataclass
class Subject:
    keys: KeyProvider
    unknown: Callable[[WrappedKey], WrappedKey]  # the same, but naming a master key the service lacks


@pytest.fixture(params=["file", pytest.param("openbao", marks=pytest.mark.kms),
                        pytest.param("awskms", marks=pytest.mark.kms)])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Subject]:
    if request.param == "file":
        create_key_file(tmp_path / "master.key")
        s = Subject(FileKeyProvider(tmp_path / "master.key"), lambda w: WrappedKey("file:0000000000000000", w.ciphertext))
    elif request.param == "openbao":
        from records.vault.keys.openbao import OpenBaoKeyProvider, create_transit_key

        bao = request.getfixturevalue("openbao")
        name = bao.new_key_name()
        create_transit_key(bao.url, bao.token, key_name=name)  # opening a provider never creates its key
        s = Subject(OpenBaoKeyProvider(bao.url, bao.token, key_name=name),
                    lambda w: WrappedKey(f"openbao:{name}:99", b"vault:v99:" + w.ciphertext.split(b":", 2)[2]))
    else:
        from records.vault.keys.awskms import AwsKmsKeyProvider

        kms = request.getfixturevalue("kms_endpoint")
        missing = f"awskms:arn:aws:kms:{kms.region}:123456789012:key/{uuid.uuid4()}"
        s = Subject(AwsKmsKeyProvider(kms.create_alias(), client=kms.client()),
                    lambda w: WrappedKey(missing, w.ciphertext))
    yield s
    s.keys.close()


def test_wrap_then_unwrap_returns_the_data_key(subject: Subject) -> None:
    """A data key wrapped under the current master key unwraps to the same bytes."""
    data_key = os.urandom(32)
    wrapped = subject.keys.wrap(data_key, context=CONTEXT)
    assert wrapped.key_id == subject.keys.current_key_id
    assert data_key not in wrapped.ciphertext
    assert subject.keys.unwrap(wrapped, context=CONTEXT) == data_key


def test_the_context_is_bound(subject: Subject) -> None:
    """A wrapped key presented for another object or kind does not unwrap."""
    wrapped = subject.keys.wrap(os.urandom(32), context=CONTEXT)
    with pytest.raises(WrongKeyError):
        subject.keys.unwrap(wrapped, context={**CONTEXT, "object_id": "9999abcd"})
    with pytest.raises(WrongKeyError):
        subject.keys.unwrap(wrapped, context={**CONTEXT, "kind": "text"})


def test_a_tampered_wrapped_key_fails(subject: Subject) -> None:
    """A wrapped key whose last byte changed fails authentication."""
    wrapped = subject.keys.wrap(os.urandom(32), context=CONTEXT)
    damaged = bytearray(wrapped.ciphertext)
    damaged[-1] = damaged[-1] ^ 0x01 if subject.keys.name != "openbao" else ord("A" if damaged[-1] != ord("A") else "B")
    with pytest.raises(WrongKeyError):
        subject.keys.unwrap(WrappedKey(wrapped.key_id, bytes(damaged)), context=CONTEXT)


def test_rotate_makes_a_new_key_current_and_keeps_old_ones(subject: Subject) -> None:
    """After rotation new wraps use the new key id and data keys wrapped before still unwrap."""
    data_key = os.urandom(32)
    old = subject.keys.wrap(data_key, context=CONTEXT)
    new_id = subject.keys.rotate()
    assert new_id != old.key_id and subject.keys.current_key_id == new_id
    assert subject.keys.wrap(os.urandom(32), context=CONTEXT).key_id == new_id
    assert subject.keys.unwrap(old, context=CONTEXT) == data_key


def test_an_unknown_master_key_is_not_found(subject: Subject) -> None:
    """A key id the service does not hold, or another provider's key id, is KeyNotFoundError."""
    wrapped = subject.keys.wrap(os.urandom(32), context=CONTEXT)
    with pytest.raises(KeyNotFoundError):
        subject.keys.unwrap(subject.unknown(wrapped), context=CONTEXT)
    foreign = "openbao:dossier:1" if subject.keys.name != "openbao" else "file:0123456789abcdef"
    with pytest.raises(KeyNotFoundError):
        subject.keys.unwrap(WrappedKey(foreign, wrapped.ciphertext), context=CONTEXT)


def test_vault_rotation_rewraps_without_touching_blobs(subject: Subject, tmp_path: Path) -> None:
    """Through the Vault: store, rotate, rewrap, and the object still opens with its blob unchanged."""
    (tmp_path / "vault").mkdir()
    vault = Vault(LocalBlobStore(tmp_path / "vault"), subject.keys, segment_size=4096)
    data = os.urandom(10_000)
    sealed = vault.store_object(uuid.uuid4().hex, "original", [data])
    blob = (tmp_path / "vault" / sealed.blob_key).read_bytes()
    new_id = vault.rotate_master_key()
    rewrapped = vault.rewrap(sealed.wrapped_key, object_id=sealed.object_id, kind="original")
    assert rewrapped.key_id == new_id
    assert (tmp_path / "vault" / sealed.blob_key).read_bytes() == blob
    got = vault.open_object(sealed.object_id, "original", rewrapped, expected_sha256=sealed.sha256)
    assert b"".join(got) == data

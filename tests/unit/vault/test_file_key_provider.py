"""FileKeyProvider: a private keyring file that wraps data keys and survives rotation."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from records.errors import ConfigurationError
from records.vault.errors import KeyNotFoundError, KeyUnavailableError, WrongKeyError
from records.vault.interfaces import WrappedKey
from records.vault.keys import FileKeyProvider, create_key_file

CONTEXT = {"object_id": "0123abcd", "kind": "original"}


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "master.key"
    create_key_file(path)
    return path


def test_key_file_is_created_owner_only(tmp_path: Path) -> None:
    """`dossier init` writes the master key readable by its owner only (0600)."""
    path = tmp_path / "sub" / "master.key"
    key_id = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_id.startswith("file:") and FileKeyProvider(path).current_key_id == key_id


def test_an_existing_key_file_is_never_overwritten(key_file: Path) -> None:
    """Creating a key file where one exists fails and leaves the old key in place."""
    before = key_file.read_bytes()
    with pytest.raises(ConfigurationError):
        create_key_file(key_file)
    assert key_file.read_bytes() == before


def test_wrap_then_unwrap_returns_the_data_key(key_file: Path) -> None:
    """A wrapped data key unwraps to the same bytes, under the current key id."""
    keys = FileKeyProvider(key_file)
    data_key = os.urandom(32)
    wrapped = keys.wrap(data_key, context=CONTEXT)
    assert wrapped.key_id == keys.current_key_id
    assert data_key not in wrapped.ciphertext
    assert keys.unwrap(wrapped, context=CONTEXT) == data_key


def test_unwrap_for_another_object_fails(key_file: Path) -> None:
    """A wrapped key moved onto another object does not unwrap."""
    keys = FileKeyProvider(key_file)
    wrapped = keys.wrap(os.urandom(32), context=CONTEXT)
    with pytest.raises(WrongKeyError):
        keys.unwrap(wrapped, context={**CONTEXT, "object_id": "9999abcd"})


def test_rotate_keeps_old_keys_unwrapping(key_file: Path) -> None:
    """After rotation new wraps use the new key and keys wrapped before still open."""
    keys = FileKeyProvider(key_file)
    old = keys.wrap(b"k" * 32, context=CONTEXT)
    new_id = keys.rotate()
    assert new_id != old.key_id and keys.current_key_id == new_id
    assert keys.wrap(b"n" * 32, context=CONTEXT).key_id == new_id
    assert keys.unwrap(old, context=CONTEXT) == b"k" * 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert set(json.loads(key_file.read_text())["keys"]) == {old.key_id, new_id}


def test_a_rotation_by_another_process_is_picked_up(key_file: Path) -> None:
    """A running server sees a key rotated by `dossier keys rotate` without a restart."""
    server, cli = FileKeyProvider(key_file), FileKeyProvider(key_file)
    new_id = cli.rotate()
    wrapped = cli.wrap(b"k" * 32, context=CONTEXT)
    assert server.current_key_id == new_id
    assert server.unwrap(wrapped, context=CONTEXT) == b"k" * 32


def test_the_wrong_key_file_reports_key_not_found(key_file: Path, tmp_path: Path) -> None:
    """Opening with another archive's key file says the key is missing, not that data is damaged."""
    wrapped = FileKeyProvider(key_file).wrap(os.urandom(32), context=CONTEXT)
    other = tmp_path / "other.key"
    create_key_file(other)
    with pytest.raises(KeyNotFoundError) as caught:
        FileKeyProvider(other).unwrap(wrapped, context=CONTEXT)
    assert caught.value.key_id == wrapped.key_id


def test_a_tampered_wrapped_key_fails(key_file: Path) -> None:
    """A changed byte in a wrapped key fails authentication."""
    keys = FileKeyProvider(key_file)
    wrapped = keys.wrap(os.urandom(32), context=CONTEXT)
    damaged = bytearray(wrapped.ciphertext)
    damaged[-1] ^= 1
    with pytest.raises(WrongKeyError):
        keys.unwrap(WrappedKey(wrapped.key_id, bytes(damaged)), context=CONTEXT)


def test_a_key_file_others_can_read_is_refused(key_file: Path) -> None:
    """A master key readable by group or others is refused, as ssh refuses a private key."""
    key_file.chmod(0o640)
    with pytest.raises(KeyUnavailableError) as caught:
        FileKeyProvider(key_file)
    assert "chmod 600" in caught.value.cause


@pytest.mark.parametrize("content", [b"", b"not json", b'{"format": "x"}', b'{"format": "dossier-keyring-1", "current": "file:00", "keys": {}}'])
def test_a_missing_or_damaged_key_file_is_unavailable(tmp_path: Path, content: bytes) -> None:
    """An unreadable key file is a clear KeyUnavailableError, not a crash."""
    path = tmp_path / "master.key"
    with pytest.raises(KeyUnavailableError):
        FileKeyProvider(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content)
    os.close(fd)
    with pytest.raises(KeyUnavailableError):
        FileKeyProvider(path)

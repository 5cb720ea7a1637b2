"""Master keys in a local keyring file: the embedded default, created by ``dossier init``.

The file is JSON, readable by its owner only (0600)::

    {"format": "dossier-keyring-1",
     "current": "file:3f2a9c0b1d4e5f60",
     "keys": {"file:3f2a9c0b1d4e5f60": "<base64 of 32 random bytes>", ...}}

A key id is ``"file:"`` plus the first 16 hex digits of a domain-separated SHA-256 of the key,
so a different file (another archive's key) is recognised as such and reported as
:class:`KeyNotFoundError` rather than as damage.

Choice: a key file that group or others may read is refused with :class:`KeyUnavailableError`
(as ssh refuses a private key), because a master key that leaked to other local users is no
longer a secret and quietly carrying on would hide that.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from records.errors import ConfigurationError
from records.vault.envelope import canonical_context
from records.vault.errors import KeyNotFoundError, KeyUnavailableError, WrongKeyError
from records.vault.interfaces import KeyIdentity, KeyProvider, WrappedKey
from records.durable import fsync_dir, write_atomic

__all__ = ["FileKeyProvider", "create_key_file"]

_FORMAT = "dossier-keyring-1"
_WRAP_VERSION = b"\x01"
_NONCE_SIZE = 12
_MASTER_KEY_SIZE = 32


@dataclass(frozen=True, slots=True)
class _Keyring:
    current: str
    keys: Mapping[str, bytes]
    stamp: tuple[int, int, int]  # (inode, mtime_ns, size) of the file it was read from


def _key_id(key: bytes) -> str:
    return "file:" + hashlib.sha256(b"dossier master key id\x00" + key).hexdigest()[:16]


def _encode(current: str, keys: Mapping[str, bytes]) -> bytes:
    body = {"format": _FORMAT, "current": current,
            "keys": {kid: base64.b64encode(k).decode("ascii") for kid, k in keys.items()}}
    return (json.dumps(body, indent=2) + "\n").encode("utf-8")




def create_key_file(path: Path) -> str:
    """Create a new keyring file holding one fresh master key; used by ``dossier init``.

    The file is created 0600 with ``O_EXCL``, so an existing key is never overwritten.

    Returns:
        The new key's id.

    Raises:
        ConfigurationError: ``path`` already exists.
        KeyUnavailableError: the file cannot be written.
    """
    path = Path(path)
    key = os.urandom(_MASTER_KEY_SIZE)
    key_id = _key_id(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError as exc:
        raise ConfigurationError(f"key file {path} already exists; refusing to overwrite a master key") from exc
    except OSError as exc:
        raise KeyUnavailableError("file", f"cannot create {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(_encode(key_id, {key_id: key}))
            f.flush()
            os.fsync(f.fileno())
        fsync_dir(path.parent)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise KeyUnavailableError("file", f"cannot write {path}: {exc.strerror}") from exc
    return key_id


class FileKeyProvider:
    """Wraps data keys with AES-256-GCM under master keys kept in a local keyring file.

    Wrapped form: ``0x01 || nonce (12) || AES-GCM(master, nonce, data_key, aad)``, where the
    AAD is the key id plus the canonical context, so a wrapped key only opens for the object
    and kind it was made for. The file is re-read when it changes on disk, so a rotation done
    by another process (``dossier keys rotate``) is picked up by a running server.
    """

    name: ClassVar[str] = "file"

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._ring = self._load()

    @property
    def current_key_id(self) -> str:
        return self._fresh().current

    def wrap(self, data_key: bytes | bytearray, *, context: Mapping[str, str]) -> WrappedKey:
        ring = self._fresh()
        key_id = ring.current
        nonce = os.urandom(_NONCE_SIZE)
        sealed = AESGCM(ring.keys[key_id]).encrypt(nonce, data_key, _aad(key_id, context))
        return WrappedKey(key_id=key_id, ciphertext=_WRAP_VERSION + nonce + sealed)

    def unwrap(self, wrapped: WrappedKey, *, context: Mapping[str, str]) -> bytes:
        ring = self._ring
        if wrapped.key_id not in ring.keys:
            ring = self._fresh()  # perhaps rotated by another process since we read the file
            if wrapped.key_id not in ring.keys:
                raise KeyNotFoundError(wrapped.key_id, self.name)
        blob = wrapped.ciphertext
        if len(blob) < 1 + _NONCE_SIZE + 16 or blob[:1] != _WRAP_VERSION:
            raise WrongKeyError(wrapped.key_id, self.name)
        nonce, sealed = blob[1 : 1 + _NONCE_SIZE], blob[1 + _NONCE_SIZE :]
        try:
            return AESGCM(ring.keys[wrapped.key_id]).decrypt(nonce, sealed, _aad(wrapped.key_id, context))
        except InvalidTag:
            raise WrongKeyError(wrapped.key_id, self.name) from None

    def rotate(self) -> str:
        """Append a fresh master key and make it current; the file is replaced atomically (0600)."""
        directory = self._path.parent
        try:
            dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise KeyUnavailableError(self.name, f"cannot open {directory}: {exc.strerror}") from exc
        try:
            # Two rotations at once would each write their own keyring and one new key would be
            # lost; the directory lock serialises read-modify-write across processes.
            fcntl.flock(dir_fd, fcntl.LOCK_EX)
            ring = self._load()
            key = os.urandom(_MASTER_KEY_SIZE)
            key_id = _key_id(key)
            keys = {**ring.keys, key_id: key}
            try:
                write_atomic(self._path, _encode(key_id, keys), mode=0o600)
            except OSError as exc:
                raise KeyUnavailableError(self.name, f"cannot write {self._path}: {exc.strerror}") from exc
        finally:
            os.close(dir_fd)  # also releases the lock
        self._ring = self._load()
        return key_id

    def identify(self) -> KeyIdentity:
        """The file's first key (the one `dossier init` made): rotation appends, it never replaces.

        Its id is already a fingerprint of the key, so another archive's key file (or a new one
        made in its place) has another identity, whatever its path.
        """
        first = next(iter(self._fresh().keys))
        return KeyIdentity(provider=self.name, name=f"{first} in {self._path}", fingerprint=first[len("file:"):])

    def close(self) -> None:
        """Nothing to release; the keys stay in memory until the provider is dropped."""

    # ------------------------------------------------------------------ keyring file
    def _fresh(self) -> _Keyring:
        try:
            st = os.stat(self._path)
        except OSError as exc:
            raise KeyUnavailableError(self.name, f"cannot read {self._path}: {exc.strerror}") from exc
        if (st.st_ino, st.st_mtime_ns, st.st_size) != self._ring.stamp:
            self._ring = self._load()
        return self._ring

    def _load(self) -> _Keyring:
        try:
            with open(self._path, "rb") as f:
                st = os.fstat(f.fileno())
                if stat.S_IMODE(st.st_mode) & 0o077:
                    raise KeyUnavailableError(
                        self.name,
                        f"{self._path} is readable or writable by group or others "
                        f"(mode {stat.S_IMODE(st.st_mode):04o}); run chmod 600 on it",
                    )
                raw = f.read()
        except OSError as exc:
            raise KeyUnavailableError(self.name, f"cannot read {self._path}: {exc.strerror}") from exc
        try:
            body = json.loads(raw)
            if body.get("format") != _FORMAT:
                raise ValueError(f"format is {body.get('format')!r}, not {_FORMAT!r}")
            keys = {str(kid): base64.b64decode(k, validate=True) for kid, k in body["keys"].items()}
            current = str(body["current"])
            for kid, k in keys.items():
                if len(k) != _MASTER_KEY_SIZE or _key_id(k) != kid:
                    raise ValueError(f"key {kid} is damaged")
            if current not in keys:
                raise ValueError(f"current key {current} is not in the file")
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise KeyUnavailableError(self.name, f"{self._path} is not a valid key file: {exc}") from exc
        return _Keyring(current=current, keys=keys, stamp=(st.st_ino, st.st_mtime_ns, st.st_size))


def _aad(key_id: str, context: Mapping[str, str]) -> bytes:
    return b"dossier-wrap-v1\x00" + key_id.encode("ascii") + b"\x00" + canonical_context(context)


_: type[KeyProvider] = FileKeyProvider
